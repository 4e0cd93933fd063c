"""`make bench` is not part of the suite, but its modules must keep importing against the
code they measure (a helper they used was once removed from the CLI unnoticed).

They are imported in a process of their own: the tests never import the benchmarks (nor
the benchmarks the tests; both share `jobs_assets.testing`)."""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from jobs_assets.testing import load_recorded_windows
from jobs_assets_tests.conftest import Database, latest_windows

REPO = Path(__file__).resolve().parents[1]
MODULES = sorted(
    m.name for m in pkgutil.iter_modules([str(REPO / "benchmarks")]) if m.name != "__main__"
)
IMPORT_EACH = """
import importlib, json, sys, traceback
failed = {}
for name in sys.argv[1:]:
    try:
        assert importlib.import_module(f"benchmarks.{name}").__name__ == f"benchmarks.{name}"
    except Exception:
        failed[name] = traceback.format_exc(limit=3)
print(json.dumps(failed))
"""


def test_every_benchmark_module_imports() -> None:
    assert len(MODULES) > 10 and "harness" in MODULES
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH, *MODULES],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.splitlines()[-1]) == {}


def test_the_load_contenders_write_a_recorded_window_with_every_column(
    clean_db: Database, data_dir: Path, tmp_path: Path
) -> None:
    """B2's `to_sql` and dlt contenders load what the product normalises, column for
    column: they once typed only the array columns of their day, and failed on every
    later one (`cities`, `eligible_countries`) until someone ran `make bench`."""
    key = latest_windows(1)[0]
    load_recorded_windows(clean_db.resource(), data_dir, [key])
    # as many rows as the product wrote for the window
    staged = clean_db.query(
        "SELECT count(*) FROM public.jobs_listings_data WHERE last_partition_key = %s", (key,)
    )[0][0]
    start = datetime.strptime(key, "%Y-%m-%d-%H:%M").replace(tzinfo=UTC).isoformat()
    window = {"conninfo": clean_db.conninfo, "partition_key": key, "window_start": start}
    table = "public.bench_to_sql_test"
    with clean_db.connect(autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (LIKE public.jobs_listings_data INCLUDING ALL)")
    try:
        for task, args in (
            ("to_sql", {**window, "table": table}),
            ("dlt_load", {**window, "work_dir": str(tmp_path / "dlt")}),
        ):
            done = subprocess.run(
                [sys.executable, "-m", "benchmarks.worker", task, json.dumps(args)],
                cwd=REPO,
                env={**os.environ, **clean_db.env},
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, "\n".join(
                line[:300] for line in done.stderr.splitlines()[-15:]
            )
            assert json.loads(done.stdout.splitlines()[-1])["rows"] == staged > 0
        assert clean_db.query(f"SELECT count(*) FROM {table}")[0][0] == staged
        assert clean_db.query("SELECT count(*) FROM bench_dlt.jobs_listings")[0][0] == staged
    finally:
        with clean_db.connect(autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {table}")
            conn.execute("DROP SCHEMA IF EXISTS bench_dlt CASCADE")
            conn.execute("DROP SCHEMA IF EXISTS bench_dlt_staging CASCADE")
