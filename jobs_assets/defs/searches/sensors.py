"""When saved searches are matched and their messages sent.

- `saved_search_sensor`: every materialisation of `jobs_listings` since its last tick
  requests a run of `saved_search_matches` for the same window, oldest first, with
  `run_key = <window>:<the loading run's id>`. Loads that landed between two ticks (a
  daemon that was down, a backfill) each get their run: none is lost. A re-evaluated
  tick never launches twice, and a daemon that restarts with no cursor starts from the
  newest load only, launching at most a run that writes nothing (the deliveries'
  primary key holds).
- `search_delivery_sensor`: every 30 s, sends the messages that are due (retries after a
  webhook or mail server failed), the way `alert_sensor` delivers the alert outbox.
"""

import dagster as dg

from jobs_assets.automation import in_use, sensor_status
from jobs_assets.defs.searches.assets import log_sent, saved_search_matches
from jobs_assets.defs.searches.resources import SearchDeliveryResource
from jobs_assets.lib.searches.send import send_due
from jobs_assets.resources import PostgresResource

saved_search_job = dg.define_asset_job(
    "saved_search_job",
    selection=dg.AssetSelection.assets(saved_search_matches),  # its windows: the asset's
    executor_def=dg.in_process_executor,  # one small step: no process of its own
    description="Match a window's new listings against the saved searches and send.",
)


LOADED = dg.AssetKey("jobs_listings")
#: loads read per tick at most; more wait for the next tick (the cursor says where)
LOADS_PER_TICK = 100


def match_after_loads(context: dg.SensorEvaluationContext) -> list[dg.RunRequest] | dg.SkipReason:
    """A run per load of `jobs_listings` since the cursor (the last load's storage id)."""
    if context.cursor:
        found = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=LOADED, after_storage_id=int(context.cursor)),
            limit=LOADS_PER_TICK,
            ascending=True,
        ).records
    else:  # a new sensor, or a daemon without its cursor: the newest load only
        found = context.instance.fetch_materializations(LOADED, limit=1).records
        if not found:
            context.update_cursor("0")  # nothing loaded yet: every load to come counts
    if not found:
        return dg.SkipReason("no new materialisation of jobs_listings")
    context.update_cursor(str(found[-1].storage_id))
    requests = [
        dg.RunRequest(run_key=f"{r.partition_key}:{r.run_id}", partition_key=r.partition_key)
        for r in found
        if r.partition_key
    ]
    return requests or dg.SkipReason(
        "jobs_listings materialised without a window: nothing to match"
    )


def send_due_messages(
    context: dg.SensorEvaluationContext,
    postgres: PostgresResource,
    search_delivery: SearchDeliveryResource,
) -> dg.SkipReason:
    report = send_due(
        postgres.connect, search_delivery.policy(), search_delivery.mailer(), budget_seconds=25
    )
    log_sent(context, report)
    return dg.SkipReason(
        f"{len(report.sent)} sent, {len(report.retrying)} to retry, {len(report.given_up)} given up"
    )


def build_search_sensors(
    status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.STOPPED,
) -> list[dg.SensorDefinition]:
    matches = dg.sensor(
        job=saved_search_job,
        name="saved_search_sensor",
        minimum_interval_seconds=10,
        default_status=status,
        description=(
            "After each materialisation of jobs_listings, runs saved_search_matches for the "
            "same window: one message per saved search with new matching jobs. Every load "
            "since the last tick gets its run."
        ),
    )(match_after_loads)
    delivery = dg.sensor(
        name="search_delivery_sensor",
        minimum_interval_seconds=30,
        default_status=status,
        description=(
            "Sends saved-search messages that are due (public.jobs_search_deliveries, status "
            "'pending'): retries a webhook or mail server that failed, with growing delays, "
            "and gives up after 48 h (status 'undeliverable')."
        ),
    )(send_due_messages)
    return [matches, delivery]


# stopped: the code location's are built below
saved_search_sensor, search_delivery_sensor = build_search_sensors()


@dg.definitions
def search_sensor_definitions() -> dg.Definitions:
    """The two sensors, running by default when the automation switch is on."""
    return dg.Definitions(
        jobs=[saved_search_job], sensors=build_search_sensors(sensor_status(in_use()))
    )
