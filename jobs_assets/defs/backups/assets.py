"""`postgres_backup`: a verified `pg_dump` of the data database per 6-hour window.

The rules (live-window, dump, raw archive, verification, retention) live in
`jobs_assets.lib.backup`; this asset runs them and reports the manifest.
"""

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg

from jobs_assets.defs.backups.resources import BackupsResource
from jobs_assets.lib import backup
from jobs_assets.logs import log_event
from jobs_assets.partitions import BACKUP_PARTITIONS
from jobs_assets.resources import PostgresResource

BACKUP_VERIFIED = "backup_verified"


def backup_metadata(outcome: backup.BackupOutcome) -> dict[str, object]:
    """What an operator wants to see on the materialisation: the manifest, and its key facts."""
    manifest = outcome.manifest
    raw = manifest.get("raw_archive") or {}
    return {
        "dagster/row_count": manifest["total_rows"],
        "dump_path": dg.MetadataValue.path(str(outcome.backup.dump)),
        "size_bytes": manifest["size_bytes"],
        "sha256": manifest["sha256"],
        "dump_seconds": manifest["duration_seconds"],
        "verified": outcome.verified,
        "verification_seconds": outcome.verification.duration_seconds,
        "verification_error": outcome.verification.error or "",
        "server_version": manifest["server_version"],
        "row_counts": dg.MetadataValue.json(manifest["row_counts"]),
        "raw_files_archived": raw.get("files", 0),
        "raw_archive": raw.get("file", ""),
        "backups_deleted": [p.name for p in outcome.deleted if p.name.endswith(".dump")],
        "manifest": dg.MetadataValue.json(manifest),
    }


def verified_check(outcome: backup.BackupOutcome) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=BACKUP_VERIFIED,
        passed=outcome.verified,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"{outcome.backup.dump.name} restored into a scratch database with matching row counts"
            if outcome.verified
            else f"{outcome.backup.dump.name} failed verification: {outcome.verification.error}. "
            "It is kept unverified for inspection; no backup was deleted."
        ),
        metadata={
            "dump_path": dg.MetadataValue.path(str(outcome.backup.dump)),
            "error": outcome.verification.error or "",
            "row_counts_restored": dg.MetadataValue.json(outcome.verification.row_counts),
        },
    )


@dg.asset(
    group_name="backups",
    partitions_def=BACKUP_PARTITIONS,
    kinds={"python", "postgres"},
    # Backups run every 6 hours: no new one for 7 means the schedule or the runs stopped.
    freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=7)),
    check_specs=[
        dg.AssetCheckSpec(
            BACKUP_VERIFIED,
            asset="postgres_backup",
            blocking=True,
            description=(
                "The new dump was restored into a scratch database and its row counts equal the "
                "manifest's. If it fails, the dump is kept unverified for inspection and no "
                "backup was deleted: read `error`, check disk space and the server log, then "
                "re-materialise the window."
            ),
        )
    ],
    description=(
        "pg_dump -Fc of the data database into $JOBS_DATA_DIR/backups/ with a sha256, a "
        "manifest (row counts per table, server version) and a tar of the raw files added since "
        "the previous backup. Each dump is restored into a scratch database before it counts; "
        "the newest JOBS_BACKUP_KEEP verified backups are kept. Only the latest two windows "
        "can be backed up. Restore with `make restore BACKUP=<file>`."
    ),
)
def postgres_backup(
    context: dg.AssetExecutionContext, postgres: PostgresResource, backups: BackupsResource
) -> dg.MaterializeResult:
    key = context.partition_key
    try:
        backup.check_window(key, context.partition_time_window.end, datetime.now(UTC))
    except backup.WindowTooOld as err:  # retrying cannot help
        raise dg.Failure(description=str(err), allow_retries=False) from err
    # a database newer than the code: refuse before dumping or deleting an old backup
    conninfo = postgres.ready_conninfo()
    folder = backups.folder()
    outcome = backup.back_up(
        conninfo,
        Path(backups.data_dir),
        key,
        keep=backups.keep,
        lock_wait_timeout=backups.lock_wait_timeout,
        storage=backups.storage(),
    )
    manifest = outcome.manifest
    if outcome.verified:
        log_event(
            context,
            f"postgres_backup {key}: {outcome.backup.dump.name} verified, "
            f"{manifest['size_bytes']} bytes, {manifest['total_rows']} rows, "
            f"{len(manifest['raw_archives'])} raw archive(s); "
            f"deleted {len([p for p in outcome.deleted if p.suffix == '.dump'])} old backup(s)",
        )
    else:
        log_event(
            context,
            f"postgres_backup {key}: {outcome.backup.dump.name} FAILED verification: "
            f"{outcome.verification.error}. The dump is kept unverified in {folder.location()} for "
            "inspection and no backup was deleted.",
            level=logging.ERROR,
        )
    return dg.MaterializeResult(
        metadata=backup_metadata(outcome), check_results=[verified_check(outcome)]
    )
