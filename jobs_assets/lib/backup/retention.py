"""Retention: keep the newest verified sets, and never let a bad dump push out a good one."""

from __future__ import annotations

from pathlib import Path

from jobs_assets.lib.backup.sets import list_sets
from jobs_assets.lib.raw.storage import Location, Storage, as_storage


def apply_retention(backups_dir: Path | Storage, keep: int) -> list[Path | Location]:
    """Delete verified sets beyond the newest `keep`; return the files deleted.

    Unverified sets are kept for inspection, raw archives are kept (later restores
    replay them), and nothing is deleted while the newest set is unverified.
    """
    keep = max(1, keep)
    store = as_storage(backups_dir)
    sets = list_sets(store)
    if not sets or not sets[-1][1].get("verified"):
        return []
    verified = [backup for backup, manifest in sets if manifest.get("verified")]
    deleted = []
    for backup in verified[:-keep]:
        for key in (backup.dump_key, backup.checksum_key, backup.manifest_key):
            if store.exists(key):
                store.delete(key)
                deleted.append(store.where(key))
    return deleted
