"""`jobs mcp` driven by the MCP client over stdio, on what the pipeline loaded (conftest.py).

The server runs as a user's assistant would start it (`python -m jobs_assets.cli mcp`,
configured by PG* variables); every answer is compared with what the read API answers
for the same filters, read through the API itself.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from fastapi.testclient import TestClient
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from psycopg.conninfo import conninfo_to_dict

from jobs_assets.api.app import create_app
from jobs_assets.api.filters import SavedQuery
from jobs_assets.lib.listings import queries
from jobs_assets.lib.searches import store
from jobs_assets_tests.api.conftest import ApiData

TOOLS = {"search_listings", "get_listing", "salary_stats", "create_saved_search"}


def server_parameters(conninfo: str, folder: Path) -> StdioServerParameters:
    """The command an assistant's configuration names, pointed at the test database."""
    parts = conninfo_to_dict(conninfo)
    names = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD"}
    # the server this session uses (PG* here, or the embedded one's socket in conninfo)
    env = {k: v for k, v in os.environ.items() if k.startswith("PG")}
    env |= {names[k]: str(v) for k, v in parts.items() if k in names and v}
    env["PGDATABASE"] = str(parts["dbname"])
    env |= {
        "JOBS_DATA_DIR": str(folder / "data"),
        "JOBS_API_BASE_URL": "https://jobs.example.org",
        "JOBS_ALERT_ALLOW_PRIVATE": "on",  # the webhook below is on loopback
    }
    return StdioServerParameters(
        command=sys.executable, args=["-m", "jobs_assets.cli", "mcp"], env=env, cwd=folder
    )


async def session(
    parameters: StdioServerParameters, calls: list[tuple[str, Any]], errlog: TextIO = sys.stderr
) -> list:
    """The tools listed (name: input schema), then each call's result; the server's stderr
    goes to `errlog`."""
    async with Client(stdio_client(parameters, errlog), read_timeout_seconds=60) as client:
        listed = {tool.name: tool.input_schema for tool in (await client.list_tools()).tools}
        results = [await client.call_tool(name, arguments) for name, arguments in calls]
    return [listed, *results]


def answer(result: Any) -> dict:
    assert not result.is_error, result.content[0].text
    return result.structured_content


def error(result: Any) -> str:
    assert result.is_error, result.structured_content
    return result.content[0].text


def test_the_tools_answer_as_the_api_does(data: ApiData, tmp_path: Path) -> None:
    with TestClient(create_app(conninfo=data.conninfo)) as api:
        facets = api.get("/facets").json()
        region = facets["regions"][0]["value"]
        category = facets["categories"][0]["value"]
        filters = {"region": region, "limit": 3, "facets": "source,salary_band"}
        first = api.get("/listings", params=filters).json()
        second = api.get("/listings", params=filters | {"cursor": first["next_cursor"]}).json()
        searched = api.get("/listings", params={"q": "engineer", "sort": "relevance"}).json()
        top = first["items"][0]
        detail = api.get(f"/listings/{top['source']}/{top['source_job_id']}").json()
        salaries = api.get("/stats/salaries", params={"category": category}).json()
        # a country code in lower case, as the API takes it
        eligible = api.get("/listings", params={"eligible_in": "de", "q": ""}).json()
    assert first["next_cursor"] and first["facets"]["source"] and searched["items"]

    calls = [
        ("search_listings", filters),
        ("search_listings", filters | {"cursor": first["next_cursor"]}),
        ("search_listings", {"q": "engineer", "sort": "relevance"}),
        ("get_listing", {"source": top["source"], "source_job_id": top["source_job_id"]}),
        ("salary_stats", {"category": category}),
        ("search_listings", {"region": "x" * 65}),
        ("search_listings", {"sort": "relevance"}),
        ("search_listings", {"facets": "source,colour"}),
        ("get_listing", {"source": top["source"], "source_job_id": "no-such-id"}),
        ("search_listings", {"eligible_in": "de", "q": ""}),
    ]
    listed, *results = asyncio.run(session(server_parameters(data.conninfo, tmp_path), calls))
    assert listed.keys() == TOOLS
    assert answer(results[0]) == first
    assert answer(results[1]) == second
    assert answer(results[2]) == searched
    assert answer(results[3]) == detail
    assert answer(results[4]) == salaries
    # the API's validation, in the API's words
    assert "region" in error(results[5]) and "64 characters" in error(results[5])
    assert "sort=relevance needs a search query q" in error(results[6])
    assert "facets: unknown facet 'colour'" in error(results[7])
    assert f"no listing {top['source']}/no-such-id" in error(results[8])
    assert eligible["items"] and answer(results[9]) == eligible


def test_a_saved_search_is_stored_with_its_filters_checked(data: ApiData, tmp_path: Path) -> None:
    region = data.query("SELECT region FROM public.jobs_listings_data LIMIT 1")[0][0]
    good = {"query": {"region": region, "min_salary_usd": 80000}}
    calls = [
        ("create_saved_search", good | {"deliver": {"webhook_url": "https://127.0.0.1:9/hook"}}),
        ("create_saved_search", {"query": {"regoin": region}, "deliver": {"email": "a@b.org"}}),
        ("create_saved_search", good | {"deliver": {"webhook_url": "http://127.0.0.1:9/h"}}),
        ("create_saved_search", good | {"deliver": {}}),
        (
            "create_saved_search",
            {"query": {"salary_band": "lots"}, "deliver": {"email": "a@b.org"}},
        ),
        ("create_saved_search", good | {"deliver": {"webhook_url": "https://[::1/"}}),
    ]
    _, made, misspelt, plain_http, nowhere, bad_band, malformed = asyncio.run(
        session(server_parameters(data.conninfo, tmp_path), calls)
    )
    created = answer(made)
    assert created["feed_url"] == (
        f"https://jobs.example.org/searches/{created['id']}/feed.atom?token={created['token']}"
    )
    with data.database.connect() as conn:
        saved = store.get_search(conn, created["id"], created["token"])
        assert saved is not None and saved.query == good["query"]
        assert saved.deliver == {"webhook_url": "https://127.0.0.1:9/hook"}
        assert store.get_search(conn, created["id"], "not-the-token") is None
        assert store.delete_search(conn, created["id"], created["token"])
    assert "query.regoin: not a filter" in error(misspelt)
    assert "JOBS_ALERT_ALLOW_HTTP" in error(plain_http)  # the same check as at delivery
    assert "deliver: give a webhook_url, an email, or both" in error(nowhere)
    assert "query.salary_band" in error(bad_band)
    assert "deliver.webhook_url: the webhook URL is not a valid URL" in error(malformed)
    for band in queries.SALARY_BANDS:
        assert band in error(bad_band)


def test_a_delivery_is_checked_as_the_api_checks_it(data: ApiData, tmp_path: Path) -> None:
    """The tool takes the API's own `Deliver`: a NUL in the webhook URL (which PostgreSQL
    cannot store) and an address the API refuses are refused here too, naming the same
    field, before anything reaches the database; the server's log repeats no URL."""
    refused = [
        {"webhook_url": "https://1.1.1.1/x\u0000"},
        {"email": "a..b@example.org"},
        {"sms": "+4912345"},
    ]
    with TestClient(create_app(conninfo=data.conninfo)) as api:
        answers = [api.post("/searches", json={"deliver": d}) for d in refused]
    assert {a.status_code for a in answers} == {422}
    fields = [a.json()["parameter"] for a in answers]
    assert fields == ["deliver.webhook_url", "deliver.email", "deliver.sms"]

    calls = [("create_saved_search", {"query": {"q": "python"}, "deliver": d}) for d in refused]
    log = tmp_path / "server.log"
    with log.open("w") as errlog:
        _, *results = asyncio.run(
            session(server_parameters(data.conninfo, tmp_path), calls, errlog)
        )
    for field, result in zip(fields, results, strict=True):
        assert field in error(result)
    assert data.query("SELECT count(*) FROM public.jobs_saved_searches") == [(0,)]
    said = log.read_text()
    # its log names the tool and the fields, not the URL
    assert "'create_saved_search' failed" in said and "deliver.webhook_url" in said
    assert "Traceback" not in said and "1.1.1.1" not in said, said


def test_a_listing_whose_id_is_a_long_url_is_found_by_the_api_and_the_tools(
    data: ApiData, tmp_path: Path
) -> None:
    """Ingestion caps no id (Himalayas' ids are URLs): an id of 2,000 characters is found
    by GET /listings/{source}/{id} and get_listing alike; a longer one is refused by both."""
    longest = "https://himalayas.app/companies/acme/jobs/"
    longest += "x" * (2000 - len(longest))
    with data.database.connect() as conn:  # a copy of a loaded listing, under that id
        conn.execute(
            "CREATE TEMP TABLE long_id AS SELECT * FROM public.jobs_listings_data "
            "WHERE source = 'himalayas' ORDER BY source_job_id LIMIT 1"
        )
        conn.execute(
            "UPDATE long_id SET source_job_id = %s, duplicate_cluster_id = NULL, "
            "is_canonical = NULL",
            (longest,),
        )
        inserted = conn.execute("INSERT INTO public.jobs_listings_data SELECT * FROM long_id")
        assert inserted.rowcount == 1
    with TestClient(create_app(conninfo=data.conninfo)) as api:
        found = api.get(f"/listings/himalayas/{longest}")
        too_long = api.get(f"/listings/himalayas/{longest}x")
        # a page that ends on it gives a cursor the API takes back
        only = {"source": "himalayas", "status": "all", "sort": "newest"}
        pages, params = [], {**only, "limit": 1}
        while True:
            page = api.get("/listings", params=params)
            assert page.status_code == 200, page.text
            pages.append([i["source_job_id"] for i in page.json()["items"]])
            if not page.json()["next_cursor"]:
                break
            params = {**only, "limit": 1, "cursor": page.json()["next_cursor"]}
    assert [longest] in pages
    assert found.status_code == 200, found.text
    assert found.json()["listing"]["source_job_id"] == longest
    assert too_long.status_code == 422 and too_long.json()["parameter"] == "source_job_id"

    calls = [
        ("get_listing", {"source": "himalayas", "source_job_id": longest}),
        ("get_listing", {"source": "himalayas", "source_job_id": longest + "x"}),
    ]
    _, by_tool, refused = asyncio.run(session(server_parameters(data.conninfo, tmp_path), calls))
    assert answer(by_tool) == found.json()
    assert "source_job_id" in error(refused) and "2000 characters" in error(refused)


def test_a_name_no_tool_takes_is_refused_with_the_names_it_takes(
    data: ApiData, tmp_path: Path
) -> None:
    """A misspelt or invented argument is refused, never ignored (the tool would answer as
    if it had not been given): at the top of every tool and inside `query` and `deliver`,
    naming the names taken there once; the input schemas say so too."""
    region, source, source_job_id = data.query(
        "SELECT region, source, source_job_id FROM public.jobs_listings_data LIMIT 1"
    )[0]
    listing = {"source": source, "source_job_id": source_job_id}
    calls = [
        ("search_listings", {"regoin": region}),
        ("get_listing", listing | {"history": True}),
        ("salary_stats", {"region": region, "level": "senior"}),
        (
            "create_saved_search",
            {"query": {"region": region}, "deliver": {"email": "a@b.org"}, "notify": "daily"},
        ),
        ("create_saved_search", {"query": {"q": "python"}, "deliver": {"emial": "a@b.org"}}),
        ("search_listings", {f"filter_{n}": n for n in range(25)}),
    ]
    listed, *results = asyncio.run(session(server_parameters(data.conninfo, tmp_path), calls))
    said = [error(result) for result in results]

    assert {
        name: schema["additionalProperties"] for name, schema in listed.items()
    } == dict.fromkeys(TOOLS, False)
    filters = ", ".join(SavedQuery.model_fields)
    assert (
        "regoin: not an argument of search_listings "
        f"(its arguments: {filters}, sort, cursor, limit, facets)"
    ) in said[0]
    assert (
        "history: not an argument of get_listing (its arguments: source, source_job_id)"
        in (said[1])
    )
    assert (
        "level: not an argument of salary_stats (its arguments: region, category, seniority)"
        in (said[2])
    )
    assert (
        "notify: not an argument of create_saved_search (its arguments: query, deliver)"
        in (said[3])
    )
    assert "deliver.emial: not a field of deliver (its fields: webhook_url, email)" in said[4]
    # each name refused, the names taken said once, and at most as many problems as a 422
    assert said[5].count("its arguments:") == 1
    assert "filter_19: not an argument of search_listings; and 5 more problems" in said[5]
    assert data.query("SELECT count(*) FROM public.jobs_saved_searches") == [(0,)]


def test_a_value_of_another_json_type_is_refused_not_coerced(data: ApiData, tmp_path: Path) -> None:
    """A tool call is typed JSON (the API's query string is text by nature): true or "5"
    for a number is refused, naming the argument, where pydantic alone would read 1 and 5.
    5.0 is the number 5 (JSON Schema's integer), and an object sent as JSON text (as some
    clients send objects) is that object."""
    with TestClient(create_app(conninfo=data.conninfo)) as api:
        five = api.get("/listings", params={"limit": 5}).json()
    deliver = {"email": "a@b.org"}
    calls = [
        ("search_listings", {"limit": True}),
        ("search_listings", {"limit": "5"}),
        ("search_listings", {"min_salary_usd": "80000"}),
        ("search_listings", {"utc_offset": False}),
        ("create_saved_search", {"query": {"min_salary_usd": "80000"}, "deliver": deliver}),
        ("create_saved_search", {"query": {"min_salary_usd": 80000}, "deliver": "a@b.org"}),
        ("search_listings", {"limit": 5.0}),
        ("create_saved_search", {"query": '{"q": "python"}', "deliver": json.dumps(deliver)}),
    ]
    _, *results = asyncio.run(session(server_parameters(data.conninfo, tmp_path), calls))
    limit_true, limit_text, salary_text, offset_false, query_text, deliver_text = map(
        error, results[:6]
    )
    assert "limit: Value error, expected a number, not true or false" in limit_true
    assert "limit: Value error, expected a number, not a string" in limit_text
    assert "min_salary_usd: Value error, expected a number, not a string" in salary_text
    assert "utc_offset: Value error, expected a number, not true or false" in offset_false
    assert "query.min_salary_usd: Value error, expected a number, not a string" in query_text
    assert "deliver: Input should be an object" in deliver_text
    assert answer(results[6]) == five
    assert answer(results[7])["query"] == {"q": "python"}
    assert data.query("SELECT count(*) FROM public.jobs_saved_searches") == [(1,)]


def test_null_empty_and_out_of_range_arguments_are_refused_in_the_apis_words(
    data: ApiData, tmp_path: Path
) -> None:
    """null, empty and out-of-range values get the API's 422 message for the same
    parameter (never pydantic's report of a model the SDK made, or a traceback); what the
    API answers, the tool answers."""
    source, source_job_id = data.query(
        "SELECT source, source_job_id FROM public.jobs_listings_data LIMIT 1"
    )[0]
    refused = [
        ({"limit": 101}, {"limit": 101}),
        ({"limit": 0}, {"limit": 0}),
        ({"limit": -1}, {"limit": -1}),
        ({"limit": 10**30}, {"limit": 10**30}),
        ({"sort": ""}, {"sort": ""}),
        ({"source": ""}, {"source": ""}),
        ({"utc_offset": -13}, {"utc_offset": -13}),
        ({"posted_since": ""}, {"posted_since": ""}),
    ]
    unicode = {"q": "développeur 日本語", "region": "Europe"}
    with TestClient(create_app(conninfo=data.conninfo)) as api:
        said = [api.get("/listings", params=params).json()["message"] for params, _ in refused]
        too_long = api.get("/stats/salaries", params={"region": "x" * 65}).json()["message"]
        found = api.get("/listings", params=unicode).json()
    calls = [("search_listings", arguments) for _, arguments in refused] + [
        ("salary_stats", {"region": "x" * 65}),
        ("search_listings", {"limit": None}),
        ("search_listings", {"sort": None}),
        ("get_listing", {"source": None, "source_job_id": source_job_id}),
        ("get_listing", {"source": source, "source_job_id": ""}),
        ("get_listing", {"source": source}),
        ("create_saved_search", {"query": None, "deliver": {"email": "a@b.org"}}),
        ("search_listings", unicode),
    ]
    _, *results = asyncio.run(session(server_parameters(data.conninfo, tmp_path), calls))
    texts = [error(result) for result in results[:-1]]
    for text in texts:
        assert "validation error for" not in text and "errors.pydantic.dev" not in text, text
    for message, text in zip([*said, too_long], texts[:9], strict=True):
        assert message in text
    assert "limit: Input should be a valid integer" in texts[9]
    assert "sort: Input should be 'newest' or 'relevance'" in texts[10]
    assert "source: Input should be " in texts[11]
    assert "source_job_id: String should have at least 1 character" in texts[12]
    assert "source_job_id: Field required" in texts[13]
    assert "query: Input should be an object" in texts[14]
    assert answer(results[-1]) == found
