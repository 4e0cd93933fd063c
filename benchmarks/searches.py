"""Saved-search delivery after a window: `python -m benchmarks.searches` (part of `make bench`).

100,000 active listings in synthetic windows (jobs_assets.testing.synth: real recorded listings
with new ids, staged and upserted by the pipeline's own code), 10,000 saved searches made
with the store (a tech word or two plus one to three of the API's filters, as the API
benchmark's full-text requests; every one with a webhook), then a window of 3,000 new
listings upserted the same way. From the moment that window is committed (its
materialisation), `plan_window` matches and writes the deliveries and `send_due` posts
them to a local receiver (another process, so it does not share this one's CPU lock).
Reported: each delivery's delay from the commit to its `sent_at` (p50, p95, max), the
matching's own time, and the same over twice as many listings (the cost
must follow the window and the searches, not the history).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg

from benchmarks.api import TECH
from benchmarks.harness import ROOT, WORK_DIR, BenchServer
from jobs_assets.lib.listings import upsert_window
from jobs_assets.lib.ops.targets import TargetPolicy
from jobs_assets.lib.searches import store
from jobs_assets.lib.searches.deliver import plan_window
from jobs_assets.lib.searches.send import SendPolicy, send_due
from jobs_assets.testing.synth import ListingFactory, stage_synthetic, window_key, window_start

RESULTS = ROOT / "benchmarks" / "searches_results.json"
SCALES = {"full": (100_000, 10_000, 3_000), "small": (20_000, 2_000, 1_000)}
HISTORY_WINDOWS = 25
DBNAME = "jobs_bench_searches"


def _receive(port_file: str) -> None:
    """The webhook receiver (its own process): answers 200 to every POST."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    ThreadingHTTPServer.request_queue_size = 256  # 16 senders at once: no reset connects
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    Path(port_file).write_text(str(server.server_address[1]))
    server.serve_forever()


def _labels(conn: psycopg.Connection, column: str) -> list[str]:
    return [
        v
        for (v,) in conn.execute(
            f"SELECT {column} FROM public.jobs_listings_data WHERE {column} IS NOT NULL "
            "GROUP BY 1 ORDER BY count(*) DESC LIMIT 12"
        )
    ]


def saved_queries(conn: psycopg.Connection, count: int, seed: int = 5) -> list[dict]:
    rng = random.Random(seed)
    regions = _labels(conn, "region")
    categories = _labels(conn, "category_normalised")
    seniorities = _labels(conn, "seniority")
    out = []
    for _ in range(count):
        query: dict[str, object] = {"q": " ".join(rng.sample(TECH, rng.choice((1, 1, 2))))}
        options = [
            ("region", rng.choice(regions)),
            ("seniority", rng.choice(seniorities)),
            ("category", rng.choice(categories)),
            ("min_salary_usd", rng.choice((50_000, 80_000, 120_000))),
        ]
        query |= dict(rng.sample(options, rng.randrange(1, 4)))
        out.append(query)
    return out


def load_history(
    conninfo: str, listings: int, origin: datetime, factory: ListingFactory, offset: int = 0
) -> int:
    """`listings` listings numbered from `offset`, in windows from `origin` on."""
    per_window = -(-listings // HISTORY_WINDOWS)
    with psycopg.connect(conninfo) as conn, psycopg.connect(conninfo) as read_conn:
        for index in range(HISTORY_WINDOWS):
            start = window_start(index, origin)
            numbers = range(
                offset + index * per_window, offset + min(listings, (index + 1) * per_window)
            )
            stage_synthetic(conn, [(start, numbers)], factory)
            upsert_window(conn, read_conn, window_key(start), start)
    return listings


def measure(conninfo: str, first: int, new: int, start: datetime) -> dict:
    """Load a window of `new` listings, then match and send; the delays."""
    factory = ListingFactory(seed=17)
    key = window_key(start)
    with psycopg.connect(conninfo) as conn, psycopg.connect(conninfo) as read_conn:
        stage_synthetic(conn, [(start, range(first, first + new))], factory)
        upsert_window(conn, read_conn, key, start)
        (committed,) = conn.execute("SELECT clock_timestamp()").fetchone()
        started = time.perf_counter()
        plan = plan_window(conn, key, start, email_enabled=False)
        planned = time.perf_counter() - started
    policy = SendPolicy(target=TargetPolicy(allow_http=True, allow_private=True), workers=16)
    report = send_due(lambda: psycopg.connect(conninfo), policy)
    total = time.perf_counter() - started
    with psycopg.connect(conninfo) as conn:
        delays = [
            float(d)
            for (d,) in conn.execute(
                "SELECT extract(epoch FROM sent_at - %s) FROM public.jobs_search_deliveries "
                "WHERE window_key = %s AND status = 'sent' ORDER BY 1",
                (committed, key),
            )
        ]
        (per_message,) = conn.execute(
            "SELECT avg(listing_count)::float8 FROM public.jobs_search_deliveries "
            "WHERE window_key = %s",
            (key,),
        ).fetchone()

    def pct(p: float) -> float:
        return round(delays[min(len(delays) - 1, int(p * len(delays)))], 2) if delays else 0.0

    return {
        "window_listings": plan.window_listings,
        "searches": plan.searches,
        "deliveries": plan.deliveries,
        "sent": len(report.sent),
        "not_sent": len(report.retrying) + len(report.given_up),
        "listings_per_message_avg": round(per_message or 0, 1),
        "match_and_write_seconds": round(planned, 2),
        "match_and_write_steps": plan.seconds,
        "match_write_send_seconds": round(total, 2),
        "delay_p50_seconds": pct(0.5),
        "delay_p95_seconds": pct(0.95),
        "delay_max_seconds": round(delays[-1], 2) if delays else 0.0,
    }


def run(scale: str) -> dict:
    active, searches, new = SCALES[scale]
    server = BenchServer.start()
    port_file = WORK_DIR / "searches_receiver.port"
    port_file.unlink(missing_ok=True)
    receiver = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.searches", "receive", str(port_file)], cwd=ROOT
    )
    try:
        conninfo = server.fresh_database(DBNAME)
        while not port_file.exists():
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port_file.read_text()}/hook?token=bench"
        origin = datetime(2026, 1, 1, tzinfo=UTC)
        factory = ListingFactory(seed=17)
        started = time.perf_counter()
        load_history(conninfo, active, origin, factory)
        with psycopg.connect(conninfo) as conn:
            queries = saved_queries(conn, searches)
            conn.execute("SET synchronous_commit = off")
            for query in queries:
                store.create_search(conn, query, {"webhook_url": url})
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        print(
            f"data: {active:,} listings and {searches:,} searches in "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
        after = window_start(HISTORY_WINDOWS, origin)
        first = measure(conninfo, active, new, after)
        print(json.dumps(first), flush=True)
        # twice the listings: the next window must cost the same
        earlier = origin - timedelta(days=30)
        load_history(conninfo, active, earlier, ListingFactory(seed=29), offset=active + new)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        doubled = measure(conninfo, 2 * active + new, new, window_start(1, after))
        print(json.dumps(doubled), flush=True)
        return {
            "scale": scale,
            "active_listings": active,
            "saved_searches": searches,
            "new_listings": new,
            "cores": os.cpu_count(),
            "load_average_1min": round(os.getloadavg()[0], 2),
            "window": first,
            "window_after_history_doubled": doubled,
        }
    finally:
        receiver.kill()
        receiver.wait()
        if server.embedded:
            server.stop()
            shutil.rmtree(WORK_DIR / "pgdata", ignore_errors=True)
        else:
            server.drop_database(DBNAME)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.searches", description=__doc__)
    parser.add_argument("role", nargs="?", default="run", choices=("run", "receive"))
    parser.add_argument("port_file", nargs="?")
    parser.add_argument("--scale", default="full", choices=sorted(SCALES))
    args = parser.parse_args(argv)
    if args.role == "receive":
        _receive(args.port_file)
        return 0
    report = run(args.scale)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results[args.scale] = report
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    w = report["window"]
    print(
        f"{report['saved_searches']:,} searches, {w['window_listings']:,} new listings on "
        f"{report['active_listings']:,}: {w['deliveries']:,} deliveries, p95 "
        f"{w['delay_p95_seconds']} s, max {w['delay_max_seconds']} s after the window's commit"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
