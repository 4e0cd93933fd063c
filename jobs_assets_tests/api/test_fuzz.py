"""Forged input at the read API: whatever a client sends, a 200 or a 422 that names the
parameter, never a 5xx.

Hypothesis writes the input: cursors with every kind of JSON inside (ranks of 1e300 and
integers of 309 digits, lone surrogates and NUL in the ids, times at the ends of the
calendar) and every query parameter of every endpoint. The requests go to the real app
on the package's database (recorded windows loaded by the pipeline, marts built by dbt).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jobs_assets.api import cursor
from jobs_assets.api.app import create_app
from jobs_assets.lib.listings import queries
from jobs_assets_tests.api.conftest import ApiData

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
#: any text, lone surrogates and NUL included
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.sampled_from([1e300, -1e300, 10**308, 3.5e38, 3.4e38, 1e-300, 5e-324, 0.0, -0.0]),
)
TIMES = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda t: t.isoformat()),
    st.datetimes().map(lambda t: t.isoformat()),
    st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "now", ""]),
    ANY_TEXT,
)
JSON_LEAVES = st.one_of(st.none(), st.booleans(), NUMBERS, ANY_TEXT, TIMES)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def client(api_data: ApiData) -> Iterator[TestClient]:
    api_data.restore()
    with TestClient(create_app(conninfo=api_data.conninfo)) as test_client:
        yield test_client


def get(client: TestClient, path: str, params: dict[str, str]):
    """GET with `params` as a client's bytes: any text, lone surrogates too, goes out
    percent-encoded (the server then sees bytes that are not UTF-8)."""
    query = "&".join(
        f"{quote(name)}={quote(value, safe='', errors='surrogatepass')}"
        for name, value in params.items()
    )
    return client.get(f"{path}?{query}" if query else path)


def token(document: object) -> str:
    raw = json.dumps(document, separators=(",", ":")).encode("utf-8", "surrogatepass")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def digest_for(params: dict) -> str:
    """The digest the app computes for `params` (the cursor's own query)."""
    fields = {
        "q": None, "source": None, "region": None, "country": None, "category": None,
        "seniority": None, "job_type": None, "min_salary_usd": None, "posted_since": None,
        "status": "active", "include_duplicates": False,
    }  # fmt: skip
    return cursor.query_digest(fields | params)


def assert_answered(response, parameter: str | None = None) -> None:
    assert response.status_code in (200, 422), (response.status_code, response.text)
    if response.status_code == 422:
        body = response.json()
        assert body["parameter"] and body["message"].startswith(f"{body['parameter']}:"), body
        if parameter is not None:
            assert body["parameter"] == parameter, body


@pytest.mark.parametrize(
    "sort, rank",
    [("relevance", 1e300), ("relevance", int("9" * 309)), ("relevance", 1e-300)],
)
def test_forged_ranks_are_a_422_naming_the_cursor(client: TestClient, sort: str, rank) -> None:
    """Before: 1e300 failed in PostgreSQL (`::real` overflow) and a 309-digit integer in
    cursor.decode (OverflowError), both as 500s."""
    params = {"q": "engineer", "sort": sort}
    forged = {"s": sort, "d": digest_for({"q": "engineer", "sort": sort}), "t": None}
    forged["k"] = [rank, "remotive", "1"]
    response = get(client, "/listings", params | {"cursor": token(forged)})
    assert_answered(response, "cursor")


@FUZZ
@given(
    sort=st.sampled_from(["newest", "relevance"]),
    rank=NUMBERS | TIMES | JSON_VALUES,
    snapshot=st.none() | TIMES | JSON_VALUES,
    source=ANY_TEXT | JSON_VALUES,
    job_id=ANY_TEXT | JSON_VALUES,
)
def test_a_forged_cursor_gets_200_or_a_422_naming_it(
    client: TestClient, sort: str, rank, snapshot, source, job_id
) -> None:
    """Cursors that fit the query (so the codec's checks are all that stands between
    their contents and the SQL)."""
    params = {"q": "engineer", "sort": sort}
    forged = {"s": sort, "d": digest_for(params), "t": snapshot, "k": [rank, source, job_id]}
    response = get(client, "/listings", params | {"cursor": token(forged)})
    assert_answered(response, "cursor")


@FUZZ
@example(document=None, raw=b"\xff\xfe", text="\ud800")
@given(document=JSON_VALUES, raw=st.binary(max_size=80), text=ANY_TEXT)
def test_any_cursor_bytes_get_200_or_a_422(
    client: TestClient, document: object, raw: bytes, text: str
) -> None:
    for forged in (token(document), base64.urlsafe_b64encode(raw).decode(), text):
        assert_answered(get(client, "/listings", {"cursor": forged}), "cursor")


def test_the_codec_refuses_what_it_never_issues() -> None:
    digest = digest_for({"sort": "relevance"})
    for rank in (1e300, int("9" * 309), float("nan"), float("inf"), -1.0, True, "1"):
        forged = token({"s": "relevance", "d": digest, "t": None, "k": [rank, "a", "b"]})
        with pytest.raises(cursor.CursorError):
            cursor.decode(forged, "relevance", digest)
    for source in ("a\x00b", "\ud800"):
        forged = token({"s": "relevance", "d": digest, "t": None, "k": [0.5, source, "b"]})
        with pytest.raises(cursor.CursorError):
            cursor.decode(forged, "relevance", digest)
    # and reads back what it issued: the rank as the `real` PostgreSQL returned
    issued = cursor.encode("relevance", digest, None, (0.1, "remotive", "1"))
    _, (rank, *_) = cursor.decode(issued, "relevance", digest)
    assert rank == pytest.approx(0.1, rel=1e-7)


TEXT_PARAMETER = ANY_TEXT | st.sampled_from(["", " ", "%", "'", "Europe", "europe", "x" * 300])
NUMBER_PARAMETER = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats().map(str),
    TEXT_PARAMETER,
)
DAY_PARAMETER = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["0000-01-01", "9999-12-31", "2026-02-30", "2026-13-01", "1-1-1"]),
    TEXT_PARAMETER,
)
LISTINGS = {
    "q": TEXT_PARAMETER,
    "source": st.sampled_from(["remotive", "remoteok", "REMOTIVE"]) | TEXT_PARAMETER,
    "region": TEXT_PARAMETER,
    "country": st.sampled_from(["de", "US", "ÄÖ"]) | TEXT_PARAMETER,
    "category": TEXT_PARAMETER,
    "seniority": TEXT_PARAMETER,
    "job_type": TEXT_PARAMETER,
    "min_salary_usd": NUMBER_PARAMETER,
    "posted_since": DAY_PARAMETER,
    "status": st.sampled_from(["active", "expired", "all"]) | TEXT_PARAMETER,
    "include_duplicates": st.sampled_from(["true", "false", "1", "0"]) | TEXT_PARAMETER,
    "sort": st.sampled_from(["newest", "relevance"]) | TEXT_PARAMETER,
    "limit": NUMBER_PARAMETER,
}
ENDPOINTS = {
    "/listings": LISTINGS,
    "/stats/postings": {k: LISTINGS[k] for k in ("source", "region", "category", "posted_since")},
    "/stats/salaries": {k: LISTINGS[k] for k in ("region", "category", "seniority")},
    "/facets": {},
}


@FUZZ
@given(
    data=st.data(),
    path=st.sampled_from(sorted(ENDPOINTS)),
)
def test_every_query_parameter_gets_200_or_a_422_naming_it(
    client: TestClient, data: st.DataObject, path: str
) -> None:
    parameters = ENDPOINTS[path]
    names = data.draw(st.lists(st.sampled_from(sorted(parameters) or ["x"]), unique=True))
    params = {name: data.draw(parameters.get(name, TEXT_PARAMETER), label=name) for name in names}
    response = get(client, path, params)
    assert_answered(response)
    if response.status_code == 422:
        assert response.json()["parameter"].split(".")[0] in params


@pytest.mark.parametrize("value", ["\ud800", "a\x00", "\udcff\ud800x"])
@pytest.mark.parametrize(
    "path, parameter",
    [(path, name) for path, names in ENDPOINTS.items() for name in names],
)
def test_bytes_that_are_not_utf8_in_any_parameter(
    client: TestClient, path: str, parameter: str, value: str
) -> None:
    """A lone surrogate percent-encoded (%ED%A0%80) is not UTF-8: a 422 or an answer."""
    assert_answered(get(client, path, {parameter: value}))


@FUZZ
@given(source=TEXT_PARAMETER, job_id=TEXT_PARAMETER)
@example(source="..", job_id="")  # found by this test: the client's /listings/../ is /
@example(source="remotive", job_id="a/../..")
@example(source=".", job_id=".")
def test_any_listing_path_gets_200_404_or_422(client: TestClient, source: str, job_id: str) -> None:
    # dots encoded too, as a client sending "." or ".." as a value must: a bare dot
    # segment is resolved by the client first (/listings/../ is the page at /)
    path = f"/listings/{quote(source, safe='', errors='surrogatepass')}/".replace(".", "%2E")
    path += quote(job_id, safe="/", errors="surrogatepass").replace(".", "%2E")
    response = client.get(path)
    assert response.status_code in (200, 404, 422), (response.status_code, response.text)
    assert set(response.json()) >= {"message", "parameter"} or response.status_code == 200


#: PostgreSQL's web-search operators and what separates them, for runs of each
OPERATORS = ["-", "!", "|", "&", "(", ")", "<->", "<", ">", ":*", '"', "'", "or ", "OR "]
SEPARATORS = ["", " ", "  ", ",", "."]
OPERATOR_RUNS = st.builds(
    lambda head, ops, sep, count, tail: (head + sep.join(ops) * count + tail)[:200],
    st.sampled_from(["", "python ", '"data engineer" ', "a or "]),
    st.lists(st.sampled_from(OPERATORS), min_size=1, max_size=3),
    st.sampled_from(SEPARATORS),
    st.integers(min_value=1, max_value=200),
    st.sampled_from(["", " python", "x", '"']),
)


@pytest.mark.parametrize(
    "q",
    ["-" * 33, "-" * 200, "- " * 40, "-!" * 40, "(-" * 40, "a " + "- " * 31 + "b", "-ü" * 40],
)
def test_a_long_run_of_exclusions_is_a_422_naming_q(client: TestClient, q: str) -> None:
    """Before: 33 '-' in a row failed in PostgreSQL ("tsquery stack too small") as a 500,
    and a saved search with it failed in its feed."""
    for sort in ("newest", "relevance"):
        response = get(client, "/listings", {"q": q, "sort": sort})
        assert response.status_code == 422, response.text
        assert response.json()["parameter"] == "q"
        assert "'-' with no word between them" in response.json()["message"]
    saved = client.post("/searches", json={"query": {"q": q}})
    assert saved.status_code == 422, saved.text
    assert saved.json()["parameter"].split(".")[-1] == "q"


@pytest.mark.parametrize("q", ["-" * 16, "-" * 16 + "x" + "-" * 16, "x-y-z " * 30, "!" * 200])
def test_fewer_exclusions_in_a_row_are_searched(client: TestClient, q: str) -> None:
    assert get(client, "/listings", {"q": q, "sort": "relevance"}).status_code == 200


def test_a_search_the_database_cannot_parse_is_a_422_naming_q(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second guard: were the check above to let a deep q through, the database's
    refusal is still the client's q, not a 500."""
    monkeypatch.setattr(queries, "MAX_NEGATIONS_IN_A_ROW", 1000)
    response = get(client, "/listings", {"q": "-" * 40})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["parameter"] == "q" and body["message"].startswith("q: the search could not")
    assert "tsquery stack too small" in body["message"]


@FUZZ
@example(q="-" * 33)
@example(q="!" * 200)
@example(q="|" * 200)
@example(q="&" * 200)
@example(q="(" * 200)
@example(q="- " * 100)
@given(q=OPERATOR_RUNS)
def test_runs_of_search_operators_get_200_or_a_422_naming_q(client: TestClient, q: str) -> None:
    for sort in ("newest", "relevance"):
        assert_answered(get(client, "/listings", {"q": q, "sort": sort}), "q")
