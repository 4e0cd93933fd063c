"""The ingestion schedule: every 4 hours (UTC), each tick runs the window that just ended.

Running by default where JOBS_AUTOMATION=on (the image, docker-compose), so a fresh
deployment ingests as soon as the daemon starts; stopped under `make dev`.
"""

import dagster as dg

from jobs_assets.automation import in_use, schedule_status
from jobs_assets.defs.ingestion.jobs import ingestion_job


@dg.definitions
def ingestion_schedules() -> dg.Definitions:
    return dg.Definitions(
        schedules=[
            dg.build_schedule_from_partitioned_job(
                ingestion_job,
                name="ingestion_schedule",
                description=(
                    "Every 4 hours at :00 UTC (0 */4 * * *): fetch, stage, normalise and check "
                    "the window that just ended. Replaces the old cron/Airflow DAG."
                ),
                default_status=schedule_status(in_use()),
            )
        ]
    )
