"""Configuration reaches the code one way: `jobs_assets/settings.py` is the one module that
reads the environment, nothing reads it when a module is imported, and no module writes
it. Assets, checks and sensors get their settings from resources (`dg.EnvVar` fields) and
the definitions-time values from `definitions.py`."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from jobs_assets.settings import GENERAL_VARIABLES, variable_names

PACKAGE = Path(__file__).resolve().parents[1] / "jobs_assets"
#: the one parser of the environment (the resources name variables through it)
READS_THE_ENVIRONMENT = {"settings.py"}


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations/versions" not in p.as_posix())


def environment_uses(tree: ast.AST) -> list[int]:
    """Lines that touch the process environment: `os.environ`, `os.getenv`, `os.putenv`,
    `os.unsetenv`, or those names imported from `os`."""
    names = {"environ", "getenv", "putenv", "unsetenv", "environb"}
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in names:
            if isinstance(node.value, ast.Name) and node.value.id == "os":
                lines.append(node.lineno)
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(alias.name in names for alias in node.names)
        ):
            lines.append(node.lineno)
    return lines


def module_level_from_env(tree: ast.Module) -> list[int]:
    """Calls of `<anything>.from_env(...)` that run when the module is imported: outside
    every function (a class body or a decorator argument runs at import too)."""
    lines = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for decorator in getattr(node, "decorator_list", []):
                visit(decorator, in_function)
            for default in [*node.args.defaults, *node.args.kw_defaults]:
                if default is not None:
                    visit(default, in_function)
            for child in node.body if isinstance(node.body, list) else [node.body]:
                visit(child, True)
            return
        if (
            not in_function
            and isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("from_env", "environment")
        ):
            lines.append(node.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child, in_function)

    visit(tree, False)
    return lines


def test_only_settings_reads_the_environment_and_nothing_writes_it() -> None:
    found = {}
    for path in modules():
        if path.name in READS_THE_ENVIRONMENT and path.parent == PACKAGE:
            continue
        lines = environment_uses(ast.parse(path.read_text(), str(path)))
        if lines:
            found[str(path.relative_to(PACKAGE.parent))] = lines
    assert not found, f"modules that touch os.environ (use jobs_assets.settings): {found}"
    assert len(modules()) > 100  # the scan saw the package


def test_no_settings_are_parsed_at_import() -> None:
    found = {}
    for path in modules():
        if path.parent.name == "migrations":  # env.py: a script Alembic runs, an entry point
            continue
        lines = module_level_from_env(ast.parse(path.read_text(), str(path)))
        if lines:
            found[str(path.relative_to(PACKAGE.parent))] = lines
    assert not found, f"settings parsed when these modules are imported: {found}"


IMPORT_ALL = """
import importlib, json, pkgutil, sys
import jobs_assets
skip = set(sys.argv[1:])
done = []
for module in pkgutil.walk_packages(jobs_assets.__path__, "jobs_assets."):
    if module.name in skip or module.name.startswith("jobs_assets.migrations"):
        continue
    importlib.import_module(module.name)
    done.append(module.name)
print(json.dumps(done))
"""
#: imported for what they do: the fork server's preload loads the definitions (which read
#: their settings, as `definitions.py` does when a code server loads it)
LOADS_DEFINITIONS = ["jobs_assets.preload"]


def test_every_module_imports_whatever_the_environment_says(tmp_path: Path) -> None:
    """Every setting set to a value no parser accepts: a module that parsed one when
    imported would fail here."""
    sentinel = "sentinel-not-a-setting"
    env = {name: sentinel for name in [*variable_names(), *GENERAL_VARIABLES]}
    env |= {"PATH": "/usr/bin:/bin", "JOBS_DATA_DIR": str(tmp_path), "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL, *LOADS_DEFINITIONS],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    imported = json.loads(done.stdout.splitlines()[-1])
    assert {"jobs_assets.definitions", "jobs_assets.cli", "jobs_assets.api.app"} <= set(imported)
    assert any(name.startswith("jobs_assets.defs.") for name in imported)
