"""The real `dagster-daemon`: the inbox sensor is running by default and launches a load.

A temporary instance (DAGSTER_HOME) with a workspace pointing at
`jobs_assets.definitions`, the test database, and a file already waiting in the inbox:
within the first ticks the sensor stores it, the daemon launches `inbox_load_job`, and
its listings appear in the table. No API is reachable (they point at a closed port).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from jobs_assets.cli import LOCAL_DAGSTER_YAML
from jobs_assets.partitions import INGESTION_PARTITIONS
from jobs_assets_tests.conftest import Database
from jobs_assets_tests.test_sensors import drop, inbox_copy

TIMEOUT_SECONDS = 120
WORKSPACE = """\
load_from:
  - python_module:
      module_name: jobs_assets.definitions
      location_name: jobs_assets
"""


@pytest.fixture
def daemon_data_dir(database: Database, tmp_path: Path) -> Iterator[Path]:
    """`JOBS_DATA_DIR` for the daemon: the embedded database lives under it, if embedded."""
    data_dir = Path(database.env.get("JOBS_DATA_DIR") or tmp_path / "jobs_data")
    data_dir.mkdir(parents=True, exist_ok=True)
    yield data_dir
    for name in ("inbox", "raw", "alerts"):  # the session's folder is shared with other tests
        shutil.rmtree(data_dir / name, ignore_errors=True)


def stop(process: subprocess.Popen) -> None:
    """Stop the daemon and the processes it started (its own session), politely first."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_daemon_runs_the_inbox_sensor_and_loads_the_file(
    clean_db: Database, daemon_data_dir: Path, tmp_path: Path
) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(LOCAL_DAGSTER_YAML)
    (home / "workspace.yaml").write_text(WORKSPACE)
    env = {
        **os.environ,
        **clean_db.env,
        "DAGSTER_HOME": str(home),
        "JOBS_DATA_DIR": str(daemon_data_dir),
        # the daemon and the sensor are under test, not the executor (test_cli.py has that)
        "JOBS_EXECUTOR": "in_process",
        # sensors start running as in production (read once when the definitions load)
        "JOBS_AUTOMATION": "on",
        **{f"JOBS_{s}_URL": f"http://127.0.0.1:9/{s}" for s in ("REMOTIVE", "JOBICY", "HIMALAYAS")},
    }
    env.pop("JOBS_ALERT_WEBHOOK_URL", None)
    drop(daemon_data_dir, "jobicy/from-daemon.json", inbox_copy("jobicy", prefix="daemon-"))

    log = tmp_path / "daemon.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-w", "workspace.yaml"],
            cwd=home,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its run and code-server processes go down with it
        )
    try:
        loaded = 0
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while time.monotonic() < deadline and process.poll() is None:
            loaded = clean_db.query(
                "SELECT count(*) FROM public.jobs_listings_data "
                "WHERE source = 'jobicy' AND source_job_id LIKE 'daemon-%'"
            )[0][0]
            if loaded:
                break
            time.sleep(1)
        output = log.read_text(errors="replace")[-4000:]
        assert process.poll() is None, f"the daemon exited:\n{output}"
        assert loaded == 6, f"no listings loaded within {TIMEOUT_SECONDS} s:\n{output}"
        assert (daemon_data_dir / "inbox" / "done" / "jobicy" / "from-daemon.json").exists()

        with dg.DagsterInstance.from_config(str(home)) as instance:
            runs = instance.get_runs(dg.RunsFilter(job_name="inbox_load_job"))
            # its checks run after the rows are in; and the run's record can reach this
            # reader of the instance's storage a moment after its rows reached PostgreSQL
            while (not runs or not runs[0].is_finished) and time.monotonic() < deadline + 60:
                time.sleep(0.5)
                runs = instance.get_runs(dg.RunsFilter(job_name="inbox_load_job"))
        assert len(runs) == 1, log.read_text(errors="replace")[-4000:]
        run = runs[0]
        assert run.status == dg.DagsterRunStatus.SUCCESS
        assert run.tags["dagster/partition"] == INGESTION_PARTITIONS.get_last_partition_key()
        assert run.tags["dagster/run_key"].startswith("inbox:jobicy/from-daemon.json:")
        assert run.tags["dagster/sensor_name"] == "inbox_sensor"
    finally:
        stop(process)
