"""`alert_sensor`: one message per failure to `JOBS_ALERT_WEBHOOK_URL`, and to the daily log.

A run-failure sensor alone is not enough: in open-source Dagster a failed WARN check
does not fail its run. So this sensor reads every run that finished (success or
failure) since its cursor, and builds one alert per run that failed or has failed
asset checks (WARN or ERROR), naming each failed asset or check, the window, what
failed, and linking to the run in the UI.

Once: the cursor moves past each finished run, and the outbox (`jobs_assets.lib.ops.alerts`)
remembers every alert key, so a re-evaluated tick never posts twice. A webhook that
is down or slow (5 s timeouts) leaves the alert pending; every tick retries pending
alerts, whether or not new runs finished.
"""

import json
import logging
from dataclasses import dataclass, field

import dagster as dg

from jobs_assets.automation import in_use, sensor_status
from jobs_assets.defs.automation.resources import AlertsResource
from jobs_assets.lib.ops.alerts import OUTBOX_TABLE, Alert, Problem, run_url, summarise
from jobs_assets.logs import log_event

RUN_EVENTS = (dg.DagsterEventType.RUN_FAILURE, dg.DagsterEventType.RUN_SUCCESS)
BATCH = 100
CHECK_FAILED_ERROR = "DagsterAssetCheckFailedError"  # a blocking check; listed as the check


@dataclass
class AlertCursor:
    """The last storage id seen per run-status event type."""

    after: dict[str, int] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: str | None) -> "AlertCursor | None":
        return cls(json.loads(raw)["after"]) if raw else None

    def serialize(self) -> str:
        return json.dumps({"after": self.after}, sort_keys=True)


def starting_cursor(instance: dg.DagsterInstance) -> AlertCursor:
    """Start from now: a newly enabled sensor does not alert on old history."""
    after = {}
    for event_type in RUN_EVENTS:
        records = instance.fetch_run_status_changes(event_type, limit=1, ascending=False).records
        after[event_type.value] = records[0].storage_id if records else 0
    return AlertCursor(after)


def window_of(run: dg.DagsterRun) -> str | None:
    tags = run.tags
    if "dagster/partition" in tags:
        return tags["dagster/partition"]
    start = tags.get("dagster/asset_partition_range_start")
    end = tags.get("dagster/asset_partition_range_end")
    return f"{start}…{end}" if start and end else None


def _error_text(data: object) -> str:
    failure = getattr(data, "user_failure_data", None)
    if failure is not None and failure.description:
        return failure.description
    error = getattr(data, "error", None)
    if error is None:
        return "failed (no error recorded)"
    while error.cause is not None:  # Dagster wraps the user's error: report the user's
        error = error.cause
    message = error.message.strip()
    head, _, rest = message.partition(": ")
    if error.cls_name and head.endswith(error.cls_name) and rest:
        message = f"{error.cls_name}: {rest}"  # drop the module path, keep the class
    return message


def assets_by_step(instance: dg.DagsterInstance, run_id: str) -> dict[str, list[str]]:
    """Step key -> the assets it was planned to materialise, from the run's own events."""
    planned: dict[str, list[str]] = {}
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
    ).records
    for record in records:
        event = record.event_log_entry.dagster_event
        if event.step_key and event.asset_key:
            planned.setdefault(event.step_key, []).append(event.asset_key.to_user_string())
    return planned


def problems_in_run(
    instance: dg.DagsterInstance, run: dg.DagsterRun, failed: bool
) -> list[Problem]:
    """Failed asset checks of the run, then (for a failed run) its failed steps."""
    problems = []
    for record in instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if evaluation.passed:
            continue
        problems.append(
            Problem(
                what=f"check {evaluation.asset_key.to_user_string()}:{evaluation.check_name}",
                detail=evaluation.description or "failed",
                severity=evaluation.severity.value,
            )
        )
    if not failed:
        return problems
    planned = assets_by_step(instance, run.run_id)
    steps = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    for record in steps.records:
        event = record.event_log_entry.dagster_event
        data = event.event_specific_data
        error = getattr(data, "error", None)
        if error is not None and error.cls_name == CHECK_FAILED_ERROR and problems:
            continue  # the failed blocking check is already listed with what it found
        assets = planned.get(event.step_key)
        what = f"asset {', '.join(assets)}" if assets else f"step {event.step_key}"
        problems.append(Problem(what=what, detail=_error_text(data)))
    if not problems:  # failed before any step ran (launch error, crash)
        failures = instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE
        ).records
        detail = failures[-1].event_log_entry.dagster_event.message if failures else "run failed"
        data = failures[-1].event_log_entry.dagster_event.event_specific_data if failures else None
        if data is not None and getattr(data, "error", None) is not None:
            detail = _error_text(data)
        problems.append(Problem(what=f"run of {run.job_name}", detail=detail or "run failed"))
    return problems


def alert_for_run(
    instance: dg.DagsterInstance, run: dg.DagsterRun, failed: bool, ui_base_url: str
) -> Alert | None:
    problems = problems_in_run(instance, run, failed)
    if not problems:
        return None
    what = "run failed" if failed else summarise(problems)
    # Runs started from the UI or CLI belong to Dagster's implicit job (`__ASSET_JOB`).
    job = "" if run.job_name.startswith("__") else f" in {run.job_name}"
    return Alert(
        key=f"run:{run.run_id}",
        title=f"{what}{job}",
        problems=problems,
        window=window_of(run),
        link=run_url(ui_base_url, run.run_id),
    )


def new_alerts(
    instance: dg.DagsterInstance, cursor: AlertCursor, ui_base_url: str
) -> tuple[list[Alert], AlertCursor]:
    """Alerts for runs that finished after `cursor`, in the order they finished."""
    found: list[tuple[int, Alert]] = []
    after = dict(cursor.after)
    for event_type in RUN_EVENTS:
        records = instance.fetch_run_status_changes(
            dg.RunStatusChangeRecordsFilter(
                event_type=event_type, after_storage_id=after.get(event_type.value, 0)
            ),
            limit=BATCH,
            ascending=True,
        ).records
        for record in records:
            run = instance.get_run_by_id(record.run_id)
            if run is not None:
                failed = event_type == dg.DagsterEventType.RUN_FAILURE
                alert = alert_for_run(instance, run, failed, ui_base_url)
                if alert is not None:
                    found.append((record.storage_id, alert))
            after[event_type.value] = record.storage_id
    return [alert for _, alert in sorted(found, key=lambda item: item[0])], AlertCursor(after)


def send_alerts(context: dg.SensorEvaluationContext, alerts: AlertsResource) -> dg.SkipReason:
    cursor = AlertCursor.parse(context.cursor) or starting_cursor(context.instance)
    found, cursor = new_alerts(context.instance, cursor, alerts.ui_base_url)
    outbox = alerts.outbox()
    webhook = alerts.webhook()
    added = 0
    for alert in found:
        is_new = outbox.add(alert) if webhook else outbox.mark_logged_only(alert)
        if is_new:
            added += 1
            log_event(context, alert.text(), logging.ERROR)
    summary = f"{added} new alert(s)"
    if webhook:
        report = outbox.deliver(alerts.post)
        for alert in report.sent:
            log_event(context, f"alert {alert.key} posted to the webhook")
        for alert, error in report.failed:
            log_event(
                context,
                f"alert {alert.key} not delivered ({error}); {report.pending} pending, "
                "retrying on the next tick",
                logging.WARNING,
            )
        for alert in report.given_up:
            log_event(
                context,
                f"alert {alert.key} given up after 3 days of failed deliveries; it is kept in "
                f"{OUTBOX_TABLE} (status 'undeliverable'). Check JOBS_ALERT_WEBHOOK_URL.",
                logging.ERROR,
            )
        summary += f", {len(report.sent)} posted, {report.pending} pending"
    else:
        summary += " (no JOBS_ALERT_WEBHOOK_URL: log only)"
    context.update_cursor(cursor.serialize())
    return dg.SkipReason(summary)


def build_alert_sensor(
    status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.STOPPED,
) -> dg.SensorDefinition:
    return dg.sensor(
        name="alert_sensor",
        minimum_interval_seconds=30,
        default_status=status,
        description=(
            "Posts one message per failed run, and per run with failed asset checks (WARN or "
            "ERROR), to JOBS_ALERT_WEBHOOK_URL and the daily log; retries a webhook that is "
            "down on later ticks. Pending alerts: table public.jobs_alert_outbox, status "
            "'pending'."
        ),
    )(send_alerts)


alert_sensor = build_alert_sensor()  # stopped: the code location's is built below


@dg.definitions
def alert_definitions() -> dg.Definitions:
    """The sensor, running by default when the automation switch is on."""
    return dg.Definitions(sensors=[build_alert_sensor(sensor_status(in_use()))])
