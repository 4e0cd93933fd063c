"""The inbox sensor on a real instance: files in, raw store, run requests, done/rejected.

Evaluated with `build_sensor_context` (the daemon's part, launching the runs, is in
test_daemon.py); the requested run is then executed in process to show the file's
listings reach the table and survive a later live fetch of the window.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from jobs_assets.defs.automation.inbox_sensor import inbox_load_job, inbox_sensor
from jobs_assets.lib.raw.store import RawStore
from jobs_assets.partitions import INGESTION_PARTITIONS
from jobs_assets.replay import FIXTURES, ReplayServer
from jobs_assets.resources import LifecycleResource, RawStoreResource
from jobs_assets_tests.conftest import (
    Database,
    api_resources,
    ingestion_assets,
    latest_windows,
    materialize_window,
)


def inbox_copy(source: str, prefix: str = "inbox-") -> bytes:
    """The source's recorded response with fresh ids, so its listings are recognisable."""
    document = json.loads((FIXTURES / f"{source}.json").read_text())
    id_field = {"himalayas": "guid"}.get(source, "id")
    for job in document["jobs"]:
        job[id_field] = f"{prefix}{job[id_field]}"
    return json.dumps(document).encode()


def drop(data_dir: Path, relative: str, body: bytes, age_seconds: float = 60) -> Path:
    """Write a file into the inbox as an operator would, already settled."""
    path = data_dir / "inbox" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    past = time.time() - age_seconds
    os.utime(path, (past, past))
    return path


class Sensor:
    """Ticks of `inbox_sensor`, carrying the cursor from tick to tick like the daemon."""

    def __init__(self, instance: dg.DagsterInstance, data_dir: Path) -> None:
        self.instance = instance
        self.data_dir = data_dir
        self.cursor: str | None = None

    def tick(self, cursor: str | None = None) -> dg.SensorResult:
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=cursor if cursor is not None else self.cursor,
            resources={"raw_store": RawStoreResource(data_dir=str(self.data_dir))},
        )
        result = inbox_sensor(context)
        self.cursor = result.cursor
        return result


@pytest.fixture
def sensor(data_dir: Path) -> Iterator[Sensor]:
    with dg.instance_for_test() as instance:
        yield Sensor(instance, data_dir)


def test_good_file_is_stored_moved_and_requested_once(sensor: Sensor, data_dir: Path) -> None:
    expected = latest_windows(1)[0]  # first: it waits out the last seconds before a turn
    first = sensor.tick()
    assert first.run_requests == [] and "no new inbox files" in first.skip_reason.skip_message
    for source in ("remotive", "jobicy", "himalayas"):  # where to drop files is visible
        assert (data_dir / "inbox" / source).is_dir()

    body = inbox_copy("jobicy")
    drop(data_dir, "jobicy/export.json", body)
    result = sensor.tick()

    window = INGESTION_PARTITIONS.get_last_partition_key()
    assert window == expected
    [request] = result.run_requests
    assert request.partition_key == window
    assert request.run_key.startswith("inbox:jobicy/export.json:") and window in request.run_key
    assert request.tags["jobs/inbox_file"] == "jobicy/export.json"
    assert not (data_dir / "inbox" / "jobicy" / "export.json").exists()
    assert (data_dir / "inbox" / "done" / "jobicy" / "export.json").read_bytes() == body
    manifest = RawStore(data_dir).inbox_manifest("jobicy", window)
    assert manifest["origin"] == "inbox" and len(manifest["pages"]) == 1
    assert [p.body for p in RawStore(data_dir).read_inbox_pages("jobicy", window)] == [body]

    # the next tick has nothing new; a tick with the old cursor asks for the same run_key,
    # which the daemon skips: the file is never stored or loaded twice
    assert sensor.tick().run_requests == []
    again = sensor.tick(cursor=first.cursor)
    assert [r.run_key for r in again.run_requests] == [request.run_key]
    assert len(RawStore(data_dir).inbox_manifest("jobicy", window)["pages"]) == 1


def test_same_content_dropped_again_is_not_loaded_twice(sensor: Sensor, data_dir: Path) -> None:
    sensor.tick()
    body = inbox_copy("remotive")
    drop(data_dir, "remotive/a.json", body)
    assert len(sensor.tick().run_requests) == 1
    drop(data_dir, "remotive/a.json", body)
    result = sensor.tick()
    assert result.run_requests == []
    assert (data_dir / "inbox" / "done" / "remotive").is_dir()
    assert len(list((data_dir / "inbox" / "done" / "remotive").iterdir())) == 2
    window = INGESTION_PARTITIONS.get_last_partition_key()
    assert len(RawStore(data_dir).inbox_manifest("remotive", window)["pages"]) == 1


@pytest.mark.parametrize(
    ("relative", "body", "reason"),
    [
        ("remotive/broken.json", b"<html>Service unavailable</html>", "HTML page instead of JSON"),
        ("jobicy/cut.json", inbox_copy("jobicy")[:500], "invalid or truncated JSON"),
        ("himalayas/wrong.json", b'{"data": []}', "no 'jobs' list in the response"),
        ("remotive/empty.json", b'{"jobs": []}', "no usable listings"),
        ("remotive/noid.json", b'{"jobs": [{"title": "x"}]}', "has no usable 'id'"),
        ("loose.json", inbox_copy("jobicy"), "put it in inbox/<source>/"),
        ("indeed/x.json", inbox_copy("jobicy"), "inbox/indeed/"),
        ("jobicy/notes.txt", b"hello", "not a .json file"),
    ],
    ids=["html", "truncated", "wrong-shape", "empty", "no-id", "root", "unknown-source", "txt"],
)
def test_bad_file_is_rejected_with_a_reason(
    sensor: Sensor, data_dir: Path, relative: str, body: bytes, reason: str
) -> None:
    sensor.tick()
    drop(data_dir, relative, body)
    result = sensor.tick()
    assert result.run_requests == []
    assert "1 rejected" in result.skip_reason.skip_message
    rejected = [p for p in (data_dir / "inbox" / "rejected").rglob("*") if p.is_file()]
    [moved] = [p for p in rejected if not p.name.endswith(".reason.txt")]
    assert moved.name == Path(relative).name and moved.read_bytes() == body
    note = moved.with_name(moved.name + ".reason.txt").read_text()
    assert reason in note
    assert not (data_dir / "inbox" / relative).exists()
    assert not (data_dir / "raw").exists() or not list((data_dir / "raw").rglob("inbox-*"))
    assert reason in "".join(p.read_text() for p in (data_dir / "logs").glob("*.log"))


def test_files_still_being_written_wait_for_the_next_tick(sensor: Sensor, data_dir: Path) -> None:
    sensor.tick()
    drop(data_dir, "jobicy/fresh.json", inbox_copy("jobicy"), age_seconds=0)
    drop(data_dir, "jobicy/copying.json.part", b'{"jobs": [')
    result = sensor.tick()
    assert result.run_requests == [] and "1 waiting" in result.skip_reason.skip_message
    assert (data_dir / "inbox" / "jobicy" / "fresh.json").exists()
    assert (data_dir / "inbox" / "jobicy" / "copying.json.part").exists()
    old = time.time() - 60
    os.utime(data_dir / "inbox" / "jobicy" / "fresh.json", (old, old))
    assert len(sensor.tick().run_requests) == 1


def test_a_file_that_cannot_be_moved_stays_and_does_not_block_the_others(
    sensor: Sensor, data_dir: Path
) -> None:
    sensor.tick()
    (data_dir / "inbox" / "done").mkdir(parents=True)
    (data_dir / "inbox" / "done" / "jobicy").write_text("not a folder")  # like a full disk
    drop(data_dir, "jobicy/j.json", inbox_copy("jobicy"))
    drop(data_dir, "remotive/r.json", inbox_copy("remotive"))

    result = sensor.tick()
    assert sorted(r.tags["jobs/inbox_file"] for r in result.run_requests) == [
        "jobicy/j.json",  # stored before the move failed: it is loaded
        "remotive/r.json",
    ]
    assert (data_dir / "inbox" / "jobicy" / "j.json").exists()
    log = "".join(p.read_text() for p in (data_dir / "logs").glob("*.log"))
    assert "j.json" in log and "retried on the next pass" in log

    (data_dir / "inbox" / "done" / "jobicy").unlink()
    assert sensor.tick().run_requests == []  # already stored: moved now, not loaded twice
    assert (data_dir / "inbox" / "done" / "jobicy" / "j.json").exists()


def test_a_tick_that_died_after_storing_is_recovered_by_the_next(
    sensor: Sensor, data_dir: Path
) -> None:
    sensor.tick()
    cursor = sensor.cursor
    drop(data_dir, "himalayas/h.json", inbox_copy("himalayas"))
    sensor.tick()  # stored and moved, but say its run requests never reached the daemon
    result = sensor.tick(cursor=cursor)
    assert [r.tags["jobs/inbox_file"] for r in result.run_requests] == ["himalayas/h.json"]


def test_requested_run_loads_the_file_and_it_survives_a_live_fetch(
    sensor: Sensor, data_dir: Path, clean_db: Database, replay: ReplayServer
) -> None:
    sensor.tick()
    drop(data_dir, "jobicy/export.json", inbox_copy("jobicy"))
    [request] = sensor.tick().run_requests
    resources = {
        "postgres": clean_db.resource(),
        "raw_store": RawStoreResource(data_dir=str(data_dir)),
        "lifecycle": LifecycleResource(),
        **api_resources(replay.base_url, max_pages=3),
    }
    job = dg.Definitions(
        assets=ingestion_assets(), jobs=[inbox_load_job], resources=resources
    ).resolve_job_def("inbox_load_job")
    result = job.execute_in_process(
        partition_key=request.partition_key, tags=request.tags, instance=sensor.instance
    )
    assert result.success
    inbox_ids = "SELECT count(*) FROM public.jobs_listings_data WHERE source_job_id LIKE 'inbox-%'"
    assert clean_db.query(inbox_ids)[0][0] == 6

    # the scheduled live fetch of the same window replaces its fetched pages, not the inbox's
    assert materialize_window(resources, request.partition_key).success
    staged = clean_db.query(
        "SELECT count(*) FROM staging.staging_jobs_listings_data "
        "WHERE partition_key = %s AND source = 'jobicy'",
        (request.partition_key,),
    )[0][0]
    assert staged == 12  # the 6 fetched listings and the 6 from the inbox
    assert clean_db.query(inbox_ids)[0][0] == 6
