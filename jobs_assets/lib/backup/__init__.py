"""Database backups that are proven restorable.

A backup set shares one stem under `$JOBS_DATA_DIR/backups/`:

- `<stem>.dump`: `pg_dump -Fc` of the data database, written as `.part` and renamed
  when pg_dump has finished; `<stem>.dump.sha256` in `sha256sum` format;
- `<stem>.manifest.json`: window, size, duration, row counts per table, server version,
  and whether (and when) the dump was verified;
- `<stem>.raw.tar`: the raw files added or changed since the previous backup.

The modules, in the order a backup runs them (`run.back_up`):

- `tools.py`: the pg_dump/pg_restore matching the server, and running them;
- `sets.py`: a set's files and manifest, the list of sets, the folder's lock;
- `dump.py`: the dump and its row counts, from one snapshot;
- `raw_archive.py`: incremental raw archives, and their replay;
- `verify.py`: a test restore into a scratch database;
- `retention.py`: the newest verified sets kept, only after a verified one;
- `restore.py`: a checked restore into the configured database;
- `run.py`: the whole backup of a window, and which windows may have one.

May import: `lib.db`, `lib.ops`, `lib.raw`, `lib.schema`.
"""

from jobs_assets.lib.backup.dump import DEFAULT_LOCK_WAIT_TIMEOUT, MANIFEST_FORMAT, dump, row_counts
from jobs_assets.lib.backup.errors import BackupError, ToolsNotFound, WindowTooOld
from jobs_assets.lib.backup.raw_archive import RAW_INDEX, archive_raw, restore_raw
from jobs_assets.lib.backup.restore import RestorePlan, plan_restore, restore
from jobs_assets.lib.backup.retention import apply_retention
from jobs_assets.lib.backup.run import (
    LIVE_BACKUP_WINDOW,
    BackupOutcome,
    back_up,
    check_window,
    verify_and_retain,
)
from jobs_assets.lib.backup.sets import BackupSet, backup_lock, latest_verified, list_sets
from jobs_assets.lib.backup.tools import (
    PgTools,
    _bundled_bin_dir,
    describe,
    find_pg_tools,
    server_major,
    server_version,
    with_dbname,
)
from jobs_assets.lib.backup.verify import Verification, record_verification, verify
from jobs_assets.lib.raw.files import sha256_of

__all__ = [
    "DEFAULT_LOCK_WAIT_TIMEOUT",
    "LIVE_BACKUP_WINDOW",
    "MANIFEST_FORMAT",
    "RAW_INDEX",
    "BackupError",
    "BackupOutcome",
    "BackupSet",
    "PgTools",
    "RestorePlan",
    "ToolsNotFound",
    "Verification",
    "WindowTooOld",
    "_bundled_bin_dir",
    "apply_retention",
    "archive_raw",
    "back_up",
    "backup_lock",
    "check_window",
    "describe",
    "dump",
    "find_pg_tools",
    "latest_verified",
    "list_sets",
    "plan_restore",
    "record_verification",
    "restore",
    "restore_raw",
    "row_counts",
    "server_major",
    "server_version",
    "sha256_of",
    "verify",
    "verify_and_retain",
    "with_dbname",
]
