"""B1, fetch: Himalayas pages through the real asset code against a slow local server.

The replay server adds `latency` to every answer. N pages at latency L take N·L one
at a time; W workers can at best take N·L/W. The fetch is `fetch_raw_window`, the
asset's own code path (threads, shared session, raw store, parsing). The server runs
in its own process, as a remote API would: it must not compete for the client's GIL.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from benchmarks.harness import ROOT, WORK_DIR
from jobs_assets.lib.raw.ingest import fetch_raw_window
from jobs_assets.lib.raw.store import RawStore
from jobs_assets.lib.sources import SOURCES, himalayas
from jobs_assets.replay import ReplayServer
from jobs_assets.settings import SourceSettings

TARGET_RATIO = 1.3  # of the ideal N·L/W


def _settings(url: str, pages: int, workers: int) -> SourceSettings:
    return SourceSettings(
        name="himalayas",
        url=url,
        min_interval_hours=0.0,
        workers=workers,
        max_rps=0.0,
        max_pages=pages,
        timeout_seconds=10.0,
        max_retries=2,
        backoff_seconds=0.1,
    )


def fetch_once(url: str, pages: int, workers: int, conninfo: str) -> tuple[float, int]:
    """Seconds for one live fetch of `pages` pages into a fresh raw store (the window's
    lock held in the database at `conninfo`, as the asset does); pages stored."""
    data_dir = WORK_DIR / "fetch"
    shutil.rmtree(data_dir, ignore_errors=True)
    now = datetime.now(UTC)
    window_end = now.replace(minute=0, second=0, microsecond=0)
    key = (window_end - timedelta(hours=4)).strftime("%Y-%m-%d-%H:%M")
    store = RawStore(data_dir)
    started = time.perf_counter()
    outcome = fetch_raw_window(
        SOURCES["himalayas"], _settings(url, pages, workers), store, key, window_end, now, conninfo
    )
    seconds = time.perf_counter() - started
    assert outcome.mode == "live", outcome.note
    return seconds, outcome.summary.pages


@contextmanager
def replay_process(latency: float) -> Iterator[str]:
    """A ReplayServer with `latency` in a child process; its base URL."""
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.fetch", "serve", str(latency)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = child.stdout.readline().strip()
        if not line.startswith("http://"):
            raise RuntimeError(f"the replay server did not start (said {line!r})")
        yield line
    finally:
        child.terminate()
        child.wait(timeout=10)


def run(
    conninfo: str, pages: int, workers: int, latency: float, repeats: int, sequential: bool
) -> dict:
    with replay_process(latency) as base_url:
        url = f"{base_url}/himalayas"
        fetch_once(url, 2, 2, conninfo)  # warm up: imports, the first connection
        times = []
        for _ in range(repeats):
            seconds, stored = fetch_once(url, pages, workers, conninfo)
            assert stored == pages, f"stored {stored} pages, expected {pages}"
            times.append(seconds)
        one_at_a_time = fetch_once(url, pages, 1, conninfo)[0] if sequential else None
        # The same fetch without the speculative first round (page 0 first, then the rest)
        saved = himalayas.SPECULATE_AFTER_SECONDS
        himalayas.SPECULATE_AFTER_SECONDS = None  # wait for page 0
        try:
            unspeculative = [fetch_once(url, pages, workers, conninfo)[0] for _ in range(repeats)]
        finally:
            himalayas.SPECULATE_AFTER_SECONDS = saved
    sequential_bound = pages * latency
    ideal = sequential_bound / workers
    best, median = min(times), statistics.median(times)
    return {
        "pages": pages,
        "workers": workers,
        "latency_s": latency,
        "repeats": repeats,
        "seconds_median": round(median, 3),
        "seconds_min": round(best, 3),
        "seconds_all": [round(t, 3) for t in times],
        "sequential_bound_s": round(sequential_bound, 3),
        "ideal_s": round(ideal, 3),
        "measured_one_worker_s": None if one_at_a_time is None else round(one_at_a_time, 3),
        "ratio_to_ideal": round(median / ideal, 3),
        "without_speculation_s": round(statistics.median(unspeculative), 3),
        "without_speculation_ratio": round(statistics.median(unspeculative) / ideal, 3),
        "speedup_vs_sequential_bound": round(sequential_bound / median, 2),
        "target_ratio": TARGET_RATIO,
        "target_met": median / ideal <= TARGET_RATIO,
    }


def serve(latency: float) -> None:
    with ReplayServer(latency=latency) as server:
        print(server.base_url, flush=True)
        while True:
            time.sleep(3600)


if __name__ == "__main__" and sys.argv[1:2] == ["serve"]:
    serve(float(sys.argv[2]))
