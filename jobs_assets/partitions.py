"""Partitions shared across areas: 4-hour ingestion windows and 6-hour backup windows (UTC).

Both start at `FIRST_WINDOW`, a fixed recent date, so the UI lists weeks of windows rather
than thousands. It is code, not a setting: the webserver, the daemon and every run process
must build the very same partitions definition, and the module is imported before any
setting is read.
"""

import dagster as dg

from jobs_assets.lib.schema import WINDOW_KEY_FORMAT as WINDOW_FORMAT

#: the first 4-hour window the UI offers (never computed from today's date)
FIRST_WINDOW = "2026-11-01-00:00"

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
        raise ValueError(f"the first window {FIRST_WINDOW} is in the future: no window ended yet")
    return key
