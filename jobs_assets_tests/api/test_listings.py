"""The read API against a real PostgreSQL: filters, search, pagination, cache, errors.

Every test runs the application in process (FastAPI's TestClient) on a scratch database
with the API's schema (api_schema_shim) and listings written the way a load writes them.
"""

from __future__ import annotations

import socket
from datetime import timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient

from jobs_assets.api.app import create_app
from jobs_assets_tests.api.listings_data import (
    WINDOW,
    listing,
    load,
)


def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["source_job_id"] for item in response.json()["items"]]


def test_default_listing_is_active_canonical_newest_first_with_attribution(
    client: TestClient, api_db: str
) -> None:
    rows = [listing(i) for i in range(6)]
    rows[2] |= {"status": "expired", "expired_at": WINDOW}
    rows[3] |= {"duplicate_cluster_id": "c1", "is_canonical": True}
    rows[4] |= {"duplicate_cluster_id": "c1", "is_canonical": False}
    load(api_db, rows, "2026-11-30-00:00")

    response = client.get("/listings")
    assert ids(response) == ["job-00000", "job-00001", "job-00003", "job-00005"]
    for item in response.json()["items"]:
        source_name = {"remotive": "Remotive", "jobicy": "Jobicy", "himalayas": "Himalayas"}
        assert item["attribution"]["source_name"] == source_name[item["source"]]
        assert item["attribution"]["url"] == item["job_url"]
        assert item["job_url"].startswith(f"https://{item['source']}.example/jobs/")
    assert response.json()["next_cursor"] is None

    everything = client.get("/listings", params={"status": "all", "include_duplicates": True})
    assert ids(everything) == [f"job-{i:05d}" for i in range(6)]
    assert ids(client.get("/listings", params={"status": "expired"})) == ["job-00002"]


def test_each_filter_narrows_the_results(client: TestClient, api_db: str) -> None:
    rows = [listing(i) for i in range(24)]
    load(api_db, rows, "2026-11-30-00:00")
    everything = ids(client.get("/listings", params={"limit": 100}))
    assert len(everything) == 24

    def expect(params: dict, keep) -> None:
        wanted = [r["source_job_id"] for r in rows if keep(r)]
        assert wanted and len(wanted) < 24, params  # the filter is a real test
        assert ids(client.get("/listings", params={"limit": 100, **params})) == wanted, params

    expect({"source": "jobicy"}, lambda r: r["source"] == "jobicy")
    expect({"region": "Europe"}, lambda r: r["region"] == "Europe")
    expect({"country": "de"}, lambda r: "DE" in r["countries"])
    expect({"category": "data"}, lambda r: r["category_normalised"] == "data")
    expect({"seniority": "senior"}, lambda r: r["seniority"] == "senior")
    expect({"job_type": "contract"}, lambda r: r["job_type"] == "contract")
    expect({"posted_since": "2026-11-30"}, lambda r: r["published_at"] >= WINDOW)

    # the annual USD maximum, or the minimum when no maximum is given
    def annual(r: dict) -> float | None:
        return r["salary_max_usd"] if r["salary_max_usd"] is not None else r["salary_min_usd"]

    expect({"min_salary_usd": 95_000}, lambda r: (annual(r) or 0) >= 95_000)
    only_min = [r for r in rows if r["salary_max_usd"] is None and r["salary_min_usd"]]
    assert only_min  # a listing with a minimum only is judged by it
    found = ids(client.get("/listings", params={"min_salary_usd": 50_000, "limit": 100}))
    assert {r["source_job_id"] for r in only_min} <= set(found)
    combined = {"source": "remotive", "region": "Europe", "seniority": "senior"}
    expect(combined, lambda r: all(r[k] == v for k, v in combined.items()))


def test_full_text_search_weights_title_above_description(client: TestClient, api_db: str) -> None:
    rows = [listing(i) for i in range(5)]
    rows[0] |= {"title": "Office manager", "description_text": "Our stack: Rust and Elixir"}
    rows[3] |= {"title": "Rust Engineer", "description_text": "Systems work"}
    rows[4] |= {"title": "Plumber", "company_name": "Rustic Pipes", "tags": ["rust"]}
    load(api_db, rows, "2026-11-30-00:00")

    newest = client.get("/listings", params={"q": "rust"})
    assert ids(newest) == ["job-00000", "job-00003", "job-00004"]
    relevant = ids(client.get("/listings", params={"q": "rust", "sort": "relevance"}))
    assert relevant[0] == "job-00003" and relevant[-1] == "job-00000"
    assert ids(client.get("/listings", params={"q": "rust -elixir"})) == ["job-00003", "job-00004"]
    assert ids(client.get("/listings", params={"q": '"rust engineer"'})) == ["job-00003"]


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
def test_nothing_in_q_changes_the_query(client: TestClient, api_db: str, q: str) -> None:
    load(api_db, [listing(i) for i in range(3)], "2026-11-30-00:00")
    for sort in ("newest", "relevance"):
        response = client.get("/listings", params={"q": q, "sort": sort})
        assert response.status_code == 200, response.text
        assert response.json()["items"] == []
    with psycopg.connect(api_db) as conn:
        assert conn.execute("SELECT count(*) FROM public.jobs_listings_data").fetchone()[0] == 3


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
    ],
)
def test_bad_parameters_get_422_naming_the_parameter(
    client: TestClient, params: dict, parameter: str
) -> None:
    response = client.get("/listings", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["message"].startswith(f"{parameter}:"), response.json()


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


def test_a_cursor_only_fits_the_query_it_came_from(client: TestClient, api_db: str) -> None:
    load(api_db, [listing(i) for i in range(5)], "2026-11-30-00:00")
    token = client.get("/listings", params={"limit": 2}).json()["next_cursor"]
    assert token
    response = client.get("/listings", params={"limit": 2, "cursor": token, "source": "jobicy"})
    assert response.status_code == 422
    assert "cursor: " in response.json()["message"] and "different query" in response.text


@pytest.mark.parametrize("sort", ["newest", "relevance"])
def test_pages_stay_stable_while_a_new_window_loads(
    client: TestClient, api_db: str, sort: str
) -> None:
    load(api_db, [listing(i) for i in range(25)], "2026-11-30-00:00")
    params = {"limit": 10, "sort": sort, "q": "engineer" if sort == "relevance" else None}
    params = {k: v for k, v in params.items() if v is not None}
    before = ids(client.get("/listings", params={**params, "limit": 100}))
    assert len(before) == 25

    first = client.get("/listings", params=params).json()
    # the next window: newer listings, and late ones published before the first page's rows
    later = WINDOW + timedelta(hours=1)
    new_rows = [
        listing(100 + i, published_at=WINDOW + timedelta(hours=i - 20), first_seen_at=later)
        for i in range(30)
    ]
    load(api_db, new_rows, "2026-11-30-01:00")

    seen = [item["source_job_id"] for item in first["items"]]
    token = first["next_cursor"]
    while token:
        page = client.get("/listings", params={**params, "cursor": token}).json()
        seen += [item["source_job_id"] for item in page["items"]]
        token = page["next_cursor"]
    assert seen == before  # nothing skipped, repeated or slipped in
    fresh = ids(client.get("/listings", params={**params, "limit": 100}))
    assert len(fresh) == 55  # a new search sees the new window


def test_no_stale_read_after_a_load(client: TestClient, api_db: str) -> None:
    version = load(api_db, [listing(i) for i in range(3)], "2026-11-30-00:00")
    first = client.get("/listings")
    assert first.json()["data_version"] == version
    # a change without a load is not seen: the answer comes from the cache
    with psycopg.connect(api_db) as conn:
        conn.execute("UPDATE public.jobs_listings_data SET title = 'Changed quietly'")
    cached = client.get("/listings")
    assert cached.content == first.content
    assert (first.headers["x-cache"], cached.headers["x-cache"]) == ("miss", "hit")
    # a load bumps the version: the very next request sees the new data
    newer = load(api_db, [listing(50, published_at=WINDOW + timedelta(hours=2))], "k2")
    second = client.get("/listings")
    assert second.json()["data_version"] == newer == version + 1
    assert ids(second)[0] == "job-00050"
    assert {item["title"] for item in second.json()["items"][1:]} == {"Changed quietly"}


def test_etag_gives_304_until_the_data_changes(client: TestClient, api_db: str) -> None:
    load(api_db, [listing(i) for i in range(3)], "2026-11-30-00:00")
    response = client.get("/stats/postings")
    etag = response.headers["etag"]
    assert response.headers["cache-control"] == "public, no-cache"
    again = client.get("/stats/postings", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    load(api_db, [listing(9)], "k2")
    changed = client.get("/stats/postings", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_one_listing_with_its_history_and_duplicates(client: TestClient, api_db: str) -> None:
    rows = [listing(i) for i in range(3)]
    rows[0] |= {"duplicate_cluster_id": "c9", "is_canonical": True}
    rows[1] |= {"duplicate_cluster_id": "c9", "is_canonical": False}
    load(api_db, rows, "2026-11-30-00:00")
    with psycopg.connect(api_db) as conn:
        history = [  # whichever columns the history table has, as the pipeline would copy them
            name
            for (name,) in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                "'public' AND table_name = 'jobs_listings_history' ORDER BY ordinal_position"
            )
            if name not in ("valid_from", "valid_to", "row_hash")
        ]
        conn.execute(
            f"INSERT INTO public.jobs_listings_history ({', '.join(history)}, valid_from, "
            f"valid_to, row_hash) SELECT {', '.join(history)}, first_seen_at, last_seen_at, "
            "'h1' FROM public.jobs_listings_data WHERE source_job_id = 'job-00000'"
        )
    body = client.get(f"/listings/{rows[0]['source']}/job-00000").json()
    assert body["listing"]["description_text"] == rows[0]["description_text"]
    assert body["listing"]["attribution"]["url"] == rows[0]["job_url"]
    (version,) = body["history"]
    assert version["row_hash"] == "h1" and version["title"] == rows[0]["title"]
    assert "description_text" not in version
    (duplicate,) = body["duplicates"]
    assert duplicate["source_job_id"] == "job-00001"
    assert duplicate["attribution"]["source_name"] == "Jobicy"
    alone = client.get(f"/listings/{rows[2]['source']}/job-00002").json()
    assert alone["history"] == [] and alone["duplicates"] == []
    # Himalayas ids are URLs: slashes and all, the id is one path parameter
    url_id = "https://himalayas.app/companies/acme/jobs/data-engineer-42"
    load(api_db, [listing(7, source="himalayas", source_job_id=url_id)], "k2")
    by_url = client.get(f"/listings/himalayas/{url_id}")
    assert by_url.status_code == 200 and by_url.json()["listing"]["source_job_id"] == url_id
    missing = client.get("/listings/remotive/nope")
    assert missing.status_code == 404 and "remotive/nope" in missing.text


def test_stats_from_the_marts_with_filters(client: TestClient) -> None:
    rows = client.get("/stats/postings").json()["rows"]
    assert len(rows) == 30  # 10 days x 3 sources, regions summed
    day = next(r for r in rows if r["day"] == "2026-11-30" and r["source"] == "jobicy")
    assert day == {
        "day": "2026-11-30",
        "source": "jobicy",
        "new_listings": 2 * (9 + 1),
        "active_listings": 2 * 109,
        "expired_listings": 2,
    }
    europe = client.get(
        "/stats/postings",
        params={"region": "Europe", "source": "jobicy", "posted_since": "2026-11-29"},
    ).json()["rows"]
    assert [(r["day"], r["new_listings"]) for r in europe] == [
        ("2026-11-29", 9),
        ("2026-11-30", 10),
    ]

    salaries = client.get("/stats/salaries", params={"region": "Europe"}).json()
    assert {r["category_normalised"] for r in salaries["rows"]} == {"engineering", "data"}
    (europe_summary,) = salaries["regions"]
    # listing-weighted mean of the medians: (10 * 75,000 + 11 * 80,000) / 21
    assert europe_summary["median_usd"] == pytest.approx((10 * 75_000 + 11 * 80_000) / 21)
    data = client.get("/stats/salaries", params={"category": "data"}).json()
    assert len(data["rows"]) == len(data["regions"]) == 4


def test_healthz_reports_database_cache_and_latest_window(client: TestClient, api_db: str) -> None:
    load(api_db, [listing(0)], "2026-11-30-06:00")
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True, "error": None}
    assert body["cache"] == {"backend": "memory", "status": "ok"}
    assert body["data"]["latest_window"] == "2026-11-30-06:00"
    assert 0 <= body["data"]["age_seconds"] < 60


def test_healthz_says_down_with_503_when_the_database_is_unreachable(tmp_path) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(conninfo=f"host=127.0.0.1 port={port} dbname=none connect_timeout=1")
    with TestClient(app) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down" and body["database"]["ok"] is False
    assert body["data"] is None and response.headers["cache-control"] == "no-store"
