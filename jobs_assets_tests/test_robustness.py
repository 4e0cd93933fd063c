"""Nothing a source sends can hang a run, sink a window or leak a secret (issue 10).

Real local HTTP servers script each fault, a real PostgreSQL holds the tables; each
test checks the error text, what loaded, that nothing partial was written and that
the bodies received were kept.
"""

from __future__ import annotations

import errno
import gzip
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from jobs_assets.defs.ingestion import checks
from jobs_assets.lib.errors import RawFileError, StorageError, WindowBusy, storage_error
from jobs_assets.lib.listings import stage_window
from jobs_assets.lib.ops.window_lock import fetch_lock, window_lock
from jobs_assets.lib.raw.ingest import fetch_raw_window
from jobs_assets.lib.raw.store import RawStore
from jobs_assets.lib.sources import SOURCES, Page, parse_window
from jobs_assets.partitions import INGESTION_PARTITIONS
from jobs_assets.replay import ReplayServer, Reply
from jobs_assets.resources import LifecycleResource, RawStoreResource, SourceApiResource
from jobs_assets_tests.conftest import (
    ECB_PATH,
    FIXTURE_DIR,
    Database,
    api_resources,
    ingestion_assets,
    latest_windows,
    materialize_window,
)


def materialization(result: dg.ExecuteInJobResult, asset: str) -> dict:
    events = result.asset_materializations_for_node(asset)
    assert len(events) == 1
    return {k: v.value for k, v in events[0].metadata.items()}


def failure_text(result: dg.ExecuteInJobResult) -> str:
    """What the operator reads for each failed step (description, else the error)."""
    texts = []
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            data = event.step_failure_data
            described = data.user_failure_data and data.user_failure_data.description
            texts.append(described or data.error.to_string())
    return "\n".join(texts)


def rows(database: Database, key: str, source: str | None = None) -> tuple[int, int]:
    """(staged rows of the window, rows in the table) for one source or all."""
    where = " AND source = %(source)s" if source else ""
    params = {"key": key, "source": source}
    staged = database.query(
        "SELECT count(*) FROM staging.staging_jobs_listings_data WHERE partition_key = %(key)s"
        + where,
        params,
    )[0][0]
    table = database.query(
        "SELECT count(*) FROM public.jobs_listings_data WHERE true" + where, params
    )[0][0]
    return staged, table


def failed_folders(data_dir: Path, source: str) -> list[Path]:
    return sorted((data_dir / "raw" / source / "failed").glob("*"))


def jobicy_listing(job_id: object, **changes: object) -> dict:
    return {
        "id": job_id,
        "jobTitle": f"Engineer {job_id}",
        "companyName": "Acme",
        "url": f"https://jobicy.test/{job_id}",
        "jobGeo": "Anywhere",
        **changes,
    }


# --- 2. One record can never sink a window ------------------------------------------


def test_poisoned_listings_are_cleaned_or_rejected_and_the_rest_load(
    resources: dict, clean_db: Database, replay: ReplayServer
) -> None:
    good = [jobicy_listing(i) for i in range(1, 4)]
    texts = [json.dumps(job) for job in good] + [
        json.dumps(jobicy_listing(10, salaryMin=0)).replace('"salaryMin": 0', '"salaryMin": NaN'),
        json.dumps(jobicy_listing(11, salaryMax=0)).replace('"salaryMax": 0', '"salaryMax": 1e400'),
        json.dumps(jobicy_listing(12, jobTitle="x")).replace('"x"', '"Dev \\ud83d ops"'),
        json.dumps(jobicy_listing(13, jobTitle="x")).replace('"x"', '"C:\\\\u0000 path"'),
        json.dumps(jobicy_listing(14, jobTitle="x")).replace('"x"', '"NUL\\u0000here"'),
        json.dumps(jobicy_listing(20, jobIndustry="D")).replace('"D"', "[" * 4000 + "]" * 4000),
        json.dumps(jobicy_listing(21, jobTitle=None)),
        json.dumps(jobicy_listing(22, url="")),
        json.dumps(jobicy_listing(23, companyName="N/A")),
    ]
    body = ('{"jobCount": 12, "jobs": [' + ", ".join(texts) + "]}").encode()
    replay.script("/jobicy", Reply(body=body))
    key = latest_windows()[-1]
    result = materialize_window(resources, key)
    assert result.success

    raw = materialization(result, "jobicy_raw")
    assert raw["records_parsed"] == 8
    reasons = " | ".join(raw["reject_reasons"])
    assert "nested more than 64 levels deep" in reasons and "no title" in reasons
    assert "no url" in reasons and "placeholder 'N/A'" in reasons
    loaded = dict(
        clean_db.query(
            "SELECT source_job_id, title FROM public.jobs_listings_data WHERE source = 'jobicy'"
        )
    )
    assert sorted(loaded, key=int) == ["1", "2", "3", "10", "11", "12", "13", "14"]
    assert loaded["12"] == "Dev \ufffd ops"
    assert loaded["13"] == "C:\\u0000 path"  # a backslash and `u0000` as text, untouched
    assert loaded["14"] == "NULhere"
    salaries = clean_db.query(
        "SELECT salary_min, salary_max FROM public.jobs_listings_data "
        "WHERE source = 'jobicy' AND source_job_id IN ('10', '11')"
    )
    assert all(value is None or value == value for row in salaries for value in row)
    stored = RawStore(Path(resources["raw_store"].data_dir)).read_pages("jobicy", key)
    assert next(stored).body == body  # the body is kept exactly as received


def test_a_window_that_failed_loads_cleanly_when_rerun_with_good_data(
    resources: dict, clean_db: Database, replay: ReplayServer, data_dir: Path
) -> None:
    key = latest_windows()[-1]
    cut = Reply(200, b'{"jobs": [{"id": 1, "title": "cut')
    replay.script("/remotive", cut, cut)  # the step's retry gets it too
    failed = materialize_window(resources, key, raise_on_error=False)
    assert not failed.success
    text = failure_text(failed)
    assert "remotive window" in text and "invalid or truncated JSON" in text
    assert "Bodies kept at" in text and "BadResponse" not in text.split(":")[0]
    assert rows(clean_db, key) == (0, 0)  # nothing partial: staging never ran
    kept = failed_folders(data_dir, "remotive")
    assert len(kept) == 2  # one per attempt
    for folder in kept:
        assert gzip.decompress((folder / "page-0000.json.gz").read_bytes()) == cut.body
        assert "invalid or truncated JSON" in (folder / "reason.txt").read_text()

    result = materialize_window(resources, key)
    assert result.success
    staged, table = rows(clean_db, key, "remotive")
    assert staged == table == 11


# --- 1 and 3. Deadlines and plain-words failures through a whole run -----------------


def test_retry_after_beyond_the_cap_fails_the_run_at_once_with_its_text(
    clean_db: Database, replay: ReplayServer, data_dir: Path
) -> None:
    replay.script("/remotive", Reply(429, b"too many requests", {"Retry-After": "86400"}))
    resources = {
        "postgres": clean_db.resource(),
        "raw_store": RawStoreResource(data_dir=str(data_dir)),
        "lifecycle": LifecycleResource(),
        **api_resources(replay.base_url, max_retry_after_seconds=300.0),
    }
    started = time.monotonic()
    result = materialize_window(resources, latest_windows()[-1], raise_on_error=False)
    assert not result.success and time.monotonic() - started < 20
    text = failure_text(result)
    assert "remotive: GET " in text and "/remotive" in text
    assert "Retry-After: 86400" in text and "JOBS_HTTP_MAX_RETRY_AFTER_SECONDS=300" in text
    assert len([r for r in replay.requests if r.path == "/remotive"]) == 1  # not retried
    (kept,) = failed_folders(data_dir, "remotive")
    assert gzip.decompress((kept / "page-0000.json.gz").read_bytes()) == b"too many requests"


# --- 4. Paging always ends, and says so ----------------------------------------------


def run_with_checks(resources: dict, key: str, selection: str) -> dg.ExecuteInJobResult:
    return dg.materialize(
        [*ingestion_assets(), *checks.raw_checks],
        selection=selection,
        partition_key=key,
        resources=resources,
        instance=dg.DagsterInstance.ephemeral(),
    )


def truncation_check(result: dg.ExecuteInJobResult) -> dg.AssetCheckEvaluation:
    (evaluation,) = [
        e
        for e in result.get_asset_check_evaluations()
        if e.check_name == "raw_window_not_truncated"
    ]
    return evaluation


def page(job_id: int, cursor: str | None, has_more: bool) -> Reply:
    return Reply.json({"jobs": [jobicy_listing(job_id)], "hasMore": has_more, "nextCursor": cursor})


def test_a_repeated_cursor_stops_paging_and_a_warn_check_fails(
    resources: dict, replay: ReplayServer, data_dir: Path
) -> None:
    replay.script("/jobicy", page(1, "same", True), page(2, "same", True), page(3, "x", True))
    key = latest_windows()[-1]
    result = run_with_checks(resources, key, "jobicy_raw")
    assert len([r for r in replay.requests if r.path == "/jobicy"]) == 2
    raw = materialization(result, "jobicy_raw")
    assert raw["truncated"] is True and "repeated cursor 'same'" in raw["truncated_reason"]
    evaluation = truncation_check(result)
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert "repeated cursor" in evaluation.description
    manifest = RawStore(data_dir).manifest("jobicy", key)
    assert manifest["truncated"] is True and "repeated cursor" in manifest["truncated_reason"]


def test_has_more_that_never_turns_false_stops_at_the_page_limit(
    resources: dict, replay: ReplayServer
) -> None:
    resources = {**resources, **api_resources(replay.base_url, max_pages=4)}
    replay.script("/jobicy", *[page(i, f"c{i}", True) for i in range(10)])
    result = run_with_checks(resources, latest_windows()[-1], "jobicy_raw")
    raw = materialization(result, "jobicy_raw")
    assert raw["pages"] == 4 and raw["records_parsed"] == 4
    assert raw["truncated_reason"] == (
        "hasMore was still true after 4 pages (the page limit): paging stopped"
    )
    assert not truncation_check(result).passed


def test_offset_paging_that_repeats_a_page_is_truncated(
    resources: dict, replay: ReplayServer
) -> None:
    same = json.loads((FIXTURE_DIR / "himalayas.json").read_text())
    same["totalCount"] = 60
    replay.script("/himalayas", *[Reply.json(same)] * 3)
    result = run_with_checks(resources, latest_windows()[-1], "himalayas_raw")
    raw = materialization(result, "himalayas_raw")
    assert raw["truncated"] is True
    assert "offset paging returned the same page again" in raw["truncated_reason"]
    assert not truncation_check(result).passed


def test_paging_that_ends_passes_the_truncation_check(
    resources: dict, replay: ReplayServer
) -> None:
    result = run_with_checks(resources, latest_windows()[-1], "jobicy_raw")
    assert materialization(result, "jobicy_raw")["truncated"] is False
    assert truncation_check(result).passed


# --- 5. Corrupt files at rest heal ---------------------------------------------------


@pytest.mark.parametrize("damaged", ["page-0000.json.gz", "manifest.json"])
def test_a_damaged_stored_window_names_the_file_and_a_live_refetch_heals_it(
    resources: dict, clean_db: Database, data_dir: Path, damaged: str
) -> None:
    key = latest_windows()[-1]
    assert materialize_window(resources, key, selection="remotive_raw").success
    store = RawStore(data_dir)
    target = store.window_dir("remotive", key) / damaged
    target.write_bytes(b"\x1f\x8b garbage, not what was stored")

    with pytest.raises(RawFileError) as err:
        list(store.read_pages("remotive", key))
    assert str(target) in str(err.value) and "damaged" in str(err.value)
    assert "Re-materialise" in str(err.value)

    result = materialize_window(resources, key)
    assert result.success
    assert len(list(store.read_pages("remotive", key))) == 1
    (aside,) = failed_folders(data_dir, "remotive")
    reason = (aside / "reason.txt").read_text()
    assert "replaced by a live re-fetch" in reason and damaged in reason
    assert (aside / damaged).read_bytes() == b"\x1f\x8b garbage, not what was stored"
    assert rows(clean_db, key, "remotive") == (11, 11)


def test_a_damaged_old_window_fails_staging_naming_the_file(
    resources: dict, clean_db: Database, data_dir: Path
) -> None:
    old = INGESTION_PARTITIONS.get_partition_keys()[-6]
    writer = RawStore(data_dir).writer("jobicy", old)
    body = (FIXTURE_DIR / "jobicy.json").read_bytes()
    writer.keep(Page(0, "http://jobicy.test/", 200, "", body, datetime.now(UTC)))
    final = writer.commit()
    (final / "page-0000.json.gz").write_bytes(gzip.compress(body + b" tampered"))
    result = materialize_window(resources, old, raise_on_error=False)
    assert not result.success
    text = failure_text(result)
    assert str(final / "page-0000.json.gz") in text and "sha256" in text
    assert rows(clean_db, old) == (0, 0)


KILLED_WRITER = """
import sys, time
from pathlib import Path
from jobs_assets.lib.raw.store import RawStore
writer = RawStore(Path(sys.argv[1])).writer("remotive", sys.argv[2])
print(writer.tmp_dir, flush=True)
time.sleep(60)
"""


def test_temporary_folders_of_a_killed_fetch_are_removed_by_the_next(data_dir: Path) -> None:
    key = latest_windows()[-1]
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(data_dir), key],
        stdout=subprocess.PIPE,
        text=True,
    )
    tmp = Path(child.stdout.readline().strip())
    assert tmp.is_dir()
    store = RawStore(data_dir)
    alive = store.writer("remotive", key)  # a concurrent writer in this process
    assert tmp.is_dir()  # its owner is alive: left alone
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    store.writer("remotive", key).abandon("test")
    assert not tmp.exists()  # the next fetch removed the killed one's folder
    assert alive.tmp_dir.is_dir()  # but not a live writer's
    alive.abandon("test")


# --- 3. Two runs of one window; a full or read-only disk -----------------------------


def test_two_fetches_of_the_same_window_take_turns(data_dir: Path, database: Database) -> None:
    key = latest_windows()[-1]
    store = RawStore(data_dir)
    with ReplayServer(latency=0.4) as server:
        settings = SourceApiResource(
            name="remotive", url=server.url("remotive"), max_rps=0.0, backoff_seconds=0.01
        ).settings()
        end = INGESTION_PARTITIONS.time_window_for_partition_key(key).end
        outcomes, errors = [], []

        def fetch() -> None:
            try:
                outcomes.append(
                    fetch_raw_window(
                        SOURCES["remotive"], settings, store, key, end, end, database.conninfo
                    )
                )
            except Exception as err:  # noqa: BLE001 - collected for the assertion
                errors.append(err)

        threads = [threading.Thread(target=fetch) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        times = sorted(r.at for r in server.requests)
    assert errors == [] and [o.mode for o in outcomes] == ["live", "live"]
    assert times[1] - times[0] >= 0.35  # the second fetch started after the first ended
    assert len(list(store.read_pages("remotive", key))) == 1


def test_a_second_fetch_that_cannot_wait_says_so(database: Database) -> None:
    key = latest_windows()[-1]
    with (
        fetch_lock(database.conninfo, "remotive", key),
        pytest.raises(WindowBusy) as err,
        fetch_lock(database.conninfo, "remotive", key, wait_seconds=0.3),
    ):
        pass
    assert "remotive window" in str(err.value) and "being fetched by another run" in str(err.value)


def test_two_stagings_of_the_same_window_take_turns(clean_db: Database) -> None:
    key = latest_windows()[-1]
    source = SOURCES["jobicy"]
    body = (FIXTURE_DIR / "jobicy.json").read_bytes()
    window = parse_window(source, [Page(0, "u", 200, "", body, datetime.now(UTC))])
    errors = []

    def stage() -> None:
        try:
            with clean_db.connect() as conn, window_lock(conn, "staged_listings", key):
                stage_window(conn, key, {"jobicy": window})
                time.sleep(0.2)
        except Exception as err:  # noqa: BLE001 - collected for the assertion
            errors.append(err)

    threads = [threading.Thread(target=stage) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert rows(clean_db, key, "jobicy")[0] == window.parsed

    with (
        clean_db.connect() as holder,
        window_lock(holder, "staged_listings", key),
        clean_db.connect() as conn,
        pytest.raises(WindowBusy, match="another run"),
        window_lock(conn, "staged_listings", key, wait_seconds=0.3),
    ):
        pass


def test_a_full_disk_is_a_storage_error_with_what_to_do(data_dir: Path) -> None:
    writer = RawStore(data_dir).writer("jobicy", latest_windows()[-1])
    (writer.tmp_dir / "page-0000.json.gz").symlink_to("/dev/full")
    with pytest.raises(StorageError) as err:
        writer.keep(Page(0, "http://j.test/", 200, "", b"{}" * 50_000, datetime.now(UTC)))
    assert "disk is full" in str(err.value) and "JOBS_DATA_DIR" in str(err.value)
    assert str(writer.tmp_dir) in str(err.value) or "jobicy window" in str(err.value)
    writer.abandon("test")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (errno.EROFS, "read-only: mount JOBS_DATA_DIR read-write"),
        (errno.EACCES, "no permission to write there"),
        (errno.ENOSPC, "the disk is full"),
    ],
)
def test_storage_errors_name_the_file_and_the_next_step(code: int, expected: str) -> None:
    error = storage_error(OSError(code, os.strerror(code), "/data/raw/x"), "jobicy window k")
    assert str(error).startswith("jobicy window k: cannot write /data/raw/x")
    assert expected in str(error)


def test_a_read_only_data_folder_fails_the_run_in_plain_words(
    clean_db: Database, replay: ReplayServer, tmp_path: Path
) -> None:
    not_a_folder = tmp_path / "jobs_data"
    not_a_folder.write_text("a file where the data folder should be")
    resources = {
        "postgres": clean_db.resource(),
        "raw_store": RawStoreResource(data_dir=str(not_a_folder)),
        "lifecycle": LifecycleResource(),
        **api_resources(replay.base_url),
    }
    result = materialize_window(resources, latest_windows()[-1], raise_on_error=False)
    assert not result.success
    text = failure_text(result)
    assert "cannot write" in text and "JOBS_DATA_DIR" in text
    assert "NotADirectoryError" not in text and "FileExistsError" not in text


# --- 7. Secrets never leak -----------------------------------------------------------

SECRETS = ("s3cretPass", "tok3nValue", "k3yValue", "s1gnatureValue")


def test_secrets_in_every_url_appear_in_no_file_the_run_wrote(
    clean_db: Database, replay: ReplayServer, data_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    from jobs_assets.defs.automation.alert_sensor import alert_sensor
    from jobs_assets.defs.automation.resources import AlertsResource
    from jobs_assets.lib.ops.alerts import OUTBOX_TABLE

    host = replay.base_url.removeprefix("http://")
    secret_urls = (  # one way of carrying a secret per source, in turn
        lambda name: f"http://robot:{SECRETS[0]}@{host}/{name}?token={SECRETS[1]}",
        lambda name: f"http://{host}/{name}?API_KEY={SECRETS[2]}",
        lambda name: f"http://{host}/{name}?access_token={SECRETS[1]}&Signature={SECRETS[3]}",
    )
    urls = {name: secret_urls[i % len(secret_urls)](name) for i, name in enumerate(SOURCES)}
    assert urls["remotive"].startswith("http://robot:")  # the failing source below
    for name, url in urls.items():
        monkeypatch.setenv(f"JOBS_{name.upper()}_URL", url)
    monkeypatch.setenv("JOBS_ECB_RATES_URL", f"http://{host}{ECB_PATH}?apikey={SECRETS[2]}")
    monkeypatch.setenv("PGPASSWORD", "pgS3cretNeverShown")
    monkeypatch.delenv("JOBS_ALERT_WEBHOOK_URL", raising=False)
    resources = {
        "postgres": clean_db.resource(),
        "raw_store": RawStoreResource(data_dir=str(data_dir)),
        "lifecycle": LifecycleResource(),
        **{
            f"{name}_api": SourceApiResource(
                name=name,
                url=dg.EnvVar(f"JOBS_{name.upper()}_URL"),
                max_rps=0.0,
                backoff_seconds=0.01,
                max_retries=1,
                workers=2,
                max_pages=3,
            )
            for name in urls
        },
        "ecb_rates_api": SourceApiResource(
            name="ecb_rates",
            url=dg.EnvVar("JOBS_ECB_RATES_URL"),
            max_rps=0.0,
            backoff_seconds=0.01,
            max_retries=1,
        ),
    }
    forbidden = Reply(403, b"<html>forbidden</html>", {"Content-Type": "text/html"})
    replay.script("/remotive", forbidden, forbidden)  # fails (and retries) naming its URL
    home = tmp_path / "dagster_home"
    home.mkdir()
    key = latest_windows()[-1]
    alerts_resource = AlertsResource(
        data_dir=str(data_dir), postgres=clean_db.resource(), webhook_url=None
    )
    with clean_db.connect() as conn:
        conn.execute(f"TRUNCATE {OUTBOX_TABLE}")
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        with dg.build_sensor_context(
            instance=instance, resources={"alerts": alerts_resource}
        ) as sensor_context:
            alert_sensor(sensor_context)  # starts watching now
            cursor = sensor_context.cursor
        good = run_with_instance(
            resources, key, instance, "key:jobicy_raw or key:himalayas_raw or key:ecb_rates"
        )
        bad = run_with_instance(resources, key, instance, "remotive_raw")
        assert good.success and not bad.success
        assert "403" in failure_text(bad) and "robot:***@" in failure_text(bad)
        with dg.build_sensor_context(
            instance=instance, cursor=cursor, resources={"alerts": alerts_resource}
        ) as tick:
            alert_sensor(tick)
    [stored] = clean_db.query(f"SELECT alert::text || message FROM {OUTBOX_TABLE}")
    assert "remotive_raw" in stored[0]  # the alert was written...
    assert any(r.params.get("token") == SECRETS[1] for r in replay.requests)  # secrets were used
    assert any(r.headers.get("Authorization") for r in replay.requests)
    assert len([p for p in home.rglob("*") if p.is_file()]) >= 3  # run and event storage
    leaks = []
    for root in (data_dir, home):
        for path in root.rglob("*"):
            if path.is_file():
                content = path.read_bytes()
                if path.suffix == ".gz":
                    content += gzip.decompress(content)
                leaks += [
                    f"{path}: {s}"
                    for s in (*SECRETS, "pgS3cretNeverShown")
                    if s.encode() in content
                ]
    leaks += [f"{OUTBOX_TABLE}: {s}" for s in SECRETS if s in stored[0]]
    assert leaks == []  # ...and no secret is in the outbox, nor in any file under
    # JOBS_DATA_DIR or DAGSTER_HOME
    manifest = RawStore(data_dir).manifest("jobicy", key)
    assert manifest["pages"][0]["url"].endswith("API_KEY=***&count=100")


def run_with_instance(
    resources: dict, key: str, instance: dg.DagsterInstance, selection: str
) -> dg.ExecuteInJobResult:
    return dg.materialize(
        [*ingestion_assets(), *checks.raw_checks],
        selection=selection,
        partition_key=key,
        resources=resources,
        instance=instance,
        raise_on_error=False,
    )
