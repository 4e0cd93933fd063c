"""`make demo`, `make run` and `make psql` through the real CLI (`python -m jobs_assets.cli`).

The demo runs in one process (in-process executor) in a data folder, database and Dagster
instance of its own; one test keeps the multiprocess executor's path (a process per
step, as deployments run) end to end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from jobs_assets.lib import db
from jobs_assets.lib.raw.store import RawStore
from jobs_assets.lib.sources import SOURCES
from jobs_assets.replay import EARLIER, ReplayServer
from jobs_assets_tests.conftest import (
    Database,
    dagster_materialize,
    fixture_listing_count,
    fixture_listing_counts,
    latest_windows,
)


def run_cli(
    args: list[str], env: dict[str, str], cwd: Path, timeout: int = 240, stdin: str | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jobs_assets.cli", *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
    )


@pytest.fixture
def demo_env(clean_db: Database, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The suite's database as the project's; the demo makes its own beside it (a
    `<PGDATABASE>_demo` database with PGHOST, else an embedded server under `demo/`)."""
    env = {"DAGSTER_HOME": str(tmp_path / "dagster_home"), **clean_db.env}
    env.setdefault("JOBS_DATA_DIR", str(tmp_path / "jobs_data"))
    yield env
    if clean_db.pghost:
        with psycopg.connect("dbname=postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{env["PGDATABASE"]}_demo" WITH (FORCE)')
    else:
        db.stop_embedded(Path(env["JOBS_DATA_DIR"]) / "demo")


def test_demo_loads_two_recorded_windows_apart_from_live_data(
    clean_db: Database, demo_env: dict[str, str], tmp_path: Path
) -> None:
    """The previous window replays the earlier recordings (RemoteOK and Arbeitnow were
    recorded twice), the latest the newer ones: what the earlier held and the newer does
    not expires, and the summary says what each layer holds and what to run next."""
    data_dir = Path(demo_env["JOBS_DATA_DIR"])  # embedded: the session's, other tests use it
    live_before = {name: RawStore(data_dir).last_live_fetch(name) for name in SOURCES}
    done = run_cli(["demo"], demo_env, tmp_path, timeout=400)  # two windows, the dbt build
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    latest = fixture_listing_counts()
    earlier = fixture_listing_counts(EARLIER)
    # the sources recorded twice: none of the earlier recording's listings is in the newer
    gone = {name: earlier[name] for name in ("remoteok", "arbeitnow")}
    expected = sum(latest.values())

    # quiet: one line per step, the summary; no Dagster DEBUG wall, no warnings
    assert "DEBUG" not in out + done.stderr and "Warning" not in out + done.stderr
    previous, key = latest_windows(2)
    for window in (previous, key):
        for name in SOURCES:
            assert f"ok     {name}_raw [{window}]" in out
            assert f"ok     {name}_raw_checks [{window}]" in out  # the raw asset's checks
    assert "replaying the earlier recordings arbeitnow_b.json, remoteok_b.json" in out
    assert f"{sum(earlier.values())} listings: {sum(earlier.values())} inserted" in out
    assert f"{expected} listings: {sum(latest[n] for n in gone)} inserted" in out
    assert "ok     analytics_dbt" in out and "checks:" in out
    assert f"lifecycle: {sum(gone.values())} expired" in out
    for command in ("make psql DEMO=1", "make api DEMO=1", "make dev DEMO=1"):
        assert command in out
    assert "select " in out
    assert len(out.splitlines()) < 100

    # the demo's own database holds every listing of both windows; the project's stays empty
    answer = run_cli(
        ["psql", "--demo", "--", "-At"],
        demo_env,
        tmp_path,
        timeout=60,
        stdin="select count(*) filter (where status = 'active'), "
        "count(*) filter (where status = 'expired') from public.jobs_listings_data;\n"
        "select sum(new_listings) from marts.daily_postings;\n"
        "select count(*) from marts.listing_durations;\n"
        "select string_agg(distinct salary_usd_rate_date::text, ',') "
        "from public.jobs_listings_data;\n",
    )
    assert answer.returncode == 0, answer.stderr
    # every listing, the marts built on them, converted with the recorded ECB file's rates
    counts, new, durations, rate_dates = answer.stdout.split()
    assert counts == f"{expected}|{sum(gone.values())}"  # active, expired
    assert int(new) == expected + sum(gone.values())  # every listing was new once
    assert int(durations) > 0  # the expired listings' time on the board
    assert rate_dates == "2026-10-30"
    assert clean_db.query("SELECT count(*) FROM public.jobs_listings_data")[0][0] == 0

    # replayed, never live: the demo added no fetch to be polite about to the project's
    # data folder
    demo_store = RawStore(data_dir / "demo")
    for name in SOURCES:
        for window in (previous, key):
            manifest = json.loads(
                (demo_store.window_dir(name, window) / "manifest.json").read_text()
            )
            assert manifest["origin"] == "replay" and manifest["complete"] is True
        assert demo_store.last_live_fetch(name) is None
        assert RawStore(data_dir).last_live_fetch(name) == live_before[name]
    # the recorded ECB file was fetched through the replay server and kept
    assert list((data_dir / "demo" / "raw" / "ecb_rates").glob("*/page-0000.xml.gz"))
    # the demo's runs are in its own Dagster instance, not the project's
    assert (data_dir / "demo" / "dagster_home" / "dagster.yaml").exists()
    assert not (tmp_path / "dagster_home").exists()


def test_dagster_cli_materializes_the_window(clean_db: Database, tmp_path: Path) -> None:
    """The README's `dagster asset materialize` command loads every asset and check of the
    window. In-process here (`JOBS_EXECUTOR=in_process`): the multiprocess executor
    deployments use is run end to end by test_integration.py."""
    env = {
        **os.environ,
        **clean_db.env,
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "JOBS_EXECUTOR": "in_process",
        "JOBS_MAX_RPS": "0",
        **{f"JOBS_{name.upper()}_MIN_INTERVAL_HOURS": "0" for name in SOURCES},
    }
    env.setdefault("JOBS_DATA_DIR", str(tmp_path / "jobs_data"))
    (tmp_path / "dagster_home").mkdir()
    with ReplayServer() as server:
        env.update(server.env())
        dagster_materialize("group:ingestion", env, tmp_path, partition=latest_windows(1)[0])
    assert clean_db.query("SELECT count(*) FROM public.jobs_listings_data")[0][0] == (
        fixture_listing_count()
    )


def test_latest_window_prints_the_key_make_run_loads(tmp_path: Path) -> None:
    done = run_cli(["latest-window"], {"JOBS_DATA_DIR": str(tmp_path)}, tmp_path, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == latest_windows(1)[0]


def test_run_offline_fails_fast_and_points_to_demo(tmp_path: Path) -> None:
    env = {
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "JOBS_DATA_DIR": str(tmp_path / "jobs_data"),
        **{f"JOBS_{name.upper()}_URL": f"http://127.0.0.1:9/{name}" for name in SOURCES},
    }
    done = run_cli(["run"], env, tmp_path, timeout=60)
    assert done.returncode == 2
    assert "Cannot reach the job APIs" in done.stderr and "make demo" in done.stderr
    assert "Traceback" not in done.stderr


def test_summary_counts_a_usd_minimum_or_maximum_as_a_usd_salary(clean_db: Database) -> None:
    from jobs_assets.cli import Target, summary
    from jobs_assets.console import RunNotes

    with clean_db.connect() as conn:
        for job_id, low, high in (("1", 50_000, None), ("2", None, 90_000), ("3", None, None)):
            conn.execute(
                "INSERT INTO public.jobs_listings_data (source, source_job_id, title, job_url, "
                "region, salary_min_usd, salary_max_usd, retrieved_at, first_seen_at, "
                "last_seen_at, last_partition_key) VALUES ('remotive', %s, 't', 'https://x', "
                "'Worldwide', %s, %s, now(), now(), now(), '2026-12-01-00:00')",
                (job_id, low, high),
            )
    where = Target(
        clean_db.data_dir, clean_db.pghost, clean_db.env.get("PGDATABASE"), False, clean_db.env
    )
    text = summary(where, RunNotes(), 1.0)
    assert "3 listings (2 with a USD salary)" in text
    assert "make psql" in text and "select " in text


def test_jobs_help_lists_every_command_and_each_shows_examples() -> None:
    """`jobs` is the console script `make` calls: its help lists every command, and each
    command's help ends with examples of it."""
    from jobs_assets import cli

    names = [command.name for command in cli.COMMANDS]
    assert names[:2] == ["demo", "run"] and {"restore", "psql", "db-stop"} <= set(names)
    script = Path(sys.executable).parent / "jobs"
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    listed = [line.split()[0] for line in done.stdout.splitlines() if line.startswith("    ")]
    assert [name for name in listed if name in names] == names
    commands = cli.parser()._subparsers._group_actions[0].choices  # argparse's own table
    for name in names:
        text = commands[name].format_help()
        assert text.startswith(f"usage: jobs {name}")
        examples = text.split("examples:\n", 1)[1].splitlines()
        assert examples and all(
            line.startswith(f"  jobs {name}") or "jobs" in line for line in examples
        )
        assert any(line.startswith(f"  jobs {name}") for line in examples), (name, examples)
