"""When the salary model retrains: after new listings, at most once per
JOBS_MODEL_RETRAIN_HOURS; the estimates follow every ingestion window and every model."""

from __future__ import annotations

import dagster as dg


class TrainedLongAgo(dg.AutomationCondition):
    """True when the asset was never materialised, or last `hours` or more ago.

    A time gate measured from the last training itself (not from a cron tick), so two
    trainings are never closer than `hours`, whenever the windows land.
    """

    def __init__(self, hours: float) -> None:
        self.hours = hours

    @property
    def name(self) -> str:
        return f"last materialised {self.hours:g} h ago or more"

    def evaluate(self, context: dg.AutomationContext) -> dg.AutomationResult:
        instance = context.asset_graph_view.instance
        latest = instance.get_latest_materialization_event(context.key)
        due = latest is None or (
            context.evaluation_time.timestamp() - latest.timestamp >= self.hours * 3600
        )
        subset = context.candidate_subset if due else context.get_empty_subset()
        return dg.AutomationResult(context, subset)


_QUIET = ~dg.AutomationCondition.any_deps_in_progress() & ~dg.AutomationCondition.in_progress()


def retrain_condition(hours: float) -> dg.AutomationCondition:
    """New listings since the last training was requested, and the time gate open."""
    return (
        dg.AutomationCondition.any_deps_updated().since_last_handled()
        & TrainedLongAgo(hours)
        & _QUIET
    ).with_label(f"new listings, at most every {hours:g} h")


#: after each ingestion window (new and changed listings) and after each training (a
#: promoted model re-estimates everything; a rejected one changes nothing, cheaply)
AFTER_LISTINGS_OR_MODEL = (
    dg.AutomationCondition.any_deps_updated().since_last_handled() & _QUIET
).with_label("after each ingestion window or training")
