"""The tables' contract (`columns`) and the migrations that make a database match it
(`migrate`)."""

from jobs_assets.lib.schema.columns import (
    EXTRACTED,
    HISTORY,
    LIFECYCLE_COLUMNS,
    LISTINGS,
    LISTINGS_TABLE,
    OUTPUT_COLUMNS,
    REQUIRED_COLUMNS,
    STAGING,
    STAGING_TABLE,
    VERSIONED_COLUMNS,
    VIEWS,
    WINDOW_COLUMNS,
    Column,
    Render,
    Table,
    View,
    new_column_sql,
    views_sql,
)

__all__ = [
    "EXTRACTED",
    "HISTORY",
    "LIFECYCLE_COLUMNS",
    "LISTINGS",
    "LISTINGS_TABLE",
    "OUTPUT_COLUMNS",
    "REQUIRED_COLUMNS",
    "STAGING",
    "STAGING_TABLE",
    "VERSIONED_COLUMNS",
    "VIEWS",
    "WINDOW_COLUMNS",
    "Column",
    "Render",
    "Table",
    "View",
    "new_column_sql",
    "views_sql",
]
