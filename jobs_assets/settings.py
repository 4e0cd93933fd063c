"""Runtime settings, read from the environment (and `.env` when present).

Everything an operator can change lives here, with the defaults of SPEC §3, so the
rest of the code never reads `os.environ` directly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dotenv import find_dotenv, load_dotenv

DEFAULT_URLS = {
    "remotive": "https://remotive.com/api/remote-jobs",
    "jobicy": "https://jobicy.com/api/v2/remote-jobs",
    "himalayas": "https://himalayas.app/jobs/api",
}
DEFAULT_MIN_INTERVAL_HOURS = {"remotive": 6.0, "jobicy": 1.0, "himalayas": 0.0}
SOURCES = tuple(DEFAULT_URLS)


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError as err:
        raise ValueError(
            f"{name}={raw!r} is not a number; unset it or give e.g. {default}"
        ) from err


def _int(name: str, default: int) -> int:
    return int(_float(name, default))


@dataclass(frozen=True)
class SourceSettings:
    """HTTP behaviour of one source."""

    name: str
    url: str
    min_interval_hours: float
    workers: int
    max_rps: float
    max_pages: int
    timeout_seconds: float
    max_retries: int
    backoff_seconds: float
    total_timeout_seconds: float = 120.0
    max_retry_after_seconds: float = 300.0
    fetch_budget_seconds: float = 900.0


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    pghost: str | None
    fetch_workers: int
    max_rps: float
    himalayas_max_pages: int
    http_timeout_seconds: float
    http_max_retries: int
    http_backoff_seconds: float
    http_total_timeout_seconds: float
    http_max_retry_after_seconds: float
    fetch_budget_seconds: float
    alert_webhook_url: str | None
    backup_keep: int
    urls: dict[str, str]
    min_interval_hours: dict[str, float]

    @classmethod
    def from_env(cls) -> Settings:
        load_dotenv(find_dotenv(usecwd=True), override=False)
        return cls(
            data_dir=Path(os.environ.get("JOBS_DATA_DIR") or "./jobs_data").resolve(),
            pghost=os.environ.get("PGHOST") or None,
            fetch_workers=max(1, _int("JOBS_FETCH_WORKERS", 8)),
            max_rps=max(0.0, _float("JOBS_MAX_RPS", 4.0)),
            himalayas_max_pages=max(1, _int("JOBS_HIMALAYAS_MAX_PAGES", 50)),
            http_timeout_seconds=_float("JOBS_HTTP_TIMEOUT_SECONDS", 30.0),
            http_max_retries=_int("JOBS_HTTP_MAX_RETRIES", 5),
            http_backoff_seconds=_float("JOBS_HTTP_BACKOFF_SECONDS", 1.0),
            http_total_timeout_seconds=_float("JOBS_HTTP_TOTAL_TIMEOUT_SECONDS", 120.0),
            http_max_retry_after_seconds=_float("JOBS_HTTP_MAX_RETRY_AFTER_SECONDS", 300.0),
            fetch_budget_seconds=_float("JOBS_FETCH_BUDGET_SECONDS", 900.0),
            alert_webhook_url=os.environ.get("JOBS_ALERT_WEBHOOK_URL") or None,
            backup_keep=max(1, _int("JOBS_BACKUP_KEEP", 10)),
            urls={s: os.environ.get(f"JOBS_{s.upper()}_URL") or DEFAULT_URLS[s] for s in SOURCES},
            min_interval_hours={
                s: _float(f"JOBS_{s.upper()}_MIN_INTERVAL_HOURS", DEFAULT_MIN_INTERVAL_HOURS[s])
                for s in SOURCES
            },
        )

    def source(self, name: str) -> SourceSettings:
        return SourceSettings(
            name=name,
            url=self.urls[name],
            min_interval_hours=self.min_interval_hours[name],
            workers=self.fetch_workers,
            max_rps=self.max_rps,
            max_pages=self.himalayas_max_pages,
            timeout_seconds=self.http_timeout_seconds,
            max_retries=self.http_max_retries,
            backoff_seconds=self.http_backoff_seconds,
            total_timeout_seconds=self.http_total_timeout_seconds,
            max_retry_after_seconds=self.http_max_retry_after_seconds,
            fetch_budget_seconds=self.fetch_budget_seconds,
        )


def mask_url(url: str) -> str:
    """The URL with credentials and secret parameters masked (see `lib/redact.py`)."""
    from jobs_assets.lib.redact import mask_url as _mask

    return _mask(url)
