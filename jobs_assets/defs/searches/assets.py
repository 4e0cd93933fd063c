"""`saved_search_matches`: after each window, one message per saved search that has new
matching jobs, written once (lib/searches/deliver.py) and sent at once (send.py).

Started by `saved_search_sensor` when `jobs_listings` materialises a window; what it
could not send (a webhook down) `search_delivery_sensor` retries every 30 s.
"""

import logging

import dagster as dg

from jobs_assets.automation import in_use, step_retry_policy
from jobs_assets.defs.searches.resources import SearchDeliveryResource
from jobs_assets.lib.searches.deliver import plan_window
from jobs_assets.lib.searches.send import SendReport, send_due
from jobs_assets.logs import log_event
from jobs_assets.partitions import INGESTION_PARTITIONS
from jobs_assets.resources import PostgresResource
from jobs_assets.settings import DefinitionsSettings

SAVED_SEARCH_MATCHES = dict(
    name="saved_search_matches",
    group_name="searches",
    partitions_def=INGESTION_PARTITIONS,
    deps=[dg.AssetKey("jobs_listings")],
    kinds={"python", "postgres"},
    description=(
        "public.jobs_search_deliveries and public.jobs_search_announced: the window's new, "
        "returned and changed listings matched against every saved search (the filters of "
        "GET /listings), one message per search and channel with the jobs that arrived "
        "after the search was saved and that it has not announced yet; then what is due is "
        "sent. A re-run of the window writes and sends nothing."
    ),
)


def match_and_send(
    context: dg.AssetExecutionContext,
    postgres: PostgresResource,
    search_delivery: SearchDeliveryResource,
) -> dg.MaterializeResult:
    key = context.partition_key
    mailer = search_delivery.mailer()
    with postgres.connect() as conn:
        window = context.partition_time_window
        plan = plan_window(
            conn, key, window.start, email_enabled=mailer is not None, window_end=window.end
        )
    log_event(
        context,
        f"saved searches {key}: {plan.window_listings} new, returned or changed listings, "
        f"{plan.searches} searches, {plan.matched} matched, {plan.deliveries} messages "
        f"written, {plan.announced} jobs announced",
    )
    for search_id, why in plan.skipped.items():
        log_event(context, f"saved search {search_id} skipped: {why}", logging.WARNING)
    report = send_due(postgres.connect, search_delivery.policy(), mailer, budget_seconds=300)
    log_sent(context, report)
    return dg.MaterializeResult(
        metadata={
            "window_listings": plan.window_listings,
            "searches": plan.searches,
            "searches_matched": plan.matched,
            # matches whose job arrived before the search was saved: not news to it
            "matches_older_than_search": plan.old_news,
            "searches_deleted_meanwhile": plan.deleted,
            "deliveries_written": plan.deliveries,
            "jobs_announced": plan.announced,
            "searches_skipped": len(plan.skipped),
            "sent": len(report.sent),
            "retrying": len(report.retrying),
            "undeliverable": len(report.given_up),
        }
    )


def build_saved_search_matches(retry: dg.RetryPolicy) -> dg.AssetsDefinition:
    """The asset, retried with `retry` like the steps that load the window: the sensor
    requests each window once, so a passing error (the database restarting) must not
    lose the window's messages."""
    return dg.asset(**SAVED_SEARCH_MATCHES, retry_policy=retry)(match_and_send)


# with the default retry policy, for code that imports it (the sensors select it)
saved_search_matches = build_saved_search_matches(step_retry_policy(DefinitionsSettings()))


@dg.definitions
def searches_assets() -> dg.Definitions:
    """The asset as the code location loads it: the retry policy read when it loads."""
    return dg.Definitions(assets=[build_saved_search_matches(step_retry_policy(in_use()))])


def log_sent(context: object, report: SendReport) -> None:
    """One line per message that failed or was given up, one for the ones sent."""
    if report.sent:
        log_event(context, f"saved searches: {len(report.sent)} message(s) sent")
    for o in report.retrying:
        log_event(
            context,
            f"saved search {o.search_id} window {o.window_key} {o.channel} not delivered "
            f"({o.error}); retrying later",
            logging.WARNING,
        )
    for o in report.given_up:
        log_event(
            context,
            f"saved search {o.search_id} window {o.window_key} {o.channel} given up "
            f"({o.error}); kept as 'undeliverable' in public.jobs_search_deliveries",
            logging.ERROR,
        )
