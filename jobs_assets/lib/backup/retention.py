"""Retention: keep the newest verified sets, and never let a bad dump push out a good one."""

from __future__ import annotations

from pathlib import Path

from jobs_assets.lib.backup.sets import list_sets


def apply_retention(backups_dir: Path, keep: int) -> list[Path]:
    """Delete verified sets beyond the newest `keep`; return the files deleted.

    Unverified sets are kept for inspection, raw archives are kept (later restores
    replay them), and nothing is deleted while the newest set is unverified.
    """
    keep = max(1, keep)
    sets = list_sets(backups_dir)
    if not sets or not sets[-1][1].get("verified"):
        return []
    verified = [backup for backup, manifest in sets if manifest.get("verified")]
    deleted = []
    for backup in verified[:-keep]:
        for path in (backup.dump, backup.checksum, backup.manifest_path):
            if path.exists():
                path.unlink()
                deleted.append(path)
    return deleted
