"""`make run`, `make psql` and the other commands through the real CLI (`python -m
jobs_assets.cli`). `make demo` itself is tested where the README runs it
(test_readme.py: the quick start, then every example against what it made), so the
suite runs the demo once.

One test keeps the multiprocess executor's path (a process per step, as deployments
run) end to end.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from jobs_assets.lib.sources import SOURCES
from jobs_assets.replay import ReplayServer
from jobs_assets_tests.conftest import (
    Database,
    dagster_materialize,
    fixture_listing_count,
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
    # asked first: it waits out the last seconds before a window turns, so the command
    # and the test name the same window (asked after, it named the next one at 20:00)
    expected = latest_windows(1)[0]
    done = run_cli(["latest-window"], {"JOBS_DATA_DIR": str(tmp_path)}, tmp_path, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == expected


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


def test_instance_prints_the_local_dagster_home_made_with_its_config(tmp_path: Path) -> None:
    """`export DAGSTER_HOME="$(jobs instance)"` (the README's plain-Dagster examples): the
    folder exists and holds the local dagster.yaml, so no command warns of a missing one."""
    unset = {"JOBS_DATA_DIR": str(tmp_path), "DAGSTER_HOME": ""}  # `make test` exports one
    done = run_cli(["instance"], unset, tmp_path, timeout=60)
    home = Path(done.stdout.strip())
    assert done.returncode == 0 and home == (tmp_path / ".dagster_home").resolve()
    assert (home / "dagster.yaml").read_text().strip()
