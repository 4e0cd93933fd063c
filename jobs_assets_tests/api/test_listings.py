"""The read API on what the pipeline loaded and dbt built: filters, search, pagination,
cache, errors, statistics.

Every test runs the application in process (FastAPI's TestClient) on the package's
database (conftest.py): two recorded windows loaded by the ingestion assets, the marts
built by dbt. Expected answers are read from the listings table itself, never written
by hand.
"""

from __future__ import annotations

import socket
import uuid
from collections import Counter
from datetime import UTC, datetime

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from jobs_assets.api.app import create_app
from jobs_assets.lib.listings import queries
from jobs_assets.lib.schema.migrate import ensure_schema
from jobs_assets_tests.api.conftest import ApiData

LISTINGS = """
SELECT source, source_job_id, title, company_name, region, category_normalised, seniority,
       job_type, countries, salary_min_usd, salary_max_usd, salary_min, salary_max,
       salary_currency, salary_period, status, duplicate_cluster_id, is_canonical,
       coalesce(published_at, first_seen_at) AS sort_at, job_url, location_raw, eligibility,
       eligible_countries, utc_offset_min, utc_offset_max
FROM public.jobs_listings_data
"""


def rows(data: ApiData) -> list[dict]:
    with data.database.connect() as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(LISTINGS).fetchall()


def newest_first(listings: list[dict]) -> list[str]:
    ordered = sorted(
        listings, key=lambda r: (r["sort_at"], r["source"], r["source_job_id"]), reverse=True
    )
    return [r["source_job_id"] for r in ordered]


def shown_by_default(r: dict) -> bool:
    return r["status"] == "active" and (r["duplicate_cluster_id"] is None or r["is_canonical"])


def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["source_job_id"] for item in response.json()["items"]]


def every_page(client: TestClient, params: dict) -> list[str]:
    """Every id, page after page, following next_cursor."""
    seen, token = [], None
    while True:
        page = client.get("/listings", params=params | ({"cursor": token} if token else {}))
        seen += ids(page)
        token = page.json()["next_cursor"]
        if not token:
            return seen


def test_the_loaded_data_has_what_the_tests_need(data: ApiData) -> None:
    """Both windows loaded: active and expired listings from every recorded source."""
    listings = rows(data)
    statuses = Counter(r["status"] for r in listings)
    assert statuses["active"] >= 100 and statuses["expired"] >= 50, statuses
    assert len({r["source"] for r in listings}) >= 4
    assert any(r["salary_period"] not in (None, "year") for r in listings)


def test_default_listing_is_active_canonical_newest_first_with_attribution(
    client: TestClient, data: ApiData
) -> None:
    listings = rows(data)
    assert every_page(client, {"limit": 100}) == newest_first(
        [r for r in listings if shown_by_default(r)]
    )
    first = client.get("/listings").json()["items"]
    assert len(first) == 20
    names = {"remotive": "Remotive", "jobicy": "Jobicy", "himalayas": "Himalayas"}
    names |= {"remoteok": "Remote OK", "arbeitnow": "Arbeitnow"}
    for item in first:
        assert item["attribution"]["source_name"] == names[item["source"]]
        assert item["attribution"]["url"] == item["job_url"] and item["job_url"]
    everything = every_page(client, {"limit": 100, "status": "all", "include_duplicates": True})
    assert everything == newest_first(listings)
    expired = every_page(client, {"limit": 100, "status": "expired"})
    assert expired == newest_first(
        [
            r
            for r in listings
            if r["status"] == "expired" and shown_by_default(r | {"status": "active"})
        ]
    )


def test_each_filter_narrows_the_results_and_labels_ignore_case(
    client: TestClient, data: ApiData
) -> None:
    shown = [r for r in rows(data) if shown_by_default(r)]

    def common(column: str) -> str:
        return Counter(r[column] for r in shown if r[column]).most_common(1)[0][0]

    def expect(params: dict, keep) -> None:
        wanted = newest_first([r for r in shown if keep(r)])
        assert wanted and len(wanted) < len(shown), params  # the filter is a real test
        assert every_page(client, {"limit": 100, **params}) == wanted, params

    region, category, seniority = (
        common("region"),
        common("category_normalised"),
        common("seniority"),
    )
    expect({"region": region.upper()}, lambda r: r["region"] == region)
    expect({"category": category.lower()}, lambda r: r["category_normalised"] == category)
    expect({"seniority": seniority.title()}, lambda r: r["seniority"] == seniority)
    expect({"source": "remoteok"}, lambda r: r["source"] == "remoteok")
    job_type = common("job_type")
    expect({"job_type": job_type}, lambda r: r["job_type"] == job_type)
    country = Counter(c for r in shown for c in r["countries"] or []).most_common(1)[0][0]
    expect({"country": country.lower()}, lambda r: country in (r["countries"] or []))
    day = sorted(r["sort_at"] for r in shown)[len(shown) // 2].date()
    expect({"posted_since": day.isoformat()}, lambda r: r["sort_at"].astimezone(UTC).date() >= day)

    # the annual USD maximum, or the minimum when no maximum is given
    def annual(r: dict) -> float:
        value = r["salary_max_usd"] if r["salary_max_usd"] is not None else r["salary_min_usd"]
        return float(value) if value is not None else -1.0

    threshold = sorted(annual(r) for r in shown if annual(r) >= 0)[-5]
    expect({"min_salary_usd": int(threshold)}, lambda r: annual(r) >= int(threshold))
    combined = {"region": region, "seniority": seniority}
    expect(
        combined | {"region": region.lower()},
        lambda r: r["region"] == region and r["seniority"] == seniority,
    )


def test_eligible_in_and_utc_offset_find_who_may_apply(client: TestClient, data: ApiData) -> None:
    """`eligible_in=DE`: worldwide listings, those naming DE (or a region holding it) and
    time-zone-only ones whose band meets Germany's offsets (+1 winter, +2 summer);
    `utc_offset=-6`: the bands holding -6, and worldwide listings. Read from what the
    pipeline stored."""
    shown = [r for r in rows(data) if shown_by_default(r)]

    def in_band(r: dict, west: float, east: float) -> bool:
        low, high = r["utc_offset_min"], r["utc_offset_max"]
        return low is not None and float(low) <= east and float(high) >= west

    def for_germany(r: dict) -> bool:
        return (
            r["eligibility"] == "worldwide"
            or "DE" in r["eligible_countries"]
            or (r["eligibility"] == "timezones" and in_band(r, 1, 2))
        )

    wanted = [r for r in shown if for_germany(r)]
    kinds = Counter(r["eligibility"] for r in wanted)
    # every way in is exercised: worldwide, named (Arbeitnow's remote jobs), a band
    assert kinds["worldwide"] and kinds["timezones"] and kinds["countries"], kinds
    assert not any(r["eligibility"] == "unknown" for r in wanted)
    assert len(wanted) < len(shown)
    assert every_page(client, {"limit": 100, "eligible_in": "de"}) == newest_first(wanted)

    minus_six = [r for r in shown if r["eligibility"] == "worldwide" or in_band(r, -6, -6)]
    assert any(r["eligibility"] != "worldwide" for r in minus_six)
    assert every_page(client, {"limit": 100, "utc_offset": "-6"}) == newest_first(minus_six)

    item = client.get("/listings", params={"eligible_in": "DE", "limit": 100}).json()["items"]
    by_id = {r["source_job_id"]: r for r in wanted}
    for listing in item:
        stored = by_id[listing["source_job_id"]]
        assert listing["eligibility"] == {
            "kind": stored["eligibility"],
            "countries": stored["eligible_countries"],
            "utc_offset_min": None if stored["utc_offset_min"] is None
            else float(stored["utc_offset_min"]),
            "utc_offset_max": None if stored["utc_offset_max"] is None
            else float(stored["utc_offset_max"]),
        }  # fmt: skip


def test_no_listing_naming_countries_is_stored_worldwide(data: ApiData) -> None:
    """What the pipeline stored: a listing whose location names a country is never
    `worldwide`, and a German office job is `onsite_or_hybrid`."""
    stored = rows(data)
    assert not [r for r in stored if r["eligibility"] == "worldwide" and r["countries"]]
    berlin = [r for r in stored if r["source"] == "arbeitnow" and r["countries"] == ["DE"]]
    assert {r["eligibility"] for r in berlin} == {"onsite_or_hybrid", "countries"}


def test_facets_offer_the_labels_listings_carry(client: TestClient, data: ApiData) -> None:
    body = client.get("/facets").json()
    active = [r for r in rows(data) if r["status"] == "active"]
    for name, facet in queries.FACETS.items():
        column = queries.LISTING_FACETS[facet].removeprefix("l.")
        counts = Counter(r[column] for r in active if r[column] and r[column].strip())
        assert {f["value"]: f["listings"] for f in body[name]} == dict(counts), name
    # each offered value finds its listings
    for facet in body["regions"]:
        page = client.get("/listings", params={"region": facet["value"], "status": "active"})
        assert page.status_code == 200 and page.json()["items"], facet


def test_full_text_search_matches_and_ranks_title_matches_first(client: TestClient) -> None:
    everything = client.get("/listings", params={"q": "engineer", "limit": 100}).json()["items"]
    assert len(everything) >= 5
    relevant = client.get("/listings", params={"q": "engineer", "sort": "relevance"}).json()
    assert "engineer" in relevant["items"][0]["title"].lower()  # a title match ranks first
    excluded = client.get("/listings", params={"q": "engineer -senior", "limit": 100}).json()
    assert excluded["items"] and len(excluded["items"]) < len(everything)
    assert not any("senior" in item["title"].lower() for item in excluded["items"])
    assert {i["source_job_id"] for i in excluded["items"]} < {
        i["source_job_id"] for i in everything
    }


@pytest.mark.parametrize(
    "q",
    [
        "'; DROP TABLE public.jobs_listings_data; --",
        "nosuchword' OR 'a'='a",
        "%(q)s %s {0} $1",
        "!!! & | :* <-> ( )",
        "\\x00 \\ ' \"",
        "ユニコード 😀",
    ],
)
def test_nothing_in_q_changes_the_query(client: TestClient, data: ApiData, q: str) -> None:
    before = data.query("SELECT count(*) FROM public.jobs_listings_data")[0][0]
    for sort in ("newest", "relevance"):
        response = client.get("/listings", params={"q": q, "sort": sort})
        assert response.status_code == 200, response.text
        assert response.json()["items"] == []
    assert data.query("SELECT count(*) FROM public.jobs_listings_data")[0][0] == before


@pytest.mark.parametrize(
    "params, parameter",
    [
        ({"limit": 101}, "limit"),
        ({"limit": 0}, "limit"),
        ({"min_salary_usd": -1}, "min_salary_usd"),
        ({"country": "DEU"}, "country"),
        ({"posted_since": "yesterday"}, "posted_since"),
        ({"status": "open"}, "status"),
        ({"sort": "oldest"}, "sort"),
        ({"sort": "relevance"}, "sort"),
        ({"source": "monster"}, "source"),
        ({"include_duplicates": "maybe"}, "include_duplicates"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"q": "x" * 201}, "q"),
        ({"eligible_in": "DEU"}, "eligible_in"),
        ({"eligible_in": "XX"}, "eligible_in"),
        ({"utc_offset": "15"}, "utc_offset"),
        ({"utc_offset": "+1h"}, "utc_offset"),
        ({"utc_offset": "nan"}, "utc_offset"),
    ],
)
def test_bad_parameters_get_422_naming_the_parameter(
    client: TestClient, params: dict, parameter: str
) -> None:
    response = client.get("/listings", params=params)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["message"].startswith(f"{parameter}:") and body["parameter"] == parameter, body


@pytest.mark.parametrize(
    "path, parameter",
    [
        *(("/listings", p) for p in ("q", "region", "category", "seniority", "job_type")),
        *(("/stats/postings", p) for p in ("region", "category")),
        *(("/stats/salaries", p) for p in ("region", "category", "seniority")),
    ],
)
def test_a_nul_character_in_any_text_parameter_is_a_422_not_a_server_error(
    client: TestClient, path: str, parameter: str
) -> None:
    """PostgreSQL text cannot hold NUL: such a value must never reach a query."""
    response = client.get(path, params={parameter: "a\x00b"})
    assert response.status_code == 422, response.text
    assert response.json()["message"].startswith(f"{parameter}:"), response.json()


def test_a_404_has_the_shape_of_a_422(client: TestClient) -> None:
    missing = client.get("/listings/remotive/nope")
    assert missing.status_code == 404
    body = missing.json()
    assert set(body) == {"message", "parameter", "detail"}
    assert body["parameter"] == "source_job_id" and "remotive/nope" in body["message"]
    assert body["message"].startswith("source_job_id:")
    nowhere = client.get("/no/such/path")
    assert nowhere.status_code == 404
    assert set(nowhere.json()) == {"message", "parameter", "detail"}
    assert "/no/such/path" in nowhere.json()["message"]
    invalid = client.get("/listings", params={"limit": 0}).json()
    assert set(invalid) == set(body)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/searches/some-id", "DELETE, GET, HEAD"),
        ("POST", "/listings", "GET, HEAD"),
        ("DELETE", "/listings/remotive/some-id", "GET, HEAD"),
        ("GET", "/searches", "POST"),
    ],
)
def test_a_405_names_every_method_of_its_path(
    client: TestClient, method: str, path: str, allowed: str
) -> None:
    """`Allow` lists what the path takes (RFC 9110), saved searches' routes included."""
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert set(response.json()) == {"message", "parameter", "detail"}


def test_head_answers_as_get_without_the_body(client: TestClient, data: ApiData) -> None:
    source, job_id = data.query("SELECT source, source_job_id FROM public.jobs_listings_data")[0]
    for path in ("/listings", f"/listings/{source}/{job_id}", "/"):
        got, head = client.get(path), client.head(path)
        assert head.status_code == got.status_code == 200, path
        assert head.content == b"", path
        for name in ("content-type", "content-length", "etag", "cache-control"):
            assert head.headers.get(name) == got.headers.get(name), (path, name)
    assert client.head("/listings/remotive/no-such-id").status_code == 404


def test_a_cursor_only_fits_the_query_it_came_from(client: TestClient) -> None:
    token = client.get("/listings", params={"limit": 2}).json()["next_cursor"]
    assert token
    response = client.get("/listings", params={"limit": 2, "cursor": token, "source": "jobicy"})
    assert response.status_code == 422
    assert response.json()["parameter"] == "cursor" and "different query" in response.text


@pytest.mark.parametrize("sort", ["newest", "relevance"])
def test_pages_stay_stable_while_a_new_window_loads(
    client: TestClient, data: ApiData, sort: str
) -> None:
    # every status: the new window also expires listings, which is not what this tests
    params = {"limit": 10, "sort": sort, "q": "engineer OR developer OR manager", "status": "all"}
    data.only_first_window()
    before = every_page(client, params | {"limit": 100})
    assert len(before) > 20

    first = client.get("/listings", params=params).json()
    added = data.load_second_window()  # new listings, published among the old ones
    assert added > 0

    seen = [item["source_job_id"] for item in first["items"]]
    token = first["next_cursor"]
    while token:
        page = client.get("/listings", params={**params, "cursor": token}).json()
        seen += [item["source_job_id"] for item in page["items"]]
        token = page["next_cursor"]
    assert seen == before  # nothing skipped, repeated or slipped in
    fresh = every_page(client, params | {"limit": 100})
    assert len(fresh) > len(before)  # a new search sees the new window


def test_no_stale_read_after_a_load(client: TestClient, data: ApiData) -> None:
    first = client.get("/listings")
    version = first.json()["data_version"]
    # a change without a load is not seen: the answer comes from the cache
    with data.database.connect() as conn:
        conn.execute("UPDATE public.jobs_listings_data SET title = 'Changed quietly'")
    cached = client.get("/listings")
    assert cached.content == first.content
    assert (first.headers["x-cache"], cached.headers["x-cache"]) == ("miss", "hit")
    # a load bumps the version: the very next request sees the new data (the listings
    # it saw again have their recorded titles back; the expired ones keep the change)
    data.load_again()
    second = client.get("/listings", params={"status": "expired", "limit": 100})
    assert second.json()["data_version"] == version + 1
    assert "Changed quietly" in {item["title"] for item in second.json()["items"]}


def test_etag_gives_304_until_the_data_changes(client: TestClient, data: ApiData) -> None:
    response = client.get("/stats/postings")
    etag = response.headers["etag"]
    assert response.headers["cache-control"] == "public, no-cache"
    again = client.get("/stats/postings", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    data.load_again()
    changed = client.get("/stats/postings", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_one_listing_with_its_history_and_duplicates(client: TestClient, data: ApiData) -> None:
    (source, job_id, versions) = data.query(
        "SELECT source, source_job_id, count(*) FROM public.jobs_listings_history "
        "GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 1"
    )[0]
    body = client.get(f"/listings/{source}/{job_id}").json()
    listing = body["listing"]
    assert (listing["source"], listing["source_job_id"]) == (source, job_id)
    assert listing["description_text"] and listing["attribution"]["url"] == listing["job_url"]
    assert len(body["history"]) == versions
    assert all(
        "description_text" not in v and v["source_job_id"] == job_id for v in body["history"]
    )
    clustered = data.query(
        "SELECT source, source_job_id, duplicate_cluster_id FROM public.jobs_listings_data "
        "WHERE duplicate_cluster_id IS NOT NULL ORDER BY 3, 1, 2 LIMIT 1"
    )
    if clustered:  # the recordings hold a job posted twice
        source, job_id, cluster = clustered[0]
        others = data.query(
            "SELECT source_job_id FROM public.jobs_listings_data WHERE duplicate_cluster_id = %s "
            "AND (source, source_job_id) <> (%s, %s)",
            (cluster, source, job_id),
        )
        found = client.get(f"/listings/{source}/{job_id}").json()["duplicates"]
        assert {d["source_job_id"] for d in found} == {o for (o,) in others}
    # Himalayas ids are URLs: slashes and all, the id is one path parameter
    (url_id,) = data.query(
        "SELECT source_job_id FROM public.jobs_listings_data WHERE source = 'himalayas' "
        "AND source_job_id LIKE 'https://%%' LIMIT 1"
    )[0]
    by_url = client.get(f"/listings/himalayas/{url_id}")
    assert by_url.status_code == 200 and by_url.json()["listing"]["source_job_id"] == url_id


def test_the_salary_object_says_what_its_numbers_are(client: TestClient, data: ApiData) -> None:
    """Annual figures in the listing's currency and in USD; the period the source quoted
    (an hourly rate is not shown as $39,520 an hour)."""
    (source, job_id, low, high, currency, period) = data.query(
        "SELECT source, source_job_id, salary_min, salary_max, salary_currency, salary_period "
        "FROM public.jobs_listings_data WHERE salary_period NOT IN ('year') "
        "AND salary_max IS NOT NULL ORDER BY 1, 2 LIMIT 1"
    )[0]
    salary = client.get(f"/listings/{source}/{job_id}").json()["listing"]["salary"]
    assert set(salary) == {
        "min_annual", "max_annual", "currency", "min_usd_annual", "max_usd_annual",
        "original_period", "as_written",
    }  # fmt: skip
    assert salary["max_annual"] == float(high) and salary["currency"] == currency
    assert salary["original_period"] == period != "year"
    assert salary["min_annual"] == (float(low) if low is not None else None)
    assert "period" not in salary and "max" not in salary


def test_stats_postings_count_the_loaded_listings(client: TestClient, data: ApiData) -> None:
    body = client.get("/stats/postings", params={"posted_since": "2000-01-01"}).json()
    assert body["rows"] and body["marts_built_at"]
    # new listings per day and source: the listings first seen that day
    expected = Counter(
        (day.isoformat(), source)
        for source, day in data.query(
            "SELECT source, (first_seen_at AT TIME ZONE 'UTC')::date FROM public.jobs_listings_data"
        )
    )
    got = {(r["day"], r["source"]): r["new_listings"] for r in body["rows"] if r["new_listings"]}
    assert got == dict(expected)
    source = "remoteok"
    one = client.get("/stats/postings", params={"source": source, "posted_since": "2000-01-01"})
    assert {r["source"] for r in one.json()["rows"]} == {source}


def test_every_stats_endpoint_reads_the_dbt_built_marts_with_every_filter(
    client: TestClient, data: ApiData
) -> None:
    """Each column the API reads from a mart exists as dbt built it: every endpoint, with
    every filter (each filter reads one more column), answers 200 from the real build."""
    region, category, seniority = data.query(
        "SELECT region, category_normalised, seniority FROM marts.daily_postings "
        "CROSS JOIN LATERAL (SELECT 'Unknown' AS seniority) s LIMIT 1"
    )[0]
    filters = {
        "/stats/postings": {"source": "remoteok", "region": region, "category": category,
                            "posted_since": "2000-01-01"},
        "/stats/salaries": {"region": region, "category": category, "seniority": seniority},
    }  # fmt: skip
    for path, params in filters.items():
        for given in ({}, params):
            response = client.get(path, params=given)
            assert response.status_code == 200, (path, given, response.text)
    salaries = client.get("/stats/salaries").json()
    cells = data.query("SELECT count(*) FROM marts.salary_percentiles")[0][0]
    assert len(salaries["rows"]) == cells
    if cells:
        assert set(salaries["rows"][0]) >= {"p25_usd", "p50_usd", "p75_usd", "listings"}
        assert salaries["note"] is None and salaries["regions"]
    else:  # the recordings are too few for a cell of 5 listings: the answer says so
        assert salaries["note"] == queries.NO_SALARY_CELLS and salaries["regions"] == []


def test_salary_stats_have_rows_once_a_cell_has_five_listings(
    client: TestClient, data: ApiData
) -> None:
    """The salary mart, built by dbt from listings the pipeline loaded: five listings of one
    region, category and seniority with a salary make a cell, and /stats/salaries shows it
    (the listings' labels set as the identity step would set them)."""
    region, category = data.query(
        "SELECT region, category_normalised FROM public.jobs_listings_data WHERE status = "
        "'active' AND salary_max_usd IS NOT NULL AND is_canonical IS NOT FALSE "
        "GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1"
    )[0]
    with data.database.connect() as conn:
        chosen = conn.execute(
            "UPDATE public.jobs_listings_data SET seniority = 'Staff' WHERE (source, "
            "source_job_id) IN (SELECT source, source_job_id FROM public.jobs_listings_data "
            "WHERE status = 'active' AND salary_max_usd IS NOT NULL AND is_canonical IS NOT "
            "FALSE AND region = %s AND category_normalised IS NOT DISTINCT FROM %s "
            "ORDER BY source, source_job_id LIMIT 5) RETURNING 1",
            (region, category),
        ).rowcount
    assert chosen == 5, "the recordings have five salaried listings in one cell"
    try:
        data.build_marts()
        body = client.get("/stats/salaries", params={"seniority": "staff"}).json()
        assert [r["listings"] for r in body["rows"]] == [5]
        cell = body["rows"][0]
        assert cell["p25_usd"] <= cell["p50_usd"] <= cell["p75_usd"] and body["note"] is None
        assert [r["region"] for r in body["regions"]] == [region]
    finally:
        data.restore()
        data.build_marts()


def test_stats_are_never_older_than_the_last_marts_build(client: TestClient, data: ApiData) -> None:
    """The cache key carries the marts' build: a build after a load is seen at once."""
    since = {"posted_since": "2000-01-01"}
    first = client.get("/stats/postings", params=since)
    assert client.get("/stats/postings", params=since).headers["x-cache"] == "hit"
    added = data.load_again()
    after_load = client.get("/stats/postings", params=since)
    assert after_load.json()["marts_built_at"] == first.json()["marts_built_at"]
    try:
        data.build_marts()  # no load in between: the data version is the same
        rebuilt = client.get("/stats/postings", params=since)
        assert rebuilt.headers["x-cache"] == "miss"
        assert rebuilt.json()["data_version"] == after_load.json()["data_version"]
        assert rebuilt.json()["marts_built_at"] > first.json()["marts_built_at"]
        total = sum(r["new_listings"] for r in rebuilt.json()["rows"])
        assert total == sum(r["new_listings"] for r in first.json()["rows"]) + added
    finally:
        data.restore()
        data.build_marts()


def test_stats_without_marts_answer_503_with_what_to_do(api_data: ApiData) -> None:
    """A database the marts were never built in (a fresh install): a sentence, not a 500."""
    admin = psycopg.conninfo.make_conninfo(api_data.conninfo, dbname="postgres")
    name = f"{api_data.database.connect().info.dbname}_nomarts"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        conninfo = psycopg.conninfo.make_conninfo(api_data.conninfo, dbname=name)

        ensure_schema(conninfo)
        with TestClient(create_app(conninfo=conninfo)) as client:
            for path in ("/stats/postings", "/stats/salaries"):
                response = client.get(path)
                assert response.status_code == 503, response.text
                body = response.json()
                assert "not built yet" in body["message"] and "group:marts" in body["message"]
                assert set(body) == {"message", "parameter", "detail"}
            assert client.get("/listings").json()["items"] == []
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_healthz_reports_database_cache_and_latest_window(
    client: TestClient, data: ApiData
) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True, "error": None}
    assert body["cache"] == {"backend": "memory", "status": "ok"}
    (latest,) = data.query("SELECT partition_key FROM public.jobs_data_version")[0]
    assert body["data"]["latest_window"] == latest
    assert body["data"]["age_seconds"] >= 0
    assert datetime.fromisoformat(body["data"]["loaded_at"]) <= datetime.now(UTC)


def unreachable_database_app() -> FastAPI:
    """The API pointed at a port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return create_app(conninfo=f"host=127.0.0.1 port={port} dbname=none connect_timeout=1")


def test_healthz_says_down_with_503_when_the_database_is_unreachable() -> None:
    with TestClient(unreachable_database_app()) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down" and body["database"]["ok"] is False
    assert body["data"] is None and response.headers["cache-control"] == "no-store"


def test_a_database_outage_is_a_503_to_retry_in_the_error_shape() -> None:
    """Before: a bare `500 Internal Server Error` (text/plain) once the pool timed out."""
    with TestClient(unreachable_database_app()) as client:
        for path in ("/listings?q=python", "/stats/postings"):
            response = client.get(path)
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "30"
            assert response.headers["cache-control"] == "no-store"
            body = response.json()
            assert set(body) == {"message", "parameter", "detail"} and body["parameter"] is None
            assert body["message"].startswith("the database is unavailable (PoolTimeout)")
            assert "retry after 30 s" in body["message"]


def test_a_query_the_database_cancels_is_a_503(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def cancelled(conn: psycopg.Connection) -> dict:
        raise psycopg.errors.QueryCanceled("canceling statement due to statement timeout")

    monkeypatch.setattr(queries, "facets", cancelled)
    response = client.get("/facets")
    assert response.status_code == 503, response.text
    assert response.json()["message"].startswith(
        "the database did not answer in time (QueryCanceled)"
    )
    assert response.headers["retry-after"] == "30"


def test_a_role_that_cannot_read_the_build_stamp_is_never_served_old_stats(
    api_data: ApiData,
) -> None:
    """Without SELECT on analytics_intermediate the API cannot tell a marts build from
    the last: its /stats/* answers then come from the marts every time, never the cache."""
    role = f"jobs_api_reader_{uuid.uuid4().hex[:8]}"
    with api_data.database.connect(autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        conn.execute(f'GRANT USAGE ON SCHEMA public, marts TO "{role}"')
        conn.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA public, marts TO "{role}"')
    try:
        conninfo = psycopg.conninfo.make_conninfo(api_data.conninfo, user=role)
        with TestClient(create_app(conninfo=conninfo)) as client:
            answers = [client.get("/stats/salaries") for _ in range(2)]
            assert [a.status_code for a in answers] == [200, 200]
            assert [a.headers["x-cache"] for a in answers] == ["miss", "miss"]
            assert answers[0].json()["marts_built_at"] is None
            listings = [client.get("/listings") for _ in range(2)]  # the rest is cached
            assert [a.headers["x-cache"] for a in listings] == ["miss", "hit"]
    finally:
        with api_data.database.connect(autocommit=True) as conn:
            conn.execute(f'REVOKE ALL ON ALL TABLES IN SCHEMA public, marts FROM "{role}"')
            conn.execute(f'REVOKE USAGE ON SCHEMA public, marts FROM "{role}"')
            conn.execute(f'DROP ROLE "{role}"')
