"""The search page's facet counts in headless Chromium (as test_page.py drives the page).

On what the pipeline loaded (conftest.py): the page shows, per facet, the counts GET
/listings?facets= answers for its current filters; a click on a value sets that filter
(a real mouse click at the button's place), the results and the other facets follow,
the clicked facet keeps offering its other values, and a second click clears it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from jobs_assets.api.app import create_app
from jobs_assets_tests.api.conftest import ApiData
from jobs_assets_tests.api.test_page import TIMEOUT, evaluate, serving, wait_for
from jobs_assets_tests.test_browser import Page, browser, chromium

SHOWN = ["source", "region", "category", "seniority", "salary_band"]
SEARCHING = "document.getElementById('status').innerText.startsWith('Searching')"


@pytest.fixture(scope="module")
def api_url(api_data: ApiData) -> Iterator[str]:
    api_data.restore()
    with serving(api_data.conninfo) as url:
        yield url


@pytest.fixture(scope="module")
def api(api_data: ApiData) -> Iterator[TestClient]:
    with TestClient(create_app(conninfo=api_data.conninfo)) as client:
        yield client


def counts(api: TestClient, params: dict) -> dict[str, dict[str, int]]:
    """What the API counts per facet for the page's filters."""
    body = api.get("/listings", params=params | {"facets": ",".join(SHOWN)}).json()
    return {name: {v["value"]: v["listings"] for v in body["facets"][name]} for name in SHOWN}


def shown(page: Page) -> dict[str, dict[str, int]]:
    """The page's facet buttons: value -> the count in brackets, per facet."""
    found = json.loads(
        evaluate(
            page,
            """JSON.stringify(Object.fromEntries([...document.querySelectorAll('#facets .facet')]
            .map(g => [g.dataset.facet, [...g.querySelectorAll('button')]
              .map(b => [b.dataset.value, b.querySelector('.count').innerText])])))""",
        )
    )
    return {
        name: {value: int(count.strip("()").replace(",", "")) for value, count in values}
        for name, values in found.items()
    }


def click(page: Page, facet: str, value: str) -> None:
    """A mouse click in the middle of the facet's button for `value`."""
    box = json.loads(
        evaluate(
            page,
            f"(() => {{ const b = [...document.querySelectorAll("
            f"'#facets [data-facet={json.dumps(facet)}] button')]"
            f".find(b => b.dataset.value === {json.dumps(value)}); b.scrollIntoView();"
            " const r = b.getBoundingClientRect();"
            " return JSON.stringify([r.x + r.width / 2, r.y + r.height / 2]); })()",
        )
    )
    for kind in ("mousePressed", "mouseReleased"):
        page.call(
            "Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1
        )


def settled(page: Page, expected: dict[str, dict[str, int]], what: str) -> None:
    """Wait until the page shows `expected` (the search has answered and drawn it)."""
    deadline = time.monotonic() + TIMEOUT
    while shown(page) != expected or evaluate(page, SEARCHING):
        if time.monotonic() > deadline:
            assert shown(page) == expected, what
            raise AssertionError(f"the page still searches: {what}")
        time.sleep(0.2)


def test_facet_counts_are_shown_and_a_click_sets_the_filter(api_url: str, api: TestClient) -> None:
    binary = chromium()
    assert binary, "Chromium is required for the page test (apt-get install chromium)"
    everything = counts(api, {})
    region = max(everything["region"], key=everything["region"].get)
    with browser(binary) as page:
        page.call("Page.navigate", url=api_url + "/")
        settled(page, everything, "the counts of every listing")
        # labelled groups: the heading names what the values are
        assert evaluate(
            page, "document.querySelector('#facets [data-facet=region] h3').innerText"
        ) == ("Region")

        click(page, "region", region)
        in_region = counts(api, {"region": region})
        settled(page, in_region, f"the counts within {region}")
        assert evaluate(page, "document.getElementById('region').value") == region
        assert in_region["region"] == everything["region"]  # its own filter is ignored
        assert in_region["source"] != everything["source"]
        pressed = evaluate(
            page,
            "[...document.querySelectorAll('#facets button[aria-pressed=true]')]"
            ".map(b => b.dataset.value).join('|')",
        )
        assert pressed == region
        listed = api.get("/listings", params={"region": region}).json()["items"]
        wait_for(
            page,
            f"document.querySelectorAll('#results li').length === {len(listed)}",
            f"{len(listed)} listings of {region}",
        )

        band = max(in_region["salary_band"], key=in_region["salary_band"].get)
        click(page, "salary_band", band)
        both = counts(api, {"region": region, "salary_band": band})
        settled(page, both, f"the counts within {region} and {band}")
        assert evaluate(page, "document.getElementById('salary_band').value") == band

        click(page, "region", region)  # a second click clears the filter
        settled(page, counts(api, {"salary_band": band}), f"the counts within {band}")
        assert evaluate(page, "document.getElementById('region').value") == ""
