"""The structure has no import cycle: among `jobs_assets`' modules (an import inside a
function counts too: it is a dependency all the same), and between the tests and the
benchmarks, which share their fixtures through `jobs_assets.testing` and never import
each other."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: str) -> dict[str, Path]:
    return {module_name(p): p for p in sorted((REPO / package).rglob("*.py"))}


def imported(path: Path, name: str, known: set[str]) -> Iterator[str]:
    """The modules of `known` that the module `name` at `path` imports, anywhere in it. A
    `from package import name` counts as an import of `package.name` when that is a
    module; the parent packages a dotted import loads are not counted."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")[: len(name.split(".")) - node.level + is_package]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            targets = [f"{module}.{alias.name}" for alias in node.names]
            targets = [t if t in known else module for t in targets]
        else:
            continue
        for target in targets:
            if target in known and target != name:
                yield target


def graph(*packages: str) -> dict[str, set[str]]:
    found = {name: path for package in packages for name, path in modules(package).items()}
    known = set(found)
    return {name: set(imported(path, name, known)) for name, path in found.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for child in sorted(edges.get(node, ())):
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in on_stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_package_has_no_import_cycle() -> None:
    edges = graph("jobs_assets")
    assert len(edges) > 100 and sum(map(len, edges.values())) > 300  # the graph was built
    assert cycles(edges) == []


def test_the_graph_finds_a_cycle_through_a_lazy_import() -> None:
    """The check itself: a cycle closed by an import inside a function is found."""
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(edges) == [["a", "b", "c"]]


def test_tests_and_benchmarks_never_import_each_other() -> None:
    edges = graph("jobs_assets", "jobs_assets_tests", "benchmarks")
    across = sorted(
        (name, target)
        for name, targets in edges.items()
        for target in targets
        if {name.split(".")[0], target.split(".")[0]} == {"jobs_assets_tests", "benchmarks"}
    )
    assert across == []
    assert not any(
        target.split(".")[0] in ("jobs_assets_tests", "benchmarks")
        for name, targets in edges.items()
        if name.startswith("jobs_assets.")
        for target in targets
    )


# --- lib/ by domain: each package says what it may import, and keeps to it ----------

LIB = REPO / "jobs_assets" / "lib"
_MAY_IMPORT = re.compile(r"May import:(?P<names>.*?)\.(?:\s|$)", re.DOTALL)


def lib_packages() -> list[str]:
    return sorted(p.parent.name for p in LIB.glob("*/__init__.py"))


def declared(package: str) -> set[str]:
    """What the package's docstring says it may import (`lib.x` or `lib.x.module`)."""
    doc = ast.get_docstring(ast.parse((LIB / package / "__init__.py").read_text())) or ""
    found = _MAY_IMPORT.search(doc)
    assert found, f"lib/{package}/__init__.py: its docstring says nothing of what it may import"
    return set(re.findall(r"`(lib(?:\.\w+)+)`", found["names"]))


def lib_imports(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    """package -> the other parts of `lib` its modules import (`lib.x.module` or `lib.x`)."""
    out: dict[str, set[str]] = {package: set() for package in lib_packages()}
    for name, targets in edges.items():
        parts = name.split(".")
        if parts[:2] != ["jobs_assets", "lib"] or len(parts) < 3 or parts[2] not in out:
            continue
        for target in targets:
            other = target.split(".")
            if other[:2] == ["jobs_assets", "lib"] and len(other) > 2 and other[2] != parts[2]:
                out[parts[2]].add(".".join(other[1:4]))
    return out


def test_each_lib_package_imports_only_what_its_docstring_allows() -> None:
    imports = lib_imports(graph("jobs_assets"))
    assert len(imports) >= 10 and imports["listings"]  # the packages were found
    undeclared = {
        package: sorted(
            target
            for target in targets
            if not any(target == d or target.startswith(d + ".") for d in declared(package))
        )
        for package, targets in imports.items()
    }
    assert {package: names for package, names in undeclared.items() if names} == {}


def test_the_lib_packages_have_no_cycle_between_them() -> None:
    """No module cycle is not enough: listings -> normalise -> identity -> listings was one
    between packages, each import made by a different module."""
    edges = {
        package: {target.split(".")[1] for target in targets}
        for package, targets in lib_imports(graph("jobs_assets")).items()
    }
    assert cycles(edges) == []
