"""`make bench` is not part of the suite, but its modules must keep importing against the
code they measure (a helper they used was once removed from the CLI unnoticed).

They are imported in a process of their own: the tests never import the benchmarks (nor
the benchmarks the tests; both share `jobs_assets.testing`)."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODULES = sorted(
    m.name for m in pkgutil.iter_modules([str(REPO / "benchmarks")]) if m.name != "__main__"
)
IMPORT_EACH = """
import importlib, json, sys, traceback
failed = {}
for name in sys.argv[1:]:
    try:
        assert importlib.import_module(f"benchmarks.{name}").__name__ == f"benchmarks.{name}"
    except Exception:
        failed[name] = traceback.format_exc(limit=3)
print(json.dumps(failed))
"""


def test_every_benchmark_module_imports() -> None:
    assert len(MODULES) > 10 and "harness" in MODULES
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH, *MODULES],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.splitlines()[-1]) == {}
