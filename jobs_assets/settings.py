"""Runtime settings: the one module that reads the environment.

`environment()` is the process environment over `.env` (found from the working
directory): `.env` fills only what is unset and is never written into `os.environ`,
so nothing leaks from one test (or one caller) to the next. An empty value means the
default, as docker-compose passes unset variables through as empty strings.

Per-source settings are derived from the registry (`jobs_assets.lib.sources`):
`JOBS_<NAME>_URL`, `JOBS_<NAME>_MIN_INTERVAL_HOURS` and, for sources that page,
`JOBS_<NAME>_MAX_PAGES`, with the defaults each source declares.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values, find_dotenv

from jobs_assets.lib.money.ecb_rates import ECB_DAILY_URL
from jobs_assets.lib.raw.storage import Storage, open_storage
from jobs_assets.lib.sources import SOURCES, Source, SourceSettings

__all__ = [
    "SOURCES",
    "DefinitionsSettings",
    "Settings",
    "SourceSettings",
    "environment",
    "mask_url",
    "process_environment",
    "variable_names",
]

#: settings shared by every source, with their defaults
FETCH_WORKERS = ("JOBS_FETCH_WORKERS", 8)
MAX_RPS = ("JOBS_MAX_RPS", 4.0)
HTTP_TIMEOUT = ("JOBS_HTTP_TIMEOUT_SECONDS", 30.0)
HTTP_RETRIES = ("JOBS_HTTP_MAX_RETRIES", 5)
HTTP_BACKOFF = ("JOBS_HTTP_BACKOFF_SECONDS", 1.0)
HTTP_TOTAL_TIMEOUT = ("JOBS_HTTP_TOTAL_TIMEOUT_SECONDS", 120.0)
HTTP_MAX_RETRY_AFTER = ("JOBS_HTTP_MAX_RETRY_AFTER_SECONDS", 300.0)
FETCH_BUDGET = ("JOBS_FETCH_BUDGET_SECONDS", 900.0)

#: where the ECB's daily reference rates are fetched (once a day, see lib/money/ecb_fetch.py)
ECB_RATES_URL = ("JOBS_ECB_RATES_URL", ECB_DAILY_URL)
#: where raw files and backups live: a folder (default: JOBS_DATA_DIR) or s3://bucket/prefix
STORAGE_URL = "JOBS_STORAGE_URL"
AWS_ENDPOINT_URL = "AWS_ENDPOINT_URL"
#: the endpoint is passed to the storage by the resources; the credentials are read by s3fs
#: (botocore) itself, never by this package
AWS_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
)

#: saved searches one client address may create (`N` a hour, or `N/minute|hour|day`)
SEARCH_RATE_LIMIT = ("JOBS_SEARCH_RATE_LIMIT", "20/hour")
RATE_PERIODS = {"minute": 60, "hour": 3600, "day": 86400}
#: settings of the read API's saved searches: the API service's, not the pipeline's
API_VARIABLES = (
    SEARCH_RATE_LIMIT[0],
    "JOBS_SEARCH_CLIENT_KEY",
    "JOBS_ALERT_ALLOW_HTTP",
    "JOBS_ALERT_ALLOW_PRIVATE",
    "JOBS_REDIS_URL",
    "JOBS_API_CACHE_TTL_SECONDS",
    "JOBS_API_BASE_URL",
)
#: read by `migrate` only: the API's database role, granted its saved searches' rights
MIGRATE_VARIABLES = ("JOBS_API_PG_ROLE",)

GENERAL_VARIABLES = (
    "JOBS_DATA_DIR",
    STORAGE_URL,
    ECB_RATES_URL[0],
    FETCH_WORKERS[0],
    MAX_RPS[0],
    HTTP_TIMEOUT[0],
    HTTP_RETRIES[0],
    HTTP_BACKOFF[0],
    HTTP_TOTAL_TIMEOUT[0],
    HTTP_MAX_RETRY_AFTER[0],
    FETCH_BUDGET[0],
    "JOBS_ALERT_WEBHOOK_URL",
    "JOBS_UI_BASE_URL",
    # saved searches' deliveries (defs/searches/resources.py reads them as dg.EnvVar)
    "JOBS_SMTP_URL",
    "JOBS_MAIL_FROM",
    "JOBS_ALERT_ALLOW_HTTP",
    "JOBS_ALERT_ALLOW_PRIVATE",
    "JOBS_BACKUP_KEEP",
    "JOBS_STEP_RETRIES",
    "JOBS_STEP_RETRY_DELAY_SECONDS",
    "JOBS_EXPIRE_UNSEEN_DAYS",
    "JOBS_EXPIRE_MAX_SHARE",
    "JOBS_MODEL_RETRAIN_HOURS",
    "JOBS_MODEL_MIN_ROWS",
    "JOBS_AUTOMATION",
    "JOBS_FETCH_ORIGIN",
    "JOBS_EXECUTOR",
    # read by the dbt profile (jobs_assets/dbt/profiles.yml), not by Settings
    "JOBS_DBT_THREADS",
    "JOBS_MIGRATE",
)

#: what a fetch from the configured URLs is recorded as: `live` (a real API) or `replay`
FETCH_ORIGINS = ("live", "replay")
#: how runs launched by the daemon or the UI execute their steps
EXECUTORS = ("multiprocess", "in_process")
#: whether steps migrate the schema (`auto`) or only check it (`check`: deployments run
#: their migrations once, with the schema owner's role)
MIGRATE_MODES = ("auto", "check")


def url_variable(source: Source) -> str:
    return f"JOBS_{source.name.upper()}_URL"


def interval_variable(source: Source) -> str:
    return f"JOBS_{source.name.upper()}_MIN_INTERVAL_HOURS"


def pages_variable(source: Source) -> str | None:
    return f"JOBS_{source.name.upper()}_MAX_PAGES" if source.max_pages is not None else None


def source_variables(source: Source) -> list[str]:
    names = [url_variable(source), interval_variable(source), pages_variable(source)]
    return [n for n in names if n]


def variable_names() -> list[str]:
    """Every JOBS_* setting, in the order deployments list them."""
    per_source = [n for s in SOURCES.values() for n in source_variables(s)]
    return ["JOBS_DATA_DIR", STORAGE_URL, *per_source, *GENERAL_VARIABLES[2:]]


def set_in_process(name: str) -> bool:
    """Whether the process environment (not `.env`) gives `name` a value: only then can
    a resource field be `dg.EnvVar(name)`, resolved again in every run process."""
    return bool((os.environ.get(name) or "").strip())


def process_value(name: str) -> str | None:
    """What the process environment (not `.env`) holds for `name`, or None: a resource
    field is `dg.EnvVar(name)` only when settings read that very value from it."""
    return os.environ.get(name) if set_in_process(name) else None


def process_environment() -> dict[str, str]:
    """A copy of this process's environment, for the programs a command starts."""
    return dict(os.environ)


def environment() -> dict[str, str]:
    """The process environment over `.env`; `.env` is read, never exported."""
    path = find_dotenv(usecwd=True)
    from_file = {k: v for k, v in dotenv_values(path).items() if v is not None} if path else {}
    return {**from_file, **os.environ}


class _Reader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env

    def text(self, name: str) -> str | None:
        return (self.env.get(name) or "").strip() or None

    def number(self, name: str, default: float) -> float:
        raw = self.text(name)
        try:
            return float(raw) if raw else default
        except ValueError as err:
            raise ValueError(
                f"{name}={raw!r} is not a number; unset it or give e.g. {default}"
            ) from err

    def integer(self, name: str, default: int) -> int:
        return int(self.number(name, default))

    def rate(self, name: str, default: str) -> tuple[int, int]:
        """`N` (a hour) or `N/minute`, `N/hour`, `N/day`: (count, period in seconds)."""
        raw = (self.text(name) or default).lower().replace(" ", "")
        count, _, period = raw.partition("/")
        if not count.isdigit() or (period or "hour") not in RATE_PERIODS:
            raise ValueError(f"{name}={raw!r}: give a count a period, e.g. {default} or 5/minute")
        return int(count), RATE_PERIODS[period or "hour"]

    def choice(self, name: str, choices: tuple[str, ...]) -> str:
        """One of `choices` (any case; the first when unset)."""
        value = (self.text(name) or choices[0]).lower()
        if value not in choices:
            given = " or ".join(f"`{c}`" for c in choices)
            raise ValueError(f"{name}={value!r}: give {given}")
        return value


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    pghost: str | None
    alert_webhook_url: str | None
    ui_base_url: str | None
    backup_keep: int
    step_retries: int
    step_retry_delay_seconds: float
    expire_unseen_days: int = 30  # sources whose expiry is "expires_at_or_unseen"
    #: the sudden-drop guard: the most of a source's active listings one complete fetch
    #: expires before a second one (a later window) confirms (lib/identity/lifecycle.py)
    expire_max_share: float = 0.3
    sources: dict[str, SourceSettings] = field(default_factory=dict)
    model_retrain_hours: float = 24.0  # the salary model trains at most this often
    model_min_rows: int = 200  # listings with a salary needed before it trains at all
    #: the ECB daily rates file, fetched with the same HTTP policy as a source
    ecb_rates: SourceSettings | None = None
    automation: bool = False
    fetch_origin: str = "live"
    executor: str = "multiprocess"
    storage_url: str | None = None  # None: the local folder data_dir
    migrate: str = "auto"
    #: saved searches (the API): creations per client address per period (count, seconds)
    search_rate_limit: tuple[int, int] = (20, 3600)
    #: the key of the keyed hash that stands for a client address; None: a random key
    #: per API process (the limit then restarts with the process)
    search_client_key: str | None = None
    #: webhook targets: plain http, and private/loopback/link-local addresses, allowed
    alert_allow_http: bool = False
    alert_allow_private: bool = False
    #: the API's database role, granted what saved searches need by `migrate`
    api_pg_role: str | None = None
    #: the read API's response cache: Redis when set, else one in the API's process
    api_redis_url: str | None = None
    #: how long a cached answer is served (0: no cache)
    api_cache_ttl_seconds: int = 300
    #: where the read API is served: its own links and the MCP server's (unset: the
    #: API's from each request's host, the MCP server's http://127.0.0.1:8000)
    api_base_url: str | None = None
    #: where an s3:// storage is reached (`AWS_ENDPOINT_URL`; None: AWS itself)
    aws_endpoint_url: str | None = None

    def storage(self) -> Storage:
        """Where raw files and backups live (`JOBS_STORAGE_URL`, else `data_dir`)."""
        return open_storage(self.storage_url, self.data_dir, self.aws_endpoint_url)

    @property
    def urls(self) -> dict[str, str]:
        return {name: s.url for name, s in self.sources.items()}

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        read = _Reader(environment() if env is None else env)

        def http_settings(
            name: str, url: str, min_interval_hours: float, max_pages: int
        ) -> SourceSettings:
            return SourceSettings(
                name=name,
                url=url,
                min_interval_hours=min_interval_hours,
                workers=max(1, read.integer(*FETCH_WORKERS)),
                max_rps=max(0.0, read.number(*MAX_RPS)),
                max_pages=max_pages,
                timeout_seconds=read.number(*HTTP_TIMEOUT),
                max_retries=read.integer(*HTTP_RETRIES),
                backoff_seconds=read.number(*HTTP_BACKOFF),
                total_timeout_seconds=read.number(*HTTP_TOTAL_TIMEOUT),
                max_retry_after_seconds=read.number(*HTTP_MAX_RETRY_AFTER),
                fetch_budget_seconds=read.number(*FETCH_BUDGET),
                origin=origin,
            )

        def source_settings(source: Source) -> SourceSettings:
            pages = pages_variable(source)
            return http_settings(
                source.name,
                read.text(url_variable(source)) or source.default_url,
                max(0.0, read.number(interval_variable(source), source.min_interval_hours)),
                max(1, read.integer(pages, source.max_pages)) if pages else 1,
            )

        origin = read.choice("JOBS_FETCH_ORIGIN", FETCH_ORIGINS)
        executor = read.choice("JOBS_EXECUTOR", EXECUTORS)
        automation = read.choice("JOBS_AUTOMATION", ("off", "on"))

        return cls(
            data_dir=Path(read.text("JOBS_DATA_DIR") or "./jobs_data").resolve(),
            pghost=read.text("PGHOST"),
            alert_webhook_url=read.text("JOBS_ALERT_WEBHOOK_URL"),
            ui_base_url=read.text("JOBS_UI_BASE_URL"),
            backup_keep=max(1, read.integer("JOBS_BACKUP_KEEP", 10)),
            step_retries=max(0, read.integer("JOBS_STEP_RETRIES", 3)),
            step_retry_delay_seconds=max(0.0, read.number("JOBS_STEP_RETRY_DELAY_SECONDS", 10.0)),
            expire_unseen_days=max(1, read.integer("JOBS_EXPIRE_UNSEEN_DAYS", 30)),
            expire_max_share=min(1.0, max(0.0, read.number("JOBS_EXPIRE_MAX_SHARE", 0.3))),
            sources={name: source_settings(s) for name, s in SOURCES.items()},
            model_retrain_hours=max(0.0, read.number("JOBS_MODEL_RETRAIN_HOURS", 24.0)),
            model_min_rows=max(1, read.integer("JOBS_MODEL_MIN_ROWS", 200)),
            # once a day is enforced by the raw store (one file per day), not an interval
            ecb_rates=http_settings(
                "ecb_rates", read.text(ECB_RATES_URL[0]) or ECB_RATES_URL[1], 0.0, 1
            ),
            automation=automation == "on",
            fetch_origin=origin,
            executor=executor,
            storage_url=read.text(STORAGE_URL),
            migrate=read.choice("JOBS_MIGRATE", MIGRATE_MODES),
            search_rate_limit=read.rate(*SEARCH_RATE_LIMIT),
            search_client_key=read.text("JOBS_SEARCH_CLIENT_KEY"),
            alert_allow_http=read.choice("JOBS_ALERT_ALLOW_HTTP", ("off", "on")) == "on",
            alert_allow_private=read.choice("JOBS_ALERT_ALLOW_PRIVATE", ("off", "on")) == "on",
            api_pg_role=read.text("JOBS_API_PG_ROLE"),
            api_redis_url=read.text("JOBS_REDIS_URL"),
            api_cache_ttl_seconds=max(0, read.integer("JOBS_API_CACHE_TTL_SECONDS", 300)),
            api_base_url=read.text("JOBS_API_BASE_URL"),
            aws_endpoint_url=read.text(AWS_ENDPOINT_URL),
        )


@dataclass(frozen=True)
class DefinitionsSettings:
    """What Dagster fixes when the definitions load rather than per run: whether schedules
    and sensors start running, the ingestion steps' retry policy, the least time between
    two trainings of the salary model (an automation condition) and the executor.
    `jobs_assets/definitions.py` reads them once; the defaults are what a module imported
    on its own (a test) gets."""

    automation: bool = False
    step_retries: int = 3
    step_retry_delay_seconds: float = 10.0
    model_retrain_hours: float = 24.0
    executor: str = "multiprocess"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DefinitionsSettings:
        settings = Settings.from_env(env)
        return cls(
            automation=settings.automation,
            step_retries=settings.step_retries,
            step_retry_delay_seconds=settings.step_retry_delay_seconds,
            model_retrain_hours=settings.model_retrain_hours,
            executor=settings.executor,
        )


def mask_url(url: str) -> str:
    """The URL with credentials and secret parameters masked (see `lib/redact.py`)."""
    from jobs_assets.lib.redact import mask_url as _mask

    return _mask(url)
