"""B3, incremental: a new window costs the same whatever the history.

The same new windows (listings never seen before) are materialised into a database
with empty tables and into one with a large history: millions of staged rows over
hundreds of windows, and hundreds of thousands of listings. Both in this process,
after a warm-up window each, so only the database differs.
"""

from __future__ import annotations

import statistics
import time

import psycopg

from benchmarks.harness import BenchServer
from jobs_assets.lib.listings import LISTINGS_TABLE, STAGING_TABLE, upsert_window
from jobs_assets.testing.synth import ListingFactory, stage_synthetic, window_key, window_start

TARGET_RATIO = 1.5
#: listing numbers of the new windows: far from every number the history uses
NEW_LISTINGS_FROM = 50_000_000
#: window indexes of the new windows: after every window of the history
NEW_WINDOWS_FROM = 20_000


def grow_history(conninfo: str, staged_rows: int, listings: int, window_rows: int) -> dict:
    """Bring staging to `staged_rows` and the listings table to `listings` rows.

    Extra history windows re-stage listings already staged (as real windows do), in
    SQL, so no JSON is parsed or compressed again.
    """
    with psycopg.connect(conninfo, autocommit=True) as conn:
        have = conn.execute(f"SELECT count(*) FROM {STAGING_TABLE}").fetchone()[0]
        year = 2010
        while (missing := staged_rows - have) > 0:
            conn.execute(
                f"""
                INSERT INTO {STAGING_TABLE}
                    (source, partition_key, source_job_id, payload, retrieved_at)
                SELECT source,
                       to_char(%(origin)s::timestamptz AT TIME ZONE 'UTC'
                               + (n / %(per)s) * interval '4 hours', 'YYYY-MM-DD-HH24:MI'),
                       source_job_id, payload,
                       %(origin)s::timestamptz + (n / %(per)s) * interval '4 hours'
                FROM (SELECT s.*, row_number() OVER () - 1 AS n
                      FROM (SELECT * FROM {STAGING_TABLE} WHERE partition_key >= %(since)s
                            LIMIT %(missing)s) AS s) AS numbered
                """,
                {
                    "origin": f"{year}-01-01T00:00:00+00:00",
                    "per": window_rows,
                    "missing": missing,
                    "since": window_key(window_start(0)),  # the generated windows only
                },
            )
            have = conn.execute(f"SELECT count(*) FROM {STAGING_TABLE}").fetchone()[0]
            year -= 1
        have_listings = conn.execute(f"SELECT count(*) FROM {LISTINGS_TABLE}").fetchone()[0]
        if have_listings < listings:
            raise RuntimeError(f"the history has {have_listings} listings, wanted {listings}")
        conn.execute(
            f"DELETE FROM {LISTINGS_TABLE} WHERE ctid IN "
            f"(SELECT ctid FROM {LISTINGS_TABLE} OFFSET %s)",
            (listings,),
        )
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")
        return _sizes(conn)


def _sizes(conn: psycopg.Connection) -> dict:
    staged, windows = conn.execute(
        f"SELECT count(*), count(DISTINCT partition_key) FROM {STAGING_TABLE}"
    ).fetchone()
    listings = conn.execute(f"SELECT count(*) FROM {LISTINGS_TABLE}").fetchone()[0]
    size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    return {
        "staged_rows": staged,
        "staged_windows": windows,
        "listings": listings,
        "database_bytes": size,
    }


def new_windows(conninfo: str, window_rows: int, repeats: int) -> dict:
    """Seconds of `upsert_window` for `repeats` new windows (after one warm-up)."""
    factory = ListingFactory(seed=11)
    seconds = []
    with psycopg.connect(conninfo) as conn, psycopg.connect(conninfo) as read_conn:
        for index in range(repeats + 1):
            start = window_start(NEW_WINDOWS_FROM + index)
            first = NEW_LISTINGS_FROM + index * window_rows
            stage_synthetic(conn, [(start, range(first, first + window_rows))], factory)
            started = time.perf_counter()
            result = upsert_window(conn, read_conn, window_key(start), start)
            elapsed = time.perf_counter() - started
            assert result.inserted == window_rows, (result.inserted, window_rows)
            if index:  # the first is the warm-up
                seconds.append(elapsed)
        sizes = _sizes(conn)
    return {
        "seconds_median": round(statistics.median(seconds), 3),
        "seconds_all": [round(s, 3) for s in seconds],
        "database": sizes,
    }


def run(
    server: BenchServer,
    history_conninfo: str,
    staged_rows: int,
    listings: int,
    window_rows: int,
    repeats: int,
) -> dict:
    empty_conninfo = server.fresh_database("jobs_bench_empty")
    empty = new_windows(empty_conninfo, window_rows, repeats)
    server.drop_database("jobs_bench_empty")
    history_sizes = grow_history(history_conninfo, staged_rows, listings, window_rows)
    history = new_windows(history_conninfo, window_rows, repeats)
    ratio = history["seconds_median"] / empty["seconds_median"]
    return {
        "window_rows": window_rows,
        "history_before": history_sizes,
        "empty_history": empty,
        "large_history": history,
        "ratio": round(ratio, 2),
        "target_ratio": TARGET_RATIO,
        "target_met": ratio <= TARGET_RATIO,
    }
