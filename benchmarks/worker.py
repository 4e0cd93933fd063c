"""One measured run in a fresh process: `python -m benchmarks.worker TASK JSON-ARGS`.

Prints one JSON line: the seconds of the work alone (imports and connections are set
up first), the process's peak RSS, and what the task reports. Each contender of B2
and the peak-memory run of B3 go through here, so they never share a heap.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import psycopg
import pyarrow as pa

from benchmarks.harness import peak_rss_mb
from jobs_assets.lib.listings import read_staged, upsert_window
from jobs_assets.lib.normalise.rows import normalise

TASKS: dict[str, Callable[..., dict]] = {}


def task(function: Callable[..., dict]) -> Callable[..., dict]:
    TASKS[function.__name__] = function
    return function


@task
def ours(conninfo: str, partition_key: str, window_start: str) -> dict:
    """`upsert_window`: staged JSONB -> normalised, upserted rows (the product)."""
    with psycopg.connect(conninfo) as conn, psycopg.connect(conninfo) as read_conn:
        started = time.perf_counter()
        result = upsert_window(conn, read_conn, partition_key, datetime.fromisoformat(window_start))
        seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": result.staged,
        "inserted": result.inserted,
        "updated": result.updated,
    }


@task
def floor(conninfo: str, table: str, columns: str, path: str) -> dict:
    """A bare COPY of the finished rows (a file of COPY text) into `table`'s `columns`."""
    with psycopg.connect(conninfo) as conn, open(path, "rb") as source:
        started = time.perf_counter()
        with (
            conn.transaction(),
            conn.cursor() as cur,
            cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            while block := source.read(1 << 20):
                copy.write(block)
        seconds = time.perf_counter() - started
        rows = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return {"seconds": seconds, "rows": rows, "bytes": Path(path).stat().st_size}


def _normalised_chunks(
    conn: psycopg.Connection, partition_key: str, window_start: datetime
) -> Iterator:
    """The window's rows as the product normalises them, one DataFrame per chunk."""
    with conn.transaction():
        for source, chunk in read_staged(conn, partition_key):
            rows, _ = normalise(chunk, source)
            rows["first_seen_at"] = window_start
            rows["last_seen_at"] = window_start
            rows["last_partition_key"] = partition_key
            yield rows


def _sqlalchemy_url(conninfo: str) -> object:
    from psycopg.conninfo import conninfo_to_dict
    from sqlalchemy.engine import URL

    params = conninfo_to_dict(conninfo)
    query = {"host": params["host"]} if "host" in params else {}
    return URL.create(
        "postgresql+psycopg",
        username=params.get("user"),
        password=params.get("password"),
        port=params.get("port"),
        database=params.get("dbname"),
        query=query,
    )


@task
def to_sql(conninfo: str, partition_key: str, window_start: str, table: str) -> dict:
    """The system this project replaces: pandas normalisation, then `DataFrame.to_sql`.

    It reads and normalises with the product's own code (so only the write differs)
    and appends into an empty copy of the table, indexes included: `to_sql` cannot
    upsert, so this is its best case.
    """
    from sqlalchemy import Boolean, Date, DateTime, Integer, Numeric, Text, create_engine
    from sqlalchemy.dialects.postgresql import ARRAY

    # every column as the contract types it: pandas cannot tell a list, nor the type of a
    # column a chunk leaves empty (a board that states no salary: no rate date)
    by_type = {
        "text[]": ARRAY(Text),
        "numeric": Numeric(),
        "date": Date(),
        "timestamptz": DateTime(timezone=True),
        "integer": Integer(),
        "boolean": Boolean(),
    }
    arrays = {name: kind for sql_type, kind in by_type.items() for name in _of_type(sql_type)}
    schema, name = table.split(".")
    engine = create_engine(_sqlalchemy_url(conninfo))
    start = datetime.fromisoformat(window_start)
    rows = 0
    with psycopg.connect(conninfo) as read_conn, engine.begin() as connection:
        started = time.perf_counter()
        for frame in _normalised_chunks(read_conn, partition_key, start):
            frame.to_sql(
                name, connection, schema=schema, if_exists="append", index=False, dtype=arrays
            )
            rows += len(frame)
        seconds = time.perf_counter() - started
    engine.dispose()
    return {"seconds": seconds, "rows": rows}


def _of_type(sql_type: str) -> list[str]:
    """The listings' columns of `sql_type` in the column contract: every one, also those
    a later release adds (hand-written lists here once missed them and broke `make bench`)."""
    from jobs_assets.lib.schema import LISTINGS

    return [c.name for c in LISTINGS.columns if c.sql_type == sql_type]


def _arrow_schema() -> pa.Schema:
    from jobs_assets.lib.normalise.rows import OUTPUT_COLUMNS

    stamp = pa.timestamp("us", "UTC")
    types = {
        **dict.fromkeys(_of_type("numeric"), pa.float64()),
        "salary_usd_rate_date": pa.date32(),
        "published_at": stamp,
        "expires_at": stamp,
        "retrieved_at": stamp,
        "first_seen_at": stamp,
        "last_seen_at": stamp,
    }
    names = [*OUTPUT_COLUMNS, "first_seen_at", "last_seen_at", "last_partition_key"]
    return pa.schema([(name, types.get(name, pa.string())) for name in names])


@task
def dlt_load(conninfo: str, partition_key: str, window_start: str, work_dir: str) -> dict:
    """dlt loading the same normalised records, merged on (source, source_job_id).

    Defaults as a user would leave them (insert_values files, merge by delete-insert).
    """
    import dlt
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(conninfo)
    host = params.get("host") or os.environ.get("PGHOST") or "localhost"
    port = params.get("port") or os.environ.get("PGPORT") or 5432
    # a socket directory goes in the query string, which libpq prefers to the URL's host
    socket = f"?host={quote(host)}" if host.startswith("/") else ""
    credentials = "postgresql://{user}:{password}@{host}:{port}/{dbname}{socket}".format(
        user=quote(params.get("user") or os.environ.get("PGUSER") or "postgres"),
        password=quote(params.get("password") or os.environ.get("PGPASSWORD") or ""),
        host="localhost" if socket else host,
        port=port,
        dbname=params["dbname"],
        socket=socket,
    )
    start = datetime.fromisoformat(window_start)
    pipeline = dlt.pipeline(
        pipeline_name="bench_listings",
        pipelines_dir=work_dir,
        destination=dlt.destinations.postgres(credentials=credentials),
        dataset_name="bench_dlt",
    )
    counted = {"rows": 0}

    schema = _arrow_schema()

    def records() -> Iterator:
        # One Arrow schema for every chunk (dlt will not merge a column that is all null
        # in one chunk with the same column as text in the next), and lists as JSON text
        # (dlt loads Arrow into PostgreSQL as CSV, which has no nested columns).
        with psycopg.connect(conninfo) as read_conn:
            for frame in _normalised_chunks(read_conn, partition_key, start):
                counted["rows"] += len(frame)
                for column in _of_type("text[]"):
                    frame[column] = [
                        None if items is None else json.dumps(list(items))
                        for items in frame[column].tolist()
                    ]
                yield pa.Table.from_pandas(frame, schema=schema, preserve_index=False)

    resource = dlt.resource(
        records,
        name="jobs_listings",
        write_disposition="merge",
        primary_key=("source", "source_job_id"),
    )
    started = time.perf_counter()
    info = pipeline.run(resource)
    seconds = time.perf_counter() - started
    info.raise_on_failed_jobs()
    return {"seconds": seconds, "rows": counted["rows"]}


@task
def dagster_steps(dagster_home: str, assets: list[str]) -> dict:
    """Step timings of the instance's latest run, from its event log."""
    os.environ["DAGSTER_HOME"] = dagster_home
    import dagster as dg

    started = time.perf_counter()
    instance = dg.DagsterInstance.get()
    run = instance.get_runs(limit=1)[0]
    times: dict[tuple[str, str], float] = {}
    wanted = {"STEP_START", "STEP_SUCCESS", "RUN_START", "RUN_SUCCESS"}
    for entry in instance.all_logs(run.run_id):
        kind = entry.dagster_event_type
        if kind is not None and kind.name in wanted:
            times[(kind.name, entry.step_key or "")] = entry.timestamp
    steps = {}
    for (kind, step), at in times.items():
        if kind == "STEP_START" and ("STEP_SUCCESS", step) in times:
            steps[step] = (at, times[("STEP_SUCCESS", step)])
    spans = sorted(steps.values())
    union, end = 0.0, float("-inf")
    for start, stop in spans:  # wall time in which at least one step's code ran
        union += max(0.0, stop - max(start, end))
        end = max(end, stop)

    def total(keys: list[str]) -> float:
        return round(sum(stop - start for key, (start, stop) in steps.items() if key in keys), 3)

    checks = [key for key in steps if key not in assets]
    return {
        "seconds": time.perf_counter() - started,
        "status": run.status.value,
        "run_s": round(times[("RUN_SUCCESS", "")] - times[("RUN_START", "")], 3),
        "assets_sum_s": total(assets),
        "checks_sum_s": total(checks),
        "steps_union_s": round(union, 3),
        "steps": {key: round(stop - start, 3) for key, (start, stop) in sorted(steps.items())},
    }


def main() -> None:
    name, args = sys.argv[1], json.loads(sys.argv[2])
    before = peak_rss_mb()
    result = TASKS[name](**args)
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    result["rss_before_work_mb"] = round(before, 1)
    result["seconds"] = round(result["seconds"], 3)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
