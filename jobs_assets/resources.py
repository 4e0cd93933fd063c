"""Resources own I/O: the database, the raw store and one HTTP API per source.

Their values come from `jobs_assets.settings` when the definitions load (it checks
them and says what is wrong). A setting the process environment holds is passed as
`dg.EnvVar` (`EnvVar.int` for a whole number), so the UI shows which variable feeds
which field and every run process reads it again; defaults, lines of `.env`, values
settings corrected and fractional numbers (Dagster has no float `EnvVar`) are passed as
values. Tests build the resources pointed at a scratch database, a temporary folder
and a local server.
"""

from pathlib import Path
from typing import TypeVar

import dagster as dg
import psycopg
from psycopg.conninfo import make_conninfo

from jobs_assets.lib import db
from jobs_assets.lib.errors import SchemaMismatch
from jobs_assets.lib.raw.storage import Storage, open_storage
from jobs_assets.lib.raw.store import RawStore
from jobs_assets.lib.sources import SOURCES
from jobs_assets.logs import log_to
from jobs_assets.settings import (
    AWS_ENDPOINT_URL,
    ECB_RATES_URL,
    FETCH_WORKERS,
    HTTP_RETRIES,
    STORAGE_URL,
    Settings,
    SourceSettings,
    pages_variable,
    process_value,
    url_variable,
)

_schema_ready: set[str] = set()
V = TypeVar("V")


class PostgresResource(dg.ConfigurableResource):
    """The data database: `PG*` when `pghost` is set, else the embedded PostgreSQL.

    The password is never part of this config: libpq reads `PGPASSWORD` itself.
    `migrate` (`JOBS_MIGRATE`): `auto` brings the schema up to date in the first step
    that connects (laptops); `check` only verifies it, since a deployment runs its
    migrations once with the schema owner's role and steps log in with a role that
    may only load data.
    """

    data_dir: str
    pghost: str | None = None
    migrate: str = "auto"
    #: with `pghost`: the database (unset: libpq's `PGDATABASE`)
    pgdatabase: str | None = None

    def conninfo(self) -> str:
        conninfo = db.conninfo_for(Path(self.data_dir), self.pghost)
        if self.pghost and self.pgdatabase:
            return make_conninfo(conninfo, dbname=self.pgdatabase)
        return conninfo

    def ready_conninfo(self) -> str:
        """The connection string once the schema is this code's (migrated where steps may
        migrate, else checked; once per process). Every step that writes, raw files
        included, asks for it first, so a database newer than the code stops a run
        before anything is written."""
        conninfo = self.conninfo()
        if conninfo not in _schema_ready:
            try:
                # Alembic loads only when a step first connects
                from jobs_assets.lib.schema.migrate import ensure_schema

                ensure_schema(conninfo, upgrade=self.migrate != "check")
            except SchemaMismatch as err:  # one line, no retry: the revision stays
                raise dg.Failure(description=str(err), allow_retries=False) from None
            _schema_ready.add(conninfo)
        return conninfo

    def connect(self, **kwargs) -> psycopg.Connection:
        return db.connect(self.ready_conninfo(), **kwargs)


class RawStoreResource(dg.ConfigurableResource):
    """Raw files in `storage_url` (`JOBS_STORAGE_URL`: a folder or `s3://bucket/prefix`),
    by default under `data_dir`; logs stay under `data_dir` on the local disk (the
    fetch locks are in PostgreSQL, `lib/ops/window_lock.py`)."""

    data_dir: str
    storage_url: str | None = None
    endpoint_url: str | None = None  # AWS_ENDPOINT_URL, for an s3:// storage_url

    def storage(self) -> Storage:
        return open_storage(self.storage_url, Path(self.data_dir), self.endpoint_url)

    def store(self) -> RawStore:
        log_to(Path(self.data_dir))
        return RawStore(Path(self.data_dir), self.storage())


class LifecycleResource(dg.ConfigurableResource):
    """When listings expire (`jobs_assets.lib.identity.lifecycle`): unseen for `expire_unseen_days`
    (`JOBS_EXPIRE_UNSEEN_DAYS`, sources whose rule is `expires_at_or_unseen`), and the
    sudden-drop guard: a complete fetch expires at most `expire_max_share`
    (`JOBS_EXPIRE_MAX_SHARE`) of a source's active listings before a later window
    confirms the drop."""

    expire_unseen_days: int = 30
    expire_max_share: float = 0.3


class SalaryModelResource(dg.ConfigurableResource):
    """How much the salary model needs: `min_rows` (`JOBS_MODEL_MIN_ROWS`) listings that
    state a salary before it trains at all."""

    min_rows: int = 200


class SourceApiResource(dg.ConfigurableResource):
    """Where and how politely to fetch one source."""

    name: str
    url: str
    min_interval_hours: float = 0.0
    workers: int = 8
    max_rps: float = 4.0
    max_pages: int = 50
    timeout_seconds: float = 30.0
    max_retries: int = 5
    backoff_seconds: float = 1.0
    total_timeout_seconds: float = 120.0
    max_retry_after_seconds: float = 300.0
    fetch_budget_seconds: float = 900.0
    origin: str = "live"

    def settings(self) -> SourceSettings:
        return SourceSettings(**self.model_dump())


def from_env_var(name: str, value: V) -> V | dg.EnvVar:
    """`dg.EnvVar(name)` (`EnvVar.int` for a whole number) when the process environment
    sets `name` to exactly what settings made of it, so the UI names the variable; else
    `value`: a default, a line of `.env`, a value settings corrected (`JOBS_BACKUP_KEEP=0`
    is 1) or a fractional number."""
    raw = process_value(name)
    if raw is None or isinstance(value, (bool, float)):
        return value
    if isinstance(value, int):
        return dg.EnvVar.int(name) if raw.strip() == str(value) else value
    return dg.EnvVar(name) if raw == value else value


def from_env_or(name: str, default: V) -> V | dg.EnvVar:
    """`dg.EnvVar(name)` when the process environment sets `name`, else `default`: for a
    value settings do not parse (a secret such as the webhook's address stays a name in
    the resource's config and is read in the run)."""
    return dg.EnvVar(name) if process_value(name) is not None else default


def from_env_int(name: str, default: int) -> int | dg.EnvVar:
    """`dg.EnvVar.int(name)` when the process environment sets it, else `default`: for a
    whole number `Settings` does not parse (Dagster's config checks it in the run)."""
    return dg.EnvVar.int(name) if process_value(name) is not None else default


def resources_from_env(
    settings: Settings | None = None, name_variables: bool = True
) -> dict[str, dg.ConfigurableResource]:
    """The database, raw store, `<source>_api` resources (one per registered source),
    `ecb_rates_api` (the ECB daily rates file, fetched with the same HTTP policy), the
    listings' lifecycle and the salary model's needs.

    `name_variables=False` (the CLI, which builds `settings` for a target of its own):
    every field is the value `settings` holds, never a variable of this process."""
    settings = settings or Settings.from_env()
    named = from_env_var if name_variables else lambda _name, value: value
    data_dir = str(settings.data_dir)
    out: dict[str, dg.ConfigurableResource] = {
        "postgres": PostgresResource(
            data_dir=data_dir,
            pghost=named("PGHOST", settings.pghost),
            migrate=named("JOBS_MIGRATE", settings.migrate),
        ),
        "raw_store": RawStoreResource(
            data_dir=data_dir,
            storage_url=named(STORAGE_URL, settings.storage_url),
            endpoint_url=named(AWS_ENDPOINT_URL, settings.aws_endpoint_url),
        ),
        "lifecycle": LifecycleResource(
            expire_unseen_days=named("JOBS_EXPIRE_UNSEEN_DAYS", settings.expire_unseen_days),
            expire_max_share=settings.expire_max_share,
        ),
        "salary_training": SalaryModelResource(
            min_rows=named("JOBS_MODEL_MIN_ROWS", settings.model_min_rows)
        ),
    }
    for name, source in SOURCES.items():
        values = settings.sources[name].__dict__
        variables = {
            "url": url_variable(source),
            "max_pages": pages_variable(source),
            "workers": FETCH_WORKERS[0],
            "max_retries": HTTP_RETRIES[0],
            "origin": "JOBS_FETCH_ORIGIN",
        }
        named_values = {f: named(v, values[f]) for f, v in variables.items() if v and f in values}
        out[f"{name}_api"] = SourceApiResource(**{**values, **named_values})
    if settings.ecb_rates is not None:
        ecb = settings.ecb_rates.__dict__
        url = named(ECB_RATES_URL[0], ecb["url"])
        out["ecb_rates_api"] = SourceApiResource(**{**ecb, "url": url})
    return out
