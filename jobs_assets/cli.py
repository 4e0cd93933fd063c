"""`jobs demo|run|api|dev|migrate|restore|latest-window|psql|backup|db-stop`: the project's
one console script (`[project.scripts]`), which `make` calls; `jobs <command> --help`
shows each command's options and examples. The commands are one table (`COMMANDS`).

`run` and `demo` materialise the ingestion group for the latest complete window, then
the analytics marts, in this one process (Dagster's in-process executor, on the local
instance: the runs show in `jobs dev`'s UI). Loading the definitions once and running
every step in this process is what makes the demo take seconds rather than a minute
(BENCHMARKS.md, "Executors"); deployments keep the multiprocess executor and their run
containers. `demo` starts the replay server on loopback, points every source at it and
works in a data folder, database and Dagster instance of its own, so nothing of it mixes
with what `run` loads. It replays two windows: the previous one from the earlier
recordings (the sources recorded on two dates, `replay.EARLIER`), the latest from the newer,
so the listings gone from the newer recordings expire as a live source's would.
`psql`, `api`, `dev`, `backup` and `restore` take `--demo` to work on the demo's folder,
database and instance instead of the project's. Each command's settings come from
`jobs_assets.settings` and reach the definitions as resources; none is written into the
environment.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from jobs_assets.lib.errors import SchemaMismatch
from jobs_assets.settings import (
    SOURCES,
    DefinitionsSettings,
    Settings,
    environment,
    interval_variable,
    mask_url,
    process_environment,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from jobs_assets.console import RunNotes

LOCAL_DAGSTER_YAML = """\
# Local instance for `make run`, `make demo` and `make dev` (SQLite storage).
# The production instance is deploy/dagster.yaml, used only by the images.
telemetry:
  enabled: false
concurrency:
  pools:
    default_limit: 1
"""
DEMO_FOLDER = "demo"  # under JOBS_DATA_DIR: the demo's raw files, logs, database, instance
#: the code location's one name: the workspace `make dev` writes, the compose workspace and
#: `[tool.dg.project] code_location_name` agree, so Dagster has no mismatch to warn about
LOCATION_NAME = "jobs_assets"
LOCAL_WORKSPACE_YAML = """\
# Written by `make dev` (jobs_assets/cli.py): the code location, under the name that
# pyproject.toml's [tool.dg.project] code_location_name gives it.
load_from:
  - python_module:
      module_name: jobs_assets.definitions
      location_name: {name}
      working_directory: {cwd}
"""
DAGSTER_PORT = 3000
API_PORT = 8000


def dagster_home(path: Path | None = None, env: Mapping[str, str] | None = None) -> Path:
    """A local instance folder (`DAGSTER_HOME`, else `.dagster_home`), so the production
    `dagster.yaml` is never picked up."""
    env = environment() if env is None else env
    home = (path or Path(env.get("DAGSTER_HOME") or ".dagster_home")).resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(LOCAL_DAGSTER_YAML)
    return home


def local_workspace(home: Path) -> Path:
    """The workspace file `make dev` loads: the package's module as location `jobs_assets`
    (`dagster dev -m` would name it after the module, which the project's name is not)."""
    path = home / "workspace.yaml"
    path.write_text(LOCAL_WORKSPACE_YAML.format(name=LOCATION_NAME, cwd=Path.cwd()))
    return path


def latest_window() -> str:
    from jobs_assets.partitions import latest_window as latest

    return latest()


def previous_window(key: str) -> str | None:
    """The window before `key`, or None before the first window."""
    from jobs_assets.partitions import FIRST_WINDOW, WINDOW_FORMAT

    earlier = datetime.strptime(key, WINDOW_FORMAT) - timedelta(hours=4)
    first = datetime.strptime(FIRST_WINDOW, WINDOW_FORMAT)
    return earlier.strftime(WINDOW_FORMAT) if earlier >= first else None


def unreachable(urls: dict[str, str], timeout: float = 4.0) -> list[str]:
    """Sources whose host cannot be resolved or connected to (no request is sent)."""
    failed = []
    for name, url in urls.items():
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            with socket.create_connection((parts.hostname, port), timeout=timeout):
                pass
        except OSError as err:
            failed.append(f"{name} ({mask_url(url)}): {err}")
    return failed


# --- where the demo lives ------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where a command's data lives: the project's (`run`) or the demo's, and the
    environment (the process's over `.env`) its settings come from."""

    data_dir: Path
    pghost: str | None
    pgdatabase: str | None  # with PGHOST: the database libpq connects to
    demo: bool
    env: Mapping[str, str]

    def conninfo(self) -> str:
        from psycopg.conninfo import make_conninfo

        from jobs_assets.lib import db

        if self.pghost:
            return make_conninfo("", dbname=self.pgdatabase) if self.pgdatabase else ""
        return db.embedded_uri(self.data_dir)

    def settings(self, **overrides: str) -> Settings:
        """The settings of this target: its data folder, and `overrides` (`JOBS_*`)."""
        return Settings.from_env({**self.env, "JOBS_DATA_DIR": str(self.data_dir), **overrides})

    def resources(self, settings: Settings) -> dict[str, object]:
        """Every resource of the definitions, pointed at this target with `settings`."""
        from jobs_assets.defs.automation.resources import AlertsResource
        from jobs_assets.defs.backups.resources import backups_resource_from_env
        from jobs_assets.lib.ops.alerts import DEFAULT_UI_BASE_URL
        from jobs_assets.resources import PostgresResource, resources_from_env

        postgres = PostgresResource(
            data_dir=str(self.data_dir),
            pghost=self.pghost,
            pgdatabase=self.pgdatabase,
            migrate=settings.migrate,
        )
        return {
            **resources_from_env(settings, name_variables=False),
            "postgres": postgres,
            "alerts": AlertsResource(
                data_dir=str(self.data_dir),
                postgres=postgres,
                ui_base_url=settings.ui_base_url or DEFAULT_UI_BASE_URL,
            ),
            "backups": backups_resource_from_env(settings, name_variables=False),
        }

    def child_environment(self, **overrides: str) -> dict[str, str]:
        """The environment of a program started for this target (`dagster dev`)."""
        where = {"JOBS_DATA_DIR": str(self.data_dir)}
        if self.pgdatabase:
            where["PGDATABASE"] = self.pgdatabase
        return {**process_environment(), **where, **overrides}

    def shown_uri(self) -> str:
        """The connection URI with any password masked, as the summary prints it."""
        if not self.pghost:
            return self.conninfo()
        env = self.env
        user = env.get("PGUSER") or ""
        password = ":***" if env.get("PGPASSWORD") else ""
        port = f":{env['PGPORT']}" if env.get("PGPORT") else ""
        at = f"{user}{password}@" if user else ""
        return f"postgresql://{at}{self.pghost}{port}/{self.pgdatabase or user}"


def target(demo: bool, env: Mapping[str, str] | None = None) -> Target:
    """The demo's own folder `$JOBS_DATA_DIR/demo` (its embedded PostgreSQL, raw files,
    logs and Dagster instance), or with PGHOST the database `<PGDATABASE>_demo`; the
    demo's database is created when missing."""
    env = environment() if env is None else env
    settings = Settings.from_env(env)
    base_db = env.get("PGDATABASE") or env.get("PGUSER") or "jobs"
    if not demo:
        return Target(settings.data_dir, settings.pghost, None, False, env)
    where = Target(
        settings.data_dir / DEMO_FOLDER,
        settings.pghost,
        f"{base_db}_demo" if settings.pghost else None,
        True,
        env,
    )
    if where.pgdatabase:
        ensure_database(where.pgdatabase)
    return where


def ensure_database(name: str) -> None:
    """Create the demo's database on the PGHOST server when it is missing."""
    from psycopg import sql

    from jobs_assets.lib import db

    try:  # the server's maintenance database: PGDATABASE itself may not exist yet
        conn = db.connect("dbname=postgres", autocommit=True)
    except ConnectionError:
        conn = db.connect("", autocommit=True)
    with conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not found:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name} for the demo")


def home_of(where: Target) -> Path:
    """The target's Dagster instance: the demo's own, or the project's `.dagster_home`."""
    return dagster_home(where.data_dir / "dagster_home" if where.demo else None, where.env)


def demo_environment(server: object) -> dict[str, str]:
    """Every source (and the ECB rates) at the replay server, recorded as replayed."""
    return {
        **server.env(),  # type: ignore[attr-defined]
        "JOBS_FETCH_ORIGIN": "replay",  # never counts as a live fetch
        "JOBS_MAX_RPS": "0",  # loopback: no need to be polite
        **{interval_variable(s): "0" for s in SOURCES.values()},
        # A source's two recordings, months apart, share no listing: the
        # whole feed turned over between them, which the sudden-drop guard would hold for a
        # later window to confirm. The demo has no later window, so it shows the expiry.
        "JOBS_EXPIRE_MAX_SHARE": "1",
    }


# --- running ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One job run of a command: the job, its partition, and what to do just before."""

    job: str
    partition: str | None
    what: str
    before: Callable[[], object] | None = None


def execute(
    where: Target,
    steps: Sequence[Step],
    report: Callable[[RunNotes, float], str] | None = None,
    settings: Settings | None = None,
) -> int:
    """The steps' runs, in this process (`execute_in_process`: dbt's build too), with the
    resources of `where` and `settings`; one line per asset or check step. The marts'
    first dbt parse (and the database's start) run ahead on the other core."""
    import dagster as dg

    from jobs_assets.console import console_logger
    from jobs_assets.definitions import build_definitions

    started = time.monotonic()
    settings = settings or where.settings()
    # initdb, the start of an embedded server and a first dbt parse are other processes:
    # let them run on the second core while this one loads the definitions and ingests
    ahead = Ahead(where) if any(step.job == "marts_job" for step in steps) else None
    if ahead:
        ahead.start()
    home = home_of(where)
    logger, lines = console_logger(where.data_dir)
    marts_job = dg.define_asset_job("marts_job", selection=dg.AssetSelection.groups("marts"))
    values = DefinitionsSettings.from_env(where.env)
    definitions = dg.Definitions.merge(
        build_definitions(values, resources=where.resources(settings)),
        dg.Definitions(jobs=[marts_job], loggers={"console": logger}),
    )
    print(f"definitions loaded in {time.monotonic() - started:.1f} s", flush=True)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for step in steps:
            if step.job == "marts_job" and ahead:
                ahead.finish()
            if step.before:
                step.before()
            print(f"{step.job}: {step.what}", flush=True)
            with contextlib.redirect_stdout(lines.spill):  # dbt echoes its log to stdout
                result = definitions.resolve_job_def(step.job).execute_in_process(
                    run_config={"loggers": {"console": {}}},  # only configured loggers run
                    instance=instance,
                    partition_key=step.partition,
                    raise_on_error=False,
                )
            if not result.success:
                print(f"{step.job} failed (run {result.run_id}); full log: {log_file(where)}")
                return 1
    seconds = time.monotonic() - started
    print(report(lines.notes, seconds) if report else summary(where, lines.notes, seconds))
    return 0


def window_steps(key: str, before: Callable[[], object] | None = None, note: str = "") -> Step:
    return Step("ingestion_job", key, f"window {key}{note}", before)


MARTS_STEP = Step("marts_job", None, "the analytics marts (dbt build)")


class Ahead(threading.Thread):
    """Starts the database, then a first `dbt parse` for it (a fresh data folder has no
    parse state for its connection), then imports the parts of dbt that dagster-dbt opens
    in the marts step (`marts.import_adapter`, 1.4 s), while the main thread works and waits on
    the database; `finish()` waits for all three. A failure here is only lost time: the
    steps report it in full."""

    def __init__(self, where: Target) -> None:
        super().__init__(daemon=True)
        self.where = where
        self.parsed: Callable[[], None] = lambda: None

    def run(self) -> None:
        from jobs_assets.lib import db, marts

        with contextlib.suppress(Exception):
            with db.connect(self.where.conninfo()) as conn:
                profile = marts.connection_profile(conn)
            self.parsed = marts.parse_ahead(self.where.data_dir, profile)
            marts.import_adapter()

    def finish(self) -> None:
        self.join()
        self.parsed()


def log_file(where: Target) -> Path:
    return where.data_dir / "logs" / f"jobs-{time.strftime('%Y-%m-%d', time.gmtime())}.log"


EXAMPLE_QUERIES = (
    "select source, count(*) from public.jobs_listings_data group by source;",
    "select title, company_name, region, salary_min_usd from public.jobs_listings_data "
    "where salary_min_usd is not null order by salary_min_usd desc limit 5;",
    "select * from marts.daily_postings order by 1 desc limit 5;",
)
MARTS = (
    "daily_postings",
    "salary_percentiles",
    "top_companies",
    "tag_trends",
    "listing_durations",
    "worldwide_share",
)
#: why a mart can be empty after a window or two, and what fills it
EMPTY_MART = {
    "salary_percentiles": "a cell needs 5 active listings with a salary of one region, "
    "category and seniority; `make run` every few hours gathers them",
    "listing_durations": "no listing has expired yet: the next windows expire what is gone",
}


def layer_lines(conn: object, model_min_rows: int) -> list[str]:
    """What the window did to the layers past the listings table: lifecycle, duplicate
    clusters, the marts, the salary model; an empty one says why and what fills it."""
    one = lambda sql: conn.execute(sql).fetchone()  # noqa: E731  # type: ignore[attr-defined]
    expired, reactivated = one(
        "SELECT count(*) FILTER (WHERE status = 'expired'), "
        "count(*) FILTER (WHERE reactivated_count > 0) FROM public.jobs_listings_data"
    )
    clusters, cross = one(
        "SELECT count(*), count(*) FILTER (WHERE sources > 1) FROM ("
        " SELECT count(DISTINCT source) AS sources FROM public.jobs_listings_data"
        " WHERE duplicate_cluster_id IS NOT NULL GROUP BY duplicate_cluster_id"
        " HAVING count(*) > 1) AS c"
    )
    lines = [
        f"lifecycle: {expired} expired (gone from a later complete fetch of their source), "
        f"{reactivated} reactivated"
        + (
            ""
            if reactivated
            else " (a listing must expire in one window and come back in a "
            "later one; the recorded windows hold none)"
        ),
        f"duplicates: {clusters} cluster(s) of 2 or more listings, {cross} across sources"
        + ("" if cross else " (no job in the recordings was posted on two sources)"),
    ]
    counts = []
    empty = []
    for mart in MARTS:
        if one(f"SELECT to_regclass('marts.{mart}')")[0] is None:  # a fixed name
            counts.append(f"{mart} not built")
            continue
        n = one(f"SELECT count(*) FROM marts.{mart}")[0]
        counts.append(f"{mart} {n}")
        if not n and mart in EMPTY_MART:
            empty.append(f"  {mart} is empty: {EMPTY_MART[mart]}")
    lines += [f"marts:     {', '.join(counts)} rows", *empty]
    salaries = one(
        "SELECT count(*) FROM public.jobs_listings_data "
        "WHERE salary_min_usd IS NOT NULL OR salary_max_usd IS NOT NULL"
    )[0]
    models = (
        one("SELECT count(*) FROM ml.salary_models")[0]
        if one("SELECT to_regclass('ml.salary_models')")[0]
        else 0
    )
    if salaries < model_min_rows:
        lines.append(
            f"salary model: {salaries} listings state a salary; it trains from "
            f"{model_min_rows} (JOBS_MODEL_MIN_ROWS), so no estimates yet: `make run` every "
            "few hours gathers them"
        )
    else:
        lines.append(f"salary model: {salaries} listings state a salary; {models} models trained")
    return lines


def next_commands(demo: bool) -> list[str]:
    flag = " DEMO=1" if demo else ""
    return [
        f"next:     make psql{flag}   psql on this database (or: echo 'select 1' | "
        f"make -s psql{flag}), e.g.",
        *(f"            {q}" for q in EXAMPLE_QUERIES),
        f"          make api{flag}    the read API and search page on "
        f"http://127.0.0.1:{API_PORT} (API_PORT=N)",
        f"          make dev{flag}    the Dagster UI with these runs on "
        f"http://127.0.0.1:{DAGSTER_PORT} (DAGSTER_PORT=N)",
    ]


def summary(where: Target, notes: RunNotes, seconds: float, windows: Sequence[str] = ()) -> str:
    from jobs_assets.lib import db

    with db.connect(where.conninfo()) as conn:
        rows = conn.execute(
            "SELECT source, count(*), "
            "count(*) FILTER (WHERE salary_min_usd IS NOT NULL OR salary_max_usd IS NOT NULL) "
            "FROM public.jobs_listings_data GROUP BY source ORDER BY source"
        ).fetchall()
        layers = layer_lines(conn, where.settings().model_min_rows)
    mats = getattr(notes, "materializations", {})
    window = mats.get("jobs_listings", {})
    rejected = sum(int(m.get("records_rejected", 0)) for n, m in mats.items() if n.endswith("_raw"))
    failed = getattr(notes, "failed_checks", [])
    lines = [
        "",
        f"done in {seconds:.1f} s. public.jobs_listings_data now holds:",
        *(f"  {s:<10} {n:>7} listings ({w} with a USD salary)" for s, n, w in rows),
        (f"last window ({windows[-1]}): " if len(windows) > 1 else "this window: ")
        + f"{window.get('rows_inserted', 0)} inserted, "
        f"{window.get('rows_updated', 0)} updated, {window.get('rows_unchanged', 0)} unchanged, "
        f"{rejected} rejected",
        f"checks:   {getattr(notes, 'checks_passed', 0)} passed"
        + (f", {len(failed)} failed:" if failed else ""),
        *(f"  {f}" for f in failed),
        *layers,
        f"data:     {where.data_dir}"
        + (" (the demo's own, apart from `make run`)" if where.demo else ""),
        f"logs:     {log_file(where)}",
        f"database: {where.shown_uri()}",
        *next_commands(where.demo),
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    where = target(demo=False)
    settings = where.settings()
    failed = unreachable(settings.urls)
    if failed:
        print(
            "Cannot reach the job APIs, so nothing was fetched:\n  "
            + "\n  ".join(failed)
            + "\nAre you offline? `make demo` runs the same pipeline on recorded responses.",
            file=sys.stderr,
        )
        return 2
    steps = [window_steps(args.partition or latest_window()), MARTS_STEP]
    return execute(where, steps, settings=settings)


def demo(args: argparse.Namespace) -> int:
    """Two windows when no partition is given: the previous one from the earlier
    recordings, the latest from the newer ones (only the latest two windows can be
    fetched; older ones replay what is stored)."""
    from jobs_assets.replay import EARLIER, ReplayServer

    where = target(demo=True)
    latest = args.partition or latest_window()
    earlier = None if args.partition else previous_window(latest)
    with ReplayServer() as server:
        settings = where.settings(**demo_environment(server))
        print(f"replay server on {server.base_url} serving the recorded API responses")

        def recordings(suffix: str) -> Callable[[], None]:
            def switch() -> None:
                used = server.use_recordings(suffix)
                if used:
                    print(f"replaying the earlier recordings {', '.join(used)}", flush=True)

            return switch

        steps = [window_steps(latest, recordings(""), " (the newer recordings)" if earlier else "")]
        if earlier:
            steps.insert(0, window_steps(earlier, recordings(EARLIER), " (the earlier recordings)"))
        windows = [step.partition or "" for step in steps]
        return execute(
            where,
            [*steps, MARTS_STEP],
            lambda notes, seconds: summary(where, notes, seconds, windows),
            settings,
        )


def psql(args: argparse.Namespace) -> int:
    """Replace this process with psql on the project's (or the demo's) database."""
    where = target(demo=args.demo)
    binary = psql_binary(bool(where.pghost))
    if binary is None:
        print("psql not found: install the PostgreSQL client", file=sys.stderr)
        return 2
    conninfo = where.conninfo()
    # ON_ERROR_STOP: SQL read from stdin or -c that fails exits non-zero (a script, a
    # README example); an interactive session goes on as psql's always do
    argv = [binary, "-X", "-q", "-v", "ON_ERROR_STOP=1",
            *(["-d", conninfo] if conninfo else []), *args.psql_args]  # fmt: skip
    sys.stdout.flush()
    os.execv(binary, argv)
    return 0  # pragma: no cover


def api(args: argparse.Namespace) -> int:
    """`make api [DEMO=1]`: the read API over the project's (or the demo's) database."""
    from jobs_assets.api.__main__ import main as serve
    from jobs_assets.api.app import create_app

    where = target(demo=args.demo)
    app = create_app(conninfo=where.conninfo(), env=where.env)
    serve(["--host", args.host, "--port", str(args.port)], app=app)
    return 0


def mcp(args: argparse.Namespace) -> int:
    """`jobs mcp [--demo]`: the MCP server over stdio, on the project's (or the demo's) data."""
    from jobs_assets.mcp_server import main as serve

    where = target(demo=args.demo)
    return serve(conninfo=where.conninfo(), env=where.env)


def dev(args: argparse.Namespace) -> int:
    """`make dev [DEMO=1]`: `dagster dev` on the project's (or the demo's) data, database
    and instance, loading the location through a workspace file that names it as the
    project does. With `--demo` the replay server runs beside it, so a window
    materialised in the UI replays the recordings as `make demo` does."""
    where = target(demo=args.demo)
    home = home_of(where)
    bin_dir = Path(sys.executable).parent
    binary = str(bin_dir / "dagster")
    argv = [binary, "dev", "-w", str(local_workspace(home)), "-h", args.host, "-p", str(args.port)]
    # this interpreter's `bin` first on PATH: dagster-dbt parses the marts' project under
    # `dagster dev` with the `dbt` it finds there (no venv need be activated)
    path = os.pathsep.join([str(bin_dir), where.env.get("PATH", "")])
    sys.stdout.flush()
    if not args.demo:
        os.execve(binary, argv, where.child_environment(PATH=path, DAGSTER_HOME=str(home)))
    from jobs_assets.replay import ReplayServer

    with ReplayServer() as server:
        print(f"replay server on {server.base_url} serving the recorded API responses", flush=True)
        env = where.child_environment(PATH=path, DAGSTER_HOME=str(home), **demo_environment(server))
        child = subprocess.Popen(argv, env=env)
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                continue  # the child got the same interrupt: let it shut down


def backup(args: argparse.Namespace) -> int:
    """`make backup [DEMO=1]`: `postgres_backup` for the latest 6-hour window, now."""
    from jobs_assets.partitions import BACKUP_PARTITIONS

    where = target(demo=args.demo)
    key = BACKUP_PARTITIONS.get_last_partition_key()
    if key is None:
        raise ValueError("no backup window has ended yet (the first window is in the future)")
    step = Step("backup_job", key, f"backup window {key}")

    def report(notes: RunNotes, seconds: float) -> str:
        made = getattr(notes, "materializations", {}).get("postgres_backup", {})
        dump = made.get("dump_path", "")
        flag = " DEMO=1" if where.demo else ""
        return f"backup done in {seconds:.1f} s: {dump}\nrestore: make restore{flag} BACKUP={dump}"

    return execute(where, [step], report)


def psql_binary(external: bool) -> str | None:
    """The embedded server's own psql (pgserver ships it), or the one on PATH for PGHOST."""
    bundled = None
    try:
        import pgserver

        candidate = Path(pgserver.__file__).parent / "pginstall" / "bin" / "psql"
        bundled = str(candidate) if candidate.exists() else None
    except ImportError:
        pass
    return (shutil.which("psql") or bundled) if external else (bundled or shutil.which("psql"))


def show_latest_window(args: argparse.Namespace) -> int:
    print(latest_window())
    return 0


def instance(args: argparse.Namespace) -> int:
    """Print the local Dagster instance folder, made with its `dagster.yaml` if missing:
    `export DAGSTER_HOME="$(jobs instance)"` before plain `dagster` commands."""
    print(dagster_home())
    return 0


def db_stop(args: argparse.Namespace) -> int:
    from jobs_assets.lib import db

    data_dir = target(demo=False).data_dir
    for label, folder in (("", data_dir), ("the demo's ", data_dir / DEMO_FOLDER)):
        stopped = db.stop_embedded(folder)
        print(f"{label}embedded PostgreSQL " + ("stopped" if stopped else "was not running"))
    return 0


def migrate(args: argparse.Namespace) -> int:
    """`make migrate`: bring the data database to the newest migration, by hand."""
    from jobs_assets.lib.schema.migrate import migrate as run_migrations

    where = target(demo=False)
    settings = Settings.from_env(where.env)
    conninfo = where.conninfo()
    done = run_migrations(conninfo)
    print(f"schema revision before: {done.before or 'none (no migration had run)'}")
    print(f"schema revision after:  {done.after}" + ("" if done.upgraded else " (nothing to do)"))
    if settings.api_pg_role:  # deployments: the API's role may save and delete searches
        import psycopg

        from jobs_assets.lib.searches.store import API_PRIVILEGES, API_READS, grant_api_role

        with psycopg.connect(conninfo, autocommit=True) as conn:
            grant_api_role(conn, settings.api_pg_role)
        print(
            f"granted {API_PRIVILEGES} on public.jobs_saved_searches to {settings.api_pg_role}"
            f" (and SELECT on {len(API_READS)} tables it reads)"
        )
    return 0


# --- the commands -----------------------------------------------------------------------


def restore(args: argparse.Namespace) -> int:
    """`make restore BACKUP=… [YES=1] [DEMO=1]`: a backup set into the project's (or the
    demo's) database and raw store."""
    from jobs_assets.restore import restore_backup

    where = target(demo=args.demo)
    settings = where.settings()
    raw_store = None if args.no_raw else settings.storage()
    return restore_backup(args.backup, where.conninfo(), raw_store, args.yes)


def with_partition(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--partition", help="window key, default: the latest complete")


def with_demo(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--demo", action="store_true", help="the demo's data, database and instance"
    )


def serving(port: int) -> Callable[[argparse.ArgumentParser], None]:
    def add(parser: argparse.ArgumentParser) -> None:
        with_demo(parser)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=port)

    return add


def with_psql_args(parser: argparse.ArgumentParser) -> None:
    with_demo(parser)
    parser.add_argument("psql_args", nargs="*", help="passed on to psql (after --)")


def with_backup(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("backup", help="a backup file or URL, e.g. jobs_data/backups/jobs-….dump")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    parser.add_argument("--no-raw", action="store_true", help="restore the database only")
    with_demo(parser)


@dataclass(frozen=True)
class Command:
    """A subcommand of `jobs`: what runs it, a line of help, the examples its `--help`
    ends with, and its own options."""

    name: str
    handler: Callable[[argparse.Namespace], int]
    help: str
    examples: tuple[str, ...]
    options: Callable[[argparse.ArgumentParser], None] = lambda parser: None


#: every subcommand, in the order `jobs --help` lists them: a new one is one entry here
COMMANDS = (
    Command(
        "demo",
        demo,
        "the pipeline on recorded API responses, offline, in a folder and database of its own",
        ("jobs demo", "jobs demo --partition 2026-11-20-04:00"),
        with_partition,
    ),
    Command(
        "run",
        run,
        "the pipeline on the live APIs for the latest complete window, then the marts",
        ("jobs run", 'jobs run --partition "$(jobs latest-window)"'),
        with_partition,
    ),
    Command(
        "api",
        api,
        f"the read API and search page (http://127.0.0.1:{API_PORT})",
        ("jobs api", "jobs api --demo --port 8001"),
        serving(API_PORT),
    ),
    Command(
        "mcp",
        mcp,
        "an MCP server over stdio for AI assistants: search, a listing, salary stats, saved searches",
        ("jobs mcp", "jobs mcp --demo"),
        with_demo,
    ),
    Command(
        "dev",
        dev,
        f"the Dagster UI (`dagster dev`, http://127.0.0.1:{DAGSTER_PORT}) on the same data",
        ("jobs dev", "JOBS_AUTOMATION=on jobs dev --port 3001", "jobs dev --demo"),
        serving(DAGSTER_PORT),
    ),
    Command(
        "migrate",
        migrate,
        "bring the database schema to the newest migration (each run does it anyway)",
        ("jobs migrate",),
    ),
    Command(
        "restore",
        restore,
        "restore a backup set (the dump and its raw archives) after checking it",
        (
            "jobs restore jobs_data/backups/jobs-2026-12-01-0600-20261201T120012Z.dump",
            "jobs restore s3://bucket/prefix/backups/jobs-2026-12-01-0600-20261201T120012Z.dump --yes",
            "jobs restore BACKUP --no-raw --demo",
        ),
        with_backup,
    ),
    Command(
        "latest-window",
        show_latest_window,
        "print the newest complete 4-hour window key",
        ("jobs latest-window", 'jobs run --partition "$(jobs latest-window)"'),
    ),
    Command(
        "instance",
        instance,
        "print the local Dagster instance folder (DAGSTER_HOME, else .dagster_home), made "
        "with its dagster.yaml if missing",
        ("jobs instance", 'export DAGSTER_HOME="$(jobs instance)"'),
    ),
    Command(
        "psql",
        psql,
        "psql on the project's (or the demo's) database; reads stdin too",
        (
            "jobs psql",
            "jobs psql --demo -- -c 'select source, count(*) from jobs_listings_data group by 1'",
            "echo 'select 1' | jobs psql",
        ),
        with_psql_args,
    ),
    Command(
        "backup",
        backup,
        "back the database up now (postgres_backup, the latest 6-hour window)",
        ("jobs backup", "jobs backup --demo"),
        with_demo,
    ),
    Command(
        "db-stop",
        db_stop,
        "stop the embedded PostgreSQL (the project's and the demo's)",
        ("jobs db-stop",),
    ),
)


def examples(lines: Sequence[str]) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="jobs",
        description="Remote-job listings into PostgreSQL with Dagster: the project's commands.",
        epilog=examples(["jobs demo", "jobs api --demo", "jobs <command> --help"]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="<command>")
    for command in COMMANDS:
        sub = commands.add_parser(
            command.name,
            help=command.help,
            description=command.help,
            epilog=examples(command.examples),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.options(sub)
        sub.set_defaults(handler=command.handler)
    return top


def main(argv: list[str] | None = None) -> int:
    # pgserver asks platformdirs for a runtime folder, which warns when XDG_RUNTIME_DIR is
    # unset (root, containers); the fallback it takes is fine.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    args = parser().parse_args(argv)
    try:
        return args.handler(args)
    except (ConnectionError, ValueError, SchemaMismatch) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


#: the code `console` leaves with (1 until `main` returns: an uncaught error)
_exit_code = [1]


def _leave_without_teardown() -> None:
    """The last exit handler (registered first, they run last in first out): the others
    have run (servers stopped, locks released, temporary files removed), so leave
    without tearing down the interpreter: freeing Dagster's, dbt's and pandas' modules
    one by one takes over a second and does nothing an exiting process needs."""
    logging.shutdown()  # registered when `logging` was imported, before this handler
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe has nothing to flush
            stream.flush()
    os._exit(_exit_code[0])


def console() -> None:
    """The `jobs` console script ([project.scripts] in pyproject.toml)."""
    atexit.register(_leave_without_teardown)
    try:
        code = main()
    except SystemExit as stop:  # argparse's --help (0) and usage errors (2)
        code = stop.code
    if isinstance(code, str):
        print(code, file=sys.stderr)
    _exit_code[0] = code if isinstance(code, int) else 0 if code is None else 1
    sys.exit(_exit_code[0])


if __name__ == "__main__":
    console()
