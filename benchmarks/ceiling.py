"""The ceiling: the whole pipeline for one window at 50x today's volume, on this machine.

`python -m benchmarks.ceiling [--listings 75000]` (part of `make bench`). The recorded
fixtures of every source are scaled by re-keying their listings (each copy gets a new
id, URL and company suffix, so identity and the marts see distinct listings) and served
by the replay server on loopback. Then, as a deployment runs a window, each in a fresh
`dagster asset materialize` process on a fresh instance and database:

1. `group:ingestion` for the window (fetch, stage, load with lifecycle, history and
   identity, and their checks),
2. `group:ml` (the salary model, trained when due, and its estimates),
3. `group:marts` (dbt build of the analytics marts),
4. `postgres_backup` (dump, raw archive, verification by restore, retention).

Each step's time comes from the run's event log; peak memory is sampled (psutil)
over the whole process tree of each command. The report compares each with the
4-hour window. Loopback HTTP has no latency or rate limit: the real APIs' page limits
and terms decide the fetch time there (see BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.harness import (
    ROOT,
    WORK_DIR,
    BenchServer,
    machine,
    materialize_command,
    run_worker,
)
from benchmarks.report import replace_section
from jobs_assets.cli import LOCAL_DAGSTER_YAML
from jobs_assets.lib.sources import SOURCES
from jobs_assets.replay import FIXTURES, ReplayServer
from jobs_assets.settings import interval_variable

RESULTS = ROOT / "benchmarks" / "ceiling_results.json"
MARKDOWN = ROOT / "BENCHMARKS.md"
WINDOW_HOURS = 4.0
TODAY_PER_WINDOW = 1_500  # listings of the five sources in a 4-hour window (SPEC.md)
CEILING_DB = "jobs_bench_ceiling"


def _copies(record: dict, source_name: str, count: int) -> list[dict]:
    source = SOURCES[source_name]
    id_field = source.id_field
    company = source.required.get("company")
    url = source.required.get("url")
    out = []
    for n in range(count):
        copy = dict(record)
        original = copy.get(id_field)
        if isinstance(original, int):
            copy[id_field] = original + n * 100_000_000
        elif original is not None:
            copy[id_field] = f"{original}-x{n}" if n else original
        if n and company and isinstance(copy.get(company), str):
            copy[company] = f"{copy[company]} {n}"
        if n and url and isinstance(copy.get(url), str):
            copy[url] = f"{copy[url]}{'&' if '?' in copy[url] else '?'}copy={n}"
        out.append(copy)
    return out


def scale_fixtures(target: Path, factor: int) -> None:
    """Copy the recorded fixtures with every listing repeated `factor` times, re-keyed."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for path in sorted(FIXTURES.glob("*.json")):
        name = path.stem.split("_")[0]
        document = json.loads(path.read_bytes())
        source = SOURCES.get(name)
        records = source.records_in(document) if source else None
        if isinstance(records, list):
            scaled = [c for r in records if isinstance(r, dict) for c in _copies(r, name, factor)]
            if isinstance(document, list):
                notice = [e for e in document[:1] if isinstance(e, dict) and "legal" in e]
                document = notice + scaled
            else:
                document[source.jobs_key] = scaled
                if "totalCount" in document:
                    document["totalCount"] = document["totalCount"] * factor
        (target / path.name).write_text(json.dumps(document))


class TreeMemory:
    """Peak resident memory of a process and its children, sampled every 0.2 s."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_tree_mb = 0.0
        self.peak_process_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._stop.is_set():
            try:
                processes = [root, *root.children(recursive=True)]
                sizes = []
                for process in processes:
                    try:
                        sizes.append(process.memory_info().rss / 2**20)
                    except psutil.NoSuchProcess:
                        continue
            except psutil.NoSuchProcess:
                return
            if sizes:
                self.peak_tree_mb = max(self.peak_tree_mb, sum(sizes))
                self.peak_process_mb = max(self.peak_process_mb, max(sizes))
            self._stop.wait(0.2)


def _run(command: list[str], env: dict[str, str], label: str, home: Path) -> dict:
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    with TreeMemory(process.pid) as memory:
        _, stderr = process.communicate()
    total = time.perf_counter() - started
    if process.returncode != 0:
        tail = "\n".join(line[:300] for line in stderr.splitlines()[-15:])
        raise RuntimeError(f"{label} failed:\n{tail}")
    events = run_worker("dagster_steps", dagster_home=str(home), assets=[])
    return {
        "command": label,
        "total_s": round(total, 1),
        "run_s": events["run_s"],
        "steps_compute_union_s": events["steps_union_s"],
        "steps": events["steps"],
        "peak_tree_rss_mb": round(memory.peak_tree_mb, 1),
        "peak_process_rss_mb": round(memory.peak_process_mb, 1),
    }


def run(listings: int) -> dict:
    from jobs_assets.partitions import BACKUP_PARTITIONS, INGESTION_PARTITIONS
    from jobs_assets.testing import fixture_listing_count

    base = fixture_listing_count()
    factor = max(1, math.ceil(listings / base))
    work = WORK_DIR / "ceiling"
    fixtures = work / "fixtures"
    scale_fixtures(fixtures, factor)
    server = BenchServer.start()
    home = work / "dagster_home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text(LOCAL_DAGSTER_YAML)
    if server.embedded:
        data_dir, extra = server.data_dir, {}
        server.fresh_database("jobs", schema=False)
    else:
        data_dir, extra = work / "data", {"PGDATABASE": CEILING_DB}
        server.fresh_database(CEILING_DB, schema=False)
    for folder in ("raw", "backups", "logs"):
        shutil.rmtree(data_dir / folder, ignore_errors=True)
    window = INGESTION_PARTITIONS.get_last_partition_key()
    backup_window = BACKUP_PARTITIONS.get_last_partition_key()
    results: dict = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "listings_target": listings,
        "fixture_listings": base,
        "factor": factor,
        "window": window,
        "postgresql": "embedded (pgserver)" if server.embedded else "the server named by PGHOST",
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        with ReplayServer(fixtures=fixtures) as replay:
            env = {
                **os.environ,
                **replay.env(),
                **extra,
                "DAGSTER_HOME": str(home),
                "JOBS_DATA_DIR": str(data_dir),
                "JOBS_MAX_RPS": "0",
                "JOBS_FETCH_BUDGET_SECONDS": "3600",
                "JOBS_HTTP_TOTAL_TIMEOUT_SECONDS": "600",
                "JOBS_HTTP_TIMEOUT_SECONDS": "300",
                **{interval_variable(s): "0" for s in SOURCES.values()},
            }
            steps = [
                (materialize_command("group:ingestion", window), "ingestion window"),
                (materialize_command("group:ml"), "salary model and estimates"),
                (materialize_command("group:marts"), "marts (dbt)"),
                (materialize_command("postgres_backup", backup_window), "backup"),
            ]
            results["commands"] = []
            for command, label in steps:
                print(f"[{datetime.now():%H:%M:%S}] {label}", flush=True)
                results["commands"].append(_run(command, env, label, home))
        results["listings_loaded"] = _count(server, extra)
        results["raw_bytes"] = sum(
            p.stat().st_size for p in (data_dir / "raw").rglob("*") if p.is_file()
        )
    finally:
        if not server.embedded:
            server.drop_database(CEILING_DB)
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
        for folder in ("raw", "backups"):
            shutil.rmtree(data_dir / folder, ignore_errors=True)
    results["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    total = sum(c["total_s"] for c in results["commands"])
    results["total_s"] = round(total, 1)
    results["share_of_window"] = round(total / (WINDOW_HOURS * 3600), 4)
    return results


def _count(server: BenchServer, extra: dict[str, str]) -> int:
    import psycopg

    conninfo = server.conninfo(extra.get("PGDATABASE", "jobs"))
    with psycopg.connect(conninfo) as conn:
        return conn.execute("SELECT count(*) FROM public.jobs_listings_data").fetchone()[0]


def render(r: dict) -> str:
    window_s = WINDOW_HOURS * 3600
    lines = [
        f"One window of {r['listings_loaded']:,} listings (the {r['fixture_listings']} recorded "
        f"listings x{r['factor']}, re-keyed; {r['listings_loaded'] / TODAY_PER_WINDOW:.0f}x "
        f"today's ~{TODAY_PER_WINDOW:,}), {r['raw_bytes'] / 2**20:.0f} MiB of raw JSON (gzip), "
        f"on {r['machine']['cores']} cores / {r['machine']['memory_gib']} GiB, PostgreSQL "
        f"{r['postgresql']}, measured {r['started_at']} (load average "
        f"{r['load_average_start'][0]} at the start: the machine is shared).",
        "",
        "| command | step | seconds | share of the 4-hour window | peak RSS, process tree (MiB) |",
        "|---|---|---:|---:|---:|",
    ]
    for command in r["commands"]:
        lines.append(
            f"| **{command['command']}** | whole command (process start to exit) | "
            f"{command['total_s']:.1f} | {command['total_s'] / window_s:.2%} | "
            f"{command['peak_tree_rss_mb']:.0f} (largest process "
            f"{command['peak_process_rss_mb']:.0f}) |"
        )
        union = command["steps_compute_union_s"]
        lines.append(
            f"| | steps' own code (wall time in which a step ran) | {union:.1f} | "
            f"{union / window_s:.2%} | |"
        )
        for step, seconds in sorted(command["steps"].items(), key=lambda kv: -kv[1])[:12]:
            lines.append(f"| | `{step}` | {seconds:.1f} | {seconds / window_s:.2%} | |")
    lines.append(
        f"| **the whole pipeline** | | **{r['total_s']:.1f}** | **{r['share_of_window']:.2%}** | |"
    )
    return "\n".join(lines) + "\n"


def update_markdown(path: Path, results: dict) -> None:
    replace_section(path, "ceiling", render(results), "## The ceiling: one window at 50x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ceiling", description=__doc__)
    parser.add_argument("--listings", type=int, default=75_000, help="listings in the window")
    parser.add_argument("--scale", choices=("small", "full"), default=None)
    args = parser.parse_args(argv)
    listings = 7_500 if args.scale == "small" else args.listings
    results = run(listings)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    if listings >= 75_000:  # only the 50x figure goes into BENCHMARKS.md
        update_markdown(MARKDOWN, results)
    print(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
