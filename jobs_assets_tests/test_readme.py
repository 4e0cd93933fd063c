"""The README's shell examples run as written after `make demo`.

Every ```bash block of README.md that starts with `make` or `echo ... | make` runs through
bash in a copy of the repository's top level (Makefile, pyproject.toml, the `.venv`
linked), so `jobs_data/` and `.dagster_home/` are the copy's own and the README's paths
hold as written: the block with `make demo` first, once, then the others against what
it loaded. A `make api` block is a server: it is started in the background on a free
port (`API_PORT`), its endpoints are probed, then it is stopped.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from jobs_assets.lib import db
from jobs_assets.lib.raw.store import RawStore
from jobs_assets.lib.sources import SOURCES
from jobs_assets.replay import EARLIER
from jobs_assets_tests.conftest import Database, fixture_listing_counts, latest_windows
from jobs_assets_tests.deployment import free_port, stop_sessions

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
MAKE_LINE = re.compile(r"^(make\b|echo\b.*\|\s*make\b)")


@dataclass(frozen=True)
class Block:
    line: int  # where it starts in README.md
    text: str

    @property
    def first(self) -> str:
        return self.text.splitlines()[0]

    @property
    def serves(self) -> bool:
        return bool(re.match(r"make (-s )?api\b", self.first))

    def __str__(self) -> str:
        return f"README.md:{self.line}: {self.first[:60]}"


def make_blocks() -> list[Block]:
    """The ```bash blocks whose first line (comments aside) runs make."""
    blocks, lines = [], README.read_text().splitlines()
    start = None
    for number, line in enumerate(lines, 1):
        if start is None and line.strip() == "```bash":
            start = number
        elif start is not None and line.strip() == "```":
            body = [
                item
                for item in lines[start : number - 1]
                if item.strip() and not item.startswith("#")
            ]
            if body and MAKE_LINE.match(body[0]):
                blocks.append(Block(start + 1, "\n".join(lines[start : number - 1])))
            start = None
    return blocks


BLOCKS = make_blocks()
DEMO = next(block for block in BLOCKS if block.first.startswith("make demo"))
OTHERS = [block for block in BLOCKS if block is not DEMO]


def bash(
    block: Block, env: dict[str, str], cwd: Path, timeout: int = 300
) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block.text],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@dataclass(frozen=True)
class Checkout:
    root: Path
    env: dict[str, str]
    demo: subprocess.CompletedProcess
    #: right after the demo: what its own database holds (`jobs psql --demo`), and the
    #: listings of the suite's database (the project's) before and after it
    demo_answer: subprocess.CompletedProcess
    project_listings: tuple[int, int]


#: what the demo's own database is asked right after it: listings by status, the marts
#: built on them, and the date of the ECB rates the salaries were converted with
DEMO_QUERY = (
    "select count(*) filter (where status = 'active'), "
    "count(*) filter (where status = 'expired') from public.jobs_listings_data;\n"
    "select sum(new_listings) from marts.daily_postings;\n"
    "select count(*) from marts.listing_durations;\n"
    "select string_agg(distinct salary_usd_rate_date::text, ',') "
    "from public.jobs_listings_data;\n"
)


@pytest.fixture(scope="module")
def after_demo(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Checkout]:
    """The quick start's `make demo` block, once, in a copy of the repository's top level
    (with PGHOST: the database `<PGDATABASE>_demo` beside the suite's)."""
    root = tmp_path_factory.mktemp("readme")
    for name in ("Makefile", "pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, root / name)  # the install stamp stays newer
    # The suite's virtual environment, entry by entry, with an install stamp of the copy's
    # own: `make` must never reinstall the package from a copy that holds no package (that
    # would point the shared environment's editable install at the copy).
    venv = root / ".venv"
    venv.mkdir()
    for entry in (REPO / ".venv").iterdir():
        if entry.name != ".installed":
            (venv / entry.name).symlink_to(entry)
    shutil.copy2(REPO / ".venv" / ".installed", venv / ".installed")  # its time kept
    # the package, whose dbt manifest `make` finds made (newer than the stamp, the project)
    (root / "jobs_assets").symlink_to(REPO / "jobs_assets")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MAKE", "MFLAGS", "DAGSTER_", "JOBS_DATA_DIR", "JOBS_STORAGE"))
    }
    env |= {k: v for k, v in database.env.items() if k != "JOBS_DATA_DIR"}
    project_listings = "SELECT count(*) FROM public.jobs_listings_data"
    before = database.query(project_listings)[0][0]
    done = bash(DEMO, env, root, timeout=600)
    answer = subprocess.run(
        [str(REPO / ".venv" / "bin" / "jobs"), "psql", "--demo", "--", "-At"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        input=DEMO_QUERY,
    )
    after = database.query(project_listings)[0][0]
    yield Checkout(root, env, done, answer, (before, after))
    if database.pghost:
        with psycopg.connect("dbname=postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{env["PGDATABASE"]}_demo" WITH (FORCE)')
    else:
        db.stop_embedded(root / "jobs_data" / "demo")


def test_the_readme_shows_the_demo_its_queries_and_the_api() -> None:
    firsts = [block.first for block in BLOCKS]
    assert DEMO is BLOCKS[0], firsts
    assert any(block.serves for block in BLOCKS), firsts
    assert sum("psql DEMO=1" in block.text for block in BLOCKS) >= 2, firsts


def test_the_quick_start_block_runs(after_demo: Checkout) -> None:
    done = after_demo.demo
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    for command in ("make psql DEMO=1", "make api DEMO=1", "make dev DEMO=1"):
        assert command in out  # the summary's next commands
    # the block's psql query answers per source and status: both windows' listings,
    # those gone from the newer recordings expired
    rows = [line.split("|") for line in out.splitlines() if line.count("|") == 2]
    statuses = {status.strip() for _, status, _ in rows}
    assert {"active", "expired"} <= statuses, out[-2000:]
    assert (after_demo.root / "jobs_data" / "demo" / "pgdata").is_dir()


def test_the_demo_loads_two_recorded_windows_apart_from_live_data(after_demo: Checkout) -> None:
    """`make demo` (`jobs demo`): the previous window replays the earlier recordings
    (RemoteOK and Arbeitnow were recorded twice), the latest the newer ones; what the
    earlier held and the newer does not expires, and the summary says what each layer
    holds and what to run next. Everything is the demo's own: database, data folder,
    Dagster instance; nothing is fetched live."""
    done = after_demo.demo
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    latest = fixture_listing_counts()
    earlier = fixture_listing_counts(EARLIER)
    # the sources recorded twice: none of the earlier recording's listings is in the newer
    gone = {name: earlier[name] for name in ("remoteok", "arbeitnow")}
    expected = sum(latest.values())

    # quiet: one line per step, the summary; no Dagster DEBUG wall, no warnings
    assert "DEBUG" not in out + done.stderr and "Warning" not in out + done.stderr
    previous, key = latest_windows(2)
    for window in (previous, key):
        for name in SOURCES:
            assert f"ok     {name}_raw [{window}]" in out
            assert f"ok     {name}_raw_checks [{window}]" in out  # the raw asset's checks
    assert "replaying the earlier recordings arbeitnow_b.json, remoteok_b.json" in out
    assert f"{sum(earlier.values())} listings: {sum(earlier.values())} inserted" in out
    assert f"{expected} listings: {sum(latest[n] for n in gone)} inserted" in out
    assert "ok     analytics_dbt" in out and "checks:" in out
    assert f"lifecycle: {sum(gone.values())} expired" in out
    assert "select " in out
    assert len(out.splitlines()) < 100

    # the demo's own database holds every listing of both windows; the project's is untouched
    answer = after_demo.demo_answer
    assert answer.returncode == 0, answer.stderr
    counts, new, durations, rate_dates = answer.stdout.split()
    assert counts == f"{expected}|{sum(gone.values())}"  # active, expired
    assert int(new) == expected + sum(gone.values())  # every listing was new once
    assert int(durations) > 0  # the expired listings' time on the board
    assert rate_dates == "2026-10-30"  # converted with the recorded ECB file's rates
    before, after = after_demo.project_listings
    assert before == after

    # replayed, never live: no fetch for the project's data folder to be polite about
    data_dir = after_demo.root / "jobs_data"
    demo_store = RawStore(data_dir / "demo")
    for name in SOURCES:
        for window in (previous, key):
            manifest = json.loads(
                (demo_store.window_dir(name, window) / "manifest.json").read_text()
            )
            assert manifest["origin"] == "replay" and manifest["complete"] is True
        assert demo_store.last_live_fetch(name) is None
        assert RawStore(data_dir).last_live_fetch(name) is None
    # the recorded ECB file was fetched through the replay server and kept
    assert list((data_dir / "demo" / "raw" / "ecb_rates").glob("*/page-0000.xml.gz"))
    # the demo's runs are in its own Dagster instance
    assert (data_dir / "demo" / "dagster_home" / "dagster.yaml").exists()


@pytest.mark.parametrize("block", OTHERS, ids=str)
def test_each_make_block_runs_after_the_demo(block: Block, after_demo: Checkout) -> None:
    assert after_demo.demo.returncode == 0, after_demo.demo.stderr[-2000:]
    if block.serves:
        probe_server(block, after_demo)
        return
    done = bash(block, after_demo.env, after_demo.root)
    assert done.returncode == 0, f"{block}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert "ERROR" not in done.stderr, done.stderr[-3000:]
    assert done.stdout.strip(), f"{block} printed nothing"


def get(url: str) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(errors="replace")[:500]


def probe_server(block: Block, checkout: Checkout) -> None:
    """Start the block in the background on a free port, wait for `/healthz`, then ask
    the endpoints the README names; stop the whole process group afterwards."""
    port = free_port()
    server = subprocess.Popen(
        ["bash", "-c", block.text],
        cwd=checkout.root,
        env={**checkout.env, "API_PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(OSError):
                if get(f"{base}/healthz")[0] == 200:
                    break
            assert server.poll() is None, server.communicate()[0][-3000:]
            assert time.monotonic() < deadline, f"{block}: no answer on {base}"
            time.sleep(0.5)
        status, listings = get(f"{base}/listings?limit=5")
        assert status == 200, listings
        assert listings["items"], listings  # the demo's listings
        item = listings["items"][0]
        key = urllib.parse.quote(item["source_job_id"], safe="")  # Himalayas' ids are URLs
        status, one = get(f"{base}/listings/{item['source']}/{key}")
        assert status == 200, one
        status, postings = get(f"{base}/stats/postings")
        assert status == 200, postings
    finally:
        stop_sessions([server])


def test_psql_exits_non_zero_when_the_sql_it_reads_fails(after_demo: Checkout) -> None:
    """`make psql <<< "..."` in a script or an example: a failing statement is a failing
    command (psql alone would exit 0), and what failed is on stderr."""
    failed = subprocess.run(
        [str(REPO / ".venv" / "bin" / "jobs"), "psql", "--demo"],
        cwd=after_demo.root,
        env=after_demo.env,
        capture_output=True,
        text=True,
        timeout=60,
        input="SELECT 1;\nSELECT * FROM public.no_such_table;\nSELECT 2;\n",
    )
    assert failed.returncode != 0
    assert 'relation "public.no_such_table" does not exist' in failed.stderr
    assert "2" not in failed.stdout.split()  # it stopped at the error
