"""B7: listing identity after a window's upsert (lifecycle, clusters, history).

A window of 1,500 new listings (Jobicy payloads of 60,000 companies, so most share a
company block with stored listings) is staged and upserted, then `maintain_window` is
timed: against 500,000 active listings (200 of them not seen since the window before,
which the complete fetch expires) with 2,000,000 history rows; against the same listings
with an empty history (the target: at most 1.5x, so the cost does not follow the
history); and, for scale, against an empty database (no block to match against at all). The stored listings and history are generated in SQL; only the
window goes through the pipeline's own code. The stored listings count as seen in this
window (a complete fetch returns what is still open; only the window's 1,500 new ones are
staged, to keep the window at its real size). Each run is rolled back, so every repeat
sees the same database.

`python -m benchmarks.identity` runs it alone (PGHOST or embedded).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import UTC, datetime, timedelta

import psycopg

from benchmarks.harness import BenchServer
from jobs_assets.lib.history import HISTORY_COLUMNS, row_hash_sql
from jobs_assets.lib.lifecycle import Evidence
from jobs_assets.lib.listings import upsert_window
from jobs_assets.lib.sources import SOURCES
from jobs_assets.lib.window_identity import maintain_window

BIG_DB = "jobs_bench_identity"
EMPTY_DB = "jobs_bench_identity_empty"
COMPANIES = 60_000
WINDOW_START = datetime(2026, 11, 30, 8, tzinfo=UTC)
WINDOW_KEY = "2026-11-30-08:00"
ROLES = ["Data Engineer", "Backend Engineer", "Product Designer", "Account Executive",
         "Site Reliability Engineer", "Support Specialist", "Marketing Manager", "QA Analyst"]  # fmt: skip

GENERATE_LISTINGS = """
INSERT INTO public.jobs_listings_data (
    source, source_job_id, title, company_name, company_key, job_url, region,
    description_text, retrieved_at, first_seen_at, last_seen_at, last_partition_key,
    category_normalised, duplicate_cluster_id, is_canonical)
SELECT s.source, 'b' || i, (%(roles)s::text[])[1 + i %% 8] || ' ' || (i %% 97),
       'Firm ' || ((i * 7919) %% %(companies)s), 'firm ' || ((i * 7919) %% %(companies)s),
       'https://example.test/' || i, 'worldwide',
       'We are hiring for team ' || (i %% 500) || ' to build and run our platform. ' ||
       repeat('Remote work with a small friendly team. ', 5),
       %(seen)s, %(seen)s - interval '30 days', seen.at, 'earlier', 'Software Development',
       s.source || ':b' || i, true
FROM generate_series(1::bigint, %(listings)s) AS i,
     LATERAL (SELECT (ARRAY['remotive', 'jobicy', 'himalayas'])[1 + i %% 3] AS source) AS s,
     LATERAL (SELECT CASE WHEN i <= %(stale)s * 3 THEN %(seen)s - interval '4 hours'
                          ELSE %(window_start)s END AS at) AS seen
"""


def _history_sql(versions: int) -> str:
    """`versions` per listing: the older ones closed, the last one current (its real hash)."""
    columns = ", ".join(HISTORY_COLUMNS)
    listed = ", ".join(f"t.{c}" for c in HISTORY_COLUMNS)
    return f"""
INSERT INTO public.jobs_listings_history ({columns}, valid_from, valid_to, row_hash)
SELECT {listed}, t.first_seen_at + v * interval '1 day',
       CASE WHEN v < {versions} THEN t.first_seen_at + (v + 1) * interval '1 day' END,
       CASE WHEN v < {versions} THEN md5(t.source_job_id || v) ELSE {row_hash_sql("t")} END
FROM public.jobs_listings_data AS t, generate_series(1, {versions}) AS v
"""


def _window_rows(count: int, seed_offset: int = 10_000_000) -> list[tuple]:
    rows = []
    for n in range(count):
        i = seed_offset + n
        company = (n * 104_729) % COMPANIES
        payload = {
            "id": i,
            "jobTitle": f"{ROLES[n % 8]} {n % 97}",
            "companyName": f"Firm {company}",
            "url": f"https://jobicy.test/{i}",
            "jobGeo": "Anywhere",
            "jobDescription": f"We are hiring for team {n % 500} to build and run our platform. "
            + "Remote work with a small friendly team. " * 5,
        }
        rows.append(("jobicy", WINDOW_KEY, str(i), json.dumps(payload), WINDOW_START))
    return rows


def _prepare(conninfo: str, listings: int, versions: int, stale: int) -> dict:
    started = time.perf_counter()
    with psycopg.connect(conninfo) as conn:
        if listings:
            conn.execute(
                GENERATE_LISTINGS,
                {
                    "roles": ROLES,
                    "companies": COMPANIES,
                    "seen": WINDOW_START - timedelta(hours=4),
                    "window_start": WINDOW_START,
                    "listings": listings,
                    "stale": stale,
                },
            )
            conn.execute(_history_sql(versions))
        with (
            conn.cursor() as cur,
            cur.copy("COPY staging.staging_jobs_listings_data FROM STDIN") as copy,
        ):
            for row in _window_rows(1_500):
                copy.write_row(row)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM public.jobs_listings_data), "
            "(SELECT count(*) FROM public.jobs_listings_history)"
        ).fetchone()
    return {"listings": counts[0], "history_rows": counts[1],
            "generated_s": round(time.perf_counter() - started, 1)}  # fmt: skip


def _measure(conninfo: str, repeats: int) -> dict:
    """Upsert the window (not timed) and time `maintain_window`, rolled back each time."""
    proof = {"jobicy": Evidence(True, "complete live fetch")}
    rules = {name: source.expiry for name, source in SOURCES.items()}
    times, last = [], None
    for _ in range(repeats):
        with (
            psycopg.connect(conninfo) as conn,
            psycopg.connect(conninfo) as read_conn,
            conn.transaction(force_rollback=True),
        ):
            upsert_window(conn, read_conn, WINDOW_KEY, WINDOW_START)
            started = time.perf_counter()
            last = maintain_window(conn, WINDOW_KEY, WINDOW_START, proof, rules)
            times.append(time.perf_counter() - started)
    assert last is not None
    return {
        "seconds": round(statistics.median(times), 3),
        "runs_s": [round(t, 3) for t in times],
        "steps_s": last.as_metadata()["identity_seconds"],
        **{k: v for k, v in last.as_metadata().items() if not isinstance(v, (dict, list))},
    }


def run(server: BenchServer, listings: int = 500_000, versions: int = 4, repeats: int = 5) -> dict:
    stale = 200
    big = server.fresh_database(BIG_DB)
    empty = server.fresh_database(EMPTY_DB)
    big_data = _prepare(big, listings, versions, stale)
    empty_data = _prepare(empty, 0, 0, 0)
    on_big = _measure(big, repeats)
    with psycopg.connect(big, autocommit=True) as conn:  # the same listings, no history
        conn.execute("TRUNCATE public.jobs_listings_history")
        conn.execute("VACUUM ANALYZE public.jobs_listings_history")
    no_history = _measure(big, repeats)
    on_empty = _measure(empty, repeats)
    ratio = on_big["seconds"] / no_history["seconds"] if no_history["seconds"] else float("inf")
    return {
        "window": 1_500,
        "stored": big_data,
        "empty": empty_data,
        "with_history": on_big,
        "empty_history": no_history,
        "empty_database": on_empty,
        "ratio": round(ratio, 2),
        "ratio_to_empty_database": round(on_big["seconds"] / on_empty["seconds"], 2),
        "targets": {"ratio": 1.5, "seconds": 10.0},
        "targets_met": {"ratio": ratio <= 1.5, "seconds": on_big["seconds"] <= 10.0},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.identity", description=__doc__)
    parser.add_argument("--listings", type=int, default=500_000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    server = BenchServer.start()
    try:
        print(json.dumps(run(server, args.listings), indent=2))
    finally:
        if not args.keep:
            for name in (BIG_DB, EMPTY_DB):
                server.drop_database(name)
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
