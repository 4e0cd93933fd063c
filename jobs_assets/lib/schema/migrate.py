"""Bring a database to the newest migration, safely from many processes at once.

Dagster's multiprocess executor starts one process per step, and each calls
`PostgresResource.connect`, which calls `migrate` once per process before any asset
touches the tables. A session-level advisory lock on the migration connection makes
the others wait while one upgrades; they then find the head revision and do nothing.

`alembic_version` lives in `public`, beside the tables it describes, so a backup
(`pg_dump` of the database) records which schema it holds.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib import resources

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from jobs_assets.lib import db
from jobs_assets.lib.errors import SchemaMismatch

VERSION_TABLE = "alembic_version"
VERSION_TABLE_SCHEMA = "public"
# Any constant will do: it serialises migrations across step processes.
MIGRATION_LOCK_ID = 727_001
# Alembic keeps its running migration context in module globals: one at a time here.
_process_lock = threading.Lock()


@dataclass(frozen=True)
class Migration:
    """The revision before and after a `migrate` (None: no migration had run)."""

    before: str | None
    after: str | None

    @property
    def upgraded(self) -> bool:
        return self.before != self.after


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("jobs_assets") / "migrations"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def known_revisions() -> set[str]:
    """Every revision this code's migrations define."""
    script = ScriptDirectory.from_config(alembic_config())
    return {revision.revision for revision in script.walk_revisions()}


def newer_than_code(revision: str | None) -> SchemaMismatch | None:
    """The error for a database a newer release has migrated (a revision this code does
    not know), said in one line instead of Alembic's `Can't locate revision` traceback."""
    if revision is None or revision in known_revisions():
        return None
    return SchemaMismatch(
        f"The database is at schema revision {revision}, which this code does not know "
        f"(it knows up to {head_revision()}): a newer release has migrated it. Deploy that "
        "release (or newer) of the code, or restore a backup made by this version; "
        "nothing was changed."
    )


def behind_code(revision: str | None) -> SchemaMismatch | None:
    """The error for a database older than the code when steps may not migrate it
    (`JOBS_MIGRATE=check`: migrations run once per deployment, by its migrate job)."""
    head = head_revision()
    if revision == head:
        return None
    return SchemaMismatch(
        f"The database is at schema revision {revision or 'none (never migrated)'}, this "
        f"code needs {head}: run the deployment's migrate job (`python -m jobs_assets.cli "
        "migrate` with the schema owner's role) and start the run again; nothing was changed."
    )


def check(conninfo: str) -> str | None:
    """The database's revision when it is exactly the code's head, else `SchemaMismatch`."""
    revision = current_revision(conninfo)
    error = newer_than_code(revision) or behind_code(revision)
    if error is not None:
        raise error
    return revision


def engine_for(conninfo: str) -> sa.Engine:
    """SQLAlchemy over psycopg 3, connecting exactly as the pipeline does (`db.connect`:
    an empty conninfo lets libpq read `PG*`, the password included)."""
    return sa.create_engine(
        "postgresql+psycopg://", creator=lambda: db.connect(conninfo), poolclass=sa.NullPool
    )


def current_revision(conninfo: str) -> str | None:
    with engine_for(conninfo).connect() as connection:
        return _current(connection)


def _current(connection: sa.Connection) -> str | None:
    context = MigrationContext.configure(
        connection,
        opts={"version_table": VERSION_TABLE, "version_table_schema": VERSION_TABLE_SCHEMA},
    )
    heads = context.get_current_heads()
    connection.rollback()
    if len(heads) > 1:  # Alembic's own error here is a traceback about "more than one head"
        raise SchemaMismatch(
            f"{VERSION_TABLE_SCHEMA}.{VERSION_TABLE} holds {len(heads)} revisions "
            f"({', '.join(sorted(heads))}) where this project's migrations, one line, keep "
            "one: it was edited by hand. Keep the row of the revision the tables really are "
            "at (the files of jobs_assets/migrations/versions, numbered in order), delete the "
            "others, and run again; nothing was changed."
        )
    return heads[0] if heads else None


def migrate(conninfo: str, revision: str = "head") -> Migration:
    """Upgrade the database to `revision` under the advisory lock; idempotent. A database
    at a revision this code does not know raises `SchemaMismatch` and is left as it is."""
    with _process_lock, engine_for(conninfo).connect() as connection:
        connection.execute(sa.text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        connection.commit()
        try:
            before = _current(connection)
            ahead = newer_than_code(before)
            if ahead is not None:
                raise ahead
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()
            after = _current(connection)
        finally:
            connection.rollback()
            connection.execute(sa.text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
            connection.commit()
    return Migration(before, after)


def ensure_schema(conninfo: str, upgrade: bool = True) -> None:
    """Bring the database to the newest migration; safe to run from many processes at
    once, and a no-op when it is already there. With `upgrade` False (deployments, where
    a migrate job owns the schema), only check that the database is at this code's
    revision. Either way, `SchemaMismatch` when it is not (or, when migrating, when a
    newer release made it), before anything is written."""
    if upgrade:
        migrate(conninfo)
    else:
        check(conninfo)
