"""`python -m benchmarks --scale small|full`: run B1-B7 and write the results.

Writes `benchmarks/results.json` (one entry per scale) and the scale's tables in
BENCHMARKS.md, between its markers. Every comparison is measured in this one run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import psycopg

from benchmarks import (
    backups,
    end_to_end,
    fetch,
    identity,
    incremental,
    load,
    marts,
    places,
    report,
)
from benchmarks import salary_model as salary_bench
from benchmarks.harness import BENCH_DB, ROOT, WORK_DIR, BenchServer, machine, versions
from jobs_assets.lib import db
from jobs_assets.testing import salary_labels
from jobs_assets.testing.synth import stage_synthetic, window_key, window_start

RESULTS = ROOT / "benchmarks" / "results.json"
DEFAULT_ONLY = "b1,b2,b3,b4,b5,b6,b7,b8,b9"
MARKDOWN = ROOT / "BENCHMARKS.md"


@dataclass(frozen=True)
class Scale:
    load_sizes: tuple[int, ...]  # B2 window sizes
    history_staged: int  # B3 staged rows of history
    history_listings: int  # B3 rows of jobs_listings_data
    window_rows: int  # B3 new window
    repeats: int  # B1 and B3 repeats
    load_repeats: int  # B2: runs of ours and of the floors (median)
    fetch_one_worker: bool  # B1: also measure one worker (N·L seconds)
    executor_variants: bool  # B4: also forkserver and in_process
    marts_listings: int = 1_000_000  # B6: listings under the dbt marts
    identity_listings: int = 500_000  # B7: active listings (x4 history rows)
    model_rows: int = 200_000  # B8: listings the salary model trains on
    identity_one_company: int = 20_000  # B7: a window of one company's listings
    identity_copies: int = 100_000  # B7: a window of copies of ~70 real listings
    places_rows: int = 100_000  # B9: a window's location parse


SCALES = {
    "small": Scale(
        (5_000, 20_000),
        40_000,
        10_000,
        3_000,
        3,
        1,
        False,
        False,
        50_000,
        50_000,
        20_000,
        4_000,
        10_000,
        20_000,
    ),
    "full": Scale((100_000, 1_000_000), 2_000_000, 500_000, 3_000, 5, 3, True, True),
}


def _log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


def _load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run(scale_name: str, only: set[str], keep: bool) -> dict:
    scale = SCALES[scale_name]
    started = time.perf_counter()
    db.stop_embedded(WORK_DIR)  # left running by an earlier run with --keep
    shutil.rmtree(WORK_DIR, ignore_errors=True)
    server = BenchServer.start()
    results: dict = {
        "scale": scale_name,
        "scale_settings": asdict(scale),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions(server),
        "postgresql": {
            "where": "embedded (pgserver)" if server.embedded else "the server named by PGHOST",
            "settings": server.settings(),
        },
        "load_average_start": _load_average(),
    }
    windows = [(window_start(1000 + i), size) for i, size in enumerate(scale.load_sizes)]
    try:
        if "b1" in only:
            _log("B1 fetch")
            results["b1_fetch"] = fetch.run(
                server.conninfo("postgres"),
                pages=40,
                workers=8,
                latency=0.1,
                repeats=scale.repeats,
                sequential=scale.fetch_one_worker,
            )
        if "b4" in only:
            _log("B4 end to end")
            results["b4_end_to_end"] = end_to_end.run(server, variants=scale.executor_variants)

        if "b6" in only:
            _log(f"B6 marts, {scale.marts_listings} listings")
            results["b6_marts"] = marts.run(server, scale.marts_listings, WORK_DIR / "data")

        if "b7" in only:
            _log(f"B7 listing identity, {scale.identity_listings} listings")
            results["b7_identity"] = identity.run(
                server,
                scale.identity_listings,
                one_company=scale.identity_one_company,
                copies=scale.identity_copies,
            )

        if "b8" in only:
            _log(f"B8 salary model, {scale.model_rows} listings")
            results["b8_salary_model"] = salary_bench.run_or_skip(scale.model_rows)

        if "b9" in only:
            _log(f"B9 places and who may apply, {scale.places_rows} listings")
            results["b9_places"] = places.run(scale.places_rows)

        if only & {"b2", "b3", "b5"}:
            conninfo = server.fresh_database(BENCH_DB)
            _log(f"generating {sum(scale.load_sizes)} staged listings")
            generated = time.perf_counter()
            first = 0
            with psycopg.connect(conninfo) as conn:
                for start, size in windows:
                    stage_synthetic(conn, [(start, range(first, first + size))])
                    first += size
                conn.autocommit = True
                conn.execute("VACUUM ANALYZE")
            results["generation_s"] = round(time.perf_counter() - generated, 1)
        if only & {"b2", "b3", "b5"}:
            results["b2_load"] = []
            for start, size in windows:
                _log(f"B2 load, {size} rows")
                index = 1000 + windows.index((start, size))
                results["b2_load"].append(load.measure(conninfo, index, size, scale.load_repeats))
            load.cleanup(conninfo)
        if "b5" in only:
            _log("B5 backup")
            results["b5_backup"] = backups.run(conninfo, window_key(windows[-1][0]))
        if "b3" in only:
            _log("B3 incremental")
            results["b3_incremental"] = incremental.run(
                server,
                conninfo,
                staged_rows=scale.history_staged,
                listings=scale.history_listings,
                window_rows=scale.window_rows,
                repeats=scale.repeats,
            )
            largest = results["b2_load"][-1]
            results["b3_incremental"]["peak_rss"] = {
                "rows": largest["rows"],
                "peak_rss_mb": largest["contenders"]["ours"]["peak_rss_mb"],
                "rss_before_work_mb": largest["contenders"]["ours"]["rss_before_work_mb"],
                "target_mb": 1536,
                "target_met": largest["contenders"]["ours"]["peak_rss_mb"] < 1536,
            }
    finally:
        if keep:
            _log(f"kept the benchmark database: {server.conninfo(BENCH_DB)!r}")
            for start, size in windows:
                _log(f"  window {window_key(start)} ({start.isoformat()}): {size} listings")
        else:
            names = (BENCH_DB, "jobs_bench_empty", "jobs_bench_e2e", marts.BENCH_DB)
            for name in (*names, identity.BIG_DB, identity.EMPTY_DB, identity.COPIES_DB):
                server.drop_database(name)
            server.stop()
            shutil.rmtree(WORK_DIR, ignore_errors=True)
    results["load_average_end"] = _load_average()
    results["duration_s"] = round(time.perf_counter() - started, 1)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument("--only", default=DEFAULT_ONLY, help="comma-separated subset, e.g. b1,b4")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    args = parser.parse_args(argv)
    only = {part.strip().lower() for part in args.only.split(",") if part.strip()}
    results = run(args.scale, only, args.keep)
    stored = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if only != set(DEFAULT_ONLY.split(",")) and args.scale in stored:
        # a partial run adds its benchmarks to the last full run's (each says when it ran)
        measured = {k: v for k, v in results.items() if k[:2] in {f"b{i}" for i in range(1, 10)}}
        results = {**stored[args.scale], **measured}
    # Parse quality, not speed: under a second, so every run measures it afresh.
    results["salary_labels"] = salary_labels.summary()
    stored[args.scale] = results
    RESULTS.write_text(json.dumps(stored, indent=2, sort_keys=False) + "\n")
    report.update_markdown(MARKDOWN, args.scale, results)
    print(report.render(results))
    _log(f"done in {results['duration_s']:.0f} s; wrote {RESULTS.name} and {MARKDOWN.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
