"""The Dagster UI of the deployed stack, in headless Chromium.

The asset graph of each group and each asset's checks view must show every asset and
every asset check the code location defines (ingestion and backups). The pages are
driven over the Chrome DevTools protocol: navigate, then poll the rendered text until
the single-page app has drawn what we expect (no fixed sleeps), and save a screenshot
of each page under test-artifacts/.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from websockets.sync.client import ClientConnection, connect

from jobs_assets.lib.sources import SOURCES
from jobs_assets_tests.deployment import LOCATION, Deployment

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1600,1000",
]
PAGE_TIMEOUT = 60.0
REPO_PATH = quote(f"__repository__@{LOCATION}", safe="@")  # the UI's own spelling
INGESTION_ASSETS = {
    *(f"{name}_raw" for name in SOURCES),
    "ecb_rates",
    "staged_listings",
    "jobs_listings",
}
BACKUP_ASSETS = {"postgres_backup"}


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Page:
    """One browser tab, driven over the DevTools protocol's websocket."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.ids = itertools.count(1)

    def call(self, method: str, **params: object) -> dict:
        message_id = next(self.ids)
        self.socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:  # skip events until our answer arrives
            message = json.loads(self.socket.recv(timeout=PAGE_TIMEOUT))
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method} failed: {message['error']}")
                return message.get("result", {})

    def text(self) -> str:
        """The text as rendered (innerText: what a person can see, not hidden nodes)."""
        result = self.call(
            "Runtime.evaluate",
            expression="document.body ? document.body.innerText : ''",
            returnByValue=True,
        )
        return result["result"].get("value", "")

    def open(self, url: str, ready: Callable[[str], bool], screenshot: Path) -> str:
        """Navigate, wait until `ready(text)`, save a screenshot; the text, or a clear failure."""
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + PAGE_TIMEOUT
        text = ""
        while time.monotonic() < deadline:
            text = self.text()
            if ready(text):
                time.sleep(0.5)  # let the graph finish its layout for the screenshot
                break
            time.sleep(0.5)
        shot = self.call("Page.captureScreenshot", format="png")
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        assert ready(text), f"{url} never showed what we wait for; see {screenshot}:\n{text[:3000]}"
        return text


@contextlib.contextmanager
def browser(binary: str) -> Iterator[Page]:
    """Headless Chromium with a throwaway profile, stopped (with its children) afterwards."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        process = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0"]
            + ["about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + 30
            while not (port_file.exists() and len(port_file.read_text().split()) >= 2):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{binary} did not start (exit code {process.poll()})")
                time.sleep(0.1)
            port = port_file.read_text().split()[0]
            targets = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
            target = next(t for t in targets if t["type"] == "page")
            with connect(target["webSocketDebuggerUrl"], max_size=2**26) as socket:
                page = Page(socket)
                page.call("Page.enable")
                yield page
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def defined_assets_and_checks() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Asset names per group, and check names per asset, as the code location defines them."""
    from jobs_assets.definitions import defs

    graph = defs().resolve_asset_graph()
    groups: dict[str, set[str]] = {}
    for key in graph.get_all_asset_keys():
        groups.setdefault(graph.get(key).group_name, set()).add(key.to_user_string())
    checks: dict[str, set[str]] = {}
    for check_key in graph.asset_check_keys:
        checks.setdefault(check_key.asset_key.to_user_string(), set()).add(check_key.name)
    return groups, checks


def visible(name: str, text: str) -> bool:
    """`name` is shown whole, or middle-truncated to fit (`listings_keys_…quired_columns`)."""
    for line in text.splitlines():
        line = line.strip()
        if line == name:
            return True
        head, ellipsis, tail = line.partition("…")
        if ellipsis and head and tail and name.startswith(head) and name.endswith(tail):
            return True
    return False


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    binary = chromium()
    if binary is None:
        pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run does)")
    ARTIFACTS.mkdir(exist_ok=True)
    with browser(binary) as tab:
        yield tab


@pytest.fixture(scope="module")
def definitions() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    groups, checks = defined_assets_and_checks()
    assert groups.get("ingestion") == INGESTION_ASSETS
    assert groups.get("backups", set()) >= BACKUP_ASSETS
    return groups, checks


@pytest.mark.parametrize("group", ["ingestion", "backups"])
def test_asset_graph_shows_every_asset_and_its_check_count(
    deployment: Deployment, page: Page, definitions: tuple, group: str
) -> None:
    groups, checks = definitions
    assets = groups[group]
    url = f"{deployment.webserver_url}/locations/{REPO_PATH}/asset-groups/{group}"

    expected = {name: len(checks[name]) for name in assets if checks.get(name)}

    def check_totals(text: str) -> dict[str, int]:
        """Each node's check total: its "Asset checks" row reads "<n> / <total> ..."."""
        totals: dict[str, int] = {}
        current = None
        for line in text.splitlines():
            line = line.strip()
            if line in assets:
                current = line
            elif current and (match := re.match(r"^\d+\s*/\s*(\d+)\b", line)):
                totals.setdefault(current, int(match.group(1)))
        return totals

    def ready(text: str) -> bool:
        return all(visible(name, text) for name in assets) and check_totals(text) == expected

    page.open(url, ready, ARTIFACTS / f"asset-graph-{group}.png")


def test_checks_view_of_every_asset_lists_its_checks(
    deployment: Deployment, page: Page, definitions: tuple
) -> None:
    groups, checks = definitions
    shown = groups["ingestion"] | groups["backups"]
    # The dbt tests of the marts are checks too; test_marts covers them (and the ml group
    # has none): every check of the pipeline's own assets is looked at here.
    assert set(checks) <= shown | groups.get("marts", set()) | groups.get("ml", set())
    for asset in sorted(a for a in checks if a in shown):
        names = checks[asset]
        url = f"{deployment.webserver_url}/assets/{quote(asset)}?view=checks"

        def ready(text: str, names: set[str] = names) -> bool:
            return f"Checks ({len(names)})" in text and all(visible(n, text) for n in names)

        page.open(url, ready, ARTIFACTS / f"asset-checks-{asset}.png")
