"""The daily log file under `$JOBS_DATA_DIR/logs/`, beside Dagster's own event log."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from jobs_assets.lib.redact import RedactingFilter, install_log_filter, redact

LOGGER = logging.getLogger("jobs_assets.events")
LOGGER.setLevel(logging.INFO)
LOGGER.propagate = False
install_log_filter()


class DailyFileHandler(logging.Handler):
    """Appends to `jobs-YYYY-MM-DD.log` (UTC date), opening each line's file afresh.

    Safe with many step processes writing at once (appends of one short line) and
    needs no rotation job.
    """

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        self.addFilter(RedactingFilter())  # whichever logger the record came from

    def emit(self, record: logging.LogRecord) -> None:
        try:
            day = datetime.now(UTC).strftime("%Y-%m-%d")
            self.folder.mkdir(parents=True, exist_ok=True)
            with open(self.folder / f"jobs-{day}.log", "a", encoding="utf-8") as fh:
                fh.write(self.format(record) + "\n")
        except Exception:  # a log line must never fail a run
            self.handleError(record)


def log_to(data_dir: Path) -> None:
    folder = Path(data_dir) / "logs"
    if not any(isinstance(h, DailyFileHandler) and h.folder == folder for h in LOGGER.handlers):
        for handler in [h for h in LOGGER.handlers if isinstance(h, DailyFileHandler)]:
            LOGGER.removeHandler(handler)
        LOGGER.addHandler(DailyFileHandler(folder))


def log_event(
    context: dg.AssetExecutionContext | dg.OpExecutionContext | None,
    message: str,
    level: int = logging.INFO,
) -> None:
    """One line for a person: in the Dagster run log and in the daily file (secrets masked)."""
    message = redact(message)
    if context is not None:
        context.log.log(level, message)
    LOGGER.log(level, message)
