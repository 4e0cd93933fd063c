"""The code location: every module under `jobs_assets/defs/` is discovered.

Runs use Dagster's multiprocess executor (a process per step: parallel fetches, a crash
takes one step down) unless `JOBS_EXECUTOR=in_process`, which runs every step in the run's
own process: seconds instead of a minute for a window, for a laptop or a test whose
subject is not the executor (BENCHMARKS.md, "Executors").

The step processes fork from a fork server that imported Dagster, dbt, pandas and these
definitions once per run (`jobs_assets.preload`), instead of each starting a fresh
interpreter that imports them all again: a step starts in well under a second instead of
about 5 s of CPU, and still runs in a process of its own.
"""

from pathlib import Path

import dagster as dg

from jobs_assets.settings import Settings

MULTIPROCESS = dg.multiprocess_executor.configured(
    {"start_method": {"forkserver": {"preload_modules": ["jobs_assets.preload"]}}}
)


@dg.definitions
def defs() -> dg.Definitions:
    found = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    if Settings.from_env().executor == "in_process":
        executor = dg.in_process_executor
    else:
        executor = MULTIPROCESS
    return dg.Definitions.merge(found, dg.Definitions(executor=executor))
