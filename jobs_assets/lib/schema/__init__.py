"""The tables' contract (`columns`) and the migrations that make a database match it
(`migrate`)."""

from jobs_assets.lib.schema.columns import (
    EXTRACTED,
    LIFECYCLE_COLUMNS,
    LISTINGS,
    LISTINGS_TABLE,
    OUTPUT_COLUMNS,
    REQUIRED_COLUMNS,
    STAGING,
    STAGING_TABLE,
    WINDOW_COLUMNS,
    Column,
    Render,
    Table,
)

__all__ = [
    "EXTRACTED",
    "LIFECYCLE_COLUMNS",
    "LISTINGS",
    "LISTINGS_TABLE",
    "OUTPUT_COLUMNS",
    "REQUIRED_COLUMNS",
    "STAGING",
    "STAGING_TABLE",
    "WINDOW_COLUMNS",
    "Column",
    "Render",
    "Table",
]
