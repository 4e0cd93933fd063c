"""Checks on the backups that do not belong to a single materialisation."""

from datetime import UTC, datetime, timedelta

import dagster as dg

from jobs_assets.defs.backups.assets import postgres_backup
from jobs_assets.defs.backups.resources import BackupsResource
from jobs_assets.lib import backup

MAX_VERIFIED_AGE = timedelta(hours=7)


@dg.asset_check(
    asset=postgres_backup,
    description=(
        "The newest verified backup is less than 7 hours old (backups run every 6 hours). "
        "If it fails, look at the latest backup_job runs and the backup_verified check: a dump "
        "that failed, or failed verification, is the usual cause."
    ),
)
def latest_verified_backup_fresh(backups: BackupsResource) -> dg.AssetCheckResult:
    folder = backups.folder()
    latest = backup.latest_verified(folder)
    if latest is None:
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            description=f"no verified backup in {folder.location()}: see the backup_verified check",
            metadata={"backups_dir": dg.MetadataValue.path(folder.location())},
        )
    found, manifest = latest
    age = datetime.now(UTC) - datetime.fromisoformat(manifest["created_at"])
    hours = age.total_seconds() / 3600
    return dg.AssetCheckResult(
        passed=age < MAX_VERIFIED_AGE,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"the newest verified backup, {found.dump.name}, is {hours:.1f} h old",
        metadata={
            "latest_verified": dg.MetadataValue.path(str(found.dump)),
            "window": manifest["window"],
            "age_hours": round(hours, 2),
            "max_age_hours": MAX_VERIFIED_AGE.total_seconds() / 3600,
        },
    )
