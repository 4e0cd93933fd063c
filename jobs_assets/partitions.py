"""Partitions shared across areas: 4-hour ingestion windows and 6-hour backup windows (UTC)."""

import dagster as dg

WINDOW_FORMAT = "%Y-%m-%d-%H:%M"

INGESTION_PARTITIONS = dg.TimeWindowPartitionsDefinition(
    cron_schedule="0 */4 * * *",
    start="2026-01-01-00:00",
    fmt=WINDOW_FORMAT,
    timezone="UTC",
)

BACKUP_PARTITIONS = dg.TimeWindowPartitionsDefinition(
    cron_schedule="0 */6 * * *",
    start="2026-01-01-00:00",
    fmt=WINDOW_FORMAT,
    timezone="UTC",
)
