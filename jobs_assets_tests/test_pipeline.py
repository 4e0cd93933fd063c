"""End to end: recorded responses over real HTTP into a real PostgreSQL, through Dagster."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import dagster as dg
import pytest

from jobs_assets.lib.raw.store import RawStore
from jobs_assets.lib.sources import SOURCES
from jobs_assets.replay import ECB_PATH, ReplayServer, Reply
from jobs_assets.resources import LifecycleResource, RawStoreResource
from jobs_assets_tests.conftest import (
    FIXTURE_DIR,
    Database,
    api_resources,
    fixture_listing_count,
    fixture_listing_counts,
    latest_windows,
    materialize_window,
)

TABLE_SNAPSHOT = """
SELECT source, source_job_id, title, company_name, job_url, company_logo_url, job_type,
       seniority, category, tags, location_raw, countries, regions, region, salary_raw,
       salary_min, salary_max, salary_currency, salary_period, salary_min_usd, salary_max_usd,
       description_text, published_at, expires_at
FROM public.jobs_listings_data ORDER BY source, source_job_id
"""


def materialization(result: dg.ExecuteInJobResult, asset: str) -> dict:
    events = result.asset_materializations_for_node(asset)
    assert len(events) == 1
    return {k: v.value for k, v in events[0].metadata.items()}


def staged_counts(database: Database, key: str) -> dict[str, int]:
    rows = database.query(
        "SELECT source, count(*) FROM staging.staging_jobs_listings_data "
        "WHERE partition_key = %s GROUP BY source",
        (key,),
    )
    return dict(rows)


def test_two_consecutive_windows_load_every_fixture_listing(
    resources: dict, clean_db: Database, data_dir: Path
) -> None:
    first, second = latest_windows()
    result = materialize_window(resources, first)
    assert result.success
    expected = fixture_listing_count()
    assert clean_db.query("SELECT count(*) FROM public.jobs_listings_data")[0][0] == expected

    meta = materialization(result, "jobs_listings")
    assert meta["rows_inserted"] == expected and meta["rows_updated"] == 0
    assert "| source |" in meta["preview"]
    raw = materialization(result, "himalayas_raw")
    assert raw["mode"] == "live" and raw["http_requests"] >= 3 and raw["http_bytes"] > 0
    assert raw["duplicate_ids_dropped"] >= 1  # the overlapping second page
    assert Path(raw["raw_path"]).is_dir()

    result = materialize_window(resources, second)
    assert result.success
    meta = materialization(result, "jobs_listings")
    assert meta["rows_inserted"] == 0 and meta["rows_updated"] == expected
    rows = clean_db.query(
        "SELECT DISTINCT first_seen_at < last_seen_at, last_partition_key "
        "FROM public.jobs_listings_data"
    )
    assert rows == [(True, second)]
    assert staged_counts(clean_db, first) == staged_counts(clean_db, second)
    assert staged_counts(clean_db, second) == fixture_listing_counts()
    assert set(fixture_listing_counts()) == set(SOURCES) and len(SOURCES) == 5
    assert sum(staged_counts(clean_db, second).values()) == expected
    log_files = list((data_dir / "logs").glob("jobs-*.log"))
    assert log_files and first in log_files[0].read_text()


def test_same_window_twice_gives_the_same_rows(resources: dict, clean_db: Database) -> None:
    key = latest_windows()[-1]
    assert materialize_window(resources, key).success
    before = clean_db.query(TABLE_SNAPSHOT)
    staged_before = clean_db.query(
        "SELECT source, source_job_id, payload FROM staging.staging_jobs_listings_data ORDER BY 1, 2"
    )
    again = materialize_window(resources, key)
    assert again.success
    meta = materialization(again, "jobs_listings")
    expected = fixture_listing_count()
    assert (meta["rows_inserted"], meta["rows_updated"], meta["rows_unchanged"]) == (
        0,
        0,
        expected,
    )
    assert sum(meta["listings_per_source"].values()) == expected
    assert sum(v for k, v in meta.items() if k.startswith("region_")) == expected
    assert all(f"| {name} |" in meta["preview"] for name in SOURCES)  # every source sampled
    assert clean_db.query(TABLE_SNAPSHOT) == before
    assert (
        clean_db.query(
            "SELECT source, source_job_id, payload FROM staging.staging_jobs_listings_data "
            "ORDER BY 1, 2"
        )
        == staged_before
    )


def test_replay_rebuilds_staged_and_normalised_without_the_network(
    clean_db: Database, data_dir: Path
) -> None:
    key = latest_windows()[-1]
    with ReplayServer() as server:
        resources = {
            "postgres": clean_db.resource(),
            "raw_store": RawStoreResource(data_dir=str(data_dir)),
            "lifecycle": LifecycleResource(),
            **api_resources(server.base_url),
        }
        assert materialize_window(resources, key).success
    before = clean_db.query(TABLE_SNAPSHOT)
    with clean_db.connect() as conn:
        conn.execute("TRUNCATE staging.staging_jobs_listings_data, public.jobs_listings_data")
    # The server is gone: only the stored raw files can feed this.
    result = materialize_window(resources, key, selection="staged_listings*")
    assert result.success
    assert clean_db.query(TABLE_SNAPSHOT) == before


def test_older_window_reuses_stored_raw_files(
    resources: dict, clean_db: Database, data_dir: Path, replay: ReplayServer
) -> None:
    live = latest_windows()[-1]
    assert materialize_window(resources, live).success
    old = latest_windows(5)[0]
    store = RawStore(data_dir)
    for source in SOURCES:
        writer = store.writer(source, old)
        for page in store.read_pages(source, live):
            writer.keep(page)
        writer.commit()
    requests_before = len(replay.requests)
    result = materialize_window(resources, old)
    assert result.success
    assert materialization(result, "remotive_raw")["mode"] == "stored"
    assert len(replay.requests) == requests_before  # nothing fetched for an old window
    assert sum(staged_counts(clean_db, old).values()) == fixture_listing_count()


def test_older_window_without_stored_files_fails_clearly(
    resources: dict, replay: ReplayServer
) -> None:
    old = latest_windows(5)[0]
    result = materialize_window(resources, old, selection="remotive_raw", raise_on_error=False)
    assert not result.success
    failure = result.failure_data_for_node("remotive_raw")
    assert "serves only current listings" in failure.user_failure_data.description
    assert replay.requests == []


def test_minimum_interval_skips_and_reports_instead_of_failing(
    clean_db: Database, replay: ReplayServer, data_dir: Path
) -> None:
    first, second = latest_windows()
    resources = {
        "postgres": clean_db.resource(),
        "raw_store": RawStoreResource(data_dir=str(data_dir)),
        "lifecycle": LifecycleResource(),
        **api_resources(replay.base_url, min_interval_hours=6.0),
    }
    assert materialize_window(resources, first).success

    def source_calls() -> int:  # the ECB rates file is fetched once a day, on its own rule
        return sum(r.path != ECB_PATH for r in replay.requests)

    calls = source_calls()
    result = materialize_window(resources, second)
    assert result.success
    meta = materialization(result, "remotive_raw")
    assert meta["mode"] == "skipped" and meta["skipped_for_politeness"] is True
    assert "less than 6 h ago" in meta["note"]
    assert source_calls() == calls
    # the first window's listings are still there, none were lost
    assert clean_db.query("SELECT count(*) FROM public.jobs_listings_data")[0][0] == (
        fixture_listing_count()
    )


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (
            Reply(
                200,
                b"<!DOCTYPE html><html>Service unavailable</html>",
                {"Content-Type": "text/html"},
            ),
            "HTML page instead of JSON",
        ),
        (Reply(200, (FIXTURE_DIR / "remotive.json").read_bytes()[:4000]), "truncated JSON"),
    ],
    ids=["html-error-page-200", "truncated-json"],
)
def test_unusable_response_fails_clearly_and_loses_nothing(
    resources: dict,
    clean_db: Database,
    replay: ReplayServer,
    data_dir: Path,
    reply: Reply,
    expected: str,
) -> None:
    first, second = latest_windows()
    assert materialize_window(resources, first).success
    before = clean_db.query(TABLE_SNAPSHOT)
    stored_before = (data_dir / "raw" / "remotive").glob("*/manifest.json")
    stored_before = {p: p.read_text() for p in stored_before}

    # every retry of the step sees the same broken body
    replay.script("/remotive", *[reply] * 5)
    result = materialize_window(resources, second, raise_on_error=False)
    assert not result.success
    errors = [
        str(e.event_specific_data)
        for e in result.all_events
        if e.is_step_failure or e.is_step_up_for_retry
    ]
    assert errors and all(expected in error for error in errors)
    # the body is kept, the stored windows are untouched, the table did not change
    failed = list((data_dir / "raw" / "remotive" / "failed").glob("*/page-0000.json.gz"))
    with gzip.open(failed[0]) as fh:
        assert fh.read() == reply.body
    assert {p: p.read_text() for p in stored_before} == stored_before
    assert not RawStore(data_dir).has_window("remotive", second)
    assert clean_db.query(TABLE_SNAPSHOT) == before


def test_record_without_id_is_reported_and_the_rest_loaded(
    resources: dict, clean_db: Database, replay: ReplayServer
) -> None:
    document = json.loads((FIXTURE_DIR / "jobicy.json").read_text())
    good = len(document["jobs"])
    document["jobs"].insert(2, {"jobTitle": "Mystery job", "url": "https://example.com"})
    document["jobs"][0]["someNewField"] = ["unknown", "extra"]
    replay.script("/jobicy", Reply.json(document))
    key = latest_windows()[-1]
    result = materialize_window(resources, key)
    assert result.success
    raw = materialization(result, "jobicy_raw")
    assert raw["records_rejected"] == 1 and raw["records_parsed"] == good
    assert any("no usable 'id'" in reason for reason in raw["reject_reasons"])
    staged = materialization(result, "staged_listings")
    assert sum(staged["jobicy_rejects"].values()) == 1
    assert (
        clean_db.query("SELECT count(*) FROM public.jobs_listings_data WHERE source = 'jobicy'")[0][
            0
        ]
        == good
    )


def test_429_then_success_and_a_read_timeout_are_absorbed(
    resources: dict, clean_db: Database, replay: ReplayServer
) -> None:
    replay.script("/remotive", Reply(429, b"", {"Retry-After": "0"}))
    replay.script("/jobicy", Reply(200, b"{}", delay=3.0))  # longer than the 2 s read timeout
    result = materialize_window(resources, latest_windows()[-1])
    assert result.success
    assert materialization(result, "remotive_raw")["http_retries"] == 1
    assert materialization(result, "jobicy_raw")["http_retries"] == 1
    assert clean_db.query("SELECT count(*) FROM public.jobs_listings_data")[0][0] == (
        fixture_listing_count()
    )


def test_jobicy_404_with_json_body_means_no_jobs(
    resources: dict, clean_db: Database, replay: ReplayServer
) -> None:
    replay.script("/jobicy", Reply.json({"message": "No jobs found for these filters"}, status=404))
    result = materialize_window(resources, latest_windows()[-1])
    assert result.success
    raw = materialization(result, "jobicy_raw")
    assert raw["records_parsed"] == 0 and raw["mode"] == "live"
    assert (
        clean_db.query("SELECT count(*) FROM public.jobs_listings_data WHERE source = 'jobicy'")[0][
            0
        ]
        == 0
    )


def test_reposted_remotive_id_updates_its_row(
    resources: dict, clean_db: Database, replay: ReplayServer
) -> None:
    first, second = latest_windows()
    assert materialize_window(resources, first).success
    document = json.loads((FIXTURE_DIR / "remotive.json").read_text())
    job = document["jobs"][0]
    job["publication_date"] = "2026-01-05T09:30:00"
    job["category"] = "Sales / Business"
    job["url"] = job["url"] + "-reposted"
    replay.script("/remotive", Reply.json(document))
    assert materialize_window(resources, second).success
    rows = clean_db.query(
        "SELECT category, job_url, published_at::text, first_seen_at < last_seen_at "
        "FROM public.jobs_listings_data WHERE source = 'remotive' AND source_job_id = %s",
        (str(job["id"]),),
    )
    assert rows == [("Sales / Business", job["url"], "2026-01-05 09:30:00+00", True)]


def test_backfilling_an_older_window_does_not_overwrite_newer_content(
    resources: dict, clean_db: Database, replay: ReplayServer
) -> None:
    first, second = latest_windows()
    document = json.loads((FIXTURE_DIR / "remotive.json").read_text())
    job_id = str(document["jobs"][0]["id"])
    document["jobs"][0]["title"] = "Newer title"
    replay.script("/remotive", Reply.json(document))
    assert materialize_window(resources, second).success
    assert materialize_window(resources, first).success  # the original fixture, older window
    rows = clean_db.query(
        "SELECT title, first_seen_at < last_seen_at, last_partition_key "
        "FROM public.jobs_listings_data WHERE source = 'remotive' AND source_job_id = %s",
        (job_id,),
    )
    assert rows == [("Newer title", True, second)]


def test_live_window_records_its_parse_once_in_the_manifest(
    resources: dict, clean_db: Database, data_dir: Path
) -> None:
    from jobs_assets.lib.errors import RawFileError
    from jobs_assets.lib.raw.parsed_windows import stored_summary

    key = latest_windows()[-1]
    assert materialize_window(resources, key).success
    store = RawStore(data_dir)
    counts = fixture_listing_counts()
    for name, source in SOURCES.items():
        recorded = store.manifest(name, key)["parse"]
        assert recorded["parsed"] == counts[name] and recorded["page_errors"] == []
        assert stored_summary(source, store, key).parsed == counts[name]
    # A page changed by hand no longer matches its sha256: the recorded summary is not trusted.
    page = store.window_dir("arbeitnow", key) / "page-0001.json.gz"
    page.write_bytes(gzip.compress(b"<html>502 Bad Gateway</html>"))
    with pytest.raises(RawFileError, match="does not match the manifest's sha256"):
        stored_summary(SOURCES["arbeitnow"], store, key)
    print("recorded parse:", store.manifest("remoteok", key)["parse"])


def test_remoteok_and_arbeitnow_fill_every_common_column(
    resources: dict, clean_db: Database
) -> None:
    key = latest_windows()[-1]
    assert materialize_window(resources, key).success

    def column_counts(source: str) -> dict[str, int]:
        columns = [
            "job_url", "company_logo_url", "job_type", "seniority", "category", "tags",
            "location_raw", "region", "salary_min", "salary_currency", "salary_period",
            "salary_min_usd", "description_text", "published_at",
        ]  # fmt: skip
        counted = ", ".join(f"count({c})" for c in columns)
        row = clean_db.query(
            f"SELECT count(*), {counted} FROM public.jobs_listings_data WHERE source = %s",
            (source,),
        )[0]
        print(source, dict(zip(["rows", *columns], row, strict=True)))
        return dict(zip(["rows", *columns], row, strict=True))

    remoteok = column_counts("remoteok")
    assert remoteok["rows"] == 96 and remoteok["published_at"] == 96  # 1 of 97 has no title
    assert remoteok["salary_min"] == 18  # 79 of 97 give 0 = none
    assert remoteok["seniority"] > 0 and remoteok["tags"] == 96
    rows = dict(
        clean_db.query(
            "SELECT source_job_id, row(job_url, salary_min, salary_max, salary_period, "
            "salary_currency, location_raw, region, description_text)::text "
            "FROM public.jobs_listings_data WHERE source = 'remoteok'"
        )
    )
    urls = clean_db.query("SELECT job_url FROM public.jobs_listings_data WHERE source = 'remoteok'")
    assert all(u.startswith("https://remoteOK.com/remote-jobs/") for (u,) in urls)  # link back
    descriptions = clean_db.query(
        "SELECT description_text FROM public.jobs_listings_data WHERE source = 'remoteok'"
    )
    texts = [d for (d,) in descriptions if d is not None]  # 1 holds nothing but the notice
    assert len(texts) == 95 and not any("Please mention the word" in d for d in texts)
    assert not any("\u00e2\u0080" in d for d in texts)  # mojibake repaired
    hourly = clean_db.query(
        "SELECT salary_min, salary_max, salary_period, salary_currency, salary_min_usd "
        "FROM public.jobs_listings_data WHERE source = 'remoteok' AND salary_max = 27 * 2080"
    )
    assert hourly == [(25 * 2080, 27 * 2080, "hour", "USD", 25 * 2080)]
    assert clean_db.query(
        "SELECT location_raw FROM public.jobs_listings_data "
        "WHERE source = 'remoteok' AND location_raw LIKE 'Gda%%'"
    ) == [("Gda\u0144sk",)]
    assert len(rows) == 96

    arbeitnow = column_counts("arbeitnow")
    assert arbeitnow["rows"] == 100 and arbeitnow["published_at"] == 100
    assert arbeitnow["job_type"] > 0 and arbeitnow["seniority"] > 0
    assert arbeitnow["region"] == 100 and arbeitnow["description_text"] == 100
    kinds = clean_db.query(
        "SELECT payload->'job_types', l.job_type, l.seniority "
        "FROM staging.staging_jobs_listings_data s JOIN public.jobs_listings_data l "
        "USING (source, source_job_id) WHERE s.partition_key = %s AND source = 'arbeitnow' "
        "AND jsonb_array_length(payload->'job_types') > 0",
        (key,),
    )
    mapped = {"|".join(types): (job_type, seniority) for types, job_type, seniority in kinds}
    assert mapped["Full-time permanent|experienced"] == ("full_time", "mid")
    assert mapped["Full-time permanent|entry"] == ("full_time", "entry")
    assert mapped["berufserfahren"] == (None, "mid")
    assert mapped["professional / experienced"] == (None, "mid")
    assert mapped["berufseinstieg"] == (None, "entry")
    assert mapped["geschäftsleitung"] == (None, "executive")
    assert mapped["Internship"] == mapped["Apprenticeship"] == ("internship", None)
    assert mapped["Freelance|berufseinstieg"] == ("freelance", "entry")
    assert mapped["Side"] == ("part_time", None)
    footers = clean_db.query(
        "SELECT count(*) FROM public.jobs_listings_data WHERE source = 'arbeitnow' "
        "AND description_text LIKE '%%on Arbeitnow'"
    )
    assert footers == [(0,)]
    europe = clean_db.query(
        "SELECT region FROM public.jobs_listings_data WHERE source = 'arbeitnow' "
        "AND location_raw LIKE '%%, Germany'"
    )
    assert europe and {r for (r,) in europe} == {"Europe"}
