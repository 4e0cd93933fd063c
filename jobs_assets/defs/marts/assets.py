"""The analytics marts: every dbt model is an asset of group `marts` and every dbt test
an asset check, downstream of `jobs_listings`, rebuilt after each ingestion window by
declarative automation.

The models and tests live in `jobs_assets/dbt/`; `project.py` is the `DbtProject` and
its manifest, `jobs_assets.lib.marts` dbt's connection. dbt runs through dagster-dbt's
`DbtCliResource`, as a process of its own, and stopping the run stops dbt
(`MartsDbtResource`).
"""

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliInvocation, DbtCliResource, dbt_assets
from pydantic import PrivateAttr

from jobs_assets.automation import SENSOR_STATUS
from jobs_assets.defs.marts.project import PROJECT
from jobs_assets.lib import marts
from jobs_assets.resources import PostgresResource

MANIFEST = marts.require_manifest(PROJECT.manifest_path)


class MartsDbtResource(DbtCliResource):
    """`DbtCliResource` whose dbt processes end with the step: stopping a run stops dbt.

    dagster-dbt forwards an interrupt to dbt only when it arrives while dagster-dbt reads
    dbt's output; Dagster may deliver it between two events instead, and the step then
    ends with dbt still running. Every step tears its resources down, however it ends,
    so this one stops (as Ctrl-C would: dbt cancels its queries) any dbt it started that
    is still running.
    """

    _invocations: list[DbtCliInvocation] = PrivateAttr(default_factory=list)

    def cli(self, args: Sequence[str], **kwargs: Any) -> DbtCliInvocation:
        invocation = super().cli(args, **kwargs)
        self._invocations.append(invocation)
        return invocation

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        for invocation in self._invocations:
            marts.stop_dbt(invocation.process)


# After each ingestion window: `jobs_listings` (any partition) updated, nothing upstream
# still running. Unlike `eager()` this does not wait for every partition of
# `jobs_listings` to exist, which an unpartitioned child of a partitioned parent would.
AFTER_INGESTION = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("after each ingestion window")


class MartsTranslator(DagsterDbtTranslator):
    """Group `marts` and the refresh condition for every model."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "marts"

    def get_automation_condition(
        self, dbt_resource_props: Mapping[str, Any]
    ) -> dg.AutomationCondition | None:
        if dbt_resource_props["resource_type"] == "model":
            return AFTER_INGESTION
        return None


HEADLINES = {
    dg.AssetKey(["marts", "daily_postings"]): marts.headline_daily_postings,
    dg.AssetKey(["marts", "salary_percentiles"]): marts.headline_salaries,
}


@dbt_assets(
    manifest=MANIFEST,
    project=PROJECT,
    dagster_dbt_translator=MartsTranslator(),
    name="analytics_dbt",
)
def analytics_dbt(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, postgres: PostgresResource
) -> Iterator[Any]:
    """`dbt build` of the selection: models, then their tests as asset checks; row counts
    and, for two marts, headline numbers that Dagster plots run over run."""
    with postgres.connect() as conn:
        env = marts.profile_env(conn)
    target = marts.new_target(Path(postgres.data_dir), context.run.run_id)
    with marts.environ(env):  # dbt's process starts with the environment of this moment
        invocation = dbt.cli(["build"], context=context, target_path=target)
    for event in invocation.stream():
        yield with_counts(context, event, postgres)
    marts.keep_parse_state(target, Path(postgres.data_dir))


def with_counts(context: dg.AssetExecutionContext, event: Any, postgres: PostgresResource) -> Any:
    """A model's output with its row count and, for two marts, their headline numbers.

    Counted here rather than with `fetch_row_counts()`, whose relation names carry the
    database of the parse, not the one dbt just wrote to.
    """
    if not isinstance(event, dg.Output):
        return event
    key = context.asset_key_for_output(event.output_name)
    with postgres.connect() as conn:
        numbers = {"dagster/row_count": marts.row_count(conn, *key.path)}
        if key in HEADLINES:
            numbers.update(HEADLINES[key](conn))
    return event.with_metadata({**event.metadata, **numbers})


@dg.definitions
def marts_definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=[analytics_dbt],
        resources={
            "dbt": MartsDbtResource(project_dir=PROJECT, dbt_executable=marts.dbt_executable())
        },
        sensors=[
            dg.AutomationConditionSensorDefinition(
                "marts_automation",
                target=dg.AssetSelection.groups("marts"),
                default_status=SENSOR_STATUS,
            )
        ],
    )
