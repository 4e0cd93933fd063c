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
import psycopg
from dagster_dbt import (
    DagsterDbtTranslator,
    DbtCliInvocation,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from pydantic import PrivateAttr

from jobs_assets.automation import in_use, sensor_status
from jobs_assets.defs.marts.project import PROJECT
from jobs_assets.lib import marts
from jobs_assets.resources import PostgresResource, from_env_int

MANIFEST = marts.require_manifest(PROJECT.manifest_path)


class MartsDbtResource(DbtCliResource):
    """`DbtCliResource` whose dbt processes end with the step: stopping a run stops dbt.

    dagster-dbt forwards an interrupt to dbt only when it arrives while dagster-dbt reads
    dbt's output; Dagster may deliver it between two events instead, and the step then
    ends with dbt still running. Every step tears its resources down, however it ends,
    so this one stops (as Ctrl-C would: dbt cancels its queries) any dbt it started that
    is still running.

    `build()` writes the run's profile from the pipeline's connection and passes it, and
    the threads, on dbt's command line: nothing goes through this process's environment.
    """

    #: dbt's threads (`JOBS_DBT_THREADS`)
    threads: int = marts.DBT_THREADS
    _invocations: list[DbtCliInvocation] = PrivateAttr(default_factory=list)

    def cli(self, args: Sequence[str], **kwargs: Any) -> DbtCliInvocation:
        invocation = super().cli(args, **kwargs)
        self._invocations.append(invocation)
        return invocation

    def build(
        self, context: dg.AssetExecutionContext, conn: psycopg.Connection, target: Path
    ) -> DbtCliInvocation:
        """`dbt build` of the context's selection on `conn`'s database, artifacts in
        `target` (with the run's profiles.yml)."""
        profiles = marts.write_profiles(target / "profile", marts.connection_profile(conn))
        # the run's profile for dbt's process and for the adapter dagster-dbt opens in
        # this one alike
        runner = self.model_copy(update={"profiles_dir": str(profiles)})
        invocation = runner.cli(
            ["build", "--threads", str(self.threads)], context=context, target_path=target
        )
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
    """Group `marts` and the refresh condition for every model; every dbt test's asset
    check says what it checks (`check_description`)."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "marts"

    def get_automation_condition(
        self, dbt_resource_props: Mapping[str, Any]
    ) -> dg.AutomationCondition | None:
        if dbt_resource_props["resource_type"] == "model":
            return AFTER_INGESTION
        return None

    def get_asset_check_spec(
        self,
        asset_spec: dg.AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> dg.AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        return dg.AssetCheckSpec(
            name=spec.name,
            asset=spec.asset_key,
            description=check_description(manifest["nodes"][unique_id]),
            additional_deps=spec.additional_deps,
            metadata=spec.metadata,
            blocking=spec.blocking,
            automation_condition=spec.automation_condition,
        )


def _listed(values: Any) -> str:
    names = values if isinstance(values, (list, tuple)) else [values]
    return ", ".join(f"`{v}`" for v in names)


#: what each generic test checks (the project's own in macros/generic_tests.sql), from
#: its arguments
CHECKS = {
    "not_null": lambda a: f"`{a['column_name']}` is never NULL",
    "unique": lambda a: f"`{a['column_name']}` is unique",
    "accepted_values": lambda a: f"`{a['column_name']}` is one of {_listed(a['values'])}",
    "between": lambda a: (
        f"`{a['column_name']}` is NULL or between {a['min_value']} and {a['max_value']}"
    ),
    "unique_combination": lambda a: f"one row per ({_listed(a['columns'])})",
    "ordered": lambda a: f"{' <= '.join(_listed(c) for c in a['columns'])} in every row",
    "group_sum_at_most": lambda a: (
        f"`{a['column_name']}` adds up to at most {a['max_total']} per ({_listed(a['group_by'])})"
    ),
}
#: the rows a test with one of these `where` names reads (macros/test_where.sql)
WHERE = {
    "changed_in_refresh": "of the listings this refresh changed (all on a full build)",
    "written_in_refresh": "of the listings this refresh changed (all on a full build)",
    "recomputed_in_refresh": "in the weeks this refresh recomputed (all on a full build)",
    "written_since_refresh": "of the listings written since the last refresh",
    "versions_since_refresh": "of the versions of listings written since the last refresh",
}


def check_description(test: Mapping[str, Any]) -> str | None:
    """What a dbt test checks, in a sentence: its own description when it has one (its
    `description`, or `meta.description` as dagster-dbt reads it), else one made from the
    generic test and its arguments. None for a test of unknown kind without one (the
    project's tests fail until it has one)."""
    own = test.get("description") or (test.get("meta") or {}).get("description")
    if own:
        return own
    metadata = test.get("test_metadata") or {}
    describe = CHECKS.get(metadata.get("name", ""))
    if describe is None:
        return None
    sentence = describe(metadata.get("kwargs") or {})
    where = (test.get("config") or {}).get("where")
    if where:
        sentence += ", " + WHERE.get(where, f"where {where}")
    return sentence + "."


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
    context: dg.AssetExecutionContext, dbt: MartsDbtResource, postgres: PostgresResource
) -> Iterator[Any]:
    """`dbt build` of the selection: models, then their tests as asset checks; row counts
    and, for two marts, headline numbers that Dagster plots run over run."""
    with postgres.connect() as conn:  # the revision is checked before anything is written
        target = marts.new_target(Path(postgres.data_dir), context.run.run_id)
        invocation = dbt.build(context, conn, target)
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
            "dbt": MartsDbtResource(
                project_dir=PROJECT,
                dbt_executable=marts.dbt_executable(),
                threads=from_env_int("JOBS_DBT_THREADS", marts.DBT_THREADS),
            )
        },
        sensors=[
            dg.AutomationConditionSensorDefinition(
                "marts_automation",
                target=dg.AssetSelection.groups("marts"),
                default_status=sensor_status(in_use()),
            )
        ],
    )
