"""The whole backup of a window: dump, archive new raw files, verify, then retain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from jobs_assets.lib.backup.dump import DEFAULT_LOCK_WAIT_TIMEOUT, dump
from jobs_assets.lib.backup.errors import WindowTooOld
from jobs_assets.lib.backup.raw_archive import archive_raw
from jobs_assets.lib.backup.retention import apply_retention
from jobs_assets.lib.backup.sets import BackupSet, backup_lock
from jobs_assets.lib.backup.tools import PgTools, find_pg_tools
from jobs_assets.lib.backup.verify import Verification, record_verification, verify
from jobs_assets.lib.raw.storage import LocalStorage, Location, Storage

#: a backup shows the database as it is now, so only a window this recent can have one
LIVE_BACKUP_WINDOW = timedelta(hours=12)


def check_window(partition_key: str, window_end: datetime, now: datetime) -> None:
    """Refuse a window that ended `LIVE_BACKUP_WINDOW` or more ago: a backup taken now
    would hold today's database under that window's name."""
    age = now - window_end
    if age >= LIVE_BACKUP_WINDOW:
        raise WindowTooOld(
            f"backup window {partition_key} ended {age.total_seconds() / 3600:.1f} h ago; a "
            "backup taken now holds today's database, not that window's, so only the latest "
            "two windows (ended less than 12 h ago) can be backed up. Materialise the latest "
            "window instead; older backups are in $JOBS_DATA_DIR/backups/."
        )


@dataclass
class BackupOutcome:
    backup: BackupSet
    manifest: dict
    verification: Verification
    deleted: list[Path | Location]

    @property
    def verified(self) -> bool:
        return self.verification.ok


def verify_and_retain(
    backup: BackupSet, conninfo: str, keep: int, tools: PgTools | None = None
) -> BackupOutcome:
    """Verify a new set, record the result, and only then apply retention."""
    verification = verify(backup, conninfo, tools)
    manifest = record_verification(backup, verification)
    deleted = apply_retention(backup.store, keep) if verification.ok else []
    return BackupOutcome(backup, manifest, verification, deleted)


def back_up(
    conninfo: str,
    data_dir: Path,
    partition_key: str,
    keep: int,
    lock_wait_timeout: str = DEFAULT_LOCK_WAIT_TIMEOUT,
    storage: Storage | None = None,
) -> BackupOutcome:
    """Dump the database, archive new raw files, verify, then apply retention.

    `storage` holds `backups/` and `raw/` (`JOBS_STORAGE_URL`); by default `data_dir`.
    """
    storage = storage or LocalStorage(Path(data_dir))
    backups = storage.child("backups")
    tools = find_pg_tools(conninfo)
    with backup_lock(conninfo, backups):
        backup = dump(conninfo, backups, partition_key, tools, lock_wait_timeout)
        archive_raw(backup, storage.child("raw"))
        return verify_and_retain(backup, conninfo, keep, tools)
