"""The ECB daily rates through the HTTP policy into the raw store, the fallback when the
fetch fails, and windows converting with the stored file (replays included).

A real local HTTP server (the replay server) answers with the ECB file's real layout
(`data/eurofxref-daily.xml`, re-dated), an HTML error page, a 500 or nothing in time.
"""

from __future__ import annotations

import datetime
import gzip
import json
from pathlib import Path

import dagster as dg
import pytest

from jobs_assets.lib.money import currency
from jobs_assets.lib.money.ecb_fetch import RATES_FOLDER, fetch_daily_rates, stored_rates
from jobs_assets.lib.raw.store import RawStore
from jobs_assets.lib.sources import SourceSettings
from jobs_assets.replay import ECB_PATH, ReplayServer, Reply
from jobs_assets.resources import LifecycleResource, RawStoreResource
from jobs_assets_tests.conftest import (
    Database,
    api_resources,
    ecb_file,
    latest_windows,
    materialize_window,
    store_ecb_rates,
)
from jobs_assets_tests.test_object_storage import (  # noqa: F401 (fixtures)
    bucket_url,
    endpoint,
    s3_endpoint,
    s3_env,
)

DAY = datetime.date(2026, 12, 1)
NOW = datetime.datetime(2026, 12, 1, 4, 5, tzinfo=datetime.UTC)
XML = {"Content-Type": "text/xml"}


@pytest.fixture(params=["local", "s3"])
def raw_store(request: pytest.FixtureRequest, data_dir: Path) -> RawStoreResource:
    """The raw store on the local disk and in a bucket: the rates must read the same."""
    if request.param == "local":
        return RawStoreResource(data_dir=str(data_dir))
    return RawStoreResource(
        data_dir=str(data_dir),
        storage_url=request.getfixturevalue("bucket_url"),
        endpoint_url=endpoint(),
    )


def keep_rates(raw_store: RawStoreResource, day: datetime.date, body: bytes) -> None:
    store_ecb_rates(Path(raw_store.data_dir), day, body, raw_store.storage())


def ecb_settings(server: ReplayServer, **overrides: object) -> SourceSettings:
    values = {
        "name": RATES_FOLDER,
        "url": server.base_url + ECB_PATH,
        "min_interval_hours": 0.0,
        "workers": 1,
        "max_rps": 0.0,
        "max_pages": 1,
        "timeout_seconds": 2.0,
        "max_retries": 2,
        "backoff_seconds": 0.01,
        **overrides,
    }
    return SourceSettings(**values)


def test_the_daily_file_is_fetched_once_a_day_and_kept(
    replay: ReplayServer, raw_store: RawStoreResource, database: Database
):
    body = ecb_file(datetime.date(2026, 11, 30), usd="1.2500")
    replay.script(ECB_PATH, Reply(body=body, headers=XML))
    store = raw_store.store()
    folder = store.window_key(RATES_FOLDER, DAY.isoformat())
    outcome = fetch_daily_rates(
        ecb_settings(replay), store, DAY, live=True, now=NOW, conninfo=database.conninfo
    )
    assert outcome.mode == "live" and outcome.table is not None
    assert outcome.table.date == datetime.date(2026, 11, 30)
    assert outcome.table.per_euro["USD"] == 1.25
    # kept byte for byte, with a manifest naming the rate date
    assert str(outcome.path) == str(store.window_dir(RATES_FOLDER, DAY.isoformat()))
    manifest = json.loads(store.storage.get_bytes(f"{folder}/manifest.json"))
    assert manifest["rate_date"] == "2026-11-30" and manifest["origin"] == "live"
    assert manifest["pages"][0]["file"] == "page-0000.xml.gz"
    assert gzip.decompress(store.storage.get_bytes(f"{folder}/page-0000.xml.gz")) == body
    assert outcome.http.requests == 1
    # the same day again: no request, the stored file
    again = fetch_daily_rates(
        ecb_settings(replay), store, DAY, live=True, now=NOW, conninfo=database.conninfo
    )
    assert again.mode == "stored" and again.table == outcome.table
    assert [r.path for r in replay.requests] == [ECB_PATH]
    assert stored_rates(store, DAY) == outcome.table
    print("fetched and stored:", outcome.path, outcome.table.date)


@pytest.mark.parametrize(
    ("replies", "overrides", "reason"),
    [
        (
            [Reply(body=b"<html><body>Maintenance</body></html>", headers={})],
            {},
            "no <Cube time",
        ),
        ([Reply(status=500, body=b"oops", headers={})] * 3, {}, "HTTP 500"),
        (
            [Reply(body=ecb_file(DAY), headers=XML, delay=1.5)] * 3,
            {"timeout_seconds": 0.3, "total_timeout_seconds": 0.5},
            "failed after retries",
        ),
    ],
    ids=["html-error-page", "http-500", "timeout"],
)
def test_a_failed_fetch_falls_back_and_stores_nothing(
    replay: ReplayServer,
    tmp_path: Path,
    database: Database,
    replies: list[Reply],
    overrides: dict,
    reason: str,
) -> None:
    replay.script(ECB_PATH, *replies)
    store = RawStore(tmp_path)
    outcome = fetch_daily_rates(
        ecb_settings(replay, **overrides), store, DAY, True, NOW, database.conninfo
    )
    assert outcome.mode == "failed" and outcome.table is None
    assert reason in outcome.note
    assert not store.has_window(RATES_FOLDER, DAY.isoformat())
    assert stored_rates(store, DAY) is None  # the window converts with the shipped rates
    print(outcome.note)


def test_an_old_window_is_not_fetched(
    replay: ReplayServer, tmp_path: Path, database: Database
) -> None:
    outcome = fetch_daily_rates(
        ecb_settings(replay), RawStore(tmp_path), DAY, False, NOW, database.conninfo
    )
    assert outcome.mode == "offline" and replay.requests == []


def test_a_window_uses_its_day_or_earlier_never_a_later_file(
    raw_store: RawStoreResource,
) -> None:
    keep_rates(raw_store, DAY - datetime.timedelta(days=3), ecb_file(datetime.date(2026, 11, 27)))
    keep_rates(raw_store, DAY + datetime.timedelta(days=1), ecb_file(datetime.date(2026, 12, 1)))
    store = raw_store.store()
    # a page without a manifest: not a stored day
    store.storage.put_bytes(f"raw/{RATES_FOLDER}/2026-11-30/page-0000.xml.gz", b"")
    assert stored_rates(store, DAY).date == datetime.date(2026, 11, 27)
    assert stored_rates(store, DAY + datetime.timedelta(days=1)).date == datetime.date(2026, 12, 1)
    assert stored_rates(store, DAY - datetime.timedelta(days=5)) is None


def test_a_damaged_stored_file_gives_way_to_an_earlier_one(raw_store: RawStoreResource) -> None:
    keep_rates(raw_store, DAY - datetime.timedelta(days=1), ecb_file(datetime.date(2026, 11, 27)))
    keep_rates(raw_store, DAY, b"<html>not the rates</html>")
    assert stored_rates(raw_store.store(), DAY).date == datetime.date(2026, 11, 27)


def usd_rows(database: Database) -> list[tuple]:
    return database.query(
        "SELECT DISTINCT salary_currency, salary_usd_rate_date, "
        "round(salary_min_usd / salary_min, 6) FROM public.jobs_listings_data "
        "WHERE salary_min > 0 AND salary_min_usd IS NOT NULL ORDER BY 1"
    )


def test_a_live_window_converts_with_the_fetched_file_and_replays_with_it(
    clean_db: Database, replay: ReplayServer, raw_store: RawStoreResource
) -> None:
    key = latest_windows(1)[0]
    rate_date = datetime.date.today() - datetime.timedelta(days=1)
    replay.script(ECB_PATH, Reply(body=ecb_file(rate_date, usd="2.0000"), headers=XML))
    resources = {
        "postgres": clean_db.resource(),
        "raw_store": raw_store,
        "lifecycle": LifecycleResource(),
        **api_resources(replay.base_url),
    }
    result = materialize_window(resources, key)
    [ecb] = result.asset_materializations_for_node("ecb_rates")
    assert ecb.metadata["mode"].value == "live"
    assert ecb.metadata["rate_date"].value == str(rate_date)
    live = usd_rows(clean_db)
    eur = [row for row in live if row[0] == "EUR"]
    assert eur and eur[0][1:] == (rate_date, 2)  # USD per euro from the fetched file
    assert {row[1] for row in live} == {rate_date}
    print("converted with the fetched file:", live)

    # A replay of the window offline: the stored file, not the shipped rates
    with clean_db.connect() as conn:
        conn.execute("TRUNCATE public.jobs_listings_data")
    offline = {**resources, **api_resources("http://127.0.0.1:9")}
    replayed = materialize_window(offline, key, selection=dg.AssetSelection.assets("jobs_listings"))
    [listings] = replayed.asset_materializations_for_node("jobs_listings")
    assert listings.metadata["usd_rates"].value == f"ecb-daily {rate_date}"
    assert usd_rows(clean_db) == live


def test_a_window_whose_fetch_fails_converts_with_the_shipped_rates(
    clean_db: Database, replay: ReplayServer, data_dir: Path
) -> None:
    key = latest_windows(1)[0]
    replay.script(ECB_PATH, *[Reply(status=500, body=b"down", headers={})] * 4)
    resources = {
        "postgres": clean_db.resource(),
        "raw_store": RawStoreResource(data_dir=str(data_dir)),
        "lifecycle": LifecycleResource(),
        **api_resources(replay.base_url),
    }
    result = materialize_window(resources, key)
    assert result.success  # the rates fall back; the run does not fail
    [ecb] = result.asset_materializations_for_node("ecb_rates")
    assert ecb.metadata["mode"].value == "failed" and "HTTP 500" in ecb.metadata["note"].value
    shipped = currency.rate_date()
    assert {row[1] for row in usd_rows(clean_db)} <= {shipped} and usd_rows(clean_db)
    [listings] = result.asset_materializations_for_node("jobs_listings")
    assert listings.metadata["usd_rates"].value == f"shipped {shipped}"


@pytest.mark.parametrize("usd", ["1e9", "5.0"])
def test_an_implausible_file_is_refused_and_the_last_good_one_kept(
    replay: ReplayServer, raw_store: RawStoreResource, database: Database, usd: str
) -> None:
    yesterday = DAY - datetime.timedelta(days=1)
    keep_rates(raw_store, yesterday, ecb_file(datetime.date(2026, 11, 30)))
    replay.script(ECB_PATH, Reply(body=ecb_file(DAY, usd=usd), headers=XML))
    store = raw_store.store()
    outcome = fetch_daily_rates(
        ecb_settings(replay), store, DAY, live=True, now=NOW, conninfo=database.conninfo
    )
    assert outcome.mode == "refused" and outcome.table is None
    assert (
        f"GET {replay.base_url}{ECB_PATH}: refused the file, its rates are implausible: "
        f"USD at {float(usd):g} per euro on 2026-12-01 moved more than 50% from the last good file "
        "(2026-11-30: 1.1172); a rate cannot move that much in a day; converting with the "
        "last good file of 2026-11-30 (file kept at "
    ) in outcome.note
    assert not store.has_window(RATES_FOLDER, DAY.isoformat())  # not the day's rates
    assert stored_rates(store, DAY).per_euro["USD"] == 1.1172  # the last good one
    kept = [
        entry.key
        for entry in store.storage.list(f"raw/{RATES_FOLDER}/failed")
        if entry.key.endswith("page-0000.xml.gz")
    ]
    bodies = [gzip.decompress(store.storage.get_bytes(key)) for key in kept]
    assert bodies == [ecb_file(DAY, usd=usd)]
    print(outcome.note)


def test_a_window_given_implausible_rates_converts_with_the_last_good_file_and_warns(
    clean_db: Database, replay: ReplayServer, raw_store: RawStoreResource
) -> None:
    key = latest_windows(1)[0]
    good_day = datetime.date.today() - datetime.timedelta(days=2)
    keep_rates(raw_store, good_day, ecb_file(good_day, usd="1.2500"))
    replay.script(ECB_PATH, Reply(body=ecb_file(datetime.date.today(), usd="1e9"), headers=XML))
    resources = {
        "postgres": clean_db.resource(),
        "raw_store": raw_store,
        "lifecycle": LifecycleResource(),
        **api_resources(replay.base_url),
    }
    result = materialize_window(resources, key)
    assert result.success  # refused rates never fail the run
    [ecb] = result.asset_materializations_for_node("ecb_rates")
    assert ecb.metadata["mode"].value == "refused"
    assert ecb.metadata["rates_used"].value == f"ECB daily file of {good_day}"
    [check] = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
        and e.event_specific_data.check_name == "ecb_rates_plausible"
    ]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert "USD at 1e+09 per euro" in check.description
    eur = [row for row in usd_rows(clean_db) if row[0] == "EUR"]
    assert eur and eur[0][1:] == (good_day, 1.25)  # not NULL, not 1e9
