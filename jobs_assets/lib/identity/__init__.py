"""Listing identity: which listings are the same job (pure, no database, no Dagster)."""

from jobs_assets.lib.identity.clusters import (
    ASSIGNMENT_COLUMNS,
    SOURCE_ORDER,
    Override,
    WindowResult,
    match_window,
    pair_is_same,
)
from jobs_assets.lib.identity.match import listing_key

__all__ = [
    "ASSIGNMENT_COLUMNS",
    "SOURCE_ORDER",
    "Override",
    "WindowResult",
    "listing_key",
    "match_window",
    "pair_is_same",
]
