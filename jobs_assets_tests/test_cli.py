"""`make demo` and `make run` through the real CLI: multiprocess executor, real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from jobs_assets.lib.sources import SOURCES
from jobs_assets_tests.conftest import Database, fixture_listing_count


def run_cli(
    args: list[str], env: dict[str, str], cwd: Path, timeout: int = 240
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jobs_assets.cli", *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_demo_loads_every_fixture_listing_with_step_processes(
    clean_db: Database, tmp_path: Path
) -> None:
    env = {"DAGSTER_HOME": str(tmp_path / "dagster_home"), **clean_db.env}
    env.setdefault("JOBS_DATA_DIR", str(tmp_path / "jobs_data"))
    done = run_cli(["demo"], env, tmp_path, timeout=480)  # the window, then the dbt build
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "RUN_SUCCESS" in done.stderr + done.stdout
    assert clean_db.query("SELECT count(*) FROM public.jobs_listings_data")[0][0] == (
        fixture_listing_count()
    )
    assert "public.jobs_listings_data:" in done.stdout
    assert all(name in done.stdout for name in SOURCES)
    # the recorded ECB file was fetched through the replay server, kept, and converted with
    data_dir = Path(env["JOBS_DATA_DIR"])
    assert list((data_dir / "raw" / "ecb_rates").glob("*/page-0000.xml.gz"))
    dates = clean_db.query(
        "SELECT DISTINCT salary_usd_rate_date FROM public.jobs_listings_data "
        "WHERE salary_usd_rate_date IS NOT NULL"
    )
    assert [str(d) for (d,) in dates] == ["2026-10-30"]  # the recorded file's date
    # then the marts, built by dbt on what the window loaded
    assert "marts: daily_postings" in done.stdout
    new = clean_db.query("SELECT sum(new_listings) FROM marts.daily_postings")[0][0]
    assert new == fixture_listing_count()
    # the local instance was made for it, never the production dagster.yaml
    assert "telemetry" in (tmp_path / "dagster_home" / "dagster.yaml").read_text()


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
    import dataclasses

    from jobs_assets.cli import summary
    from jobs_assets.settings import Settings

    with clean_db.connect() as conn:
        for job_id, low, high in (("1", 50_000, None), ("2", None, 90_000), ("3", None, None)):
            conn.execute(
                "INSERT INTO public.jobs_listings_data (source, source_job_id, title, job_url, "
                "region, salary_min_usd, salary_max_usd, retrieved_at, first_seen_at, "
                "last_seen_at, last_partition_key) VALUES ('remotive', %s, 't', 'https://x', "
                "'Worldwide', %s, %s, now(), now(), now(), '2026-12-01-00:00')",
                (job_id, low, high),
            )
    settings = dataclasses.replace(
        Settings.from_env(), data_dir=clean_db.data_dir, pghost=clean_db.pghost
    )
    text = summary(settings)
    print(text)
    assert "3 listings (2 with a USD salary)" in text
