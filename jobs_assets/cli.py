"""`python -m jobs_assets.cli run|demo|psql|latest-window|migrate|db-stop`: what `make` calls.

`run` and `demo` materialise the ingestion group for the latest complete window, then
the analytics marts, in this one process (Dagster's in-process executor, on the local
instance: the runs show in `make dev`'s UI). Loading the definitions once and running
every step in this process is what makes the demo take seconds rather than a minute
(BENCHMARKS.md, "Executors"); deployments keep the multiprocess executor and their run
containers. `demo` starts the replay server on loopback, points every source at it and
works in a data folder, database and Dagster instance of its own, so nothing of it mixes
with what `run` loads.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import shutil
import socket
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from jobs_assets.lib.errors import SchemaMismatch
from jobs_assets.settings import SOURCES, Settings, interval_variable, mask_url

if TYPE_CHECKING:
    from collections.abc import Callable

    from jobs_assets.console import RunNotes

LOCAL_DAGSTER_YAML = """\
# Local instance for `make run`, `make demo` and `make dev` (SQLite storage).
# The production instance is ../dagster.yaml, used only by docker-compose.
telemetry:
  enabled: false
concurrency:
  pools:
    default_limit: 1
"""
DEMO_FOLDER = "demo"  # under JOBS_DATA_DIR: the demo's raw files, logs, database, instance


def dagster_home(path: Path | None = None) -> Path:
    """A local instance folder, so the production `dagster.yaml` is never picked up."""
    home = (path or Path(os.environ.get("DAGSTER_HOME") or ".dagster_home")).resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(LOCAL_DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def latest_window() -> str:
    from jobs_assets.partitions import latest_window as latest

    return latest()


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
    """Where a command's data lives: the project's (`run`) or the demo's."""

    data_dir: Path
    pghost: str | None
    pgdatabase: str | None  # with PGHOST: the database libpq connects to
    demo: bool

    def conninfo(self) -> str:
        from jobs_assets.lib import db

        if self.pghost:
            return f"dbname={self.pgdatabase}" if self.pgdatabase else ""
        return db.embedded_uri(self.data_dir)

    def shown_uri(self) -> str:
        """The connection URI with any password masked, as the summary prints it."""
        if not self.pghost:
            return self.conninfo()
        env = os.environ
        user = env.get("PGUSER") or ""
        password = ":***" if env.get("PGPASSWORD") else ""
        port = f":{env['PGPORT']}" if env.get("PGPORT") else ""
        at = f"{user}{password}@" if user else ""
        return f"postgresql://{at}{self.pghost}{port}/{self.pgdatabase or user}"


def target(demo: bool, settings: Settings | None = None) -> Target:
    """The demo's own folder `$JOBS_DATA_DIR/demo` (its embedded PostgreSQL, raw files,
    logs and Dagster instance), or with PGHOST the database `<PGDATABASE>_demo`."""
    settings = settings or Settings.from_env()
    base_db = os.environ.get("PGDATABASE") or os.environ.get("PGUSER") or "jobs"
    if not demo:
        return Target(settings.data_dir, settings.pghost, None, False)
    return Target(
        settings.data_dir / DEMO_FOLDER,
        settings.pghost,
        f"{base_db}_demo" if settings.pghost else None,
        True,
    )


def ensure_database(name: str) -> None:
    """Create the demo's database on the PGHOST server when it is missing."""
    from jobs_assets.lib import db

    with db.connect("", autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not found:
            conn.execute(f'CREATE DATABASE "{name}"')  # a name we built, not user input
            print(f"created database {name} for the demo")


def use(where: Target) -> None:
    """Point this process's settings at the target, before the definitions load."""
    os.environ["JOBS_DATA_DIR"] = str(where.data_dir)
    # every step runs in this process (execute_in_process): dbt's build too
    os.environ["JOBS_EXECUTOR"] = "in_process"
    if where.pgdatabase:
        os.environ["PGDATABASE"] = where.pgdatabase


# --- running ---------------------------------------------------------------------------


def execute(where: Target, partition_key: str) -> int:
    """The ingestion window, then the marts, in this process; one line per step."""
    import dagster as dg

    from jobs_assets.console import console_logger
    from jobs_assets.definitions import defs

    started = time.monotonic()
    # initdb, the start of an embedded server and a first dbt parse are other processes:
    # let them run on the second core while this one loads the definitions and ingests
    ahead = Ahead(where)
    ahead.start()
    dagster_home(where.data_dir / "dagster_home" if where.demo else None)
    logger, lines = console_logger(where.data_dir)
    marts_job = dg.define_asset_job("marts_job", selection=dg.AssetSelection.groups("marts"))
    definitions = dg.Definitions.merge(
        defs(), dg.Definitions(jobs=[marts_job], loggers={"console": logger})
    )
    print(f"definitions loaded in {time.monotonic() - started:.1f} s", flush=True)
    with dg.DagsterInstance.get() as instance:
        for job_name, key in (("ingestion_job", partition_key), ("marts_job", None)):
            what = f"window {key}" if key else "the analytics marts (dbt build)"
            if job_name == "marts_job":
                ahead.finish()
            print(f"{job_name}: {what}", flush=True)
            with contextlib.redirect_stdout(lines.spill):  # dbt echoes its log to stdout
                result = definitions.resolve_job_def(job_name).execute_in_process(
                    run_config={"loggers": {"console": {}}},  # only configured loggers run
                    instance=instance,
                    partition_key=key,
                    raise_on_error=False,
                )
            if not result.success:
                print(f"{job_name} failed (run {result.run_id}); full log: {log_file(where)}")
                return 1
    print(summary(where, lines.notes, time.monotonic() - started))
    return 0


class Ahead(threading.Thread):
    """Starts the database, then a first `dbt parse` for it (a fresh data folder has no
    parse state for its connection), while the main thread works; `finish()` waits for
    both. A failure here is only lost time: the steps report it in full."""

    def __init__(self, where: Target) -> None:
        super().__init__(daemon=True)
        self.where = where
        self.parsed: Callable[[], None] = lambda: None

    def run(self) -> None:
        from jobs_assets.lib import db, marts

        with contextlib.suppress(Exception):
            with db.connect(self.where.conninfo()) as conn:
                env = marts.profile_env(conn)
            self.parsed = marts.parse_ahead(self.where.data_dir, env)

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


def summary(where: Target, notes: RunNotes, seconds: float) -> str:
    from jobs_assets.lib import db

    with db.connect(where.conninfo()) as conn:
        rows = conn.execute(
            "SELECT source, count(*), "
            "count(*) FILTER (WHERE salary_min_usd IS NOT NULL OR salary_max_usd IS NOT NULL) "
            "FROM public.jobs_listings_data GROUP BY source ORDER BY source"
        ).fetchall()
    mats = getattr(notes, "materializations", {})
    window = mats.get("jobs_listings", {})
    rejected = sum(int(m.get("records_rejected", 0)) for n, m in mats.items() if n.endswith("_raw"))
    failed = getattr(notes, "failed_checks", [])
    psql = "make psql DEMO=1" if where.demo else "make psql"
    lines = [
        "",
        f"done in {seconds:.1f} s. public.jobs_listings_data now holds:",
        *(f"  {s:<10} {n:>7} listings ({w} with a USD salary)" for s, n, w in rows),
        f"this window: {window.get('rows_inserted', 0)} inserted, "
        f"{window.get('rows_updated', 0)} updated, {window.get('rows_unchanged', 0)} unchanged, "
        f"{rejected} rejected; {getattr(notes, 'checks_passed', 0)} checks passed"
        + (f", {len(failed)} failed:" if failed else ""),
        *(f"  {f}" for f in failed),
        f"data:     {where.data_dir}"
        + (" (the demo's own, apart from `make run`)" if where.demo else ""),
        f"logs:     {log_file(where)}",
        f"database: {where.shown_uri()}",
        f"look:     {psql}   (or: echo 'select 1' | make -s {psql.removeprefix('make ')})",
        *(f"          {q}" for q in EXAMPLE_QUERIES),
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    failed = unreachable(settings.urls)
    if failed:
        print(
            "Cannot reach the job APIs, so nothing was fetched:\n  "
            + "\n  ".join(failed)
            + "\nAre you offline? `make demo` runs the same pipeline on recorded responses.",
            file=sys.stderr,
        )
        return 2
    where = target(demo=False, settings=settings)
    use(where)
    return execute(where, args.partition or latest_window())


def demo(args: argparse.Namespace) -> int:
    from jobs_assets.replay import ReplayServer

    where = target(demo=True)
    if where.pgdatabase:
        ensure_database(where.pgdatabase)
    use(where)
    with ReplayServer() as server:
        os.environ.update(
            {
                **server.env(),
                "JOBS_FETCH_ORIGIN": "replay",  # never counts as a live fetch
                "JOBS_MAX_RPS": "0",  # loopback: no need to be polite
                **{interval_variable(s): "0" for s in SOURCES.values()},
            }
        )
        print(f"replay server on {server.base_url} serving the recorded API responses")
        return execute(where, args.partition or latest_window())


def psql(args: argparse.Namespace) -> int:
    """Replace this process with psql on the project's (or the demo's) database."""
    where = target(demo=args.demo)
    binary = psql_binary(bool(where.pghost))
    if binary is None:
        print("psql not found: install the PostgreSQL client", file=sys.stderr)
        return 2
    conninfo = where.conninfo()
    argv = [binary, "-X", "-q", *(["-d", conninfo] if conninfo else []), *args.psql_args]
    sys.stdout.flush()
    os.execv(binary, argv)
    return 0  # pragma: no cover


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


def db_stop(args: argparse.Namespace) -> int:
    from jobs_assets.lib import db

    data_dir = Settings.from_env().data_dir
    for label, folder in (("", data_dir), ("the demo's ", data_dir / DEMO_FOLDER)):
        stopped = db.stop_embedded(folder)
        print(f"{label}embedded PostgreSQL " + ("stopped" if stopped else "was not running"))
    return 0


def migrate(args: argparse.Namespace) -> int:
    """`make migrate`: bring the data database to the newest migration, by hand."""
    from jobs_assets.lib.schema.migrate import migrate as run_migrations

    done = run_migrations(target(demo=False).conninfo())
    print(f"schema revision before: {done.before or 'none (no migration had run)'}")
    print(f"schema revision after:  {done.after}" + ("" if done.upgraded else " (nothing to do)"))
    return 0


def main(argv: list[str] | None = None) -> int:
    # pgserver asks platformdirs for a runtime folder, which warns when XDG_RUNTIME_DIR is
    # unset (root, containers); the fallback it takes is fine.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    parser = argparse.ArgumentParser(prog="jobs_assets", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    handlers = {
        "run": run,
        "demo": demo,
        "psql": psql,
        "latest-window": show_latest_window,
        "migrate": migrate,
        "db-stop": db_stop,
    }
    for name, handler in handlers.items():
        command = commands.add_parser(name)
        if name in ("run", "demo"):
            command.add_argument("--partition", help="window key, default: the latest complete")
        if name == "psql":
            command.add_argument("--demo", action="store_true", help="the demo's database")
            command.add_argument("psql_args", nargs="*", help="passed on to psql")
        command.set_defaults(handler=handler)
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (ConnectionError, ValueError, SchemaMismatch) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def exit_now(code: int) -> None:
    """Run the exit handlers (log files flushed and closed), then leave without tearing
    down the interpreter: freeing Dagster's, dbt's and pandas' modules one by one takes
    over a second and does nothing an exiting process needs."""
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe has nothing to flush
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())
