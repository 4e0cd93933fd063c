"""Partitions shared across areas: 4-hour ingestion windows and 6-hour backup windows (UTC).

Both start at `JOBS_FIRST_WINDOW` (default `settings.DEFAULT_FIRST_WINDOW`, a fixed
recent date), so the UI lists weeks of windows rather than thousands. The start is a
setting, never computed from today's date: the webserver, the daemon and every run
process must build the very same partitions definition.
"""

import dagster as dg

from jobs_assets.settings import Settings

WINDOW_FORMAT = "%Y-%m-%d-%H:%M"
FIRST_WINDOW = Settings.from_env().first_window

INGESTION_PARTITIONS = dg.TimeWindowPartitionsDefinition(
    cron_schedule="0 */4 * * *",
    start=FIRST_WINDOW,
    fmt=WINDOW_FORMAT,
    timezone="UTC",
)

BACKUP_PARTITIONS = dg.TimeWindowPartitionsDefinition(
    cron_schedule="0 */6 * * *",
    start=FIRST_WINDOW,
    fmt=WINDOW_FORMAT,
    timezone="UTC",
)


def latest_window() -> str:
    """The newest complete ingestion window: what `make run` and `make demo` load."""
    key = INGESTION_PARTITIONS.get_last_partition_key()
    if key is None:
        raise ValueError(f"JOBS_FIRST_WINDOW={FIRST_WINDOW} is in the future: no window ended yet")
    return key
