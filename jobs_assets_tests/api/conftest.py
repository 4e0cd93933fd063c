"""The read API's tests: a scratch database with the API's schema, and a client on it.

The API's tests get a database of their own (on the same server as the suite's), so the
schema shim's extra columns never meet the pipeline's tests in the shared one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.conninfo import make_conninfo

from jobs_assets.api.app import create_app
from jobs_assets.lib import db
from jobs_assets_tests.api.listings_data import fill_marts, reset
from jobs_assets_tests.api_schema_shim import apply_api_schema
from jobs_assets_tests.conftest import Database


@pytest.fixture(scope="package")
def api_db(database: Database) -> Iterator[str]:
    """The conninfo of a fresh database with the base schema plus the API's (shim)."""
    name = f"jobs_api_test_{uuid.uuid4().hex[:10]}"
    admin = make_conninfo(database.conninfo, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    conninfo = make_conninfo(database.conninfo, dbname=name)
    try:
        db.ensure_schema(conninfo)
        with psycopg.connect(conninfo) as conn:
            apply_api_schema(conn)
        yield conninfo
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def client(api_db: str) -> Iterator[TestClient]:
    """The app on the scratch database, emptied, with its marts filled; in-process cache."""
    reset(api_db)
    fill_marts(api_db)
    with TestClient(create_app(conninfo=api_db)) as test_client:
        yield test_client
