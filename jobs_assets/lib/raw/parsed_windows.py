"""What a stored window parsed to, read from its manifest instead of parsing it again.

A live fetch parses its pages once (to refuse a broken window) and records the result
in the manifest's `parse` entry. Checks and the stored-window path read that entry
after `RawStore.read_pages` has checked every page file against its sha256 (it raises
`RawFileError` for a damaged one); they parse the pages only when the manifest
predates the entry.
"""

from __future__ import annotations

from jobs_assets.lib.raw.store import RawStore
from jobs_assets.lib.sources import ParseSummary, Source, parse_window

PARSE_KEY = "parse"


def stored_summary(source: Source, store: RawStore, partition_key: str) -> ParseSummary | None:
    """The stored window's parse summary (None when nothing is stored)."""
    manifest = store.manifest(source.name, partition_key)
    if manifest is None:
        return None
    pages = store.read_pages(source.name, partition_key)  # verifies each file's sha256
    recorded = manifest.get(PARSE_KEY)
    if isinstance(recorded, dict):
        for _page in pages:
            pass
        return ParseSummary.from_manifest(recorded)
    return parse_window(source, pages).summary()
