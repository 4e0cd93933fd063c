"""Saved searches in the API (issue 29): created, shown, deleted, refused, rate-limited,
never cached, never logged, and their Atom feed, on what the pipeline loaded.

The app runs in process on the package's database (conftest.py: two recorded windows
loaded by the ingestion assets, the marts built by dbt). The feed's duplicate cluster is
made through the pipeline too: a recording of the second window where Jobicy lists one
of Remotive's jobs (same title, company and text, posted later) is loaded by the
ingestion assets, whose identity step clusters the two.
"""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from xml.etree import ElementTree as ET

import feedparser
import httpx
import psycopg
import pytest
import redis
import uvicorn
from fastapi.testclient import TestClient
from psycopg import sql
from psycopg.conninfo import make_conninfo

from jobs_assets.api.__main__ import server_options
from jobs_assets.api.app import MAX_BODY_BYTES, create_app
from jobs_assets.api.feed import entry_id
from jobs_assets.api.searches import SearchConfig, rate_limit
from jobs_assets.lib.ops.targets import TargetPolicy
from jobs_assets.lib.searches import store
from jobs_assets.lib.searches.match import filters_for
from jobs_assets.replay import FIXTURES
from jobs_assets_tests.api.conftest import SECOND_RECORDINGS, ApiData, recordings
from jobs_assets_tests.api.test_cache import redis_server  # noqa: F401 (a fixture)

#: a public address as an IP literal: accepted without a DNS lookup (the tests are offline)
PUBLIC_HOOK = "https://93.184.215.14/hooks/jobs/s3cr3t-path"


@pytest.fixture
def api(data: ApiData) -> Iterator[TestClient]:
    """The app with its default policy (https, public targets only) and a tight limit."""
    config = SearchConfig(rate_limit=rate_limit(3, 3600))
    with TestClient(create_app(conninfo=data.conninfo, searches=config)) as client:
        yield client
    with psycopg.connect(data.conninfo, autocommit=True) as conn:
        conn.execute("DELETE FROM public.jobs_saved_searches")


def save(client: TestClient, query: dict | None = None, **deliver: str) -> dict:
    response = client.post("/searches", json={"query": query or {}, "deliver": deliver})
    assert response.status_code == 201, response.text
    return response.json()


def listing_rows(data: ApiData, where: str = "true", params: tuple = ()) -> list[dict]:
    with data.database.connect() as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(
            "SELECT source, source_job_id, title, company_name, region, job_url, status, "
            f"duplicate_cluster_id, is_canonical FROM public.jobs_listings_data WHERE {where}",
            params,
        ).fetchall()


# --- create, show, delete -------------------------------------------------------------


def test_a_search_is_created_shown_and_deleted(api: TestClient, data: ApiData) -> None:
    region = listing_rows(data, "status = 'active' AND region IS NOT NULL")[0]["region"]
    query = {"q": "engineer", "region": region.lower(), "country": "de", "min_salary_usd": "50000"}
    made = save(api, query, email="alerts@example.org")
    # stored as validated: the region and country as the listings spell them, the salary a
    # number
    expected = {"q": "engineer", "region": region, "country": "DE", "min_salary_usd": 50000}
    assert made["query"] == expected
    assert made["deliver"] == {"email": "alerts@example.org"}
    assert made["feed_url"] == (
        f"http://testserver/searches/{made['id']}/feed.atom?token={made['token']}"
    )
    stored = data.query(
        "SELECT token_sha256, query, client_hash FROM public.jobs_saved_searches "
        "WHERE search_id = %s",
        (made["id"],),
    )
    assert stored == [(store.token_hash(made["token"]), expected, stored[0][2])]
    assert made["token"] not in json.dumps(stored) and "testclient" not in stored[0][2]

    shown = api.get(f"/searches/{made['id']}", params={"token": made["token"]})
    assert shown.status_code == 200
    assert shown.headers["cache-control"] == "no-store"
    assert shown.json() == {k: made[k] for k in ("id", "query", "deliver", "created_at")}
    assert made["token"] not in shown.text

    deleted = api.delete(f"/searches/{made['id']}", params={"token": made["token"]})
    assert deleted.status_code == 204
    assert data.query("SELECT count(*) FROM public.jobs_saved_searches") == [(0,)]
    gone = api.get(f"/searches/{made['id']}", params={"token": made["token"]})
    assert gone.status_code == 404


def test_a_wrong_or_missing_token_and_an_unknown_id_get_the_same_404(api: TestClient) -> None:
    made = save(api, {"q": "python"})
    answers = [
        api.get(f"/searches/{made['id']}", params={"token": "not-the-token"}),
        api.get(f"/searches/{made['id']}"),
        api.get(f"/searches/{uuid.uuid4().hex}", params={"token": made["token"]}),
        api.get("/searches/NOT-AN-ID%20at%20all", params={"token": made["token"]}),
        api.get(f"/searches/{made['id']}", params={"token": "x\x00" + "y" * 5000}),
        api.get(f"/searches/{made['id']}/feed.atom", params={"token": made["token"][:-1]}),
        api.delete(f"/searches/{made['id']}", params={"token": "not-the-token"}),
        api.delete(f"/searches/{uuid.uuid4().hex}", params={"token": made["token"]}),
    ]
    assert {a.status_code for a in answers} == {404}
    assert len({a.text for a in answers}) == 1
    body = answers[0].json()
    assert set(body) == {"message", "parameter", "detail"} and "token" in body["message"]
    # the search is still there for its owner
    assert api.get(f"/searches/{made['id']}", params={"token": made["token"]}).status_code == 200


# --- validation: the filters of /listings, the same rules -------------------------------


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({"query": {"region": "x" * 65}}, "query.region"),
        ({"query": {"source": "monster"}}, "query.source"),
        ({"query": {"min_salary_usd": -1}}, "query.min_salary_usd"),
        ({"query": {"country": "DEU"}}, "query.country"),
        ({"query": {"posted_since": "0"}}, "query.posted_since"),
        ({"query": {"posted_since": 0}}, "query.posted_since"),  # not a Unix time
        ({"query": {"q": "a\x00b"}}, "query.q"),
        ({"query": {"colour": "blue"}}, "query.colour"),  # not a filter of /listings
        ({"query": {"limit": 5}}, "query.limit"),  # a page size, not a filter
        ({"deliver": {"email": "not-an-address"}}, "deliver.email"),
        ({"deliver": {"sms": "+4912345"}}, "deliver.sms"),
        ({"query": []}, "query"),
    ],
)
def test_invalid_filters_and_deliveries_are_a_422_naming_the_field(
    api: TestClient, body: dict, parameter: str
) -> None:
    response = api.post("/searches", json=body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["parameter"] == parameter
    assert problem["message"].startswith(f"{parameter}: ")


def test_a_body_that_is_not_json_is_a_422_naming_the_body(api: TestClient) -> None:
    response = api.post(
        "/searches", content=b'{"query": {', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["parameter"] == "body"
    assert response.json()["message"].startswith("body: JSON decode error")


def test_the_same_filter_is_refused_alike_by_listings_and_by_a_saved_search(
    api: TestClient,
) -> None:
    for name, value in (("region", "x" * 65), ("min_salary_usd", "-1"), ("source", "monster")):
        listing = api.get("/listings", params={name: value}).json()
        saved = api.post("/searches", json={"query": {name: value}}).json()
        assert listing["parameter"] == name and saved["parameter"] == f"query.{name}"
        assert listing["message"] == saved["message"].removeprefix("query.")


#: filters no listing can ever match, what the 422 says of each: a search saved with one
#: was accepted and never told its owner anything, and the page showed nothing, unexplained
NEVER_MATCHED = [
    ("q", "the and of", "only words the full-text search ignores (English stop words: the"),
    ("q", "IT", "(English stop words: it)"),
    ("region", "Mars", "North America, Latin America, Europe, Africa, Asia, Oceania, Worldwide"),
    ("country", "ZZ", "not an ISO 3166 alpha-2 country code"),
    ("category", "engineering", "Software Development, Data & Analytics"),
    ("seniority", "staff", "entry, mid, senior, manager, director, executive"),
    ("job_type", "full time job", "full_time, part_time, contract, freelance, internship"),
    ("min_salary_usd", "5000000", "less than or equal to 2000000"),
    ("posted_since", "9999-12-31", "too far ahead: no listing is posted then; give a day up"),
]


@pytest.mark.parametrize(("name", "value", "says"), NEVER_MATCHED)
def test_a_filter_no_listing_can_match_is_a_422_on_the_page_and_for_a_saved_search(
    api: TestClient, data: ApiData, name: str, value: str, says: str
) -> None:
    listing = api.get("/listings", params={name: value})
    saved = api.post("/searches", json={"query": {name: value}})
    assert listing.status_code == saved.status_code == 422, (listing.text, saved.text)
    assert listing.json()["parameter"] == name and saved.json()["parameter"] == f"query.{name}"
    assert says in listing.json()["message"]
    assert listing.json()["message"] == saved.json()["message"].removeprefix("query.")
    assert data.query("SELECT count(*) FROM public.jobs_saved_searches") == [(0,)]


def test_labels_are_read_in_any_case_and_spelling_as_the_listings_spell_them(
    api: TestClient, data: ApiData
) -> None:
    """`job_type=FULL-TIME` is `full_time` on the page, in a saved search and in what its
    matcher compares (before: no listing on the page, and a search stored as written that
    the matcher, comparing job types exactly, never matched); a region, a category and a
    seniority in any case likewise, and a q with a real word among stop words is a search."""
    (job_type, category), *_ = data.query(
        "SELECT job_type, category_normalised FROM public.jobs_listings_data "
        "WHERE status = 'active' AND job_type IS NOT NULL AND category_normalised <> '' "
        "GROUP BY 1, 2 ORDER BY count(*) DESC, 1, 2"
    )
    written = {"job_type": job_type.replace("_", "-").upper(), "category": category.upper()}
    exact = api.get("/listings", params={"job_type": job_type, "category": category, "limit": 100})
    assert exact.json()["items"]
    typed = api.get("/listings", params={**written, "limit": 100})
    assert typed.json()["items"] == exact.json()["items"]
    made = save(api, written)
    assert made["query"] == {"job_type": job_type, "category": category}
    assert filters_for(made["query"]).job_type == job_type  # what the matcher compares
    for params in ({"region": "north-america"}, {"seniority": "SENIOR"}, {"q": "the python"}):
        assert api.get("/listings", params=params).status_code == 200, params
    latest = date(datetime.now(UTC).year + 1, 12, 31).isoformat()
    assert api.get("/listings", params={"posted_since": latest}).status_code == 200


def test_an_empty_filter_is_no_filter_on_the_page_the_feed_and_the_matcher(
    api: TestClient,
) -> None:
    """`?q=` and `"seniority": ""` are filters not given, alike everywhere: an empty `q`
    once matched nothing on the page and the feed and everything in the webhook."""
    empty = {"q": "", "seniority": " ", "region": ""}
    everything = api.get("/listings", params={"limit": 50}).json()["items"]
    assert everything
    assert api.get("/listings", params={**empty, "limit": 50}).json()["items"] == everything
    made = save(api, empty)
    assert made["query"] == {}
    entries = parse(api.get(made["feed_url"])).entries
    assert [e.link for e in entries] == [item["job_url"] for item in everything]
    assert filters_for(empty) == filters_for({})  # what the matcher announces


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("https://127.0.0.1/hook", "loopback"),
        ("https://10.1.2.3/hook", "JOBS_ALERT_ALLOW_PRIVATE=on"),
        ("https://[::1]:8443/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("http://93.184.215.14/hook", "JOBS_ALERT_ALLOW_HTTP=on"),
        ("ftp://93.184.215.14/hook", "https://"),
        ("https://user:pw@93.184.215.14/hook", "user name or password"),
        ("https://[::1/", "not a valid URL"),
        ("https://93.184.215.14:0/hook", "port"),
        ("https://[64:ff9b::a00:1]/hook", "private"),
        ("https://[2002:a00:1::1]/hook", "private"),
    ],
)
def test_unsafe_webhook_targets_are_refused_at_creation(
    api: TestClient, data: ApiData, url: str, says: str
) -> None:
    response = api.post("/searches", json={"deliver": {"webhook_url": url}})
    assert response.status_code == 422
    problem = response.json()
    assert problem["parameter"] == "deliver.webhook_url"
    assert says in problem["message"]
    assert url not in response.text  # the URL may hold a secret: never repeated
    assert data.query("SELECT count(*) FROM public.jobs_saved_searches") == [(0,)]


def test_a_webhook_host_whose_name_servers_never_answer_is_a_prompt_422(data: ApiData) -> None:
    """The lookup never returns (a name server that drops queries): the request is
    answered once the policy's time limit passes, naming the field, and nothing is kept."""
    release = threading.Event()

    def never_answers(host: str, port: int, **kwargs: object) -> list:
        release.wait(60)
        raise OSError("no answer")

    policy = TargetPolicy(resolve_seconds=0.3, lookup=never_answers)
    try:
        with TestClient(
            create_app(conninfo=data.conninfo, searches=SearchConfig(policy=policy))
        ) as client:
            response = client.post(
                "/searches", json={"deliver": {"webhook_url": "https://hooks.slow.example/h"}}
            )
    finally:
        release.set()
    assert response.status_code == 422
    problem = response.json()
    assert problem["parameter"] == "deliver.webhook_url"
    assert "did not resolve within 0.3 s" in problem["message"]
    assert data.query("SELECT count(*) FROM public.jobs_saved_searches") == [(0,)]


def test_a_deployment_may_allow_http_and_private_targets(data: ApiData) -> None:
    config = SearchConfig(policy=TargetPolicy(allow_http=True, allow_private=True))
    with TestClient(create_app(conninfo=data.conninfo, searches=config)) as client:
        made = save(client, {}, webhook_url="http://127.0.0.1:9/hook")
        assert made["deliver"] == {"webhook_url": "http://127.0.0.1:9/hook"}
        public = save(client, {"q": "data"}, webhook_url=PUBLIC_HOOK)
        assert public["deliver"]["webhook_url"] == PUBLIC_HOOK
    with psycopg.connect(data.conninfo, autocommit=True) as conn:
        conn.execute("DELETE FROM public.jobs_saved_searches")


# --- bodies: bounded in size, and in what a 422 says ---------------------------------

JSON = {"Content-Type": "application/json"}


def search_body(size: int) -> bytes:
    """A valid search's JSON, blanks after it up to `size` bytes."""
    body = json.dumps({"query": {"q": "python"}, "deliver": {"email": "a@b.org"}}).encode()
    return body + b" " * (size - len(body))


def test_a_body_over_64_kib_is_a_413_before_it_is_read(api: TestClient, data: ApiData) -> None:
    """A body over the limit is refused by its Content-Length, or by its bytes as they
    stream in without one; the body of the report (1,000,000 unknown filters, 18.8 MB:
    15.7 s and a 146 MB 422 before) is refused at once. A body at the limit is taken."""
    flood = json.dumps({"query": {f"k{n}": 1 for n in range(1_000_000)}}).encode()
    started = time.monotonic()
    answers = [
        api.post("/searches", content=flood, headers=JSON),
        api.post("/searches", content=search_body(MAX_BODY_BYTES + 1), headers=JSON),
        # chunks without a Content-Length, the second crossing the limit
        api.post("/searches", content=iter([b" " * MAX_BODY_BYTES, b"{}"]), headers=JSON),
    ]
    assert time.monotonic() - started < 5
    for response in answers:
        assert response.status_code == 413, response.text[:200]
        problem = response.json()
        assert set(problem) == {"message", "parameter", "detail"}
        assert problem["parameter"] == "body"
        assert "64 KiB" in problem["message"]
    assert data.query("SELECT count(*) FROM public.jobs_saved_searches") == [(0,)]
    taken = api.post("/searches", content=search_body(MAX_BODY_BYTES), headers=JSON)
    assert taken.status_code == 201, taken.text


def test_a_thousand_unknown_filters_get_a_short_422_naming_the_first(api: TestClient) -> None:
    response = api.post("/searches", json={"query": {f"k{n}": 1 for n in range(1000)}})
    assert response.status_code == 422
    assert len(response.content) < 8_000
    problem = response.json()
    assert problem["parameter"] == "query.k0"
    assert problem["message"].startswith("query.k0: Extra inputs are not permitted; query.k1:")
    assert problem["message"].endswith("and 980 more problems")
    assert [d["loc"] for d in problem["detail"]] == [["body", "query", f"k{n}"] for n in range(20)]


# --- rate limit -----------------------------------------------------------------------


def test_creation_is_rate_limited_per_client_address(api: TestClient, data: ApiData) -> None:
    made = [save(api, {"q": f"python {n}"}) for n in range(3)]
    gone = made.pop()  # deleting a search gives no new allowance
    assert api.delete(f"/searches/{gone['id']}", params={"token": gone["token"]}).status_code == 204
    refused = api.post("/searches", json={"query": {"q": "one too many"}})
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 3600
    problem = refused.json()
    assert set(problem) == {"message", "parameter", "detail"}
    assert "at most 3 saved searches per 60 minutes" in problem["message"]
    assert data.query("SELECT count(*) FROM public.jobs_saved_searches") == [(2,)]
    # another address has its own allowance
    config = SearchConfig(rate_limit=rate_limit(3, 3600))
    app = create_app(conninfo=data.conninfo, searches=config)
    with TestClient(app, client=("203.0.113.7", 50000)) as other:
        save(other, {"q": "another address"})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running(config: uvicorn.Config) -> Iterator[str]:
    """uvicorn serving `config` in a thread until the block ends: its base URL."""
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://{config.host}:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.mark.parametrize("proxies", [None, "127.0.0.1"])
def test_forwarded_headers_are_read_only_from_the_proxies_named(
    data: ApiData, proxies: str | None
) -> None:
    """uvicorn as `python -m jobs_assets.api` (and `jobs api`) runs it: a local client's
    X-Forwarded-For and X-Forwarded-Proto are its own words, so it cannot take another
    address's allowance or make the links https; they count once FORWARDED_ALLOW_IPS
    names the proxy that sends them."""
    app = create_app(conninfo=data.conninfo, searches=SearchConfig(rate_limit=rate_limit(1, 3600)))
    env = {"FORWARDED_ALLOW_IPS": proxies} if proxies else {}
    options = server_options(["--port", str(free_port())], app=app, env=env)
    body = {"query": {"q": "python"}, "deliver": {"email": "a@b.org"}}
    with running(uvicorn.Config(**options)) as base:
        first, second = [
            httpx.post(
                f"{base}/searches",
                json=body,
                headers={"X-Forwarded-For": client, "X-Forwarded-Proto": "https"},
            )
            for client in ("198.51.100.1", "198.51.100.2")
        ]
    assert first.status_code == 201, first.text
    if proxies:  # two clients behind the proxy, each with its allowance; the proxy's https
        assert second.status_code == 201, second.text
        assert first.headers["location"].startswith(f"https://{base.removeprefix('http://')}/")
        assert first.json()["feed_url"].startswith("https://")
    else:  # one client, whatever it says: the limit holds, the links are its own http
        assert second.status_code == 429, second.text
        assert first.headers["location"].startswith(f"{base}/searches/")
        assert first.json()["feed_url"].startswith(f"{base}/searches/")


def test_links_start_with_the_apis_base_url_whatever_host_the_client_names(
    data: ApiData,
) -> None:
    """With `JOBS_API_BASE_URL`, the feed URL, `Location` and a feed's page link are the
    API's own, not built from a `Host` header a client chose (a link to another host,
    token included, handed to whoever reads the answer)."""
    config = SearchConfig(base_url="https://jobs.example.org/api/")
    with TestClient(create_app(conninfo=data.conninfo, searches=config)) as client:
        forged = {"Host": "evil.example"}
        made = client.post("/searches", json={"query": {"q": "python"}}, headers=forged)
        assert made.status_code == 201, made.text
        feed_url = made.json()["feed_url"]
        assert feed_url.startswith("https://jobs.example.org/api/searches/")
        assert made.headers["location"].startswith("https://jobs.example.org/api/searches/")
        feed = client.get(feed_url.removeprefix("https://jobs.example.org/api"), headers=forged)
    assert feed.status_code == 200 and "evil.example" not in feed.text
    assert 'href="https://jobs.example.org/api/"' in feed.text  # the search page


# --- never cached ---------------------------------------------------------------------


def test_saved_searches_never_reach_the_cache(
    data: ApiData,
    redis_server: tuple[str, subprocess.Popen],  # noqa: F811
) -> None:
    url = redis_server[0]
    with TestClient(create_app(conninfo=data.conninfo, redis_url=url)) as client:
        assert client.get("/listings").headers["x-cache"] == "miss"
        made = save(client, {"q": "engineer"})
        params = {"token": made["token"]}
        for _ in range(2):
            shown = client.get(f"/searches/{made['id']}", params=params)
            feed = client.get(f"/searches/{made['id']}/feed.atom", params=params)
            assert shown.status_code == feed.status_code == 200
            assert "x-cache" not in shown.headers and "x-cache" not in feed.headers
        keys = [k.decode() for k in redis.Redis.from_url(url).keys("*")]
        assert keys and all("/listings" in k for k in keys), keys
        assert client.delete(f"/searches/{made['id']}", params=params).status_code == 204
        assert client.get(f"/searches/{made['id']}", params=params).status_code == 404
        assert client.get(f"/searches/{made['id']}/feed.atom", params=params).status_code == 404


# --- the Atom feed --------------------------------------------------------------------


def parse(response: httpx.Response) -> feedparser.FeedParserDict:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def check_required_elements(parsed: feedparser.FeedParserDict, feed_url: str) -> None:
    """RFC 4287: a feed has id, title, updated and (ours) a self link; so does each entry,
    with an author (the company) and a link back to the job."""
    feed = parsed.feed
    assert feed.id.startswith("urn:uuid:") and feed.title and feed.updated_parsed
    assert [link.href for link in feed.links if link.rel == "self"] == [feed_url]
    for entry in parsed.entries:
        assert entry.id.startswith("urn:uuid:") and entry.title and entry.updated_parsed
        assert entry.author
        alternate = [link.href for link in entry.links if link.rel == "alternate"]
        assert len(alternate) == 1 and alternate[0].startswith("http")


def test_the_feed_holds_the_newest_matches_of_listings_one_per_job(
    api: TestClient, data: ApiData
) -> None:
    region = listing_rows(data, "status = 'active' AND region IS NOT NULL")[0]["region"]
    made = save(api, {"region": region})
    parsed = parse(api.get(made["feed_url"]))
    check_required_elements(parsed, made["feed_url"])

    # the same listings as GET /listings with the same filter, in the same order
    shown = api.get("/listings", params={"region": region, "limit": 50}).json()["items"]
    assert shown
    assert [e.link for e in parsed.entries] == [item["job_url"] for item in shown]
    assert [e.title for e in parsed.entries] == [item["title"] for item in shown]
    assert [e.author for e in parsed.entries] == [item["company"] for item in shown]
    for entry, item in zip(parsed.entries, shown, strict=True):
        job = item["duplicate_cluster_id"] or f"{item['source']}:{item['source_job_id']}"
        assert entry.id == entry_id(job)
        name = item["attribution"]["source_name"]
        assert f"Listing from {name}" in entry.summary  # the board's attribution
        assert item["company"] in entry.summary
        if item["salary"]["max_usd_annual"] is not None:
            assert f"${round(item['salary']['max_usd_annual']):,}" in entry.summary
    assert len({e.id for e in parsed.entries}) == len(parsed.entries)  # one entry per job


def test_the_feed_is_at_most_50_entries_and_conditional(api: TestClient) -> None:
    made = save(api, {})  # every active job
    first = api.get(made["feed_url"])
    parsed = parse(first)
    assert len(parsed.entries) == 50
    etag = first.headers["etag"]
    # the tag alone, in a list, weak, or `*` (any representation): the reader has it
    for held in (etag, f'"other", {etag}', f"W/{etag}", "*"):
        again = api.get(made["feed_url"], headers={"If-None-Match": held})
        assert again.status_code == 304, held
        assert again.headers["etag"] == etag and not again.content
    # a tag of other bytes, or a prefix of this one (not a substring match): the feed
    for other in ('"other"', etag[:-3] + '"', etag[1:-1]):
        changed = api.get(made["feed_url"], headers={"If-None-Match": other})
        assert changed.status_code == 200 and changed.content == first.content, other


def test_control_characters_in_a_listing_leave_the_feed_valid_xml(
    api: TestClient, data: ApiData
) -> None:
    """XML 1.0 forbids most C0 controls even escaped; a board's title or company holding
    one (a vertical tab, an escape) is shown without it, and the feed still parses."""
    newest = api.get("/listings", params={"limit": 1}).json()["items"][0]
    with data.database.connect() as conn:
        conn.execute(
            "UPDATE public.jobs_listings_data SET title = %s, company_name = %s "
            "WHERE source = %s AND source_job_id = %s",
            (
                "Zyzzyva\u000b Backend\u0001 Engineer\ufffe",
                "Acme\u001b Corp\u0008",
                newest["source"],
                newest["source_job_id"],
            ),
        )
    response = api.get(save(api, {})["feed_url"])
    ET.fromstring(response.content)  # strict: a forbidden character is an error
    parsed = parse(response)
    (entry,) = [e for e in parsed.entries if e.link == newest["job_url"]]
    assert entry.title == "Zyzzyva Backend Engineer" and entry.author == "Acme Corp"
    assert "Company: Acme Corp." in entry.summary


def jobicy_twin_of(remotive_job: dict, job_id: str) -> dict:
    """Jobicy's record of a Remotive job: the same title, company and text, an hour later."""
    posted = datetime.fromisoformat(remotive_job["publication_date"]) + timedelta(hours=1)
    slug = f"{job_id}-{remotive_job['title'].lower().replace(' ', '-')[:40]}"
    return {
        "id": job_id,
        "url": f"https://jobicy.com/jobs/{slug}",
        "jobSlug": slug,
        "jobTitle": remotive_job["title"],
        "companyName": remotive_job["company_name"],
        "companyLogo": "",
        "jobIndustry": "['Software Engineering']",
        "jobType": "['full-time']",
        "jobGeo": remotive_job["candidate_required_location"],
        "jobLevel": "Any",
        "jobExcerpt": remotive_job["description"][:200],
        "jobDescription": remotive_job["description"],
        "pubDate": posted.strftime("%Y-%m-%d %H:%M:%S"),
    }


@pytest.fixture
def cross_board_cluster(data: ApiData) -> dict:
    """One Remotive job also listed on Jobicy, loaded through the pipeline (the second
    window again, with that Jobicy record added): the two listings, clustered."""
    remotive = json.loads((FIXTURES / "remotive.json").read_text())["jobs"]
    job = next(j for j in remotive if len(j["description"]) > 500)
    folder = data.tmp / f"twin-{uuid.uuid4().hex[:6]}"
    fixtures = recordings(folder / "fixtures", SECOND_RECORDINGS)
    document = json.loads((fixtures / "jobicy.json").read_text())
    twin_id = f"9{job['id']}"
    document["jobs"].append(jobicy_twin_of(job, twin_id))
    (fixtures / "jobicy.json").write_text(json.dumps(document))
    assert data._load(folder, fixtures) == 1  # the Jobicy twin, through the ingestion assets
    rows = {
        r["source"]: r
        for r in listing_rows(
            data,
            "(source, source_job_id) IN (('remotive', %s), ('jobicy', %s))",
            (str(job["id"]), twin_id),
        )
    }
    assert rows["remotive"]["duplicate_cluster_id"] == rows["jobicy"]["duplicate_cluster_id"]
    assert rows["remotive"]["is_canonical"] and not rows["jobicy"]["is_canonical"]
    return rows


def test_a_job_on_two_boards_is_one_entry_with_the_other_board_as_a_related_link(
    api: TestClient, cross_board_cluster: dict
) -> None:
    canonical, twin = cross_board_cluster["remotive"], cross_board_cluster["jobicy"]
    made = save(api, {"q": f'"{canonical["title"]}"'})
    parsed = parse(api.get(made["feed_url"]))
    check_required_elements(parsed, made["feed_url"])
    ours = [e for e in parsed.entries if e.id == entry_id(canonical["duplicate_cluster_id"])]
    assert len(ours) == 1
    entry = ours[0]
    assert entry.link == canonical["job_url"]
    related = [(link.href, link.get("title")) for link in entry.links if link.rel == "related"]
    assert related == [(twin["job_url"], "Jobicy")]
    assert all(e.link != twin["job_url"] for e in parsed.entries)  # never an entry of its own
    assert "Listing from Remotive" in entry.summary
    assert "Also listed on" in entry.content[0].value and "Jobicy" in entry.content[0].value


def test_a_job_matched_by_its_twin_alone_is_in_the_feed_as_the_webhook_announces_it(
    api: TestClient, cross_board_cluster: dict
) -> None:
    """The matcher announces a cluster when any member matches; the feed shows the same
    jobs: here only the non-canonical Jobicy copy matches `source=jobicy`, and the entry
    is still the job (its canonical listing, the Jobicy copy as the related link)."""
    canonical, twin = cross_board_cluster["remotive"], cross_board_cluster["jobicy"]
    made = save(api, {"source": "jobicy", "q": f'"{canonical["title"]}"'})
    parsed = parse(api.get(made["feed_url"]))
    check_required_elements(parsed, made["feed_url"])
    (entry,) = parsed.entries
    assert entry.id == entry_id(canonical["duplicate_cluster_id"])
    assert entry.link == canonical["job_url"]
    related = [(link.href, link.get("title")) for link in entry.links if link.rel == "related"]
    assert related == [(twin["job_url"], "Jobicy")]


def test_the_feed_is_the_newest_50_jobs_when_clusters_take_several_matches(
    api: TestClient, data: ApiData
) -> None:
    """Every matching listing of a cluster counts once: 50 entries of 50 different jobs,
    the newest first, even when the newest listings are all copies of a few jobs."""
    newest = [
        (i["source"], i["source_job_id"])
        for i in api.get("/listings", params={"limit": 60}).json()["items"]
    ]
    with data.database.connect() as conn:  # the 20 newest: copies of 4 jobs, 5 each
        for n, (source, job_id) in enumerate(newest[:20]):
            lead = newest[n - n % 5]
            conn.execute(
                "UPDATE public.jobs_listings_data SET duplicate_cluster_id = %s, "
                "is_canonical = %s WHERE source = %s AND source_job_id = %s",
                (f"{lead[0]}:{lead[1]}", n % 5 == 0, source, job_id),
            )
    parsed = parse(api.get(save(api, {})["feed_url"]))
    assert len(parsed.entries) == 50 == len({e.id for e in parsed.entries})
    shown = api.get("/listings", params={"limit": 50}).json()["items"]
    assert [e.link for e in parsed.entries[:4]] == [i["job_url"] for i in shown[:4]]
    assert all(
        len([link for link in e.links if link.rel == "related"]) == 4 for e in parsed.entries[:4]
    )


# --- nothing of a token reaches a log -------------------------------------------------


def test_the_access_log_of_a_real_request_masks_the_token(
    data: ApiData, capfd: pytest.CaptureFixture[str]
) -> None:
    app = create_app(conninfo=data.conninfo)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=free_port(), log_level="info", access_log=True
    )
    with running(config) as base:
        made = httpx.post(
            f"{base}/searches", json={"query": {"q": "python"}, "deliver": {"email": "a@b.org"}}
        ).json()
        token = made["token"]
        assert httpx.get(made["feed_url"]).status_code == 200
        assert httpx.get(f"{base}/searches/{made['id']}?token={token}").status_code == 200
        assert httpx.get(f"{base}/searches/{made['id']}?token=wrong").status_code == 404
        # the name percent-encoded: the server reads it as `token` (and the log must too)
        feed = f"{base}/searches/{made['id']}/feed.atom"
        for spelt in ("%74oken", "tok%65n", "%74%6F%6B%65%6E"):
            assert httpx.get(f"{feed}?{spelt}={token}").status_code == 200, spelt
        assert httpx.get(f"{feed}?%2574oken={token}").status_code == 404  # encoded twice
        assert httpx.delete(f"{base}/searches/{made['id']}?token={token}").status_code == 204
    out, err = capfd.readouterr()
    log = out + err
    print(log)
    assert f'/searches/{made["id"]}/feed.atom?token=*** HTTP/1.1" 200' in log
    assert f'DELETE /searches/{made["id"]}?token=*** HTTP/1.1" 204' in log
    for spelt in ("%74oken", "tok%65n", "%74%6F%6B%65%6E"):
        assert f'/feed.atom?{spelt}=*** HTTP/1.1" 200' in log, spelt
    assert '/feed.atom?%2574oken=*** HTTP/1.1" 404' in log  # masking too much is safe
    assert token not in log and "wrong" not in log
    assert logging.getLogger("uvicorn.access").filters  # the filter survived uvicorn's set-up


# --- the deployment's role: SELECT, INSERT, DELETE on the searches, nothing else --------


@pytest.fixture
def api_role(data: ApiData) -> Iterator[str]:
    """A login role made as the deployment makes the API's (read-only sessions, SELECT on
    the tables), then granted what saved searches need by `store.grant_api_role`."""
    role = f"jobs_api_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(data.conninfo, autocommit=True) as conn:
        ident = sql.Identifier(role)
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'api-pw'").format(ident))
        conn.execute(sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(ident))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(ident))
        conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(ident))
        store.grant_api_role(conn, role)
    try:
        yield make_conninfo(data.conninfo, user=role, password="api-pw")
    finally:
        with psycopg.connect(data.conninfo, autocommit=True) as conn:
            conn.execute("DELETE FROM public.jobs_saved_searches")
            ident = sql.Identifier(role)
            conn.execute(sql.SQL("DROP OWNED BY {}").format(ident))
            conn.execute(sql.SQL("DROP ROLE {}").format(ident))


def test_the_api_role_may_save_and_delete_searches_and_write_nothing_else(
    api_role: str, data: ApiData
) -> None:
    with TestClient(create_app(conninfo=api_role)) as client:
        made = save(client, {"q": "engineer"})
        with psycopg.connect(data.conninfo, autocommit=True) as conn:  # the delivery's rows
            conn.execute(
                "INSERT INTO public.jobs_search_deliveries (search_id, window_key, channel, "
                "idempotency_key, payload, listing_count) VALUES (%s, 'w', 'webhook', %s, "
                "'{}', 0)",
                (made["id"], uuid.uuid4().hex),
            )
        params = {"token": made["token"]}
        assert client.get(f"/searches/{made['id']}", params=params).status_code == 200
        parse(client.get(made["feed_url"]))
        assert client.delete(f"/searches/{made['id']}", params=params).status_code == 204
    assert data.query("SELECT count(*) FROM public.jobs_search_deliveries") == [(0,)]
    with psycopg.connect(api_role, autocommit=True) as conn:
        conn.execute("SET default_transaction_read_only = off")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE public.jobs_saved_searches SET query = '{}'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM public.jobs_listings_data")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM public.jobs_search_deliveries")
