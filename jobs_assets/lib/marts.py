"""The dbt project of the analytics marts: where it lives, how dbt reaches the database,
and its parsed manifest.

dbt reads its connection from `JOBS_DBT_*` (see `jobs_assets/dbt/profiles.yml`); they
are computed from the pipeline's own open connection, so the embedded PostgreSQL
(a socket directory), `PG*` and docker-compose all work with one profile. The password
is never copied: dbt's libpq reads `PGPASSWORD` itself.

The manifest is made ahead by `dagster-dbt project prepare-and-package` (or, under
`dagster dev`, on every load: `jobs_assets/defs/marts/project.py`); `dbt parse` needs
no network, and there is no `packages.yml`, so dbt never tries to download packages.
Each build writes its artifacts to a folder of its own under `$JOBS_DATA_DIR/dbt/runs`
(never inside the installed package), starting from the last build's parse state.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import psycopg
from psycopg import sql


def dbt_executable() -> str:
    """The `dbt` installed next to this interpreter (a venv need not be activated)."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else "dbt"


log = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt"
MARTS_SCHEMA = "marts"
INTERMEDIATE_SCHEMA = "analytics_intermediate"

# No usage statistics, no version check: dbt must never reach the network.
QUIET_ENV = {
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DBT_VERSION_CHECK": "false",
}


# dbt's sessions (libpq reads PGOPTIONS): no JIT, whose compilation costs more than the
# small queries of an incremental refresh take (0.8 s of a 1.1 s mart at 1M listings),
# and memory enough to sort a full build's million listings without spilling to disk.
SESSION_OPTIONS = "-c jit=off -c work_mem=64MB"
#: dbt's threads unless JOBS_DBT_THREADS says (a refresh's threads mostly wait on queries)
DBT_THREADS = "4"


def profile_env(conn: psycopg.Connection) -> dict[str, str]:
    """`JOBS_DBT_*` for profiles.yml from an open connection: what libpq really used,
    defaults and socket directories included (never the password); PGOPTIONS with the
    session settings of dbt's connections after any the user set."""
    info = conn.info
    return {
        "JOBS_DBT_HOST": info.host,
        "JOBS_DBT_PORT": str(info.port),
        "JOBS_DBT_USER": info.user,
        "JOBS_DBT_DBNAME": info.dbname,
        "PGOPTIONS": f"{os.environ.get('PGOPTIONS', '')} {SESSION_OPTIONS}".strip(),
        # compose passes unset settings as empty strings, which dbt would read as given
        "JOBS_DBT_THREADS": os.environ.get("JOBS_DBT_THREADS") or DBT_THREADS,
        **QUIET_ENV,
    }


@contextlib.contextmanager
def environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the block (dbt's CLI and its in-process adapter
    both read `os.environ`), then restore what was there."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def require_manifest(manifest: Path, project_dir: Path = PROJECT_DIR) -> Path:
    """`manifest`, or an error that says how to make it; a warning in the log when a file
    of the project is newer (the assets would describe yesterday's models)."""
    fix = (
        "Run `make manifest` (dagster-dbt project prepare-and-package --file "
        "jobs_assets/defs/marts/project.py), or `dagster dev`, which parses on load"
    )
    if not manifest.exists():
        raise FileNotFoundError(f"the marts' dbt manifest {manifest} is missing. {fix}")
    newer = manifest_outdated_by(manifest, project_dir)
    if newer is not None:
        log.warning("the marts' dbt manifest %s is older than %s. %s", manifest, newer, fix)
    return manifest


def manifest_outdated_by(manifest: Path, project_dir: Path = PROJECT_DIR) -> Path | None:
    """A file of the dbt project changed after `manifest` was written (None: current)."""
    if not manifest.exists():
        return project_dir / "dbt_project.yml"
    made = manifest.stat().st_mtime
    for path in project_dir.rglob("*"):
        rel = path.relative_to(project_dir)
        if rel.parts[0] in {"target", "logs"} or not path.is_file():
            continue
        if path.stat().st_mtime > made:
            return path
    return None


def runs_dir(data_dir: Path, keep: int = 20) -> Path:
    """The folder for dbt invocations' artifacts, keeping the newest `keep` of them."""
    runs = data_dir / "dbt" / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    old = sorted(runs.iterdir(), key=lambda p: p.stat().st_mtime)[:-keep]
    for path in old:
        shutil.rmtree(path, ignore_errors=True)
    return runs


PARSE_STATE = "partial_parse.msgpack"


def saved_parse_state(runs: Path) -> Path:
    """The last build's partial-parse state, kept beside the data folder's dbt runs: dbt
    re-parses the whole project when it finds none for this very connection."""
    return runs / PARSE_STATE


def new_target(data_dir: Path, run_id: str) -> Path:
    """A fresh artifacts folder for one build under `$JOBS_DATA_DIR/dbt/runs`, holding
    the folder's last partial-parse state (the prepared manifest's was made without a
    connection), which dbt then reads instead of parsing the whole project."""
    runs = runs_dir(data_dir)
    target = runs / f"{run_id[:8]}-{uuid.uuid4().hex[:6]}"
    target.mkdir()
    saved = saved_parse_state(runs)
    if saved.exists():
        shutil.copyfile(saved, target / PARSE_STATE)
    return target


def keep_parse_state(target: Path, data_dir: Path) -> None:
    """Keep the parse state a build left in its `target` for the data folder's next build."""
    fresh = target / PARSE_STATE
    if fresh.exists():
        shutil.copyfile(fresh, saved_parse_state(runs_dir(data_dir)))


#: how long a stopped dbt may take to cancel its queries and leave (dagster-dbt's default)
STOP_WAIT_SECONDS = 25.0


def stop_dbt(process: subprocess.Popen, wait_seconds: float = STOP_WAIT_SECONDS) -> None:
    """Stop a dbt process that is still running as Ctrl-C would (dbt cancels its queries
    and exits), and kill it if it has not left after `wait_seconds`; nothing when it has
    finished already."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(wait_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def command_env(profile: Mapping[str, str], target: Path) -> dict[str, str]:
    """The environment of a dbt command started outside dagster-dbt: this project, the
    connection `profile` (`profile_env()`), no network, artifacts and logs in `target`."""
    return {
        **os.environ,
        **profile,
        **QUIET_ENV,
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "DBT_PROJECT_DIR": str(PROJECT_DIR),
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(target),
    }


def parse_ahead(data_dir: Path, env: Mapping[str, str]) -> Callable[[], None]:
    """Start `dbt parse` in the background for a data folder that has no partial-parse
    state yet (a fresh one), so its first build does not parse the whole project on the
    critical path. `env` is `profile_env()` of the folder's connection.

    Returns `finish()`: waits for the parse and keeps its state for the build. A parse
    that fails only costs the time it took: the build then parses by itself.
    """
    runs = runs_dir(data_dir)
    saved = saved_parse_state(runs)
    if saved.exists():
        return lambda: None
    out = runs / "parse-ahead"
    process = subprocess.Popen(
        [dbt_executable(), "parse", "--quiet"],
        cwd=PROJECT_DIR,
        env=command_env(env, out),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def finish() -> None:
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            return
        if process.returncode == 0 and (out / PARSE_STATE).exists() and not saved.exists():
            shutil.copyfile(out / PARSE_STATE, saved)

    return finish


def row_count(conn: psycopg.Connection, schema: str, name: str) -> int:
    query = sql.SQL("SELECT count(*) FROM {}.{}").format(
        sql.Identifier(schema), sql.Identifier(name)
    )
    return conn.execute(query).fetchone()[0]


def headline_daily_postings(conn: psycopg.Connection) -> dict[str, float]:
    """Totals of the latest day in marts.daily_postings (0 when the mart is empty)."""
    row = conn.execute(
        f"""
        SELECT coalesce(sum(new_listings), 0), coalesce(sum(active_listings), 0),
               coalesce(sum(expired_listings), 0)
        FROM {MARTS_SCHEMA}.daily_postings
        WHERE day = (SELECT max(day) FROM {MARTS_SCHEMA}.daily_postings)
        """
    ).fetchone()
    return {
        "new_listings_latest_day": int(row[0]),
        "active_listings_latest_day": int(row[1]),
        "expired_listings_latest_day": int(row[2]),
    }


def headline_salaries(conn: psycopg.Connection) -> dict[str, float]:
    """The median annual USD midpoint over all active canonical listings with a salary,
    and how many listings the reported cells cover."""
    median, with_salary = conn.execute(
        f"""
        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY annual_usd_midpoint), count(*)
        FROM {INTERMEDIATE_SCHEMA}.int_salaries_annual_usd
        WHERE status = 'active' AND is_canonical
        """
    ).fetchone()
    cells, covered = conn.execute(
        f"SELECT count(*), coalesce(sum(listings), 0) FROM {MARTS_SCHEMA}.salary_percentiles"
    ).fetchone()
    return {
        "median_salary_usd": float(median) if median is not None else 0.0,
        "listings_with_salary": int(with_salary),
        "cells": int(cells),
        "listings_in_cells": int(covered),
    }
