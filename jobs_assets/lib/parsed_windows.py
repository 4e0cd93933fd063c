"""What a stored window parsed to, read from its manifest instead of parsing it again.

A live fetch parses its pages once (to refuse a broken window) and records the result
in the manifest's `parse` entry. Checks and the stored-window path read that entry;
they parse the pages only when the manifest predates the entry or a page file no
longer matches its recorded sha256 (then the parse tells what is wrong with it).
"""

from __future__ import annotations

import gzip
import hashlib

from jobs_assets.lib.raw_store import RawStore
from jobs_assets.lib.sources import ParseSummary, Source, parse_window

PARSE_KEY = "parse"


def altered_pages(store: RawStore, source: str, partition_key: str, manifest: dict) -> list[str]:
    """Page files of the stored window whose bytes differ from the manifest's sha256."""
    folder = store.window_dir(source, partition_key)
    altered = []
    for entry in manifest.get("pages", []):
        path = folder / entry["file"]
        try:
            with gzip.open(path, "rb") as fh:
                digest = hashlib.sha256(fh.read()).hexdigest()
        except (OSError, EOFError):
            digest = ""
        if digest != entry.get("sha256"):
            altered.append(entry["file"])
    return altered


def stored_summary(source: Source, store: RawStore, partition_key: str) -> ParseSummary | None:
    """The stored window's parse summary (None when nothing is stored)."""
    manifest = store.manifest(source.name, partition_key)
    if manifest is None:
        return None
    recorded = manifest.get(PARSE_KEY)
    if isinstance(recorded, dict) and not altered_pages(
        store, source.name, partition_key, manifest
    ):
        return ParseSummary.from_manifest(recorded)
    return parse_window(source, store.read_pages(source.name, partition_key)).summary()
