"""B2, load: a staged window to normalised rows, against the floor and the alternatives.

Every contender starts from the same staged window in PostgreSQL and ends with the
rows committed, each in a fresh process (see `worker.py`), measured in the same run:

- ours: `upsert_window` into `public.jobs_listings_data` (emptied first);
- floor: a bare COPY of the same finished rows, as COPY text prepared beforehand,
  into a table with no index: what moving the bytes into PostgreSQL costs at least;
- indexed floor: the same COPY into an empty copy of the table with its primary key
  and indexes, which the product's table has and needs;
- to_sql: the product's own reading and normalisation, then `DataFrame.to_sql`
  into an empty copy of the table (same indexes), the approach of the old system;
- dlt: the same normalised rows as Arrow tables, merged by dlt on the primary key.
"""

from __future__ import annotations

import shutil

import psycopg

from benchmarks.harness import WORK_DIR, run_worker
from jobs_assets.lib.listings import LISTINGS_TABLE
from jobs_assets.lib.schema import LISTINGS
from jobs_assets.testing.synth import window_key, window_start

TARGET_FLOOR_RATIO = 3.0
FLOOR_TABLE = "public.bench_floor"
INDEXED_TABLE = "public.bench_floor_indexed"
TO_SQL_TABLE = "public.bench_to_sql"
# what a load writes: every column but the generated ones (PostgreSQL computes those)
STORED = ", ".join(c.name for c in LISTINGS.columns if not c.by_postgres)


def _reset(conninfo: str) -> None:
    """Empty targets, and a checkpoint so no run pays for the previous one's writes."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {LISTINGS_TABLE}")
        conn.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}, {INDEXED_TABLE}, {TO_SQL_TABLE}")
        conn.execute(f"CREATE TABLE {FLOOR_TABLE} AS SELECT * FROM {LISTINGS_TABLE} WITH NO DATA")
        for table in (INDEXED_TABLE, TO_SQL_TABLE):
            conn.execute(f"CREATE TABLE {table} (LIKE {LISTINGS_TABLE} INCLUDING ALL)")
        conn.execute("DROP SCHEMA IF EXISTS bench_dlt CASCADE")
        conn.execute("DROP SCHEMA IF EXISTS bench_dlt_staging CASCADE")
        conn.execute("CHECKPOINT")


def _checkpoint(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")


def _export_rows(conninfo: str, partition_key: str, path: str) -> int:
    """The rows `ours` wrote, as COPY text: the floor's input."""
    with (
        psycopg.connect(conninfo) as conn,
        open(path, "wb") as out,
        conn.cursor() as cur,
        cur.copy(
            f"COPY (SELECT {STORED} FROM {LISTINGS_TABLE} WHERE last_partition_key = %s) TO STDOUT",
            (partition_key,),
        ) as copy,
    ):
        for block in copy:
            out.write(block)
    with psycopg.connect(conninfo) as conn:
        return conn.execute(
            f"SELECT count(*) FROM {LISTINGS_TABLE} WHERE last_partition_key = %s",
            (partition_key,),
        ).fetchone()[0]


def _count(conninfo: str, table: str) -> int:
    with psycopg.connect(conninfo) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _truncate(conninfo: str, table: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {table}")
    _checkpoint(conninfo)


def _median(runs: list[dict]) -> dict:
    """The run with the median time, with every run's time beside it."""
    middle = dict(sorted(runs, key=lambda run: run["seconds"])[len(runs) // 2])
    middle["seconds_all"] = [run["seconds"] for run in runs]
    return middle


def measure(conninfo: str, window_index: int, rows: int, repeats: int = 1) -> dict:
    """All contenders on one staged window of `rows` listings; ours and the two floors
    `repeats` times each (median), the slow alternatives once."""
    start = window_start(window_index)
    key = window_key(start)
    window = {"conninfo": conninfo, "partition_key": key, "window_start": start.isoformat()}
    _reset(conninfo)

    runs = []
    for _ in range(repeats):
        _truncate(conninfo, LISTINGS_TABLE)
        runs.append(run_worker("ours", **window))
        assert runs[-1]["rows"] == rows == runs[-1]["inserted"], runs[-1]
    ours = _median(runs)
    path = str(WORK_DIR / f"floor-{rows}.copy")
    assert _export_rows(conninfo, key, path) == rows

    floors = {}
    for name, table in (("floor", FLOOR_TABLE), ("floor_indexed", INDEXED_TABLE)):
        runs = []
        for _ in range(repeats):
            _truncate(conninfo, table)
            runs.append(
                run_worker("floor", conninfo=conninfo, table=table, columns=STORED, path=path)
            )
            assert runs[-1]["rows"] == rows, runs[-1]
        floors[name] = _median(runs)
    floor, indexed = floors["floor"], floors["floor_indexed"]
    _checkpoint(conninfo)

    to_sql = run_worker("to_sql", table=TO_SQL_TABLE, **window)
    assert to_sql["rows"] == rows == _count(conninfo, TO_SQL_TABLE), to_sql
    _checkpoint(conninfo)

    shutil.rmtree(WORK_DIR / "dlt", ignore_errors=True)  # no state from a previous run
    dlt = run_worker("dlt_load", work_dir=str(WORK_DIR / "dlt"), **window)
    assert dlt["rows"] == rows == _count(conninfo, "bench_dlt.jobs_listings"), dlt

    contenders = {
        "ours": ours,
        "floor": floor,
        "floor_indexed": indexed,
        "to_sql": to_sql,
        "dlt": dlt,
    }
    base = floor["seconds"]
    for result in contenders.values():
        result["rows_per_s"] = round(rows / result["seconds"])
        result["ratio_to_floor"] = round(result["seconds"] / base, 2)
        result["ratio_to_ours"] = round(result["seconds"] / ours["seconds"], 2)
    return {
        "rows": rows,
        "repeats": repeats,
        "window": key,
        "copy_text_mb": round(floor["bytes"] / 2**20, 1),
        "contenders": contenders,
        "target_floor_ratio": TARGET_FLOOR_RATIO,
        "target_met": ours["ratio_to_floor"] <= TARGET_FLOOR_RATIO
        and ours["seconds"] < min(to_sql["seconds"], dlt["seconds"]),
    }


def cleanup(conninfo: str) -> None:
    """Drop the contenders' tables, leaving the product's two tables (for B5 and B3)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}, {INDEXED_TABLE}, {TO_SQL_TABLE}")
        conn.execute("DROP SCHEMA IF EXISTS bench_dlt CASCADE")
        conn.execute("DROP SCHEMA IF EXISTS bench_dlt_staging CASCADE")
        conn.execute("VACUUM ANALYZE")
