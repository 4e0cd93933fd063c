"""B6: the analytics marts on a large listings table: a full `dbt build` (models and
every test), an incremental refresh after one more window (the better of two), and the
five marts as plain SQL. dbt runs as the asset runs it: through `DbtCliResource`, a
dbt process of its own per build.

`python -m benchmarks.marts --listings 1000000` runs it alone (PGHOST or embedded).
The listings are generated in SQL (deterministic functions of the row number: three
sources, 180 days of windows, 40 % expired, one in ten in a duplicate cluster), since
the marts read only the normalised table; the ingestion itself is measured by B2/B3.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import psycopg

from benchmarks.harness import BenchServer
from jobs_assets.lib import marts

BENCH_DB = "jobs_bench_marts"
WINDOWS = 6 * 180  # four-hour windows over 180 days

GENERATE = """
INSERT INTO public.jobs_listings_data (
    source, source_job_id, title, company_name, seniority, tags, region,
    salary_min_usd, salary_max_usd, salary_period, retrieved_at, first_seen_at, last_seen_at,
    last_partition_key, category_normalised, status, expired_at, duplicate_cluster_id,
    is_canonical)
SELECT
    (ARRAY['remotive', 'jobicy', 'himalayas'])[1 + i %% 3],
    %(prefix)s || i,
    'Job ' || (i %% 5000),
    'Company ' || ((i * 7919) %% 20000),
    (ARRAY['entry', 'mid', 'senior', NULL])[1 + (i / 3) %% 4],
    ARRAY['remote', 'tag' || (i %% 300), 'Skill ' || (i %% 41)],
    (ARRAY['Worldwide', 'Europe', 'North America', 'Asia', 'Multiple'])[1 + (i / 7) %% 5],
    CASE WHEN i %% 3 <> 0 THEN 40000 + (i * 37) %% 150000 END,
    CASE WHEN i %% 5 <> 0 THEN 60000 + (i * 37) %% 150000 END,
    'year',
    w.start, w.start, w.start, to_char(w.start, 'YYYY-MM-DD-HH24:MI'),
    (ARRAY['Software Development', 'Data & Analytics', 'Design', 'Marketing', 'Sales',
           'Customer Support',
           'Product', NULL])[1 + (i / 11) %% 8],
    CASE WHEN i %% 5 < 2 THEN 'expired' ELSE 'active' END,
    CASE WHEN i %% 5 < 2 THEN w.start + make_interval(hours => (4 + (i * 13) %% 1400)::int) END,
    CASE WHEN i %% 10 = 0 THEN 'c' || (i / 20) END,
    i %% 20 <> 10
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i
CROSS JOIN LATERAL (
    SELECT timestamptz '2026-01-01 00:00+00'
           + make_interval(hours => 4 * ((i * %(windows)s) / %(total)s)::int) AS start
) AS w
"""


def generate(conninfo: str, listings: int, first: int = 0, prefix: str = "b") -> float:
    started = time.perf_counter()
    with psycopg.connect(conninfo) as conn:
        conn.execute(
            GENERATE,
            {
                "prefix": prefix,
                "first": first,
                "last": first + listings - 1,
                "windows": WINDOWS,
                "total": max(listings, 1),
            },
        )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE public.jobs_listings_data")
    return time.perf_counter() - started


def next_window(conninfo: str, new: int = 1_500, expire: int = 500, name: str = "w") -> None:
    """One more window: new listings seen at its start, some active ones expire; `name`
    prefixes the new listings' ids (one per window)."""
    with psycopg.connect(conninfo) as conn:
        stamp = conn.execute("SELECT max(first_seen_at) FROM public.jobs_listings_data").fetchone()[
            0
        ]
        conn.execute(
            "INSERT INTO public.jobs_listings_data (source, source_job_id, region, tags,"
            " retrieved_at, first_seen_at, last_seen_at, last_partition_key, status)"
            " SELECT (ARRAY['remotive', 'jobicy', 'himalayas'])[1 + i %% 3], %(name)s || i,"
            " 'Worldwide', ARRAY['remote'], %(t)s, %(t)s, %(t)s, 'next', 'active'"
            " FROM generate_series(1, %(new)s) AS i",
            {"t": stamp, "new": new, "name": name},
        )
        conn.execute(
            "UPDATE public.jobs_listings_data SET status = 'expired', expired_at = %(t)s"
            " WHERE ctid IN (SELECT ctid FROM public.jobs_listings_data"
            " WHERE status = 'active' LIMIT %(n)s)",
            {"t": stamp, "n": expire},
        )


def dbt_build(conninfo: str, work: Path) -> dict:
    """`dbt build` of the project as the asset runs it (the same resource, profile
    and partial-parse state; threads as deployed): dbt a process of its own."""
    from dagster_dbt import DbtCliResource

    from jobs_assets.defs.marts.project import PROJECT

    target = marts.new_target(work, "bench")
    with psycopg.connect(conninfo) as conn:
        profiles = marts.write_profiles(target / "profile", marts.connection_profile(conn))
    dbt = DbtCliResource(
        project_dir=PROJECT, profiles_dir=str(profiles), dbt_executable=marts.dbt_executable()
    )
    started = time.perf_counter()
    args = ["build", "--threads", str(marts.DBT_THREADS)]
    invocation = dbt.cli(args, raise_on_error=False, target_path=target)
    invocation.wait()
    seconds = time.perf_counter() - started
    results = invocation.get_artifact("run_results.json")["results"]
    marts.keep_parse_state(target, work)
    by_type: dict[str, float] = {}
    sql = _sql_seconds(target / "dbt.log")
    for result in results:
        kind = result["unique_id"].split(".")[0]
        by_type[kind] = by_type.get(kind, 0.0) + result["execution_time"]
    return {
        "target": str(target),
        "seconds": round(seconds, 2),
        "success": invocation.is_successful(),
        "nodes": len(results),
        "node_seconds_by_type": {k: round(v, 2) for k, v in by_type.items()},
        # what the database spent on the statements, by the node type that sent them
        "sql_seconds_by_type": {k: round(v, 2) for k, v in sql.items()},
        "slowest": sorted(
            ((r["unique_id"].split(".")[-1], round(r["execution_time"], 2)) for r in results),
            key=lambda item: -item[1],
        )[:5],
    }


def _sql_seconds(log: Path) -> dict[str, float]:
    """The statements' own time in a build's dbt.log (JSON lines), by node type."""
    totals: dict[str, float] = {}
    if not log.exists():
        return totals
    for line in log.read_text().splitlines():
        event = json.loads(line)
        if event["info"]["name"] != "SQLQueryStatus":
            continue
        kind = (event["data"].get("node_info") or {}).get("resource_type", "hook")
        totals[kind] = totals.get(kind, 0.0) + event["data"]["elapsed"]
    return totals


def plain_sql(conninfo: str, target: Path) -> float:
    """The five marts as plain SQL: dbt's compiled SELECTs run as CREATE TABLE AS in one
    session over the same staging and intermediate views (no dbt, no tests)."""
    compiled = sorted(target.rglob("compiled/jobs_analytics/models/marts/*.sql"))
    started = time.perf_counter()
    with psycopg.connect(conninfo) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS marts_plain")
        for path in compiled:
            name = path.stem
            conn.execute(f"DROP TABLE IF EXISTS marts_plain.{name}")
            conn.execute(f"CREATE TABLE marts_plain.{name} AS {path.read_text()}")
        conn.commit()
    return time.perf_counter() - started


def run(server: BenchServer, listings: int, work: Path) -> dict:
    conninfo = server.fresh_database(BENCH_DB)
    try:
        generated = generate(conninfo, listings)
        full = dbt_build(conninfo, work)
        plain = plain_sql(conninfo, Path(full.pop("target")))
        refreshes = []
        for name in ("w", "x"):
            next_window(conninfo, name=name)
            refreshes.append(dbt_build(conninfo, work))
            refreshes[-1].pop("target")
        refresh = min(refreshes, key=lambda r: r["seconds"])
        return {
            "listings": listings,
            "generation_s": round(generated, 1),
            "full_build": full,
            "refresh_after_one_window": refresh,
            "refreshes_s": [r["seconds"] for r in refreshes],
            "plain_sql_marts_s": round(plain, 2),
            "targets": {"full_build_s": 60, "refresh_s": 5},
            "targets_met": {
                "full_build": full["success"] and full["seconds"] <= 60,
                "refresh": refresh["success"] and refresh["seconds"] <= 5,
            },
        }
    finally:
        server.drop_database(BENCH_DB)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.marts", description=__doc__)
    parser.add_argument("--listings", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    from benchmarks.harness import WORK_DIR

    server = BenchServer.start()
    try:
        print(json.dumps(run(server, args.listings, WORK_DIR / "data"), indent=2))
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
