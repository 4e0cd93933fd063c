"""The two tables' writes: stage a window with COPY, then normalise and upsert it.

- `staging.py`: a window's payloads into the staging table (one transaction);
- `extract.py`: the staged window back, each source's fields under common names;
- `copy_text.py`: normalised rows as COPY text, as the column contract says;
- `upsert.py`: the window into the listings table (one transaction);
- `pipeline.py`: the threads a window larger than one chunk runs on;
- `quality.py`: the data-quality rules of a window, as SQL;
- `queries.py`: the read side's filters and pages (the API and the saved searches);
- `data_version.py`: what the listings table holds, as one number for caches.

Each write reads or replaces only its window's rows, so a retry or a backfill never
leaves a window half-written and the cost follows the window, not the history.
May import: `lib.findings`, `lib.money`, `lib.normalise`, `lib.schema`, `lib.sources`.
"""

from jobs_assets.lib.listings.copy_text import copy_lines
from jobs_assets.lib.listings.extract import CHUNK_ROWS, extract_query, read_staged
from jobs_assets.lib.listings.staging import stage_window
from jobs_assets.lib.listings.upsert import UpsertResult, upsert_window
from jobs_assets.lib.schema import LISTINGS_TABLE, STAGING_TABLE

__all__ = [
    "CHUNK_ROWS",
    "LISTINGS_TABLE",
    "STAGING_TABLE",
    "UpsertResult",
    "copy_lines",
    "extract_query",
    "read_staged",
    "stage_window",
    "upsert_window",
]
