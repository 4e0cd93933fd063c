"""Contract tests generated from the API's own OpenAPI schema (schemathesis).

Every operation is called with generated parameters, valid and invalid; every answer
must match the schema (status, content type, body), and no input may cause a 5xx.
The schema is read at import (create_app connects lazily); the app it calls is the one
the fixture opens on the scratch database (schemathesis's from_fixture does not support
pytest 9).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from jobs_assets.api.app import create_app
from jobs_assets_tests.api.listings_data import fill_marts, listing, load, reset


class DeferredApp:
    """An ASGI app that forwards requests to `target`, set once the database exists.
    Lifespan events are answered here: the fixture runs the real app's lifespan once."""

    target: Any = None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await self.target(scope, receive, send)


DEFERRED = DeferredApp()
schema = schemathesis.openapi.from_dict(create_app(conninfo="").openapi())
schema.app = DEFERRED


@pytest.fixture(scope="module", autouse=True)
def listings_app(api_db: str) -> Iterator[None]:
    reset(api_db)
    fill_marts(api_db)
    rows = [listing(i) for i in range(40)]
    rows[1] |= {"duplicate_cluster_id": "c1", "is_canonical": True}
    rows[2] |= {"duplicate_cluster_id": "c1", "is_canonical": False}
    load(api_db, rows, "2026-11-30-00:00")
    app = create_app(conninfo=api_db)
    with TestClient(app):  # runs the lifespan: the pool is open while the tests call it
        DEFERRED.target = app
        yield
    DEFERRED.target = None


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_honours_the_schema(case: schemathesis.Case) -> None:
    # Two rules OpenAPI cannot state, so a schema-valid request may rightly get a 422 that
    # names the parameter: a cursor must be one this API issued for this query, and
    # sort=relevance needs q. Every other check still applies to those requests.
    query = case.query or {}
    cross_parameter = "cursor" in query or (query.get("sort") == "relevance" and not query.get("q"))
    case.call_and_validate(excluded_checks=[positive_data_acceptance] if cross_parameter else [])
