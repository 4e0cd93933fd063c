"""Alerts: real failing runs on a real instance, a real webhook receiver on loopback.

Each failure arrives exactly once: not again on the next tick, and exactly once after
the webhook was down or slow for a while.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import pytest

from jobs_assets.defs.automation.alert_sensor import alert_sensor
from jobs_assets.defs.automation.resources import AlertsResource
from jobs_assets.defs.ingestion import checks
from jobs_assets.lib.ops import alerts
from jobs_assets.lib.ops.alerts import Alert, AlertOutbox, Problem, WebhookError
from jobs_assets.lib.raw.store import RawStore
from jobs_assets.lib.sources import Page
from jobs_assets.resources import LifecycleResource, RawStoreResource
from jobs_assets_tests.conftest import Database, api_resources, ingestion_assets, latest_windows

UI = "http://dagster.example:3000"


class Receiver:
    """A Slack-like incoming webhook: records each message it accepted (HTTP 200).

    `mode` "down" answers 503, "slow" answers after the sender has given up; neither
    counts as received.
    """

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.attempts = 0
        self.mode = "up"
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.attempts += 1
                if receiver.mode == "slow":
                    time.sleep(1.0)
                    return  # the sender timed out; closing without an answer
                status = 503 if receiver.mode == "down" else 200
                if status == 200:
                    receiver.messages.append(json.loads(body)["text"])
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/services/T000/B000/secret-token"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def empty_outbox(database: Database) -> None:
    """Each test starts with no alert in the outbox table (the database is the session's)."""
    with database.connect() as conn:
        conn.execute(f"TRUNCATE {alerts.OUTBOX_TABLE}")


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


class Sensor:
    """Ticks of `alert_sensor` against one instance, carrying the cursor like the daemon."""

    def __init__(
        self,
        instance: dg.DagsterInstance,
        data_dir: Path,
        webhook: str | None,
        database: Database,
    ) -> None:
        self.instance = instance
        self.cursor: str | None = None
        self.resource = AlertsResource(
            data_dir=str(data_dir),
            postgres=database.resource(),
            ui_base_url=UI,
            webhook_url=webhook,
            timeout_seconds=0.3,
        )

    def tick(self) -> str:
        with dg.build_sensor_context(
            instance=self.instance, cursor=self.cursor, resources={"alerts": self.resource}
        ) as context:  # the alerts resource holds the `postgres` one (a nested resource)
            result = alert_sensor(context)
            self.cursor = context.cursor
        return result.skip_message


def run_assets(
    database: Database, data_dir: Path, instance: dg.DagsterInstance, key: str, selection: str
) -> dg.ExecuteInJobResult:
    return dg.materialize(
        [*ingestion_assets(), *checks.raw_checks],
        selection=selection,
        partition_key=key,
        resources={
            "postgres": database.resource(),
            "raw_store": RawStoreResource(data_dir=str(data_dir)),
            "lifecycle": LifecycleResource(),
            **api_resources("http://127.0.0.1:9"),
        },
        instance=instance,
        raise_on_error=False,
    )


def failed_run(database: Database, data_dir: Path, instance: dg.DagsterInstance) -> str:
    """A run that fails for real: a window too old to fetch, with nothing stored."""
    old = latest_windows(5)[0]
    result = run_assets(database, data_dir, instance, old, "remotive_raw")
    assert not result.success
    return result.run_id


def store_window(data_dir: Path, source: str, key: str, body: bytes) -> None:
    writer = RawStore(data_dir).writer(source, key)
    writer.keep(Page(0, f"http://example.test/{source}", 200, "", body, datetime.now(UTC)))
    writer.commit()


def daily_log(data_dir: Path) -> str:
    return "".join(p.read_text() for p in (data_dir / "logs").glob("jobs-*.log"))


def test_failed_run_posts_one_message_once(
    database: Database, data_dir: Path, instance: dg.DagsterInstance, receiver: Receiver
) -> None:
    sensor = Sensor(instance, data_dir, receiver.url, database)
    sensor.tick()  # the sensor starts watching: earlier history is not alerted
    run_id = failed_run(database, data_dir, instance)

    assert "1 new alert(s), 1 posted, 0 pending" in sensor.tick()
    assert "0 new alert(s), 0 posted" in sensor.tick()  # the next tick does not repeat it

    assert len(receiver.messages) == 1
    text = receiver.messages[0]
    old = latest_windows(5)[0]
    assert f"*jobs_assets: run failed*, window {old}" in text
    assert "asset remotive_raw" in text and "serves only current listings" in text
    assert f"Run: {UI}/runs/{run_id}" in text
    log = daily_log(data_dir)
    assert "serves only current listings" in log and f"run:{run_id} posted" in log


def test_history_before_the_sensor_started_is_not_alerted(
    database: Database, data_dir: Path, instance: dg.DagsterInstance, receiver: Receiver
) -> None:
    failed_run(database, data_dir, instance)
    sensor = Sensor(instance, data_dir, receiver.url, database)
    assert "0 new alert(s)" in sensor.tick()
    assert receiver.attempts == 0


def test_failed_warn_check_in_a_successful_run_is_alerted(
    database: Database, data_dir: Path, instance: dg.DagsterInstance, receiver: Receiver
) -> None:
    sensor = Sensor(instance, data_dir, receiver.url, database)
    sensor.tick()
    old = latest_windows(5)[0]
    store_window(data_dir, "jobicy", old, b'{"jobCount": 0, "jobs": []}')
    result = run_assets(database, data_dir, instance, old, "jobicy_raw")
    assert result.success  # a failed WARN check does not fail the run

    sensor.tick()
    sensor.tick()
    assert len(receiver.messages) == 1
    text = receiver.messages[0]
    assert text.startswith(":warning:")
    assert f"*jobs_assets: 1 asset check failed*, window {old}" in text
    assert "check jobicy_raw:raw_window_has_listings [WARN]: 0 listings parsed" in text


def test_failed_blocking_check_is_one_message_naming_the_check(
    database: Database, data_dir: Path, instance: dg.DagsterInstance, receiver: Receiver
) -> None:
    sensor = Sensor(instance, data_dir, receiver.url, database)
    sensor.tick()
    old = latest_windows(5)[0]
    store_window(data_dir, "remotive", old, b"<html>502 Bad Gateway</html>")
    result = run_assets(database, data_dir, instance, old, "remotive_raw")
    assert not result.success  # the blocking ERROR check fails the run

    sensor.tick()
    assert len(receiver.messages) == 1
    text = receiver.messages[0]
    assert text.startswith(":rotating_light:") and "run failed" in text
    assert "check remotive_raw:raw_window_parses [ERROR]" in text
    assert "HTML page instead of JSON" in text
    assert "DagsterAssetCheckFailedError" not in text


def test_an_unexpected_error_names_its_class_and_the_job(
    database: Database, data_dir: Path, instance: dg.DagsterInstance, receiver: Receiver
) -> None:
    @dg.asset
    def exports() -> None:
        raise ValueError("column 'salary' missing from export.csv")

    job = dg.define_asset_job("nightly_job", selection=[exports])
    defs = dg.Definitions(assets=[exports], jobs=[job])
    sensor = Sensor(instance, data_dir, receiver.url, database)
    sensor.tick()
    result = defs.resolve_job_def("nightly_job").execute_in_process(
        instance=instance, raise_on_error=False
    )
    assert not result.success

    sensor.tick()
    [text] = receiver.messages
    assert "*jobs_assets: run failed in nightly_job*\n" in text  # no window: not partitioned
    assert "• asset exports [ERROR]: ValueError: column 'salary' missing from export.csv" in text


@pytest.mark.parametrize("outage", ["down", "slow"])
def test_webhook_outage_keeps_the_alert_and_delivers_it_once_later(
    database: Database,
    data_dir: Path,
    instance: dg.DagsterInstance,
    receiver: Receiver,
    outage: str,
) -> None:
    sensor = Sensor(instance, data_dir, receiver.url, database)
    sensor.tick()
    failed_run(database, data_dir, instance)
    failed_run(database, data_dir, instance)

    receiver.mode = outage
    assert "2 new alert(s), 0 posted, 2 pending" in sensor.tick()  # no crash, nothing lost
    assert "0 new alert(s), 0 posted, 2 pending" in sensor.tick()
    assert receiver.messages == []
    assert receiver.attempts == 2  # one try per tick: a dead webhook does not stall the sensor
    log = daily_log(data_dir)
    assert "not delivered" in log and "retrying on the next tick" in log
    assert "secret-token" not in log  # the webhook's token never reaches the log

    receiver.mode = "up"
    assert "0 new alert(s), 2 posted, 0 pending" in sensor.tick()
    sensor.tick()
    assert len(receiver.messages) == 2
    assert len(set(receiver.messages)) == 2  # one message per failure
    old = latest_windows(5)[0]
    for text in receiver.messages:  # the waiting did not strip what the alert says
        assert f"*jobs_assets: run failed*, window {old}" in text
        assert "asset remotive_raw" in text and "serves only current listings" in text
        assert text in log  # word for word what was logged when the failure happened


def test_an_alert_that_waited_is_delivered_with_its_first_text(database: Database) -> None:
    outbox = AlertOutbox(database.connect)
    alert = Alert(
        key="run:abc",
        title="run failed",
        problems=[Problem("asset jobicy_raw", "jobicy: GET http://h/j?token=*** answered 500")],
        window="2026-11-22-04:00",
        link="http://ui/runs/abc",
    )
    first_text = alert.text()
    outbox.add(alert)

    def down(text: str) -> None:
        raise WebhookError("webhook http://hooks/*** answered HTTP 503")

    for _ in range(3):
        assert len(outbox.deliver(down).failed) == 1
    [(attempts, error, status)] = database.query(
        f"SELECT attempts, last_error, status FROM {alerts.OUTBOX_TABLE}"
    )
    assert (attempts, status) == (3, "pending") and "HTTP 503" in error
    delivered: list[str] = []
    assert len(outbox.deliver(delivered.append).sent) == 1
    assert delivered == [first_text]
    assert "asset jobicy_raw" in first_text and "2026-11-22-04:00" in first_text


def test_without_a_webhook_alerts_go_to_the_log_only(
    database: Database,
    data_dir: Path,
    instance: dg.DagsterInstance,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("JOBS_ALERT_WEBHOOK_URL", raising=False)
    sensor = Sensor(instance, data_dir, None, database)
    sensor.tick()
    run_id = failed_run(database, data_dir, instance)
    assert "1 new alert(s) (no JOBS_ALERT_WEBHOOK_URL: log only)" in sensor.tick()
    sensor.tick()
    assert daily_log(data_dir).count(f"/runs/{run_id}") == 1


def test_outbox_adds_each_key_once_and_masks_the_webhook(database: Database) -> None:
    outbox = alerts.AlertOutbox(database.connect)
    alert = alerts.Alert(
        key="run:abc",
        title="run failed in ingestion_job",
        problems=[alerts.Problem("asset remotive_raw", "x" * 2000)],
        window="2026-11-22-04:00",
        link=alerts.run_url("http://127.0.0.1:3000/", "abc"),
    )
    assert outbox.add(alert) and not outbox.add(alert)
    assert outbox.pending_count() == 1
    text = alert.text()
    assert "Run: http://127.0.0.1:3000/runs/abc" in text and len(text) < 1000
    with pytest.raises(alerts.WebhookError) as err:
        alerts.post_webhook("http://127.0.0.1:9/services/T/B/token", "hi", timeout=0.5)
    assert "token" not in str(err.value) and "http://127.0.0.1:9/…" in str(err.value)


def test_an_alert_waiting_in_one_pod_is_delivered_once_by_another(
    database: Database, tmp_path: Path, instance: dg.DagsterInstance, receiver: Receiver
) -> None:
    """The outbox is a table: an alert queued while the webhook was down is posted by a
    sensor whose data folder is another one (a new pod), and two deliverers at once post
    it once."""
    first_pod, second_pod = tmp_path / "pod-a", tmp_path / "pod-b"
    first_pod.mkdir(), second_pod.mkdir()
    sensor = Sensor(instance, first_pod, receiver.url, database)
    sensor.tick()
    failed_run(database, first_pod, instance)
    receiver.mode = "down"
    assert "1 new alert(s), 0 posted, 1 pending" in sensor.tick()
    assert not (first_pod / "alerts").exists()  # nothing a second pod needs is on disk

    receiver.mode = "up"
    outbox = Sensor(instance, second_pod, receiver.url, database).resource.outbox()
    reports = []
    threads = [
        threading.Thread(target=lambda: reports.append(outbox.deliver(receiver_post(receiver))))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(r.sent) for r in reports) == [0, 1]
    assert len(receiver.messages) == 1 and "serves only current listings" in receiver.messages[0]
    [(status, attempts)] = database.query(f"SELECT status, attempts FROM {alerts.OUTBOX_TABLE}")
    assert (status, attempts) == ("sent", 2)  # one failed attempt, one delivery


def receiver_post(receiver: Receiver):
    return lambda text: alerts.post_webhook(receiver.url, text, timeout=2.0)


def test_outbox_files_of_the_previous_release_are_imported_once(
    database: Database, data_dir: Path, instance: dg.DagsterInstance, receiver: Receiver
) -> None:
    """A data folder from before the outbox table: its pending alert is posted by the
    next tick, its sent one is remembered (not posted again), and the folder is set aside."""
    waiting = Alert("run:old-pending", "run failed", [Problem("asset jobicy_raw", "HTTP 500")])
    done = Alert("run:old-sent", "run failed", [Problem("asset remotive_raw", "HTTP 502")])
    for folder, alert, extra in (
        ("pending", waiting, {"attempts": 2, "last_error": "webhook answered HTTP 503"}),
        ("sent", done, {"sent_at": datetime.now(UTC).isoformat()}),
    ):
        (data_dir / "alerts" / folder).mkdir(parents=True)
        record = {"alert": alert.to_json(), "text": alert.text(), **extra}
        (data_dir / "alerts" / folder / f"{folder}.json").write_text(json.dumps(record))

    sensor = Sensor(instance, data_dir, receiver.url, database)
    assert "1 posted, 0 pending" in sensor.tick()
    assert receiver.messages == [waiting.text()]
    rows = database.query(
        f"SELECT alert_key, status, attempts FROM {alerts.OUTBOX_TABLE} ORDER BY alert_key"
    )
    assert rows == [("run:old-pending", "sent", 3), ("run:old-sent", "sent", 0)]
    assert not (data_dir / "alerts").exists()
    assert len(list(data_dir.glob("alerts.imported-*"))) == 1
    assert not AlertOutbox(database.connect).add(done)  # remembered: never posted again
    sensor.tick()
    assert len(receiver.messages) == 1
