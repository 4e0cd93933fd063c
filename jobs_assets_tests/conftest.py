"""Shared fixtures: a real PostgreSQL, a local replay server, resources pointing at both.

The database is the server named by `PGHOST` when it is set (a scratch database is
created on it and dropped afterwards), otherwise an embedded PostgreSQL (`pgserver`)
started once for the session.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import psycopg
import psycopg.conninfo
import psycopg.sql
import pytest

from jobs_assets.lib import db
from jobs_assets.lib.schema import LISTINGS_TABLE
from jobs_assets.lib.schema.migrate import ensure_schema
from jobs_assets.partitions import INGESTION_PARTITIONS
from jobs_assets.replay import ECB_PATH, FIXTURES, ReplayServer  # noqa: F401 (ECB_PATH: tests)
from jobs_assets.resources import LifecycleResource, PostgresResource, RawStoreResource
from jobs_assets.testing import (  # noqa: F401 (used by the tests)
    api_resources,
    fixture_listing_count,
    fixture_listing_counts,
    ingestion_assets,
)

FIXTURE_DIR = FIXTURES  # the recorded responses the project ships (copied from shared/fixtures)


@dataclass(frozen=True, eq=False)
class Snapshot:
    """What a window left in the tables it writes: each table as binary COPY, and its
    number of rows."""

    tables: dict[str, bytes]
    rows: dict[str, int]


@dataclass
class Database:
    """The test database and how to reach it from this process or a subprocess."""

    conninfo: str
    data_dir: Path  # holds `pgdata` when embedded
    pghost: str | None
    env: dict[str, str] = field(default_factory=dict)
    #: the snapshot the last `restore()` wrote, and the transaction that wrote it
    _restored: tuple[Snapshot, str] | None = field(default=None, repr=False)

    def resource(self) -> PostgresResource:
        return PostgresResource(data_dir=str(self.data_dir), pghost=self.pghost)

    def connect(self, **kwargs) -> psycopg.Connection:
        return psycopg.connect(self.conninfo, **kwargs)

    def query(self, sql: str, params: tuple | dict | None = None) -> list[tuple]:
        with self.connect() as conn:
            return conn.execute(sql, params).fetchall()

    def empty(self) -> None:
        with self.connect() as conn:
            conn.execute(EMPTY_DATA_TABLES)

    def libpq_env(self) -> dict[str, str]:
        """This database as `PG*` variables: a process given them reaches this very
        server (the embedded one too, by its socket), as pods do, whatever its
        `JOBS_DATA_DIR` says (an embedded server is looked for under that folder)."""
        params = psycopg.conninfo.conninfo_to_dict(self.conninfo)
        env = {variable: str(params[key]) for key, variable in LIBPQ.items() if params.get(key)}
        return {**env, **{k: v for k, v in self.env.items() if k.startswith("PG")}}

    def snapshot(self) -> Snapshot:
        """What a window left in the tables it writes (binary COPY), to restore later."""
        tables, rows = {}, {}
        with self.connect() as conn:
            for table in DATA_TABLES:
                cur = conn.cursor()
                with cur.copy(f"COPY {table} TO STDOUT (FORMAT binary)") as copy:
                    tables[table] = b"".join(bytes(chunk) for chunk in copy)
                rows[table] = cur.rowcount  # the rows the COPY wrote out
        return Snapshot(tables, rows)

    def restore(self, snapshot: Snapshot) -> None:
        """The tables exactly as `snapshot()` found them: a shared set-up, restored for
        each test in milliseconds instead of loading its windows again.

        Nothing is written when the tables still hold what the last restore of this
        snapshot wrote: the same number of rows, every one written by that restore's
        transaction (an insert, update or delete since leaves a row of another
        transaction, or another count). The listings' search vectors come back as they
        were stored, so their trigger does not compute them again."""
        if self._restored and self._restored[0] is snapshot and self._untouched_since_restore():
            return
        with self.connect() as conn:
            conn.execute(EMPTY_DATA_TABLES)
            conn.execute(f"ALTER TABLE {LISTINGS_TABLE} DISABLE TRIGGER {SEARCH_VECTOR_TRIGGER}")
            for table, data in snapshot.tables.items():
                with conn.cursor().copy(f"COPY {table} FROM STDIN (FORMAT binary)") as copy:
                    copy.write(data)
            conn.execute(f"ALTER TABLE {LISTINGS_TABLE} ENABLE TRIGGER {SEARCH_VECTOR_TRIGGER}")
            # the transaction's id as the rows' `xmin` shows it (32 bits, no epoch)
            xid = conn.execute("SELECT (txid_current() % 4294967296)::text").fetchone()[0]
        self._restored = (snapshot, xid)

    def _untouched_since_restore(self) -> bool:
        snapshot, xid = self._restored
        counts = " UNION ALL ".join(
            f"SELECT {i}, count(*), coalesce(bool_and(xmin::text = %(xid)s), true) FROM {table}"
            for i, table in enumerate(DATA_TABLES)
        )
        found = self.query(counts, {"xid": xid})
        return all(
            untouched and rows == snapshot.rows[DATA_TABLES[i]] for i, rows, untouched in found
        )


#: libpq's connection parameters and the variables that give them to another process
LIBPQ = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "dbname": "PGDATABASE"}

# the tables a window writes
DATA_TABLES = (
    "staging.staging_jobs_listings_data",
    "public.jobs_listings_data",
    "public.jobs_listings_history",
    "public.jobs_duplicate_overrides",
    "public.jobs_expiry_holds",
    "public.jobs_saved_searches",
    "public.jobs_search_deliveries",
    "public.jobs_search_announced",
    "public.jobs_search_creations",
)
EMPTY_DATA_TABLES = f"TRUNCATE {', '.join(DATA_TABLES)}"
#: computes each listing's search vector on insert (migration 0013)
SEARCH_VECTOR_TRIGGER = "jobs_listings_data_search_vector"


def without_commit_flushes(conninfo: str) -> None:
    """A throwaway test database need not wait for its commits to reach the disk
    (`synchronous_commit = off`, set on the database only): the same PostgreSQL, the same
    SQL and locks, without an fsync per transaction. A crash of the machine would lose the
    last commits of a database that is dropped anyway."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        name = conn.info.dbname
        conn.execute(
            psycopg.sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(
                psycopg.sql.Identifier(name)
            )
        )


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    data_dir = tmp_path_factory.mktemp("jobs_data")
    pghost = os.environ.get("PGHOST")
    if pghost:
        name = f"jobs_test_{uuid.uuid4().hex[:10]}"
        with psycopg.connect("dbname=postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        previous = os.environ.get("PGDATABASE")
        os.environ["PGDATABASE"] = name
        database = Database(f"dbname={name}", data_dir, pghost, env={"PGDATABASE": name})
        try:
            without_commit_flushes(database.conninfo)
            ensure_schema(database.conninfo)
            yield database
        finally:
            if previous is None:
                os.environ.pop("PGDATABASE", None)
            else:
                os.environ["PGDATABASE"] = previous
            with psycopg.connect("dbname=postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        conninfo = db.embedded_uri(data_dir)
        database = Database(conninfo, data_dir, None, env={"JOBS_DATA_DIR": str(data_dir)})
        without_commit_flushes(database.conninfo)
        ensure_schema(database.conninfo)
        try:
            yield database
        finally:
            db.stop_embedded(data_dir)


@pytest.fixture
def clean_db(database: Database) -> Database:
    """The test database with the tables a window writes empty."""
    database.empty()
    return database


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    with ReplayServer() as server:
        yield server


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A fresh `$JOBS_DATA_DIR` for raw files, logs and backups."""
    path = tmp_path / "jobs_data"
    path.mkdir()
    return path


@pytest.fixture
def resources(clean_db: Database, replay: ReplayServer, data_dir: Path) -> dict[str, object]:
    return {
        "postgres": clean_db.resource(),
        "raw_store": RawStoreResource(data_dir=str(data_dir)),
        "lifecycle": LifecycleResource(),
        **api_resources(replay.base_url),
    }


ECB_SAMPLE = (Path(__file__).parent / "data" / "eurofxref-daily.xml").read_bytes()


def ecb_file(rate_date: datetime.date, usd: str = "1.1172") -> bytes:
    """The recorded ECB daily file (real layout) for another date and USD quote."""
    return ECB_SAMPLE.replace(b"2026-10-30", rate_date.isoformat().encode()).replace(
        b"rate='1.1172'", f"rate='{usd}'".encode()
    )


def store_ecb_rates(
    data_dir: Path, day: datetime.date, body: bytes, storage: object | None = None
) -> Path:
    """Keep `body` as the ECB rates file fetched on `day`, as `ecb_rates` stores it
    (in `storage` when given, else under `data_dir`)."""
    from jobs_assets.lib.money.ecb_fetch import RATES_FOLDER, SUFFIX
    from jobs_assets.lib.raw.store import RawStore
    from jobs_assets.lib.sources.base import Page

    store = RawStore(data_dir, storage)  # type: ignore[arg-type]
    writer = store.writer(RATES_FOLDER, day.isoformat(), suffix=SUFFIX)
    now = datetime.datetime.now(datetime.UTC)
    writer.keep(Page(0, "http://127.0.0.1:9/ecb_rates", 200, "text/xml", body, now))
    return writer.commit()


def deployed_definitions() -> dg.Definitions:
    """The code location as deployed (`JOBS_AUTOMATION=on`: schedules and sensors start
    running), whatever this process's environment says."""
    from jobs_assets.definitions import build_definitions
    from jobs_assets.settings import DefinitionsSettings

    return build_definitions(DefinitionsSettings(automation=True))


#: how close to the next window's start `latest_windows` waits for it instead
WINDOW_TURN_MARGIN = datetime.timedelta(seconds=90)


def latest_windows(count: int = 2) -> list[str]:
    """The newest complete ingestion windows, oldest first (the ones fetched live).

    Within `WINDOW_TURN_MARGIN` of the next window's start it waits for it: the oldest
    of these would stop being live while the test runs it (`lib/raw/ingest.is_live`)."""
    now = datetime.datetime.now(datetime.UTC)
    turn = INGESTION_PARTITIONS.get_next_partition_window(now, respect_bounds=False)
    if turn is not None and turn.start - now < WINDOW_TURN_MARGIN:
        time.sleep(max(0.0, (turn.start - now).total_seconds()) + 1.0)
    keys = INGESTION_PARTITIONS.get_partition_keys()
    return keys[-count:]


def materialize_command(selection: str, partition: str | None = None) -> list[str]:
    """The README's `dagster asset materialize` of the code location, as a command."""
    return [
        *(sys.executable, "-m", "dagster", "asset", "materialize"),
        *("-m", "jobs_assets.definitions", "--select", selection),
        *(("--partition", partition) if partition else ()),
    ]


def dagster_materialize(
    selection: str, env: dict[str, str], cwd: Path, partition: str | None = None
) -> str:
    """The README's `dagster asset materialize` of the code location, in a process of its
    own; its output (stdout and stderr), after asserting that it succeeded."""
    done = subprocess.run(
        materialize_command(selection, partition),
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=480,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-3000:]
    assert "RUN_SUCCESS" in log
    return log


def materialize_window(
    resources: dict[str, object],
    partition_key: str,
    selection: str | None = None,
    raise_on_error: bool = True,
    instance: dg.DagsterInstance | None = None,
) -> dg.ExecuteInJobResult:
    return dg.materialize(
        ingestion_assets(),
        partition_key=partition_key,
        resources=resources,
        selection=selection,
        instance=instance or dg.DagsterInstance.ephemeral(),
        raise_on_error=raise_on_error,
    )


# --- The deployed stack (test_integration.py, test_browser.py) ----------------------


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[object]:
    """gRPC code server, webserver and daemon on a Postgres-backed instance, shared by both."""
    from jobs_assets_tests.deployment import running_deployment

    with running_deployment(tmp_path_factory.mktemp("deployment"), database) as stack:
        yield stack


def pytest_configure(config: pytest.Config) -> None:
    """Each session gets its own temporary root outside `/tmp/pytest-of-<user>`.

    The embedded PostgreSQL runs as a separate system user when the tests run as root,
    so its data folders must stay traversable; pytest resets `/tmp/pytest-of-<user>` to
    0700 at the start of every session, which would lock out the server of a session
    already running on the same machine.
    """
    if not config.option.basetemp and not hasattr(config, "workerinput"):
        import tempfile

        config.option.basetemp = tempfile.mkdtemp(prefix="jobs_assets_pytest_")
    if not hasattr(config, "workerinput"):
        prepare_dbt_manifest()


def prepare_dbt_manifest() -> None:
    """The marts' dbt manifest, made again when a file of the dbt project is newer (what
    `make manifest` does; a plain `pytest` after editing a model must not test the old
    one). Once, before any pytest-xdist worker starts."""
    from jobs_assets.lib import marts

    manifest = marts.PROJECT_DIR / "target" / "manifest.json"
    if marts.manifest_outdated_by(manifest) is None:
        return
    bin_dir = Path(sys.executable).parent  # dagster-dbt finds `dbt` on the PATH
    subprocess.run(
        [
            *(str(bin_dir / "dagster-dbt"), "project", "prepare-and-package"),
            *("--file", str(Path(marts.__file__).parents[1] / "defs" / "marts" / "project.py")),
        ],
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
        check=True,
        timeout=300,
    )


#: groups whose shared set-up keeps their tests on one worker for minutes (test_marts:
#: about 3 min of dbt builds; the read API's tests: their database, loaded by the
#: pipeline and built by dbt once instead of once per worker): they start right after
#: the stack, on workers of their own, instead of being handed out last and running
#: alone at the end
LONG_GROUPS = frozenset({"jobs_assets_tests.test_marts", "api"})


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Groups for `make test`'s pytest-xdist (`--dist loadgroup`): the stack's tests
    (integration, then browser) share one worker, so its processes start once; so do
    the tests of the read API's database (`api_data`), and a module's tests that share a
    module-scoped set-up, so each is built once. The stack goes first on a worker (it is
    the longest part: the others take the rest meanwhile), then the `LONG_GROUPS`; in a
    single process the stack goes last, never competing for the CPU."""

    def shares_module_setup(item: pytest.Item) -> bool:
        info = getattr(item, "_fixtureinfo", None)
        definitions = info.name2fixturedefs.values() if info else ()
        return any(defs[-1].scope in ("module", "class") for defs in definitions)

    def group(item: pytest.Item) -> str | None:
        fixtures = getattr(item, "fixturenames", ())
        if "deployment" in fixtures:
            return "deployment"
        if "api_data" in fixtures:
            return "api"
        if shares_module_setup(item):
            return item.module.__name__
        return None

    groups = {item.nodeid: group(item) for item in items}
    first = hasattr(config, "workerinput")

    def order(item: pytest.Item) -> tuple[bool, bool, bool]:
        stack = groups[item.nodeid] == "deployment"
        return (
            stack != first,
            groups[item.nodeid] not in LONG_GROUPS,
            stack and item.module.__name__.endswith("test_browser"),
        )

    for item in items:
        if groups[item.nodeid]:
            item.add_marker(pytest.mark.xdist_group(groups[item.nodeid]))
    items.sort(key=order)
