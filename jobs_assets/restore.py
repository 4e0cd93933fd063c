"""Restoring a backup set: `jobs restore BACKUP [--yes] [--no-raw] [--demo]`
(`jobs_assets/cli.py`), which `make restore` calls.

Restores a backup set into the configured database (the `PG*` server, or the embedded
one under `$JOBS_DATA_DIR`) and replays its raw archives into the raw store
(`JOBS_STORAGE_URL`, default `$JOBS_DATA_DIR/raw`), after checking the dump against its
manifest and asking for confirmation. BACKUP is a local file or an object's URL
(`s3://bucket/prefix/backups/jobs-….dump`): a new machine restores straight from the
bucket.
"""

from __future__ import annotations

import signal
import sys
import tarfile
from pathlib import Path

from jobs_assets.lib import backup
from jobs_assets.lib.backup.raw_archive import unreadable_archives
from jobs_assets.lib.errors import PipelineError
from jobs_assets.lib.raw.storage import Storage


def summary(plan: backup.RestorePlan, target: str, raw_dir: Storage | None) -> str:
    manifest = plan.manifest
    lines = [
        f"backup   {plan.backup.dump}",
        f"window   {manifest.get('window')}, taken {manifest.get('created_at')}, "
        f"PostgreSQL {manifest.get('server_version')}",
        f"verified {'yes' if manifest.get('verified') else 'NO (this dump never passed a test restore)'}",
        "rows     " + ", ".join(f"{t} {n}" for t, n in manifest.get("row_counts", {}).items()),
        f"into     {target}: its tables are REPLACED by the backup's",
    ]
    if raw_dir is not None:
        lines.append(
            f"raw      {len(plan.raw_archives)} archive(s) into {raw_dir.location()} "
            "(existing files are kept)"
        )
    return "\n".join(lines)


def confirmed(assume_yes: bool) -> bool:
    if assume_yes:
        return True
    if not sys.stdin.isatty():
        print(
            "error: no terminal to confirm on; pass --yes (make restore ... YES=1)", file=sys.stderr
        )
        return False
    answer = input("Type 'restore' to go on: ")
    return answer.strip() == "restore"


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def restore_backup(
    backup_ref: str, conninfo: str, storage: Storage | None, assume_yes: bool
) -> int:
    """Restore the backup set `backup_ref` (a file or an object's URL) into `conninfo`'s
    database and, unless `storage` is None, its raw archives under `storage`'s `raw/`,
    after checking the dump and asking (unless `assume_yes`). 0 when restored, 1 when
    the answer was no, 2 when the backup could not be restored (the reason on stderr)."""
    raw_dir = None if storage is None else storage.child("raw")
    # SIGTERM (a container stopping, `timeout`) ends the restore as Ctrl-C does: what was
    # set aside is put back, never left half done
    previous = signal.signal(signal.SIGTERM, _interrupted)
    try:
        plan = backup.plan_restore(backup_ref if "://" in backup_ref else Path(backup_ref))
        if raw_dir is not None and plan.missing_archives:
            raise backup.BackupError(
                f"raw archive(s) {', '.join(plan.missing_archives)} of this backup are missing from "
                f"{plan.backup.folder}; put them back, or pass --no-raw to restore the database only"
            )
        unreadable = unreadable_archives(plan.raw_archives) if raw_dir is not None else []
        if unreadable:
            raise backup.BackupError(
                f"raw archive(s) {', '.join(unreadable)} of this backup cannot be read; put "
                "back a good copy, or pass --no-raw to restore the database only. Nothing "
                "was changed"
            )
        print(summary(plan, backup.describe(conninfo), raw_dir))
        if not confirmed(assume_yes):
            print("nothing was changed")
            return 1
        result = backup.restore(plan, conninfo, raw_dir)
    except (backup.BackupError, PipelineError, ConnectionError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (tarfile.TarError, OSError) as err:  # a raw archive, after the database
        print(
            f"error: the database was restored, but a raw archive could not be read "
            f"({type(err).__name__}: {err}); restore again with --no-raw to keep the "
            "database only, or put back a good archive",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    rows = ", ".join(f"{t} {n}" for t, n in result["restored_rows"].items())
    print(f"restored {plan.backup.dump.name} in {result['duration_seconds']} s: {rows}")
    revision = result["schema_revision"]
    print(f"schema revision: {revision['restored'] or 'none'} in the backup, now {revision['now']}")
    if raw_dir is not None:
        print(
            f"raw files: {result['raw_files_restored']} restored, "
            f"{result['raw_files_already_present']} already present"
        )
    return 0
