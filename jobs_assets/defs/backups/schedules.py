"""Backups every 6 hours: each tick backs up the window that just ended."""

import dagster as dg

from jobs_assets.automation import in_use, schedule_status
from jobs_assets.defs.backups.assets import postgres_backup

backup_job = dg.define_asset_job(
    "backup_job",
    selection=dg.AssetSelection.assets(postgres_backup),
    description="Dump, verify and rotate the PostgreSQL backups for one 6-hour window.",
)


@dg.definitions
def backup_schedules() -> dg.Definitions:
    return dg.Definitions(
        jobs=[backup_job],
        schedules=[
            dg.build_schedule_from_partitioned_job(
                backup_job,
                name="backup_schedule",
                description="Back the database up every 6 hours (0 */6 * * * UTC).",
                default_status=schedule_status(in_use()),
            )
        ],
    )
