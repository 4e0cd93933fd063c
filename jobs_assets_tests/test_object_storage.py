"""The raw lake, the inbox and the backups on S3: moto's standalone server, real HTTP.

`moto_server` runs in its own process on a free loopback port for the session; every
test gets its own prefix in one bucket. With `JOBS_STORAGE_URL=s3://…` a window and a
backup land in the bucket and nothing but logs (and an embedded server's pgdata) is
written under the local data folder: locks are in PostgreSQL.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from jobs_assets.defs.backups.assets import postgres_backup
from jobs_assets.defs.backups.checks import latest_verified_backup_fresh
from jobs_assets.defs.backups.resources import BackupsResource
from jobs_assets.lib import backup
from jobs_assets.lib.errors import RawFileError, StorageError
from jobs_assets.lib.raw import inbox
from jobs_assets.lib.raw import storage as storage_module
from jobs_assets.lib.raw.storage import ObjectStorage, Storage, open_storage
from jobs_assets.lib.raw.store import RawStore, window_dirname
from jobs_assets.lib.sources import SOURCES
from jobs_assets.lib.sources.base import Page
from jobs_assets.partitions import BACKUP_PARTITIONS
from jobs_assets.replay import ReplayServer
from jobs_assets.resources import LifecycleResource, RawStoreResource
from jobs_assets.settings import Settings
from jobs_assets_tests.conftest import (
    FIXTURE_DIR,
    Database,
    api_resources,
    fixture_listing_count,
    ingestion_assets,
    latest_windows,
    materialize_window,
)
from jobs_assets_tests.faults import BrokenService

BUCKET = "jobs-lake"
#: what may be written under the local data folder when storage is a bucket
LOCAL_ONLY = {"logs", "pgdata"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def moto_server(**env: str) -> Iterator[str]:
    """moto's S3 server in its own process on a free loopback port; its endpoint."""
    port = free_port()
    server = Path(sys.executable).with_name("moto_server")
    command = [str(server)] if server.exists() else [sys.executable, "-m", "moto.server"]
    process = subprocess.Popen(
        [*command, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **env},
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.2)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server in its own process, for the whole session."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_env(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Test credentials for the local server, in this process only (and its children)."""
    env = {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": s3_endpoint,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    storage = ObjectStorage(f"s3://{BUCKET}", s3_endpoint)
    if not storage.fs.exists(BUCKET):
        storage.fs.mkdir(BUCKET)
    return env


@pytest.fixture
def bucket_url(s3_env: dict[str, str]) -> str:
    """A fresh prefix in the bucket: one deployment's JOBS_STORAGE_URL."""
    return f"s3://{BUCKET}/t-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def bucket(bucket_url: str) -> Storage:
    return open_storage(bucket_url, Path("."), endpoint())


def endpoint() -> str:
    """The endpoint the test's credentials point at (set by `s3_env` or `storage_at`),
    which the resources and the settings pass to the storage."""
    return os.environ["AWS_ENDPOINT_URL"]


def local_leftovers(data_dir: Path) -> list[str]:
    """Files under the data folder outside logs/ and pgdata/."""
    return sorted(
        p.relative_to(data_dir).as_posix()
        for p in data_dir.rglob("*")
        if p.is_file() and p.relative_to(data_dir).parts[0] not in LOCAL_ONLY
    )


def keys(storage: Storage, prefix: str = "") -> list[str]:
    return [entry.key for entry in storage.list(prefix)]


def test_a_window_and_a_backup_land_in_the_bucket_and_nothing_local(
    clean_db: Database, replay: ReplayServer, data_dir: Path, bucket_url: str, bucket: Storage
) -> None:
    resources = {
        "postgres": clean_db.resource(),
        "raw_store": RawStoreResource(
            data_dir=str(data_dir), storage_url=bucket_url, endpoint_url=endpoint()
        ),
        "lifecycle": LifecycleResource(),
        **api_resources(replay.base_url),
    }
    key = latest_windows(1)[0]
    result = materialize_window(resources, key)
    assert result.success
    expected = fixture_listing_count()
    assert clean_db.query("SELECT count(*) FROM public.jobs_listings_data")[0][0] == expected
    window = window_dirname(key)
    stored = keys(bucket, "raw")
    for source in SOURCES:
        assert f"raw/{source}/{window}/manifest.json" in stored
        assert f"raw/{source}/{window}/page-0000.json.gz" in stored
    assert not [k for k in stored if "/.tmp-" in k]  # staging cleaned after publishing
    events = result.asset_materializations_for_node("jobicy_raw")
    raw_path = events[0].metadata["raw_path"].value
    assert raw_path == f"{bucket_url}/raw/jobicy/{window}"

    # Replay from the stored files only: staging re-reads the bucket, no HTTP.
    replay.stop()
    with clean_db.connect() as conn:
        conn.execute("TRUNCATE staging.staging_jobs_listings_data")
    again = materialize_window(resources, key, selection="staged_listings*")
    assert again.success
    staged = clean_db.query(
        "SELECT count(DISTINCT (source, source_job_id)) FROM staging.staging_jobs_listings_data"
    )
    assert staged[0][0] == expected

    backups = BackupsResource(
        data_dir=str(data_dir), keep=2, storage_url=bucket_url, endpoint_url=endpoint()
    )
    outcome = dg.materialize(
        [postgres_backup, latest_verified_backup_fresh],
        partition_key=BACKUP_PARTITIONS.get_last_partition_key(),
        resources={"postgres": clean_db.resource(), "backups": backups},
    )
    assert outcome.success
    sets = backup.list_sets(bucket.child("backups"))
    assert len(sets) == 1 and sets[0][1]["verified"] is True
    stem = sets[0][0].stem
    in_backups = keys(bucket, "backups")
    for suffix in (".dump", ".dump.sha256", ".manifest.json", ".raw.tar"):
        assert f"backups/{stem}{suffix}" in in_backups
    assert sets[0][1]["raw_archive"]["files"] == len(stored)

    assert local_leftovers(data_dir) == []
    print("in the bucket:", len(stored), "raw files,", in_backups)
    print("local:", sorted({p.relative_to(data_dir).parts[0] for p in data_dir.iterdir()}))


def test_checksums_are_verified_on_read_and_a_damaged_window_is_set_aside(
    data_dir: Path, bucket: Storage, bucket_url: str
) -> None:
    store = RawStore(data_dir, bucket)
    key = latest_windows(1)[0]
    body = (FIXTURE_DIR / "jobicy.json").read_bytes()
    writer = store.writer("jobicy", key)
    writer.keep(Page(0, "http://jobicy.test/", 200, "", body, datetime.now(UTC)))
    final = writer.commit()
    assert str(final) == f"{bucket_url}/raw/jobicy/{window_dirname(key)}"
    assert [p.body for p in store.read_pages("jobicy", key)] == [body]

    page = f"raw/jobicy/{window_dirname(key)}/page-0000.json.gz"
    bucket.put_bytes(page, gzip.compress(body + b" tampered"))
    with pytest.raises(RawFileError, match="sha256") as err:
        list(store.read_pages("jobicy", key))
    assert f"{bucket_url}/{page}" in str(err.value)

    again = store.writer("jobicy", key)
    again.keep(Page(0, "http://jobicy.test/", 200, "", body, datetime.now(UTC)))
    again.commit()
    assert [p.body for p in store.read_pages("jobicy", key)] == [body]
    reasons = [k for k in keys(bucket, "raw/jobicy/failed") if k.endswith("reason.txt")]
    assert len(reasons) == 1
    assert b"the stored copy was damaged" in bucket.get_bytes(reasons[0])
    assert local_leftovers(data_dir) == []


def test_failed_bodies_are_kept_in_the_bucket_with_their_reason(
    data_dir: Path, bucket: Storage
) -> None:
    store = RawStore(data_dir, bucket)
    key = latest_windows(1)[0]
    writer = store.writer("remotive", key)
    writer.keep(Page(0, "http://remotive.test/", 200, "", b'{"jobs": [', datetime.now(UTC)))
    kept = writer.abandon("remotive answered with a cut body")
    assert kept is not None and "/raw/remotive/failed/" in str(kept)
    failed = keys(bucket, "raw/remotive/failed")
    assert sorted(k.rsplit("/", 1)[-1] for k in failed) == ["page-0000.json.gz", "reason.txt"]
    reason_key = next(k for k in failed if k.endswith("reason.txt"))
    assert bucket.get_bytes(reason_key) == b"remotive answered with a cut body"
    assert not store.has_window("remotive", key)
    assert not [k for k in keys(bucket, "raw") if "/.tmp-" in k]


def test_the_inbox_takes_files_from_the_bucket(data_dir: Path, bucket: Storage) -> None:
    store = RawStore(data_dir, bucket)
    drop = bucket.child("inbox")
    key = latest_windows(1)[0]
    body = (FIXTURE_DIR / "jobicy.json").read_bytes()
    drop.put_bytes("jobicy/export.json", body)
    drop.put_bytes("jobicy/cut.json", body[:300])
    drop.put_bytes("loose.json", body)
    before = datetime.now(UTC).replace(microsecond=0)
    time.sleep(1.1)  # S3 modification times have a one-second resolution
    report = inbox.take_files(drop, store, SOURCES, key, settle_seconds=0)
    assert [a.file_name for a in report.accepted] == ["export.json"]
    assert sorted(r.file_name for r in report.rejected) == ["cut.json", "loose.json"]
    assert report.errors == []
    moved = keys(drop)
    assert "done/jobicy/export.json" in moved and "jobicy/export.json" not in moved
    assert "rejected/jobicy/cut.json.reason.txt" in moved
    assert "rejected/unknown/loose.json" in moved
    assert [p.body for p in store.read_inbox_pages("jobicy", key)] == [body]
    pages = store.inbox_pages_since(before)
    assert [(s, k, e["file_name"]) for s, k, e in pages] == [("jobicy", key, "export.json")]
    assert local_leftovers(data_dir) == []


def test_retention_and_a_restore_on_a_new_machine_read_the_bucket(
    clean_db: Database, tmp_path: Path, bucket_url: str, bucket: Storage
) -> None:
    first_machine = tmp_path / "first"
    store = RawStore(first_machine, bucket)
    key = latest_windows(1)[0]
    body = (FIXTURE_DIR / "remotive.json").read_bytes()
    writer = store.writer("remotive", key)
    writer.keep(Page(0, "http://remotive.test/", 200, "", body, datetime.now(UTC)))
    writer.commit()
    conninfo = clean_db.resource().conninfo()
    partition = BACKUP_PARTITIONS.get_last_partition_key()
    outcomes = []
    for n in range(3):
        with clean_db.connect() as conn:
            conn.execute(
                "INSERT INTO staging.staging_jobs_listings_data VALUES (%s, %s, %s, %s, now())",
                ("remotive", key, f"restore-{n}", json.dumps({"id": n})),
            )
        outcomes.append(backup.back_up(conninfo, first_machine, partition, 2, storage=bucket))
    assert all(o.verified for o in outcomes)
    assert sorted(str(p.name) for p in outcomes[2].deleted) == sorted(
        f"{outcomes[0].backup.stem}{s}" for s in (".dump", ".dump.sha256", ".manifest.json")
    )
    sets = backup.list_sets(bucket.child("backups"))
    assert [b.stem for b, _ in sets] == [o.backup.stem for o in outcomes[1:]]
    newest = outcomes[2]
    assert newest.manifest["raw_archives"] == [outcomes[0].backup.raw_archive_key]

    # A new machine: an empty data folder, a new prefix for its raw store, the bucket's sets.
    with clean_db.connect() as conn:
        conn.execute("TRUNCATE staging.staging_jobs_listings_data")
    url = f"{bucket_url}/backups/{newest.backup.dump_key}"
    plan = backup.plan_restore(url)
    assert plan.missing_archives == [] and len(plan.raw_archives) == 1
    new_raw = open_storage(f"{bucket_url}-restored", Path("."), endpoint())
    result = backup.restore(plan, conninfo, new_raw.child("raw"))
    assert result["raw_files_restored"] == 2  # the page and the manifest
    restored = RawStore(tmp_path / "second", new_raw)
    assert [p.body for p in restored.read_pages("remotive", key)] == [body]
    rows = clean_db.query("SELECT count(*) FROM staging.staging_jobs_listings_data")
    assert rows[0][0] == 3
    assert not (tmp_path / "second").exists() and local_leftovers(first_machine) == []


KILLED_UPLOAD = """
import os, sys, time
from pathlib import Path
from jobs_assets.lib.raw.store import MANIFEST, RawStore
from jobs_assets.lib.sources.base import Page
from jobs_assets.lib.raw.storage import open_storage
from datetime import UTC, datetime

url, data_dir, key, stage = sys.argv[1:5]
store = RawStore(Path(data_dir), open_storage(url, Path(data_dir), os.environ["AWS_ENDPOINT_URL"]))
writer = store.writer("remotive", key)
body = Path(sys.argv[5]).read_bytes()
for index in range(3):
    writer.keep(Page(index, "http://remotive.test/", 200, "", body, datetime.now(UTC)))
if stage == "publishing":  # the intent is written and one page copied, then the kill
    import json
    manifest = {"source": "remotive", "partition_key": key, "origin": "live",
                "fetched_at": None, "pages": sorted(writer.pages, key=lambda p: p["index"])}
    store.storage.put_bytes(f"{writer.staging}/{MANIFEST}", json.dumps(manifest).encode())
    final = store.window_key("remotive", key)
    store.storage.delete(f"{final}/{MANIFEST}")
    store.storage.put_bytes(f"{final}/page-0000.json.gz",
                            store.storage.get_bytes(f"{writer.staging}/page-0000.json.gz"))
print(writer.staging, flush=True)
time.sleep(120)
"""


def kill_mid_upload(
    bucket_url: str, data_dir: Path, key: str, stage: str, env: dict[str, str]
) -> str:
    """A writer in a child process, killed with SIGKILL in the middle of its window."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            KILLED_UPLOAD,
            bucket_url,
            str(data_dir),
            key,
            stage,
            str(FIXTURE_DIR / "remotive.json"),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )
    staging = child.stdout.readline().strip()
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=10)
    child.stdout.close()
    assert staging.startswith("raw/remotive/.tmp-")
    return staging


@pytest.mark.parametrize("stage", ["uploading", "publishing"])
def test_a_run_killed_mid_upload_leaves_no_half_window_and_the_next_fetch_cleans_up(
    stage: str,
    clean_db: Database,
    replay: ReplayServer,
    data_dir: Path,
    s3_env: dict[str, str],
    bucket_url: str,
    bucket: Storage,
) -> None:
    key = latest_windows(1)[0]
    staging = kill_mid_upload(bucket_url, data_dir, key, stage, s3_env)
    store = RawStore(data_dir, bucket)
    assert [k for k in keys(bucket, staging)]  # the killed writer's uploads are there
    assert not store.has_window("remotive", key)  # but nothing is published
    assert store.manifest("remotive", key) is None

    resources = {
        "postgres": clean_db.resource(),
        "raw_store": RawStoreResource(
            data_dir=str(data_dir), storage_url=bucket_url, endpoint_url=endpoint()
        ),
        "lifecycle": LifecycleResource(),
        **api_resources(replay.base_url),
    }
    result = materialize_window(resources, key, selection="remotive_raw")
    assert result.success
    assert keys(bucket, staging) == []  # cleaned by the next fetch
    assert not [k for k in keys(bucket, "raw") if "/.tmp-" in k]
    manifest = store.manifest("remotive", key)
    assert manifest is not None and manifest["origin"] == "live"
    assert len(list(store.read_pages("remotive", key))) == len(manifest["pages"])
    window_files = keys(bucket, store.window_key("remotive", key))
    assert sorted(window_files) == sorted(
        [f"{store.window_key('remotive', key)}/{p['file']}" for p in manifest["pages"]]
        + [f"{store.window_key('remotive', key)}/manifest.json"]
    )
    assert local_leftovers(data_dir) == []


@pytest.fixture(params=["local", "s3"])
def any_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "local":
        return open_storage(None, tmp_path / "store")
    return open_storage(request.getfixturevalue("bucket_url"), Path("."), endpoint())


def test_both_storages_keep_the_same_contract(any_storage: Storage) -> None:
    """The operations the raw store, the inbox and the backups rely on, on each backend."""
    store = any_storage
    store.put_bytes("raw/a/w1/page-0000.json.gz", b"one")
    store.put_bytes("raw/a/w1/manifest.json", b"{}")
    store.put_bytes("raw/a/top.txt", b"top")
    assert store.get_bytes("raw/a/w1/page-0000.json.gz") == b"one"
    assert store.exists("raw/a/w1/manifest.json") and not store.exists("raw/a/w1/nothing")
    with pytest.raises(FileNotFoundError):
        store.get_bytes("raw/a/w1/nothing")
    assert keys(store, "raw") == [
        "raw/a/top.txt",
        "raw/a/w1/manifest.json",
        "raw/a/w1/page-0000.json.gz",
    ]
    assert store.children("raw/a") == ["top.txt", "w1"]
    assert [e.key for e in store.files("raw/a")] == ["raw/a/top.txt"]
    assert store.info("raw/a/top.txt").size == 3
    assert store.sha256("raw/a/top.txt") == hashlib.sha256(b"top").hexdigest()
    store.move_prefix("raw/a/w1", "raw/a/failed/w1-x")
    assert keys(store, "raw/a/w1") == [] and len(keys(store, "raw/a/failed")) == 2
    store.move("raw/a/top.txt", "done/top.txt")
    assert store.get_bytes("done/top.txt") == b"top" and not store.exists("raw/a/top.txt")
    store.put_bytes("done/top.txt", b"replaced")  # a whole new content, never half
    assert store.get_bytes("done/top.txt") == b"replaced"
    store.delete_prefix("raw")
    store.delete("done/top.txt")
    store.delete("done/absent")  # absent is fine
    assert keys(store) == [] and store.list("nothing") == [] and store.children("nothing") == []
    assert store.child("raw").location("x").endswith("raw/x")


SECRET = "not-the-real-secret-4f9a"


def storage_at(endpoint: str, monkeypatch: pytest.MonkeyPatch, url: str) -> Storage:
    """`url` through `endpoint`, with credentials whose secret must never show."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIATESTKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return open_storage(url, Path("."), endpoint)


def test_an_endpoint_answering_500_fails_fast_naming_the_endpoint(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with BrokenService(500) as service:
        storage = storage_at(service.url(""), monkeypatch, f"s3://{BUCKET}/lake")
        store = RawStore(data_dir, storage)
        with pytest.raises(StorageError) as err:
            store.has_window("jobicy", latest_windows(1)[0])
        assert service.requests <= 3  # three attempts, not minutes of retries
    assert str(err.value) == (
        f"object storage: reach bucket s3://{BUCKET}/lake failed: {service.url('')} answered "
        "HTTP 500; check the endpoint (AWS_ENDPOINT_URL) and the storage "
        f"service, then re-run. JOBS_STORAGE_URL=s3://{BUCKET}/lake"
    )
    assert err.value.retryable and SECRET not in str(err.value)

    with BrokenService(500) as service:  # an operation after the bucket answered once
        storage = storage_at(service.url(""), monkeypatch, f"s3://{BUCKET}/lake")
        # as if the bucket had answered before the endpoint broke
        monkeypatch.setattr(storage_module, "_buckets_seen", {(service.url(""), BUCKET)})
        with pytest.raises(StorageError) as err:
            storage.get_bytes("raw/jobicy/w/manifest.json")
    assert str(err.value) == (
        f"object storage: read s3://{BUCKET}/lake/raw/jobicy/w/manifest.json failed: "
        f"{service.url('')} answered HTTP 500; check the endpoint "
        f"(AWS_ENDPOINT_URL) and the storage service, then re-run. "
        f"JOBS_STORAGE_URL=s3://{BUCKET}/lake"
    )


def test_an_endpoint_that_hangs_up_is_tried_three_times_not_fifteen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """botocore's three attempts are all: s3fs's own retries (five of every call, each of
    botocore's three: 30 requests here) once made an endpoint that never answers cost a
    step 15 minutes. The HTTP client sends an attempt once more when the connection
    closes unanswered: at most 6 requests."""
    with BrokenService(hang_up=True) as service:
        storage = storage_at(service.url(""), monkeypatch, f"s3://{BUCKET}/lake")
        with pytest.raises(StorageError) as err:
            storage.put_bytes("raw/jobicy/x.json", b"{}")
        assert service.requests <= 6, service.requests
    assert str(err.value).startswith(f"object storage: reach bucket s3://{BUCKET}/lake failed: ")


@pytest.fixture(scope="session")
def s3_endpoint_with_auth() -> Iterator[str]:
    """A moto server that checks credentials (only keys it issued are accepted)."""
    with moto_server(INITIAL_NO_AUTH_ACTION_COUNT="0") as endpoint:
        yield endpoint


def test_refused_credentials_say_which_variables_to_check(
    s3_endpoint_with_auth: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = storage_at(s3_endpoint_with_auth, monkeypatch, f"s3://{BUCKET}/lake")
    with pytest.raises(StorageError) as err:
        storage.put_bytes("raw/jobicy/x.json", b"{}")
    message = str(err.value)
    assert message.startswith(
        f"object storage: reach bucket s3://{BUCKET}/lake failed: the key was refused (HTTP 403); "
    )
    assert (
        "check AWS_ACCESS_KEY_ID / the secret (AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) and "
        f"that the key may read, write and list bucket {BUCKET}. "
        f"JOBS_STORAGE_URL=s3://{BUCKET}/lake"
    ) in message
    assert not err.value.retryable and SECRET not in message
    print(message)


def test_a_missing_bucket_is_named(s3_env: dict[str, str], data_dir: Path) -> None:
    url = f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}/lake"
    bucket = url.split("/")[2]
    with pytest.raises(StorageError) as err:
        RawStore(data_dir, open_storage(url, Path("."), endpoint())).manifest(
            "jobicy", latest_windows(1)[0]
        )
    assert str(err.value) == (
        f"object storage: reach bucket {url} failed: bucket {bucket} does not exist at "
        f"{s3_env['AWS_ENDPOINT_URL']}; create the bucket, or correct the bucket in "
        f"JOBS_STORAGE_URL. JOBS_STORAGE_URL={url}"
    )
    assert not err.value.retryable


def test_an_unreachable_endpoint_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    storage = storage_at(endpoint, monkeypatch, f"s3://{BUCKET}/lake")
    with pytest.raises(StorageError) as err:
        storage.list("raw")
    message = str(err.value)
    assert message.startswith(
        f"object storage: reach bucket s3://{BUCKET}/lake failed: cannot reach {endpoint} ("
    )
    assert message.endswith(
        "check the endpoint (AWS_ENDPOINT_URL) and the network, then re-run. "
        f"JOBS_STORAGE_URL=s3://{BUCKET}/lake"
    )
    print(message)


def test_missing_credentials_say_which_variables_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: "cannot reach ... check the endpoint and the network", and retried."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    # (credentials are checked before anything is sent: nothing needs to listen there)
    endpoint = f"http://127.0.0.1:{free_port()}"
    storage = open_storage(f"s3://{BUCKET}/lake", Path("."), endpoint)
    with pytest.raises(StorageError) as err:
        storage.put_bytes("raw/jobicy/x.json", b"{}")
    assert str(err.value) == (
        f"object storage: reach bucket s3://{BUCKET}/lake failed: no credentials were found "
        "(NoCredentialsError); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or "
        f"AWS_PROFILE) to a key that may read, write and list bucket {BUCKET}. "
        f"JOBS_STORAGE_URL=s3://{BUCKET}/lake"
    )
    assert not err.value.retryable


def test_a_bucket_name_the_service_refuses_is_a_setting_to_correct(s3_env: dict[str, str]) -> None:
    """Before: "cannot reach ... (ParamValidationError: ...regex...)", and retried."""
    storage = open_storage("s3://a b/lake", Path("."), endpoint())
    with pytest.raises(StorageError) as err:
        storage.list("raw")
    assert str(err.value) == (
        "object storage: reach bucket s3://a b/lake failed: the storage URL is not valid for "
        'the service (Invalid bucket name "a b"); correct the bucket or prefix in '
        "JOBS_STORAGE_URL (s3://<bucket>/<prefix>). JOBS_STORAGE_URL=s3://a b/lake"
    )
    assert not err.value.retryable


def test_an_endpoint_that_is_not_a_url_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    storage = storage_at("127.0.0.1:9000", monkeypatch, f"s3://{BUCKET}/lake")
    with pytest.raises(StorageError) as err:
        storage.list("raw")
    assert str(err.value) == (
        f"object storage: reach bucket s3://{BUCKET}/lake failed: "
        "AWS_ENDPOINT_URL=127.0.0.1:9000 is not a URL; give the endpoint as "
        f"http(s)://host[:port] in AWS_ENDPOINT_URL. JOBS_STORAGE_URL=s3://{BUCKET}/lake"
    )
    assert not err.value.retryable and SECRET not in str(err.value)


@pytest.mark.parametrize(
    "url, why",
    [
        ("s3://", "names no bucket; give s3://<bucket>/<prefix>"),
        ("s3:///lake", "names no bucket; give s3://<bucket>/<prefix>"),
        ("gs://bucket/lake", "gs:// is not supported; give a folder or s3://<bucket>/<prefix>"),
        ("s4://bucket/lake", "s4:// is not supported; give a folder or s3://<bucket>/<prefix>"),
        ("http://minio:9000/bucket", "http:// is not supported; give a folder or s3://"),
    ],
)
def test_a_malformed_storage_url_is_named(url: str, why: str, tmp_path: Path) -> None:
    """Before: ValueError ("Protocol not known") or ImportError ("install gcsfs"), or for
    http:// a store that failed at its first write."""
    with pytest.raises(StorageError) as err:
        Settings.from_env({"JOBS_STORAGE_URL": url, "JOBS_DATA_DIR": str(tmp_path)}).storage()
    assert str(err.value).startswith(f"JOBS_STORAGE_URL={url}")
    assert why in str(err.value) and not err.value.retryable


def test_the_storage_url_scheme_is_case_insensitive(bucket_url: str) -> None:
    storage = open_storage(bucket_url.replace("s3://", "S3://"), Path("."), endpoint())
    storage.put_bytes("raw/a/x.json", b"{}")
    assert open_storage(bucket_url, Path("."), endpoint()).get_bytes("raw/a/x.json") == b"{}"
    assert storage.location("raw/a/x.json") == f"{bucket_url}/raw/a/x.json"


def test_a_raw_asset_on_broken_storage_fails_with_the_storage_message(
    replay: ReplayServer, data_dir: Path, monkeypatch: pytest.MonkeyPatch, clean_db: Database
) -> None:
    with BrokenService(500) as service:
        storage_at(service.url(""), monkeypatch, f"s3://{BUCKET}/lake")
        resources = {
            "raw_store": RawStoreResource(
                data_dir=str(data_dir), storage_url=f"s3://{BUCKET}/a", endpoint_url=service.url("")
            ),
            "lifecycle": LifecycleResource(),
            "postgres": clean_db.resource(),  # the window's fetch lock
            **api_resources(replay.base_url),
        }
        result = dg.materialize(
            [a for a in ingestion_assets() if a.key == dg.AssetKey("jobicy_raw")],
            partition_key=latest_windows(1)[0],
            resources=resources,
            raise_on_error=False,
        )
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    error, messages = failure.event_specific_data.error, []
    while error is not None:  # the step's retries wrap the asset's Failure
        messages.append(error.message)
        error = error.cause
    message = "\n".join(messages)
    assert f"{service.url('')} answered HTTP 500; check the endpoint" in message
    assert "ClientError" not in message and "reached max retries" not in message
