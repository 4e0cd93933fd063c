"""Listing identity: which listings are the same job, which are gone, and their history.

`text`, `match` and `clusters` are pure (keys, candidates, the decision on a pair);
`duplicates`, `lifecycle`, `history`, `window` and `quality` run their SQL over a psycopg
connection in the caller's transaction; `evaluation` scores the matcher on labelled
pairs. No Dagster. May import: `lib.errors`, `lib.findings`, `lib.raw`, `lib.schema`,
`lib.sources`.
"""

from jobs_assets.lib.identity.clusters import (
    ASSIGNMENT_COLUMNS,
    SOURCE_ORDER,
    STATUS_COLUMN,
    Override,
    WindowResult,
    match_window,
    pair_is_same,
)
from jobs_assets.lib.identity.match import listing_key

__all__ = [
    "ASSIGNMENT_COLUMNS",
    "SOURCE_ORDER",
    "STATUS_COLUMN",
    "Override",
    "WindowResult",
    "listing_key",
    "match_window",
    "pair_is_same",
]
