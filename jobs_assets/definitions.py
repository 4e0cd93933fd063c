"""The code location: every module under `jobs_assets/defs/` is discovered.

Runs use Dagster's multiprocess executor (a process per step: parallel fetches, a crash
takes one step down) unless `JOBS_EXECUTOR=in_process`, which runs every step in the run's
own process: seconds instead of a minute for a window, for a laptop or a test whose
subject is not the executor (BENCHMARKS.md, "Executors").
"""

from pathlib import Path

import dagster as dg

from jobs_assets.settings import Settings


@dg.definitions
def defs() -> dg.Definitions:
    found = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    if Settings.from_env().executor == "in_process":
        return dg.Definitions.merge(found, dg.Definitions(executor=dg.in_process_executor))
    return found
