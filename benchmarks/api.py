"""The read API under load: `make bench-api` (python -m benchmarks.api); not part of make test.

About 100,000 active listings (plus expired ones and duplicates) in the benchmark's own
database, loaded the way the pipeline loads them and summarised by dbt: the recorded
windows through the ingestion assets and the local replay server, then synthetic windows
cut from the recordings (jobs_assets.testing.synth: real listings with new ids, shuffled salaries
and locations; a few dozen employers, so each has thousands of listings) staged and
upserted by the pipeline's own code, a share of them expired and clustered as the
identity step would, and `dbt build` for the marts (jobs_assets.testing). No table here
is written by hand to a schema of its own: the API reads what the migrations and the dbt
models define.

One uvicorn worker (`python -m jobs_assets.api`, as `make api` runs it), and a load
generator in a separate process (`python -m benchmarks.api load ...`): open loop at a
fixed rate, each latency measured from the moment the request was *due*, so a stalled
server is not hidden by a generator that waits for it (coordinated omission).

Scenarios, each against a fresh server:
- cached: 200 distinct requests of the mix, warmed once, then replayed at 500 rps;
- fts: unique full-text searches with 1-3 filters (never a cache hit), at 50 rps;
- facets: unique /listings requests asking for every facet (GET /listings?facets=...),
  with 0-3 filters and sometimes full text, at 20 rps with the cache off (uncached);
- mix: a replayed query mix (Zipf over 3,000 distinct requests: browse with filters,
  full-text, stats, facets, single listings) from a cold cache at 500 rps: latency and
  hit ratio; then the same mix and the full-text searches with the cache switched off,
  and the mix with Redis as the cache.
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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

import psycopg

from benchmarks.harness import ROOT, WORK_DIR, BenchServer
from jobs_assets.lib.listings import upsert_window
from jobs_assets.lib.listings.queries import LISTING_FACETS, SALARY_BANDS
from jobs_assets.lib.schema.migrate import ensure_schema
from jobs_assets.lib.sources import SOURCES
from jobs_assets.partitions import INGESTION_PARTITIONS
from jobs_assets.testing import DsnPostgres, build_marts, load_recorded_windows
from jobs_assets.testing.synth import ListingFactory, stage_synthetic, window_key, window_start

ACTIVE = 100_000
EXPIRED_SHARE = 10  # one listing in ten expired
WINDOWS = 60  # synthetic four-hour windows the listings arrive in


def _words(text: str) -> list[str]:
    return text.split()


RESULTS = ROOT / "benchmarks" / "api_results.json"
TECH = _words(
    "python go rust java kotlin swift typescript javascript react vue angular node django "
    "flask fastapi spring rails php laravel ruby scala elixir haskell clojure c++ csharp dotnet "
    "postgres mysql redis kafka spark airflow dbt snowflake bigquery aws gcp azure kubernetes "
    "docker terraform ansible linux graphql grpc ml pytorch tensorflow llm nlp vision ios android "
    "flutter figma seo sql excel tableau salesforce hubspot engineer manager designer analyst"
)


@dataclass(frozen=True)
class Labels:
    """The labels the loaded listings carry (the requests filter by real values)."""

    regions: list[str]
    categories: list[str]
    seniorities: list[str]
    listings: list[tuple[str, str]]  # (source, source_job_id) of active listings


# --- the data ---------------------------------------------------------------------------


def load_listings(conninfo: str, work: Path, active: int) -> int:
    """The recorded windows through the ingestion assets, then `active` more listings in
    synthetic windows through the pipeline's upsert; some expire and some cluster."""
    postgres = DsnPostgres(data_dir=str(work), dsn=conninfo)
    recorded = INGESTION_PARTITIONS.get_partition_keys()[-2:]  # the ones the sources serve
    load_recorded_windows(postgres, work / "raw", recorded)
    total = active + active // (EXPIRED_SHARE - 1)
    per_window = -(-total // WINDOWS)
    factory = ListingFactory(seed=17)
    # after the recorded windows, so their expiry by absence leaves these listings alone
    origin = datetime.strptime(recorded[-1], "%Y-%m-%d-%H:%M").replace(tzinfo=UTC)
    origin += timedelta(hours=4)
    with psycopg.connect(conninfo) as conn, psycopg.connect(conninfo) as read_conn:
        for index in range(WINDOWS):
            start = window_start(index, origin)
            numbers = range(index * per_window, min(total, (index + 1) * per_window))
            stage_synthetic(conn, [(start, numbers)], factory)
            upsert_window(conn, read_conn, window_key(start), start)
        # as the identity step would leave them: expired listings, clusters of two
        for statement in IDENTITY_SQL:
            conn.execute(statement, {"share": EXPIRED_SHARE})
        conn.commit()
    return total


IDENTITY_SQL = (
    """
UPDATE public.jobs_listings_data SET status = 'expired', expired_at = last_seen_at
WHERE source_job_id ~ '^[0-9]+$' AND source_job_id::bigint %% %(share)s = 0
   OR source_job_id LIKE '%%/listing-%%0'
""",
    """
UPDATE public.jobs_listings_data d SET duplicate_cluster_id = 'bench-' || (n / 2),
    is_canonical = n %% 2 = 0
FROM (SELECT source, source_job_id, row_number() OVER (ORDER BY source, source_job_id) AS n
      FROM public.jobs_listings_data) r
WHERE d.source = r.source AND d.source_job_id = r.source_job_id AND r.n %% 50 IN (0, 1)
""",
)


def read_labels(conninfo: str) -> Labels:
    with psycopg.connect(conninfo) as conn:

        def values(column: str) -> list[str]:
            return [
                v
                for (v,) in conn.execute(
                    f"SELECT {column} FROM public.jobs_listings_data WHERE status = 'active' "
                    f"AND {column} IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 12"
                )
            ]

        ids = conn.execute(
            "SELECT source, source_job_id FROM public.jobs_listings_data "
            "WHERE status = 'active' ORDER BY source, source_job_id"
        ).fetchall()
        return Labels(values("region"), values("category_normalised"), values("seniority"), ids)


#: with --keep (PGHOST only): the database kept between runs, built once
KEPT_DB = "jobs_bench_api_kept"


def _kept(server: BenchServer) -> str | None:
    """The kept database's conninfo when it holds a finished build (at this schema)."""
    try:
        with psycopg.connect(server.conninfo(KEPT_DB)) as conn:
            built = conn.execute("SELECT count(*) FROM public.jobs_listings_data").fetchone()[0]
    except psycopg.Error:
        return None
    if not built:
        return None
    conninfo = server.conninfo(KEPT_DB)
    ensure_schema(conninfo)  # a migration added since the build (an index) applies
    return conninfo


def build_database(
    server: BenchServer, active: int, keep: bool = False
) -> tuple[str, dict[str, str], Labels]:
    """The benchmark database and the environment that points `python -m jobs_assets.api`
    at it; with `keep`, the kept database when it was built before."""
    dbname = KEPT_DB if keep else "jobs" if server.embedded else "jobs_bench_api"
    conninfo = _kept(server) if keep else None
    if conninfo is None:
        conninfo = server.fresh_database(dbname)
        work = WORK_DIR / "api"
        shutil.rmtree(work, ignore_errors=True)
        started = time.perf_counter()
        total = load_listings(conninfo, work, active)
        loaded = time.perf_counter()
        build_marts(DsnPostgres(data_dir=str(work), dsn=conninfo))
        print(
            f"data: {total:,} listings loaded in {loaded - started:.0f} s, "
            f"marts built in {time.perf_counter() - loaded:.0f} s"
        )
    else:
        print(f"data: the kept database {KEPT_DB} (drop it to build again)")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    env = {k: v for k, v in os.environ.items() if k not in ("JOBS_REDIS_URL",)}
    if server.embedded:
        env.pop("PGHOST", None)
        env["JOBS_DATA_DIR"] = str(server.data_dir)
    else:
        env["PGDATABASE"] = dbname
    return conninfo, env, read_labels(conninfo)


# --- the requests -----------------------------------------------------------------------


def browse(rng: random.Random, labels: Labels) -> str:
    params: dict[str, object] = {}
    for name, values in (
        ("region", labels.regions),
        ("source", list(SOURCES)),
        ("category", labels.categories),
        ("seniority", labels.seniorities),
    ):
        if values and rng.random() < 0.35:
            params[name] = rng.choice(values)
    if rng.random() < 0.2:
        params["min_salary_usd"] = rng.choice((50_000, 80_000, 100_000, 150_000))
    return "/listings?" + urlencode(params)


def full_text(rng: random.Random, labels: Labels, filters: int | None = None) -> str:
    params: dict[str, object] = {"q": " ".join(rng.sample(TECH, rng.choice((1, 1, 2))))}
    options = [
        ("region", rng.choice(labels.regions)),
        ("seniority", rng.choice(labels.seniorities)),
        ("category", rng.choice(labels.categories)),
        ("min_salary_usd", rng.choice((50_000, 80_000, 120_000))),
        ("source", rng.choice(list(SOURCES))),
    ]
    params |= dict(rng.sample(options, filters if filters is not None else rng.randrange(0, 3)))
    if rng.random() < 0.3:
        params["sort"] = "relevance"
    return "/listings?" + urlencode(params)


def facet_search(rng: random.Random, labels: Labels) -> str:
    """/listings with every facet counted: 0-3 filters, a third of them with full text."""
    options = [
        ("region", rng.choice(labels.regions)),
        ("seniority", rng.choice(labels.seniorities)),
        ("category", rng.choice(labels.categories)),
        ("source", rng.choice(list(SOURCES))),
        ("salary_band", rng.choice(list(SALARY_BANDS))),
        ("min_salary_usd", rng.choice((50_000, 80_000, 120_000))),
    ]
    params: dict[str, object] = dict(rng.sample(options, rng.randrange(0, 4)))
    if rng.random() < 0.3:
        params["q"] = rng.choice(TECH)
    params["facets"] = ",".join(LISTING_FACETS)
    return "/listings?" + urlencode(params)


def unique_facet_searches(labels: Labels, seed: int, total: int) -> list[str]:
    rng = random.Random(seed)
    seen: set[str] = set()
    for _ in range(total * 50):
        if len(seen) == total:
            break
        seen.add(facet_search(rng, labels))
    return sorted(seen, key=lambda _: rng.random())


def stats(rng: random.Random, labels: Labels) -> str:
    roll = rng.random()
    if roll < 0.4:
        return "/stats/postings?" + urlencode({"region": rng.choice(labels.regions)})
    if roll < 0.8:
        return "/stats/salaries?" + urlencode({"category": rng.choice(labels.categories)})
    return "/facets"


def detail(rng: random.Random, labels: Labels) -> str:
    source, job_id = rng.choice(labels.listings)
    return f"/listings/{source}/{quote(job_id, safe='/')}"


def query_mix(labels: Labels, seed: int, distinct: int, total: int) -> list[str]:
    """`total` requests drawn Zipf-like (s = 1) from `distinct` distinct ones."""
    rng = random.Random(seed)
    kinds = [(browse, 0.45), (full_text, 0.30), (stats, 0.10), (detail, 0.15)]
    pool = []
    for _ in range(distinct):
        kind = rng.choices([k for k, _ in kinds], [w for _, w in kinds])[0]
        pool.append(kind(rng, labels))
    weights = [1 / (rank + 1) for rank in range(distinct)]
    return rng.choices(pool, weights, k=total)


def unique_full_text(labels: Labels, seed: int, total: int) -> list[str]:
    rng = random.Random(seed)
    seen: set[str] = set()
    while len(seen) < total:
        seen.add(full_text(rng, labels, filters=rng.randrange(1, 4)))
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


def run(
    active: int = ACTIVE, only: str | None = None, keep: bool = False, rate: float = 20
) -> dict:
    server = BenchServer.start()
    load_before = os.getloadavg()[0]
    keep = keep and not server.embedded
    try:
        _, env, labels = build_database(server, active, keep)
        facet_paths = unique_facet_searches(
            labels, seed=4, total=max(20, int(rate * 15)) if only else 1000
        )
        results: dict[str, dict] = {}
        if only == "facets":  # a short run: the facet counts alone, uncached
            with ApiServer(env, JOBS_API_CACHE_TTL_SECONDS="0") as api:
                load(api.port, facet_paths[:10], rate=rate)  # warm the pool, not a cache
                results[f"facets_no_cache_{rate:g}rps"] = load(api.port, facet_paths, rate=rate)
            return {
                "active_listings": len(labels.listings),
                "cores": os.cpu_count(),
                "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                "results": results,
            }
        mix = query_mix(labels, seed=1, distinct=3000, total=10_000)
        hot = list(dict.fromkeys(mix))[:200]
        cached_paths = random.Random(2).choices(hot, k=5000)
        fts = unique_full_text(labels, seed=3, total=500)
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
            results["facets_no_cache_20rps"] = load(api.port, facet_paths, rate=20)
            results["mix_no_cache_500rps"] = load(api.port, mix, rate=500)
            results["cached_paths_no_cache_500rps"] = load(api.port, cached_paths, rate=500)
        return {
            "active_listings": len(labels.listings),
            "cores": os.cpu_count(),
            # other work on the machine inflates the tails: compare runs at similar load
            "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "results": results,
        }
    finally:
        if server.embedded:
            server.stop()
            shutil.rmtree(WORK_DIR / "pgdata", ignore_errors=True)
        elif not keep:
            server.drop_database("jobs_bench_api")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.api", description=__doc__)
    parser.add_argument("role", nargs="?", default="run", choices=("run", "load"))
    parser.add_argument("--listings", type=int, default=ACTIVE, help="active listings")
    parser.add_argument(
        "--only",
        choices=("facets",),
        help="only this scenario (a short run; merged into the results file)",
    )
    parser.add_argument(
        "--rate", type=float, default=20, help="with --only facets: requests a second"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help=f"with PGHOST: keep the database ({KEPT_DB}) and reuse it next time",
    )
    args = parser.parse_args(argv)
    if args.role == "load":
        spec = json.loads(sys.stdin.read())
        print(json.dumps(asyncio.run(_generate(**spec))))
        return 0
    report = run(args.listings, args.only, args.keep, args.rate)
    if args.only and RESULTS.exists():  # the other scenarios' last figures stay
        earlier = json.loads(RESULTS.read_text())
        earlier.setdefault("partial_runs", {})[args.only] = {
            k: v for k, v in report.items() if k != "results"
        }
        earlier["results"] |= report["results"]
        RESULTS.write_text(json.dumps(earlier, indent=2) + "\n")
    else:
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
