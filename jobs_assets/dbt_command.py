"""`jobs-dbt`: dbt itself, except that `--version` answers without starting dbt.

dagster-dbt's `DbtCliResource` runs `<dbt_executable> --version` once per run, to tell
dbt Core from dbt Fusion, and dbt answers only after importing itself: 2.5 s of CPU on
a 2-core machine, a fifth of the demo's marts step. This command answers that one
question from the installed package's metadata (the same version `dbt --version`
reports) and hands every other command, arguments untouched, to dbt's own entry point,
as the `dbt` script does. The marts resource names it as its `dbt_executable`
(`lib/marts.dbt_executable`), a documented setting of `DbtCliResource`.
"""

from __future__ import annotations

import sys
from importlib.metadata import version


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        # the shape of dbt's own answer; dagster-dbt reads the first x.y.z in it
        print(f"Core:\n  - installed: {version('dbt-core')}")
        print(f"Plugins:\n  - postgres: {version('dbt-postgres')}")
        return
    from dbt.cli.main import cli

    sys.argv[0] = "dbt"
    sys.exit(cli())


if __name__ == "__main__":
    main()
