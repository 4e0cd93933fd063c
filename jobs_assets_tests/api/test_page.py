"""The search page in headless Chromium, served by uvicorn from the real app.

Driven over the DevTools protocol like the Dagster UI test (test_browser.py): the page
must list the listings with a link back to each source, draw both charts from the stats
endpoints, label every control, and search from the keyboard alone. A screenshot is saved
under the test's tmp dir and its path printed.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn

from jobs_assets.api.app import create_app
from jobs_assets_tests.api.listings_data import WINDOW, fill_marts, listing, load, reset
from jobs_assets_tests.test_browser import Page, browser, chromium

TIMEOUT = 30.0


@pytest.fixture(scope="module")
def api_url(api_db: str) -> Iterator[str]:
    reset(api_db)
    fill_marts(api_db)
    rows = [listing(i) for i in range(12)]
    rows[0] |= {"title": "Rust Engineer", "published_at": WINDOW + timedelta(hours=1)}
    load(api_db, rows, "2026-11-30-00:00")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(conninfo=api_db), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + TIMEOUT
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


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
    api_url: str, tmp_path: Path
) -> None:
    binary = chromium()
    assert binary, "Chromium is required for the page test (apt-get install chromium)"
    with browser(binary) as page:
        page.call("Page.navigate", url=api_url + "/")
        wait_for(page, "document.querySelectorAll('#results li').length === 12", "12 listings")
        wait_for(
            page,
            "document.querySelectorAll('#postings-chart polyline').length === 3",
            "one line per source",
        )
        wait_for(
            page,
            "document.querySelectorAll('#salary-chart rect').length === 4",
            "one bar per region",
        )

        links = json.loads(
            evaluate(
                page,
                """JSON.stringify([...document.querySelectorAll('#results li')]
            .map(li => [li.querySelector('a.title').href, li.querySelector('.attribution').innerText,
                        li.querySelector('.attribution a').href]))""",
            )
        )
        assert links[0] == [
            "https://remotive.example/jobs/0",
            "Listing from Remotive",
            "https://remotive.example/jobs/0",
        ]
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

        # keyboard only: Tab lands in the search box, type, Enter searches
        key(page, "Tab", 9)
        assert evaluate(page, "document.activeElement.id") == "q"
        page.call("Input.insertText", text="rust")
        key(page, "Enter", 13, "\r")
        wait_for(page, "document.querySelectorAll('#results li').length === 1", "the one Rust job")
        assert "Rust Engineer" in evaluate(page, "document.getElementById('results').innerText")
        assert evaluate(page, "document.getElementById('status').innerText") == "1 listing shown."

        key(page, "Tab", 9)  # back to an unfiltered search for the screenshot
        page.call(
            "Runtime.evaluate",
            expression="document.getElementById('q').value=''; "
            "document.getElementById('search').requestSubmit()",
        )
        wait_for(
            page, "document.querySelectorAll('#results li').length === 12", "all listings again"
        )
        shot = page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        screenshot = tmp_path / "search-page.png"
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        print(f"screenshot: {screenshot}")
        assert screenshot.stat().st_size > 10_000
