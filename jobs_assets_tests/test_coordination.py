"""Two pods, one database: what one process must know of another is in PostgreSQL, not
on a local disk. Two `dagster asset materialize` processes with data folders of their
own (`JOBS_DATA_DIR`, as two Kubernetes pods have), one database and one raw store
(`JOBS_STORAGE_URL`), run the same window: one fetches, the other waits for it, then
reuses its files; the window's listings are loaded once (one set of rows)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from jobs_assets.lib.ops.window_lock import fetch_lock
from jobs_assets.replay import ReplayServer
from jobs_assets.testing import fixture_listing_counts
from jobs_assets_tests.conftest import Database, latest_windows, materialize_command


def waiting_for_the_lock(database: Database) -> int:
    """Sessions, other than this one, whose last statement was trying for an advisory lock."""
    return database.query(
        "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
        "AND datname = current_database() AND query LIKE 'SELECT pg_try_advisory_lock%%'"
    )[0][0]


#: the window's fetch, staging and load (the other sources are not fetched: no request
#: leaves the machine)
SELECTION = "remotive_raw,staged_listings,jobs_listings"


def test_two_pods_fetch_one_window_one_at_a_time(clean_db: Database, tmp_path: Path) -> None:
    database = clean_db
    key = latest_windows()[-1]
    shared = tmp_path / "raw-store"  # JOBS_STORAGE_URL: the one place both pods share
    shared.mkdir()
    with ReplayServer(latency=0.3) as server:
        base = {
            **os.environ,
            **database.libpq_env(),
            "JOBS_STORAGE_URL": str(shared),
            "JOBS_REMOTIVE_URL": server.url("remotive"),
            "JOBS_EXECUTOR": "in_process",
        }
        pods = []
        # this test holds the window first, so both pods are started before either fetches
        with fetch_lock(database.conninfo, "remotive", key):
            for name in ("pod-a", "pod-b"):
                home = tmp_path / name
                (home / "data").mkdir(parents=True)
                env = {**base, "JOBS_DATA_DIR": str(home / "data"), "DAGSTER_HOME": str(home)}
                pods.append(
                    subprocess.Popen(
                        materialize_command(SELECTION, key),
                        env=env,
                        cwd=home,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT,
                        text=True,
                    )
                )
            deadline = time.monotonic() + 300
            while waiting_for_the_lock(database) < 2:  # both pods wait for the window
                for pod in pods:
                    assert pod.poll() is None, pod.stdout.read()[-3000:]
                assert time.monotonic() < deadline, "the pods never reached the window's lock"
                time.sleep(0.2)
            assert server.requests == []  # neither fetched while another held the window
        logs = [pod.communicate(timeout=300)[0] for pod in pods]
    for pod, log in zip(pods, logs, strict=True):
        assert pod.returncode == 0 and "RUN_SUCCESS" in log, log[-3000:]
    # one fetched live; the other found its files in the shared store and reused them
    # (Remotive's terms: one pull in 6 hours), instead of fetching the window again
    assert [r.path for r in server.requests] == ["/remotive"]
    modes = sorted(
        mode for log in logs for mode in ("live", "stored") if f"remotive_raw {key}: {mode}," in log
    )
    assert modes == ["live", "stored"], [log[-2000:] for log in logs]
    assert (shared / "raw" / "remotive").is_dir()
    for name in ("pod-a", "pod-b"):  # neither pod keeps a lock, or anything else, on disk
        assert not (tmp_path / name / "data" / "locks").exists()
    # one set of rows: each listing of the window once, staged and loaded
    expected = fixture_listing_counts()["remotive"]
    for table in ("staging.staging_jobs_listings_data", "public.jobs_listings_data"):
        rows, listings = database.query(
            f"SELECT count(*), count(DISTINCT source_job_id) FROM {table} "  # a fixed name
            "WHERE source = 'remotive'"
        )[0]
        assert rows == listings == expected, table
