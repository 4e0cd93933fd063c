"""`inbox_sensor`: a JSON file dropped in `$JOBS_DATA_DIR/inbox/<source>/` is loaded within a minute.

Each tick (every 15 s; no HTTP, only file reads and the source's parser):

1. Settled files are validated with the source's `Source.parse`; a good file is added
   to the raw store as an extra page (origin "inbox") of the *current window* and moved
   to `inbox/done/<source>/`; a bad one goes to `inbox/rejected/<source>/` with a
   `.reason.txt`. The current window is `INGESTION_PARTITIONS.get_last_partition_key()`
   at evaluation time: the partitions hold only complete windows, so it is the window
   that ended most recently (the one the schedule last ran).
2. One run of `inbox_load_job` (staged_listings + jobs_listings and their checks) is
   requested per inbox page stored since the cursor, with
   `run_key = inbox:<source>/<file>:<sha256>:<window>`, so a re-evaluated tick never
   loads a file twice. The cursor is the arrival time of the newest page requested;
   pages are found from the raw store, not from this tick's files, so a tick that died
   after storing a file still gets its run requested by the next one.

Inbox pages live beside the window's fetched pages (`raw/<source>/inbox/<window>/`): a
later live fetch of the window replaces the fetched pages only, so the dropped
listings survive it, and every rebuild of the window loads them again.
"""

import json
import logging
from datetime import UTC, datetime, timedelta

import dagster as dg

from jobs_assets.automation import in_use, sensor_status
from jobs_assets.lib.raw import inbox
from jobs_assets.lib.sources import SOURCES
from jobs_assets.logs import log_event
from jobs_assets.partitions import INGESTION_PARTITIONS
from jobs_assets.resources import RawStoreResource

#: with no cursor (first tick, or reset), pages received this long ago still get a run
FIRST_TICK_LOOKBACK = timedelta(days=1)

inbox_load_job = dg.define_asset_job(
    "inbox_load_job",
    selection=dg.AssetSelection.assets("staged_listings", "jobs_listings"),
    # An inbox load is small and offline: one process is quicker than one per step.
    executor_def=dg.in_process_executor,
    description=(
        "Rebuild staged_listings and jobs_listings (with their checks) for a window after a "
        "file was dropped in the inbox; started by inbox_sensor."
    ),
)


def parse_cursor(raw: str | None, now: datetime) -> datetime:
    if raw:
        return datetime.fromisoformat(json.loads(raw)["after"])
    return now - FIRST_TICK_LOOKBACK


def take_inbox_files(
    context: dg.SensorEvaluationContext, raw_store: RawStoreResource
) -> dg.SensorResult:
    now = datetime.now(UTC)
    store = raw_store.store()
    folder = raw_store.storage().child("inbox")
    inbox.ensure_folders(folder, SOURCES)
    window = INGESTION_PARTITIONS.get_last_partition_key()
    report = inbox.take_files(folder, store, SOURCES, window, now=now)
    for taken in report.accepted:
        log_event(
            context,
            f"inbox: {taken.source}/{taken.file_name} ({taken.listings} listings, "
            f"{taken.rejected_listings} rejected) stored for window {window}"
            + (" (same content already stored: not loaded again)" if taken.already_stored else ""),
        )
    for error in report.errors:
        log_event(context, f"inbox: {error}", logging.WARNING)
    for bad in report.rejected:
        log_event(
            context,
            f"inbox: {bad.file_name} rejected: {bad.reason} (moved to {bad.moved_to})",
            logging.WARNING,
        )

    after = parse_cursor(context.cursor, now)
    requests = []
    for source, partition_key, entry in store.inbox_pages_since(after):
        requests.append(
            dg.RunRequest(
                run_key=inbox.inbox_run_key(
                    source, entry["file_name"], entry["sha256"], partition_key
                ),
                partition_key=partition_key,
                tags={"jobs/inbox_file": f"{source}/{entry['file_name']}"},
            )
        )
        after = max(after, datetime.fromisoformat(entry["retrieved_at"]))
    skip = None
    if not requests:
        skip = (
            f"no new inbox files; {len(report.rejected)} rejected, {report.waiting} waiting"
            if report.rejected or report.waiting
            else "no new inbox files"
        )
    return dg.SensorResult(
        run_requests=requests,
        cursor=json.dumps({"after": after.isoformat()}),
        skip_reason=skip,
    )


def build_inbox_sensor(
    status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.STOPPED,
) -> dg.SensorDefinition:
    return dg.sensor(
        name="inbox_sensor",
        job=inbox_load_job,
        minimum_interval_seconds=15,
        default_status=status,
        description=(
            "Loads JSON files dropped in $JOBS_DATA_DIR/inbox/<source>/ (the source's API "
            "format) into the current window; moves them to inbox/done/ or inbox/rejected/ "
            "(with a .reason.txt)."
        ),
    )(take_inbox_files)


inbox_sensor = build_inbox_sensor()  # stopped: the code location's is built below


@dg.definitions
def inbox_definitions() -> dg.Definitions:
    """The job and the sensor, running by default when the automation switch is on."""
    return dg.Definitions(
        jobs=[inbox_load_job], sensors=[build_inbox_sensor(sensor_status(in_use()))]
    )
