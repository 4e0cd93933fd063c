"""`make bench` is not part of the suite, but its modules must keep importing against the
code they measure (a helper they used was once removed from the CLI unnoticed)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import benchmarks

MODULES = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name != "__main__")


@pytest.mark.parametrize("name", MODULES)
def test_every_benchmark_module_imports(name: str) -> None:
    assert importlib.import_module(f"benchmarks.{name}").__name__ == f"benchmarks.{name}"
