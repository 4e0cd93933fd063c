"""`make bench-demo` (part of `make bench`): `make demo` against the definitions floor.

The floor is `dagster definitions validate -m jobs_assets.definitions`: what any Dagster
command pays to import Dagster and load the definitions once. Measured in this one run,
alternating, each in a fresh process: the floor, a demo on a fresh data folder (initdb of
its embedded PostgreSQL, a full dbt parse), then the same demo again (server running,
dbt's partial parse). Wall time and CPU time (the process and the children it waited
for, dbt included; the embedded PostgreSQL server, a daemon, is not counted). The best
of `--rounds` rounds is kept (the machine is shared). Results go to
`benchmarks/demo_results.json` and between the `demo` markers of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.report import replace_section

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "demo_results.json"
MARKDOWN = ROOT / "BENCHMARKS.md"
RATIO_LIMIT = 3.0  # issue 12: the demo within 3x the floor


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> dict[str, float]:
    """Wall and CPU seconds of one command (its waited-for children included)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{argv} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2)}


def measure(rounds: int) -> dict:
    python = sys.executable
    floor_cmd = [
        python,
        "-m",
        "dagster",
        "definitions",
        "validate",
        "-m",
        "jobs_assets.definitions",
    ]
    demo_cmd = [python, "-m", "jobs_assets.cli", "demo"]
    stop_cmd = [python, "-m", "jobs_assets.cli", "db-stop"]
    samples: dict[str, list[dict[str, float]]] = {"floor": [], "demo_fresh": [], "demo_again": []}
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="jobs_bench_demo_") as tmp:
            work = Path(tmp)
            env = {
                k: v for k, v in os.environ.items() if not k.startswith(("PG", "JOBS_", "DAGSTER"))
            }
            env |= {"JOBS_DATA_DIR": str(work / "jobs_data"), "DAGSTER_HOME": str(work / "home")}
            (work / "home").mkdir()
            try:
                samples["floor"].append(timed(floor_cmd, env, work))
                samples["demo_fresh"].append(timed(demo_cmd, env, work))
                samples["demo_again"].append(timed(demo_cmd, env, work))
            finally:
                subprocess.run(stop_cmd, env=env, cwd=work, capture_output=True)
    best = {name: min(runs, key=lambda r: r["wall_s"]) for name, runs in samples.items()}
    floor = best["floor"]["wall_s"]
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores, {platform.platform()}",
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "rounds": rounds,
        "best": best,
        "samples": samples,
        "ratio_fresh": round(best["demo_fresh"]["wall_s"] / floor, 2),
        "ratio_again": round(best["demo_again"]["wall_s"] / floor, 2),
    }


def render(r: dict) -> str:
    b = r["best"]
    rows = [
        ("`dagster definitions validate` (the floor)", b["floor"], 1.0),
        ("`make demo`, fresh data folder", b["demo_fresh"], r["ratio_fresh"]),
        ("`make demo` again", b["demo_again"], r["ratio_again"]),
    ]
    lines = [
        f"Run of {r['when']} ({r['machine']}), best of {r['rounds']} rounds; "
        f"load average {r['load_average']} at the end.",
        "",
        "| command | wall | CPU | wall / floor |",
        "|---|---|---|---|",
        *(
            f"| {name} | {m['wall_s']:.1f} s | {m['cpu_s']:.1f} s | {ratio:.1f}× |"
            for name, m, ratio in rows
        ),
        "",
        f"Target: at most {RATIO_LIMIT:g}× the floor. Fresh: "
        + ("met" if r["ratio_fresh"] <= RATIO_LIMIT else "not met")
        + "; again: "
        + ("met" if r["ratio_again"] <= RATIO_LIMIT else "not met")
        + ".",
        "",
    ]
    return "\n".join(lines)


def update_markdown(results: dict, path: Path = MARKDOWN) -> None:
    replace_section(path, "results:demo", render(results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("dagster", path=str(Path(sys.executable).parent)) is None:
        raise SystemExit("dagster is not installed next to this Python: run `make install`")
    results = measure(args.rounds)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    update_markdown(results)
    print(render(results))


if __name__ == "__main__":
    main()
