"""The search page in headless Chromium, served by uvicorn from the real app.

Driven over the DevTools protocol like the Dagster UI test (test_browser.py), on what the
pipeline loaded and dbt built (conftest.py): the page must list the listings with a link
back to each source, draw both charts from the stats endpoints, label every control,
offer the labels that exist in the region and category boxes, search from the keyboard
alone, and say in a sentence when a chart has nothing to show or its mart is not built.
A screenshot is saved under the test's tmp dir and its path printed.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest
import uvicorn
from fastapi.testclient import TestClient
from psycopg.conninfo import make_conninfo

from jobs_assets.api.app import create_app
from jobs_assets.lib.schema.migrate import ensure_schema
from jobs_assets_tests.api.conftest import ApiData
from jobs_assets_tests.api.test_searches import free_port, running
from jobs_assets_tests.test_browser import Page, browser, chromium

TIMEOUT = 30.0


@contextmanager
def serving(conninfo: str) -> Iterator[str]:
    """The app under uvicorn on a free port, on the database of `conninfo`."""
    app = create_app(conninfo=conninfo)
    with running(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")
    ) as url:
        yield url


@pytest.fixture(scope="module")
def api_url(api_data: ApiData) -> Iterator[str]:
    api_data.restore()
    with serving(api_data.conninfo) as url:
        yield url


@pytest.fixture(scope="module")
def expected(api_data: ApiData) -> dict:
    """What the API answers, read through its own endpoints (the page must show it)."""
    with TestClient(create_app(conninfo=api_data.conninfo)) as client:
        return {
            "first_page": client.get("/listings").json()["items"],
            "postings": client.get("/stats/postings").json(),
            "salaries": client.get("/stats/salaries").json(),
            "facets": client.get("/facets").json(),
        }


@pytest.fixture
def no_marts_url(api_data: ApiData) -> Iterator[str]:
    """A database migrated but never built by dbt (a fresh install), served."""
    name = f"jobs_api_nomarts_{uuid.uuid4().hex[:8]}"
    admin = make_conninfo(api_data.conninfo, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        conninfo = make_conninfo(api_data.conninfo, dbname=name)
        ensure_schema(conninfo)
        with serving(conninfo) as url:
            yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def evaluate(page: Page, expression: str) -> object:
    result = page.call("Runtime.evaluate", expression=expression, returnByValue=True)
    return result["result"].get("value")


def wait_for(page: Page, expression: str, what: str) -> object:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        value = evaluate(page, expression)
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(
        f"the page never showed {what}:\n{evaluate(page, 'document.body.innerText')}"
    )


def key(page: Page, name: str, code: int, text: str = "") -> None:
    for kind in ("keyDown", "keyUp"):
        page.call(
            "Input.dispatchKeyEvent",
            type=kind,
            key=name,
            code=name,
            windowsVirtualKeyCode=code,
            text=text if kind == "keyDown" else "",
        )


def test_search_page_lists_attributed_listings_and_draws_both_charts(
    api_url: str, expected: dict, tmp_path: Path
) -> None:
    binary = chromium()
    assert binary, "Chromium is required for the page test (apt-get install chromium)"
    first_page = expected["first_page"]
    sources = {r["source"] for r in expected["postings"]["rows"]}
    regions = [r for r in expected["salaries"]["regions"] if r["median_usd"] is not None]
    assert first_page and sources
    with browser(binary) as page:
        page.call("Page.navigate", url=api_url + "/")
        count = len(first_page)
        wait_for(
            page,
            f"document.querySelectorAll('#results li').length === {count}",
            f"{count} listings",
        )
        wait_for(
            page,
            f"document.querySelectorAll('#postings-chart polyline').length === {len(sources)}",
            "one line per source",
        )
        if regions:
            wait_for(
                page,
                f"document.querySelectorAll('#salary-chart rect').length === {len(regions)}",
                "one bar per region",
            )
        else:  # too few salaries for a cell: the page says why, as the API does
            note = expected["salaries"]["note"]
            wait_for(
                page,
                f"document.getElementById('salary-chart').innerText === {json.dumps(note)}",
                "the note",
            )

        links = json.loads(
            evaluate(
                page,
                """JSON.stringify([...document.querySelectorAll('#results li')]
            .map(li => [li.querySelector('a.title').href, li.querySelector('.attribution').innerText,
                        li.querySelector('.attribution a').href]))""",
            )
        )
        top = first_page[0]
        assert links[0][1] == f"Listing from {top['attribution']['source_name']}"
        assert links[0][0] == links[0][2] and links[0][0].startswith("http")
        assert all(title == source for title, _, source in links)
        unlabelled = evaluate(
            page,
            """[...document.querySelectorAll('input, select')]
            .filter(e => !e.labels || !e.labels.length).map(e => e.id).join(',')""",
        )
        assert unlabelled == ""
        assert evaluate(
            page, "document.querySelector('#postings-chart svg').getAttribute('aria-labelledby')"
        )

        # the region and category boxes offer the labels listings carry (GET /facets)
        for box, name in (("region-values", "regions"), ("category-values", "categories")):
            offered = json.loads(
                wait_for(
                    page,
                    f"document.querySelectorAll('#{box} option').length && JSON.stringify("
                    f"[...document.querySelectorAll('#{box} option')].map(o => o.value))",
                    f"the {name} offered",
                )
            )
            assert offered == [f["value"] for f in expected["facets"][name]]
        seniorities = json.loads(
            evaluate(
                page,
                "JSON.stringify([...document.querySelectorAll('#seniority option')]"
                ".map(o => o.value))",
            )
        )
        assert seniorities == ["", *(f["value"] for f in expected["facets"]["seniorities"])]
        assert evaluate(page, "document.getElementById('region').getAttribute('list')")
        assert (
            evaluate(page, "document.getElementById('category').placeholder")
            == (expected["facets"]["categories"][0]["value"])
        )

        # keyboard only: Tab lands in the search box, type, Enter searches
        key(page, "Tab", 9)
        assert evaluate(page, "document.activeElement.id") == "q"
        page.call("Input.insertText", text="engineer")
        key(page, "Enter", 13, "\r")
        wait_for(
            page,
            "document.getElementById('status').innerText.endsWith('shown.') || "
            "document.getElementById('status').innerText.includes('more available')",
            "the search's results",
        )
        titles = json.loads(
            evaluate(
                page,
                "JSON.stringify([...document.querySelectorAll('#results li a.title')]"
                ".map(a => a.innerText))",
            )
        )
        assert titles and any("engineer" in t.lower() for t in titles)

        # a region typed in lower case finds the listings of that region
        region = expected["facets"]["regions"][0]
        page.call(
            "Runtime.evaluate",
            expression="document.getElementById('q').value=''; "
            f"document.getElementById('region').value={json.dumps(region['value'].lower())}; "
            "document.getElementById('search').requestSubmit()",
        )
        shown = min(20, region["listings"])
        wait_for(
            page,
            f"document.querySelectorAll('#results li').length === {shown} && "
            "!document.getElementById('status').innerText.startsWith('Searching')",
            f"the {region['value']} listings",
        )
        shot = page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        screenshot = tmp_path / "search-page.png"
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        print(f"screenshot: {screenshot}")
        assert screenshot.stat().st_size > 10_000


def test_charts_say_in_a_sentence_when_the_marts_are_not_built(no_marts_url: str) -> None:
    """Never a parse error ("Unexpected token 'I'..."): what is missing and what to run."""
    binary = chromium()
    assert binary, "Chromium is required for the page test (apt-get install chromium)"
    with browser(binary) as page:
        page.call("Page.navigate", url=no_marts_url + "/")
        wait_for(
            page,
            "document.getElementById('status').innerText === 'No listings match.'",
            "no listings",
        )
        for chart in ("postings-chart", "salary-chart"):
            text = wait_for(
                page,
                f"document.getElementById('{chart}').innerText.startsWith('Not available')"
                f" && document.getElementById('{chart}').innerText",
                f"a sentence in {chart}",
            )
            assert "not built yet" in text and "group:marts" in text, text
            assert "Unexpected token" not in text and "JSON" not in text


def test_save_this_search_shows_the_feed_url_and_saves_a_webhook(
    api_url: str, api_data: ApiData, expected: dict
) -> None:
    """The control POSTs the form's filters (the /listings names) to /searches, shows the
    feed URL (a working Atom feed), and saves the same filters with a webhook; a refused
    webhook is said in the API's own sentence."""
    binary = chromium()
    assert binary, "Chromium is required for the page test (apt-get install chromium)"
    region = expected["facets"]["regions"][0]["value"]
    hook = "https://93.184.215.14/hooks/jobs/page-test"  # a public address, no DNS needed
    try:
        with browser(binary) as page:
            page.call("Page.navigate", url=api_url + "/")
            wait_for(page, "document.querySelectorAll('#results li').length > 0", "listings")
            assert evaluate(page, "document.getElementById('saved').hidden") is True
            page.call(
                "Runtime.evaluate",
                expression=f"document.getElementById('region').value={json.dumps(region)}; "
                "document.getElementById('min_salary_usd').value='40000'; "
                "document.getElementById('save-search').click()",
            )
            feed_url = wait_for(
                page,
                "document.getElementById('feed-url').value",
                "the feed URL",
            )
            assert feed_url.startswith(f"{api_url}/searches/") and "/feed.atom?token=" in feed_url
            assert evaluate(page, "document.getElementById('saved').hidden") is False
            search_id = feed_url.split("/searches/")[1].split("/")[0]
            stored = api_data.query(
                "SELECT query, deliver FROM public.jobs_saved_searches WHERE search_id = %s",
                (search_id,),
            )
            assert stored == [({"region": region, "min_salary_usd": 40000}, {})]
            feed = httpx.get(feed_url)
            assert feed.status_code == 200
            assert feed.headers["content-type"].startswith("application/atom+xml")

            # a webhook that may not be called: the API's sentence, nothing saved
            page.call(
                "Runtime.evaluate",
                expression="document.getElementById('webhook-url').value="
                "'https://127.0.0.1/hook'; "
                "document.getElementById('webhook-form').requestSubmit()",
            )
            refused = wait_for(
                page,
                "document.getElementById('save-status').innerText.startsWith('Could not save')"
                " && document.getElementById('save-status').innerText",
                "the refusal",
            )
            assert "deliver.webhook_url" in refused and "loopback" in refused

            page.call(
                "Runtime.evaluate",
                expression=f"document.getElementById('webhook-url').value={json.dumps(hook)}; "
                "document.getElementById('webhook-form').requestSubmit()",
            )
            wait_for(
                page,
                "document.getElementById('save-status').innerText.includes('webhook')"
                " && !document.getElementById('save-status').innerText.startsWith('Could')",
                "the webhook saved",
            )
            with_hook = api_data.query(
                "SELECT query FROM public.jobs_saved_searches WHERE deliver->>'webhook_url' = %s",
                (hook,),
            )
            assert with_hook == [({"region": region, "min_salary_usd": 40000},)]
            unlabelled = evaluate(
                page,
                """[...document.querySelectorAll('input, select')]
                .filter(e => !e.labels || !e.labels.length).map(e => e.id).join(',')""",
            )
            assert unlabelled == ""
    finally:
        with psycopg.connect(api_data.conninfo, autocommit=True) as conn:
            conn.execute("DELETE FROM public.jobs_saved_searches")
