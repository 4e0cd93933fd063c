"""The code location: every module under `jobs_assets/defs/` is discovered.

The values Dagster fixes when the definitions load (`DefinitionsSettings`: the automation
switch, the step retries, the retraining interval, the executor) are read here, once, and
handed to the defs modules through `jobs_assets.automation.loading`; everything a run uses
reaches it through the resources (`dg.EnvVar` fields, resolved in each run process).

Runs use Dagster's multiprocess executor (a process per step: parallel fetches, a crash
takes one step down) unless `JOBS_EXECUTOR=in_process`, which runs every step in the run's
own process: seconds instead of a minute for a window, for a laptop or a test whose
subject is not the executor (BENCHMARKS.md, "Executors").

The step processes fork from a fork server that imported Dagster, dbt, pandas and these
definitions once per run (`jobs_assets.preload`), instead of each starting a fresh
interpreter that imports them all again: a step starts in well under a second instead of
about 5 s of CPU, and still runs in a process of its own.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg

from jobs_assets.automation import loading
from jobs_assets.settings import DefinitionsSettings

MULTIPROCESS = dg.multiprocess_executor.configured(
    {"start_method": {"forkserver": {"preload_modules": ["jobs_assets.preload"]}}}
)


def build_definitions(
    values: DefinitionsSettings, resources: Mapping[str, Any] | None = None
) -> dg.Definitions:
    """Every definition of the defs folder, built with `values`; `resources` in place of
    the folder's own (the CLI's, pointed at its target)."""
    with loading(values):
        found = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    executor = dg.in_process_executor if values.executor == "in_process" else MULTIPROCESS
    if resources:
        found = dg.Definitions(
            assets=found.assets,
            asset_checks=found.asset_checks,
            schedules=found.schedules,
            sensors=found.sensors,
            jobs=found.jobs,
            loggers=found.loggers,
            metadata=found.metadata,
            resources={**(found.resources or {}), **resources},
        )
    return dg.Definitions.merge(found, dg.Definitions(executor=executor))


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(DefinitionsSettings.from_env())
