"""The ingestion schedule: every 4 hours (UTC), each tick runs the window that just ended.

Running by default, so a fresh deployment ingests as soon as the daemon starts.
"""

import dagster as dg

from jobs_assets.defs.ingestion.jobs import ingestion_job

ingestion_schedule = dg.build_schedule_from_partitioned_job(
    ingestion_job,
    name="ingestion_schedule",
    description=(
        "Every 4 hours at :00 UTC (0 */4 * * *): fetch, stage, normalise and check the window "
        "that just ended. Replaces the old cron/Airflow DAG."
    ),
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
