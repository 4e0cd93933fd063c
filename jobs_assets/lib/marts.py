"""The dbt project of the analytics marts: where it lives, how dbt reaches the database,
and its parsed manifest.

dbt's connection is a `profiles.yml` written for each build from the pipeline's own open
connection (`write_profiles`), so the embedded PostgreSQL (a socket directory), `PG*` and
docker-compose all work, and nothing is set in the environment; the password is never
copied: dbt reads `PGPASSWORD` itself. dbt's sessions skip JIT and get more sort memory
through the project's pre-hook (`dbt_project.yml`).

The manifest is made ahead by `dagster-dbt project prepare-and-package` (or, under
`dagster dev`, on every load: `jobs_assets/defs/marts/project.py`); `dbt parse` needs
no network, and there is no `packages.yml`, so dbt never tries to download packages.
Each build writes its artifacts to a folder of its own under `$JOBS_DATA_DIR/dbt/runs`
(never inside the installed package), starting from the last build's parse state.
"""

from __future__ import annotations

import importlib
import logging
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

import psycopg
import yaml
from psycopg import sql


def dbt_executable() -> str:
    """`jobs-dbt` (dbt, answering `--version` without starting it: `jobs_assets/dbt_command.py`)
    installed next to this interpreter, a venv need not be activated; else `dbt`."""
    for name in ("jobs-dbt", "dbt"):
        beside = Path(sys.executable).parent / name
        if beside.exists():
            return str(beside)
    return "dbt"


#: the parts of dbt that dagster-dbt's `DbtCliResource` imports in the marts step to open
#: its adapter (the postgres adapter and dbt's configuration, 1.4-2 s): imported ahead by
#: the fork server (`preload.py`) and the CLI's `Ahead` thread
ADAPTER_MODULES = ("dbt.adapters.factory", "dbt.adapters.postgres", "dbt.config.runtime")


def import_adapter() -> None:
    """Import `ADAPTER_MODULES` now, so that the marts step finds them imported."""
    for name in ADAPTER_MODULES:
        importlib.import_module(name)


log = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt"
MARTS_SCHEMA = "marts"
INTERMEDIATE_SCHEMA = "analytics_intermediate"

#: dbt's threads unless `JOBS_DBT_THREADS` says (a refresh's threads mostly wait on queries)
DBT_THREADS = 4
PROFILE_NAME = "jobs_analytics"


def connection_profile(conn: psycopg.Connection) -> dict[str, object]:
    """Where dbt connects, from an open connection: what libpq really used, defaults and
    socket directories included (never the password)."""
    info = conn.info
    return {"host": info.host, "port": info.port, "user": info.user, "dbname": info.dbname}


def write_profiles(folder: Path, profile: Mapping[str, object]) -> Path:
    """A `profiles.yml` in `folder` for one dbt command on the connection `profile`
    (`connection_profile()`); `folder` is passed as `--profiles-dir`, so nothing is set
    in this process's environment. The password stays out of the file: dbt reads
    `PGPASSWORD` itself."""
    output = {
        "type": "postgres",
        **profile,
        "password": "{{ env_var('PGPASSWORD', '') }}",
        "schema": "analytics",
        "threads": DBT_THREADS,  # `--threads` on the command line says otherwise
        "connect_timeout": 10,
    }
    folder.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump({PROFILE_NAME: {"target": "default", "outputs": {"default": output}}})
    (folder / "profiles.yml").write_text(text)
    return folder


def command_args(profiles_dir: Path, target: Path, project_dir: Path = PROJECT_DIR) -> list[str]:
    """The options of a dbt command started outside dagster-dbt: the project, the
    profile in `profiles_dir`, artifacts and logs in `target`. No usage statistics and no
    version check come from `dbt_project.yml`'s flags."""
    return [
        *("--project-dir", str(project_dir)),
        *("--profiles-dir", str(profiles_dir)),
        *("--target-path", str(target)),
        *("--log-path", str(target)),
    ]


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


def parse_ahead(data_dir: Path, profile: Mapping[str, object]) -> Callable[[], None]:
    """Start `dbt parse` in the background for a data folder that has no partial-parse
    state yet (a fresh one), so its first build does not parse the whole project on the
    critical path. `profile` is `connection_profile()` of the folder's connection.

    Returns `finish()`: waits for the parse and keeps its state for the build. A parse
    that fails only costs the time it took: the build then parses by itself.
    """
    runs = runs_dir(data_dir)
    saved = saved_parse_state(runs)
    if saved.exists():
        return lambda: None
    out = runs / "parse-ahead"
    args = command_args(write_profiles(out, profile), out)
    process = subprocess.Popen(
        [dbt_executable(), "parse", "--quiet", *args],
        cwd=PROJECT_DIR,
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
