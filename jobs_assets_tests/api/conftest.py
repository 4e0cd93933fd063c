"""The read API's tests read what the layers below really build: a database of their own
where the ingestion assets load recorded windows (through the local replay server) and
`dbt build` makes the marts from them, once for the package.

No stand-in of a table or a mart: a column the API reads that a migration or a dbt model
renames fails these tests.

The two windows: the recordings as shipped, then the second RemoteOK and Arbeitnow
recordings (new listings; the first ones expire by absence), so the data has active and
expired listings, listings seen twice and a duplicate or two.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.conninfo import make_conninfo

from jobs_assets.api.app import create_app
from jobs_assets.lib.schema.migrate import ensure_schema
from jobs_assets.replay import FIXTURES
from jobs_assets.resources import LifecycleResource
from jobs_assets.testing import DsnPostgres, build_marts, load_recorded_windows
from jobs_assets_tests.conftest import (
    Database,
    Snapshot,
    latest_windows,
    without_commit_flushes,
)

#: the package's two windows: the only ones the sources serve (the latest two)
WINDOWS = latest_windows(2)
#: the second recording of a source, served in the second window
SECOND_RECORDINGS = {"remoteok.json": "remoteok_b.json", "arbeitnow.json": "arbeitnow_b.json"}


def recordings(folder: Path, replaced: dict[str, str]) -> Path:
    """A fixtures folder: the shipped recordings, with `replaced` files served instead."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in FIXTURES.iterdir():
        shutil.copyfile(FIXTURES / replaced.get(path.name, path.name), folder / path.name)
    return folder


def recordings_with_new_remotive(folder: Path) -> Path:
    """The second window's recordings, where Remotive also lists a copy of each of its
    jobs under a new id (the same text and publication time): new listings, and nothing
    expires."""
    recordings(folder, SECOND_RECORDINGS)
    document = json.loads((FIXTURES / "remotive.json").read_text())
    copies = [job | {"id": f"9{job['id']}"} for job in document["jobs"]]
    document["jobs"] = document["jobs"] + copies
    (folder / "remotive.json").write_text(json.dumps(document))
    return folder


# The second recordings share no listing with the first: the whole feed turned over,
# which the sudden-drop guard would hold for a later window to confirm; these tests read
# the expiries, as `make demo` does (the guard off).
GUARD_OFF = LifecycleResource(expire_max_share=1.0)


@dataclass
class ApiData:
    """The API's database as the pipeline and dbt left it, and how to get back to that."""

    database: Database
    postgres: DsnPostgres
    data_dir: Path
    tmp: Path
    loaded: Snapshot
    first_window: Snapshot

    @property
    def conninfo(self) -> str:
        return self.database.conninfo

    def load_again(self) -> int:
        """The second window once more, through the ingestion assets, now with new
        Remotive listings: a load (the data version moves); how many listings it added."""
        folder = self.tmp / f"again-{uuid.uuid4().hex[:6]}"  # raw pages of its own
        return self._load(folder, recordings_with_new_remotive(folder / "fixtures"))

    def only_first_window(self) -> None:
        """The listings as the first window left them, before the second loads."""
        self.database.restore(self.first_window)

    def load_second_window(self) -> int:
        folder = self.tmp / f"second-{uuid.uuid4().hex[:6]}"
        return self._load(folder, recordings(folder / "fixtures", SECOND_RECORDINGS))

    def _load(self, folder: Path, fixtures: Path) -> int:
        """The second window loaded (again) as the fixture loaded it: the guard off, so a
        re-run judges the window's answer by the same rule as its first run."""
        before = self.query("SELECT count(*) FROM public.jobs_listings_data")[0][0]
        load_recorded_windows(self.postgres, folder / "data", [WINDOWS[1]], fixtures, GUARD_OFF)
        return self.query("SELECT count(*) FROM public.jobs_listings_data")[0][0] - before

    def build_marts(self) -> None:
        build_marts(self.postgres)

    def restore(self) -> None:
        """The listings as the two windows left them (a test's changes undone)."""
        self.database.restore(self.loaded)

    def query(self, sql: str, params: tuple | dict | None = None) -> list[tuple]:
        return self.database.query(sql, params)


# Session scope: built once per test process. Package scope rebuilt it each time a worker
# came back to this package after tests elsewhere (pytest-xdist interleaves packages),
# up to five builds a run; each test restores the listings it may change (`data`).
@pytest.fixture(scope="session")
def api_data(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiData]:
    name = f"jobs_api_test_{uuid.uuid4().hex[:10]}"
    admin = make_conninfo(database.conninfo, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    conninfo = make_conninfo(database.conninfo, dbname=name)
    tmp = tmp_path_factory.mktemp("api_data")
    try:
        without_commit_flushes(conninfo)
        ensure_schema(conninfo)
        scratch = Database(conninfo, database.data_dir, database.pghost)
        postgres = DsnPostgres(data_dir=str(tmp), dsn=conninfo)
        first, second = WINDOWS
        load_recorded_windows(postgres, tmp / "first", [first])
        first_window = scratch.snapshot()
        second_fixtures = recordings(tmp / "second", SECOND_RECORDINGS)
        load_recorded_windows(postgres, tmp / "second-data", [second], second_fixtures, GUARD_OFF)
        build_marts(postgres)
        yield ApiData(scratch, postgres, tmp, tmp, scratch.snapshot(), first_window)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def api_db(api_data: ApiData) -> str:
    return api_data.conninfo


@pytest.fixture
def data(api_data: ApiData) -> Iterator[ApiData]:
    """The loaded data, restored after the test (which may change listings)."""
    api_data.restore()
    yield api_data
    api_data.restore()


@pytest.fixture
def client(data: ApiData) -> Iterator[TestClient]:
    """The app on the loaded data, with a cache of its own (in process)."""
    with TestClient(create_app(conninfo=data.conninfo)) as test_client:
        yield test_client
