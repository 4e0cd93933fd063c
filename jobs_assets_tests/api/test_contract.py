"""Contract tests generated from the API's own OpenAPI schema (schemathesis).

Every operation is called with generated parameters, valid and invalid; every answer
must match the schema (status, content type, body), and no input may cause a 5xx.
The schema is read at import (create_app connects lazily); the app it calls is the one
the fixture opens on the package's database (recorded windows loaded by the pipeline,
marts built by dbt) (schemathesis's from_fixture does not support
pytest 9).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from jobs_assets.api.app import create_app
from jobs_assets.api.searches import SearchConfig, rate_limit
from jobs_assets.lib.ops.targets import TargetPolicy
from jobs_assets_tests.api.conftest import ApiData


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
def listings_app(api_data: ApiData) -> Iterator[None]:
    """The app on what the pipeline loaded and dbt built (conftest.py)."""
    api_data.restore()
    # saved searches: a limit no run of these tests reaches (a 429 is its own test), and
    # a short time limit on webhook host lookups (the schema's example host does not
    # resolve offline; on some machines its lookup waits for the resolver's timeout)
    searches = SearchConfig(
        rate_limit=rate_limit(100_000, 3600), policy=TargetPolicy(resolve_seconds=0.5)
    )
    app = create_app(conninfo=api_data.conninfo, searches=searches)
    with TestClient(app):  # runs the lifespan: the pool is open while the tests call it
        DEFERRED.target = app
        yield
    DEFERRED.target = None
    with psycopg.connect(api_data.conninfo, autocommit=True) as conn:
        conn.execute("DELETE FROM public.jobs_saved_searches")


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_honours_the_schema(case: schemathesis.Case) -> None:
    # Rules OpenAPI cannot state, so a schema-valid request may rightly get a 422 that
    # names the parameter: a cursor must be one this API issued for this query,
    # sort=relevance needs q (a q of white space only is none: the API drops blank free
    # text), and a saved search's webhook must be a public https address and its e-mail a
    # deliverable one (no .test or .local domain). Every other check still applies to
    # those requests.
    query = case.query or {}
    blank_q = not str(query.get("q") or "").strip()
    cross_parameter = "cursor" in query or (query.get("sort") == "relevance" and blank_q)
    body = case.body if isinstance(case.body, dict) else {}
    cross_parameter |= isinstance(body.get("deliver"), dict) and bool(body["deliver"])
    case.call_and_validate(excluded_checks=[positive_data_acceptance] if cross_parameter else [])
