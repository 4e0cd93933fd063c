"""The read API under load: `make bench-api` (python -m benchmarks.api); not part of make test.

100,000 active listings (plus expired ones and duplicates) in the benchmark's own
database, one uvicorn worker (`python -m jobs_assets.api`, as `make api` runs it), and a
load generator in a separate process (`python -m benchmarks.api load ...`): open loop at
a fixed rate, each latency measured from the moment the request was *due*, so a stalled
server is not hidden by a generator that waits for it (coordinated omission).

Scenarios, each against a fresh server:
- cached: 200 distinct requests of the mix, warmed once, then replayed at 500 rps;
- fts: unique full-text searches with 1-3 filters (never a cache hit), at 50 rps;
- mix: a replayed query mix (Zipf over 3,000 distinct requests: browse with filters,
  full-text, stats, single listings) from a cold cache at 500 rps: latency and hit ratio;
  then the same mix and the full-text searches with the cache switched off, and the mix
  with Redis as the cache.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import psycopg

from benchmarks.harness import ROOT, WORK_DIR, BenchServer
from jobs_assets.lib.data_version import bump_data_version
from jobs_assets.lib.sources import SOURCES

ACTIVE = 100_000


def _words(text: str) -> list[str]:
    return text.split()


RESULTS = ROOT / "benchmarks" / "api_results.json"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
TECH = _words(
    "python go rust java kotlin swift typescript javascript react vue angular node django "
    "flask fastapi spring rails php laravel ruby scala elixir haskell clojure c++ csharp dotnet "
    "postgres mysql redis kafka spark airflow dbt snowflake bigquery aws gcp azure kubernetes "
    "docker terraform ansible linux graphql grpc ml pytorch tensorflow llm nlp vision ios android "
    "flutter figma seo sql excel tableau salesforce hubspot"
)
ROLES = _words(
    "engineer developer architect designer analyst scientist manager writer marketer "
    "recruiter consultant administrator specialist lead director support"
)
LEVELS = ("Junior", "Mid", "Senior", "Staff", "Principal", "Lead")
WORDS = _words(
    "we are a remote first team building products for customers across the world you will "
    "work with engineers designers and product managers to ship features improve reliability "
    "and mentor colleagues benefits include flexible hours equity learning budget and "
    "home office stipend our stack includes modern tools and we value clear writing ownership "
    "kindness and curiosity apply with a short note about a project you are proud of"
)
REGIONS = ("Worldwide", "Europe", "North America", "Latin America", "Asia", "Africa", "Oceania")
COUNTRIES = ("US", "GB", "DE", "FR", "ES", "PL", "NL", "CA", "BR", "IN", "PT", "MX")
CATEGORIES = ("engineering", "data", "design", "product", "marketing", "sales", "support")
SENIORITY = ("junior", "mid", "senior", "lead")
JOB_TYPES = ("full_time", "contract", "part_time")


# --- the data ---------------------------------------------------------------------------


def listing_rows(rng: random.Random, count: int) -> list[tuple]:
    sources = list(SOURCES)
    rows = []
    for n in range(count):
        source = sources[n % len(sources)]
        tech = rng.sample(TECH, 3)
        published = NOW - timedelta(minutes=rng.randrange(60 * 24 * 60))
        seen = published.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        low = rng.randrange(30, 200) * 1000 if rng.random() < 0.6 else None
        high = low + rng.randrange(5, 60) * 1000 if low and rng.random() < 0.7 else None
        region = rng.choice(REGIONS)
        expired = n >= ACTIVE
        cluster = f"c{n // 2}" if n % 50 in (0, 1) else None  # 4% in pairs of duplicates
        description = " ".join(rng.choices(WORDS + tech, k=90))
        rows.append(
            (
                source,
                f"b{n}",
                f"{rng.choice(LEVELS)} {tech[0].title()} {rng.choice(ROLES).title()}",
                f"Company {rng.randrange(4000)}",
                f"https://{source}.example/jobs/b{n}",
                rng.choice(JOB_TYPES),
                rng.choice(SENIORITY),
                rng.choice(CATEGORIES),
                "{" + ",".join(tech) + "}",
                region,
                "{" + ",".join(rng.sample(COUNTRIES, rng.randrange(0, 3))) + "}",
                "{" + region + "}",
                region,
                low,
                high,
                description,
                published,
                seen,
                seen,
                NOW if not expired else seen,
                seen.strftime("%Y-%m-%d-%H:00"),
                "expired" if expired else "active",
                NOW if expired else None,
                cluster,
                (n % 50 == 0) if cluster else None,
            )
        )
    return rows


COLUMNS = (
    "source, source_job_id, title, company_name, job_url, job_type, seniority, "
    "category_normalised, tags, location_raw, countries, regions, region, salary_min_usd, "
    "salary_max_usd, description_text, published_at, retrieved_at, first_seen_at, "
    "last_seen_at, last_partition_key, status, expired_at, duplicate_cluster_id, is_canonical"
)


def build_database(server: BenchServer) -> tuple[str, dict[str, str]]:
    """The benchmark database and the environment that points `python -m jobs_assets.api` at it."""
    from jobs_assets_tests.api_schema_shim import apply_api_schema  # the marts stand-ins

    dbname = "jobs" if server.embedded else "jobs_bench_api"
    conninfo = server.fresh_database(dbname)
    rng = random.Random(17)
    started = time.perf_counter()
    with psycopg.connect(conninfo) as conn:
        apply_api_schema(conn)
        with conn.cursor().copy(f"COPY public.jobs_listings_data ({COLUMNS}) FROM STDIN") as copy:
            for row in listing_rows(rng, ACTIVE + ACTIVE // 10):
                copy.write_row(row)
        conn.execute(
            "INSERT INTO marts.daily_postings SELECT first_seen_at::date, source, region, "
            "category_normalised, count(*), count(*) FILTER (WHERE status = 'active'), "
            "count(*) FILTER (WHERE status = 'expired') FROM public.jobs_listings_data "
            "GROUP BY 1, 2, 3, 4"
        )
        conn.execute(
            "INSERT INTO marts.salary_percentiles SELECT region, category_normalised, seniority, "
            "count(*), percentile_cont(0.25) WITHIN GROUP (ORDER BY s), "
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY s), "
            "percentile_cont(0.75) WITHIN GROUP (ORDER BY s) FROM (SELECT *, "
            "coalesce(salary_max_usd, salary_min_usd) AS s FROM public.jobs_listings_data "
            "WHERE status = 'active') l WHERE s IS NOT NULL GROUP BY 1, 2, 3"
        )
        conn.commit()
        bump_data_version(conn, "2026-12-01-00:00")
        conn.commit()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print(f"data: {ACTIVE:,} active listings loaded in {time.perf_counter() - started:.0f} s")
    env = {k: v for k, v in os.environ.items() if k not in ("JOBS_REDIS_URL",)}
    if server.embedded:
        env.pop("PGHOST", None)
        env["JOBS_DATA_DIR"] = str(server.data_dir)
    else:
        env["PGDATABASE"] = dbname
    return conninfo, env


# --- the requests -----------------------------------------------------------------------


def browse(rng: random.Random) -> str:
    params: dict[str, object] = {}
    for name, values in (
        ("region", REGIONS),
        ("source", list(SOURCES)),
        ("category", CATEGORIES),
        ("seniority", SENIORITY),
    ):
        if rng.random() < 0.35:
            params[name] = rng.choice(values)
    if rng.random() < 0.2:
        params["min_salary_usd"] = rng.choice((50_000, 80_000, 100_000, 150_000))
    return "/listings?" + urlencode(params)


def full_text(rng: random.Random, filters: int | None = None) -> str:
    params: dict[str, object] = {"q": " ".join(rng.sample(TECH, rng.choice((1, 1, 2))))}
    options = [
        ("region", rng.choice(REGIONS)),
        ("seniority", rng.choice(SENIORITY)),
        ("category", rng.choice(CATEGORIES)),
        ("min_salary_usd", rng.choice((50_000, 80_000, 120_000))),
        ("source", rng.choice(list(SOURCES))),
    ]
    params |= dict(rng.sample(options, filters if filters is not None else rng.randrange(0, 3)))
    if rng.random() < 0.3:
        params["sort"] = "relevance"
    return "/listings?" + urlencode(params)


def stats(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return "/stats/postings?" + urlencode({"region": rng.choice(REGIONS)})
    return "/stats/salaries?" + urlencode({"category": rng.choice(CATEGORIES)})


def detail(rng: random.Random) -> str:
    n = rng.randrange(ACTIVE)
    return f"/listings/{list(SOURCES)[n % len(SOURCES)]}/b{n}"


def query_mix(seed: int, distinct: int, total: int) -> list[str]:
    """`total` requests drawn Zipf-like (s = 1) from `distinct` distinct ones."""
    rng = random.Random(seed)
    kinds = [(browse, 0.45), (full_text, 0.30), (stats, 0.10), (detail, 0.15)]
    pool = []
    for _ in range(distinct):
        kind = rng.choices([k for k, _ in kinds], [w for _, w in kinds])[0]
        pool.append(kind(rng))
    weights = [1 / (rank + 1) for rank in range(distinct)]
    return rng.choices(pool, weights, k=total)


def unique_full_text(seed: int, total: int) -> list[str]:
    rng = random.Random(seed)
    seen: set[str] = set()
    while len(seen) < total:
        seen.add(full_text(rng, filters=rng.randrange(1, 4)))
    return sorted(seen, key=lambda _: rng.random())


# --- the load generator (its own process) -------------------------------------------------


async def _generate(port: int, paths: list[str], rate: float, connections: int) -> dict:
    loop = asyncio.get_running_loop()
    idle: asyncio.Queue = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    latencies: list[float] = []
    hits = misses = errors = 0

    async def one(path: str, due: float) -> None:
        nonlocal hits, misses, errors
        reader, writer = await idle.get()
        try:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
            status = await reader.readline()
            length, cache = 0, ""
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                elif name.lower() == "x-cache":
                    cache = value.strip()
            await reader.readexactly(length)
            latencies.append(loop.time() - due)
            if not status.startswith(b"HTTP/1.1 200"):
                errors += 1
            hits += cache == "hit"
            misses += cache == "miss"
        finally:
            idle.put_nowait((reader, writer))

    start = loop.time() + 0.05
    tasks = []
    for i, path in enumerate(paths):
        due = start + i / rate
        if (delay := due - loop.time()) > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(path, due)))
    await asyncio.gather(*tasks)
    elapsed = loop.time() - start
    latencies.sort()

    def pct(p: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))], 2)

    return {
        "requests": len(paths),
        "rate_target": rate,
        "rate_achieved": round(len(paths) / elapsed, 1),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": round(1000 * latencies[-1], 2),
        "errors": errors,
        "hit_ratio": round(hits / (hits + misses), 3) if hits + misses else None,
    }


def load(port: int, paths: list[str], rate: float, connections: int = 32) -> dict:
    """Run the generator in a separate process (so it never shares the server's GIL)."""
    spec = json.dumps({"port": port, "paths": paths, "rate": rate, "connections": connections})
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.api", "load"],
        input=spec,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        check=True,
    )
    return json.loads(proc.stdout)


# --- the server -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ApiServer:
    """`python -m jobs_assets.api` (one uvicorn worker) with the given cache settings."""

    def __init__(self, env: dict[str, str], **settings: str) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jobs_assets.api", "--port", str(self.port)]
            + ["--log-level", "warning"],
            env=env | settings,
            cwd=ROOT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("the API did not start") from None
                time.sleep(0.2)

    def __enter__(self) -> ApiServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def redis_server() -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [shutil.which("redis-server") or "redis-server", "--port", str(port), "--save", ""]
        + ["--appendonly", "no", "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    return process, f"redis://127.0.0.1:{port}/0"


def run() -> dict:
    server = BenchServer.start()
    load_before = os.getloadavg()[0]
    try:
        _, env = build_database(server)
        mix = query_mix(seed=1, distinct=3000, total=10_000)
        hot = list(dict.fromkeys(mix))[:200]
        cached_paths = random.Random(2).choices(hot, k=5000)
        fts = unique_full_text(seed=3, total=500)
        results: dict[str, dict] = {}
        with ApiServer(env) as api:
            load(api.port, hot, rate=50)  # warm
            results["cached_500rps"] = load(api.port, cached_paths, rate=500)
            results["fts_uncached_50rps"] = load(api.port, fts, rate=50)
        with ApiServer(env) as api:
            results["mix_memory_cache_500rps"] = load(api.port, mix, rate=500)
        process, url = redis_server()
        try:
            with ApiServer(env, JOBS_REDIS_URL=url) as api:
                results["mix_redis_cache_500rps"] = load(api.port, mix, rate=500)
        finally:
            process.kill()
            process.wait()
        with ApiServer(env, JOBS_API_CACHE_TTL_SECONDS="0") as api:
            results["fts_no_cache_50rps"] = load(api.port, fts, rate=50)
            results["mix_no_cache_500rps"] = load(api.port, mix, rate=500)
            results["cached_paths_no_cache_500rps"] = load(api.port, cached_paths, rate=500)
        return {
            "active_listings": ACTIVE,
            "cores": os.cpu_count(),
            # other work on the machine inflates the tails: compare runs at similar load
            "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "results": results,
        }
    finally:
        if server.embedded:
            server.stop()
            shutil.rmtree(WORK_DIR / "pgdata", ignore_errors=True)
        else:
            server.drop_database("jobs_bench_api")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.api", description=__doc__)
    parser.add_argument("role", nargs="?", default="run", choices=("run", "load"))
    args = parser.parse_args(argv)
    if args.role == "load":
        spec = json.loads(sys.stdin.read())
        print(json.dumps(asyncio.run(_generate(**spec))))
        return 0
    report = run()
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{'scenario':34} {'rps':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'hits':>6} err")
    for name, r in report["results"].items():
        print(
            f"{name:34} {r['rate_achieved']:>7} {r['p50_ms']:>8} {r['p95_ms']:>8} "
            f"{r['p99_ms']:>8} {r['hit_ratio'] if r['hit_ratio'] is not None else '-':>6} "
            f"{r['errors']}"
        )
    print(
        f"results: {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
