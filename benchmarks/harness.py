"""What every benchmark shares: its own database server or databases, a worker process
per measured run (for a clean peak RSS), and the facts about the machine.

The benchmark never touches the user's data: without `PGHOST` it runs a private
embedded PostgreSQL under `benchmarks/.work/`; with `PGHOST` it creates and drops
databases named `jobs_bench*` on that server.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from jobs_assets.lib import db
from jobs_assets.lib.schema.migrate import ensure_schema

ROOT = Path(__file__).resolve().parent.parent
WORK_DIR = ROOT / "benchmarks" / ".work"
BENCH_DB = "jobs_bench"


@dataclass
class BenchServer:
    """The PostgreSQL the benchmarks run on, and how to make databases on it."""

    base: str  # conninfo without dbname ("" = libpq reads PG*)
    embedded: bool
    data_dir: Path  # JOBS_DATA_DIR for processes that use the embedded server

    @classmethod
    def start(cls) -> BenchServer:
        WORK_DIR.mkdir(parents=True, exist_ok=True)
        if os.environ.get("PGHOST"):
            return cls("", False, WORK_DIR / "data")
        uri = db.embedded_uri(WORK_DIR)  # a private server, not the user's jobs_data
        return cls(make_conninfo(uri, dbname="postgres"), True, WORK_DIR)

    def conninfo(self, dbname: str) -> str:
        return make_conninfo(self.base, dbname=dbname)

    def _guard(self, dbname: str) -> None:
        """Only the benchmark's own databases are ever dropped (`jobs` only on its own
        embedded server, where `make demo`'s database name is needed for B4)."""
        if not (dbname.startswith("jobs_bench") or (self.embedded and dbname == "jobs")):
            raise ValueError(f"refusing to drop or create {dbname!r}: not a benchmark database")

    def fresh_database(self, dbname: str, schema: bool = True) -> str:
        """Drop and create `dbname` (with the project's schema); its conninfo."""
        self.drop_database(dbname)
        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        conninfo = self.conninfo(dbname)
        if schema:
            ensure_schema(conninfo)
        return conninfo

    def drop_database(self, dbname: str) -> None:
        self._guard(dbname)
        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
            )

    def version(self) -> str:
        with psycopg.connect(self.conninfo("postgres")) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]

    def settings(self) -> dict[str, str]:
        names = ("shared_buffers", "work_mem", "maintenance_work_mem", "max_wal_size")
        with psycopg.connect(self.conninfo("postgres")) as conn:
            return {
                n: conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(n))).fetchone()[0]
                for n in names
            }

    def stop(self) -> None:
        if self.embedded:
            db.stop_embedded(WORK_DIR)


# --- measured runs in a worker process ------------------------------------------------


def materialize_command(selection: str, partition: str | None = None) -> list[str]:
    """`dagster asset materialize` of a selection of the project's definitions, for one
    window when the selection is partitioned: what production's run workers execute."""
    command = [sys.executable, "-m", "dagster", "asset", "materialize"]
    command += ["-m", "jobs_assets.definitions", "--select", selection]
    return command + (["--partition", partition] if partition else [])


def run_worker(task: str, timeout: float = 3600, **args: object) -> dict:
    """Run `benchmarks.worker` TASK in a fresh process; its JSON result.

    The worker times only the work (imports and connections are set up first) and
    reports its own peak RSS, so each contender's memory is measured alone.
    """
    command = [sys.executable, "-m", "benchmarks.worker", task, json.dumps(args, default=str)]
    started = time.perf_counter()
    proc = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=os.environ.copy()
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        tail = "\n".join(line[:300] for line in proc.stderr.strip().splitlines()[-12:])
        raise RuntimeError(f"benchmark worker {task} failed (exit {proc.returncode}):\n{tail}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_seconds"] = round(wall, 3)
    return result


def peak_rss_mb() -> float:
    """This process's peak resident set size (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(work: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    value = work()
    return time.perf_counter() - started, value


# --- the machine and versions ---------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, object]:
    import psutil

    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "disk_free_gib": round(shutil.disk_usage(WORK_DIR).free / 2**30, 1),
    }


def versions(server: BenchServer) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), "postgresql": server.version()}
    for name in (
        "jobs_assets",
        "dagster",
        "pandas",
        "pyarrow",
        "numpy",
        "psycopg",
        "sqlalchemy",
        "dlt",
        "requests",
    ):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out
