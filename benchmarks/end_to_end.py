"""B4, end to end: a demo window through Dagster, process start to run success.

What `make demo` runs: the replay server on loopback and `dagster asset materialize
--select group:ingestion` for the latest window, in a fresh process with a fresh
local instance. The run's own event log then tells how much of that time the steps'
code ran (assets and asset checks, STEP_START to STEP_SUCCESS) and so how much was
Dagster's (process starts, imports, events, resource set-up).

Variants run the same command with another executor start method, to show what the
per-step process costs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from benchmarks.harness import ROOT, WORK_DIR, BenchServer, materialize_command, run_worker
from jobs_assets.cli import LOCAL_DAGSTER_YAML
from jobs_assets.replay import ReplayServer

ASSETS = ("remotive_raw", "jobicy_raw", "himalayas_raw", "staged_listings", "jobs_listings")
EXECUTORS = {
    "multiprocess (default, as `make demo`)": None,
    "multiprocess, forkserver": '{"execution": {"config": {"multiprocess": '
    '{"start_method": {"forkserver": {}}}}}}',
    "in_process": '{"execution": {"config": {"in_process": {}}}}',
}


def _latest_window() -> str:
    from jobs_assets.partitions import INGESTION_PARTITIONS

    return INGESTION_PARTITIONS.get_last_partition_key()


def _environment(server: BenchServer, replay: ReplayServer, home: Path) -> dict[str, str]:
    env = {
        **os.environ,
        **replay.env(),
        "DAGSTER_HOME": str(home),
        "JOBS_MAX_RPS": "0",
        "JOBS_REMOTIVE_MIN_INTERVAL_HOURS": "0",
        "JOBS_JOBICY_MIN_INTERVAL_HOURS": "0",
    }
    if server.embedded:
        env["JOBS_DATA_DIR"] = str(server.data_dir)  # the benchmark's own server, db "jobs"
    else:
        env["JOBS_DATA_DIR"] = str(WORK_DIR / "e2e")
        env["PGDATABASE"] = "jobs_bench_e2e"
    return env


def _fresh_state(server: BenchServer, home: Path) -> None:
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text(LOCAL_DAGSTER_YAML)  # as `make demo` has it
    data_dir = server.data_dir if server.embedded else WORK_DIR / "e2e"
    for folder in ("raw", "logs"):
        shutil.rmtree(data_dir / folder, ignore_errors=True)
    server.fresh_database("jobs" if server.embedded else "jobs_bench_e2e", schema=False)


def materialize_once(server: BenchServer, config: str | None, label: str) -> dict:
    home = WORK_DIR / "dagster_home"
    _fresh_state(server, home)
    partition = _latest_window()
    command = materialize_command("group:ingestion", partition)
    if config:
        command += ["--config-json", config]
    with ReplayServer() as replay:
        env = _environment(server, replay, home)
        started = time.perf_counter()
        proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        total = time.perf_counter() - started
    if proc.returncode != 0:
        tail = "\n".join(line[:300] for line in proc.stderr.splitlines()[-15:])
        raise RuntimeError(f"dagster asset materialize ({label}) failed:\n{tail}")
    events = run_worker("dagster_steps", dagster_home=str(home), assets=list(ASSETS))
    own = events["steps_union_s"]
    return {
        "executor": label,
        "partition": partition,
        "total_s": round(total, 3),
        "run_s": events["run_s"],
        "assets_compute_s": events["assets_sum_s"],
        "checks_compute_s": events["checks_sum_s"],
        "steps_compute_union_s": own,
        "dagster_overhead_s": round(total - own, 3),
        "dagster_overhead_share": round((total - own) / total, 3),
        "steps": events["steps"],
    }


def run(server: BenchServer, variants: bool) -> dict:
    labels = list(EXECUTORS) if variants else list(EXECUTORS)[:1]
    runs = [materialize_once(server, EXECUTORS[label], label) for label in labels]
    return {"runs": runs}
