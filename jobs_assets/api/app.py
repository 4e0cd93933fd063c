"""The read API: listings, their history and duplicates, the marts' statistics, health.

Read-only by construction: every query runs in a read-only session from the pool; the
one exception is saved searches (api/searches.py), written in a read-write transaction.
Each answer is cached under the data version (jobs_assets.lib.listings.data_version) and sent
with an ETag, so browsers, proxies and the cache all drop it when a load lands.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import psycopg
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from psycopg_pool import ConnectionPool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from jobs_assets.api.cache import conditional, make_cache
from jobs_assets.api.filters import (
    NO_NUL,
    SOURCE_JOB_ID_MAX_LENGTH,
    BadParameter,
    IsoDay,
    ListingsParams,
    SourceName,
    listings_page,
    listings_request,
)
from jobs_assets.api.middleware import BodyLimit, HeadAsGet
from jobs_assets.api.models import (
    Facets,
    Health,
    ListingDetail,
    ListingsPage,
    PostingsStats,
    Problem,
    SalaryStats,
)
from jobs_assets.api.searches import SearchConfig, add_search_routes, rate_limit
from jobs_assets.lib.listings import queries
from jobs_assets.lib.ops.targets import TargetPolicy
from jobs_assets.lib.redact import install_log_filter
from jobs_assets.lib.sources import SOURCES

log = logging.getLogger(__name__)
PAGE_DIR = Path(__file__).parent / "page"
# Browsers and proxies may keep answers but must revalidate (a cheap 304 by ETag), so none
# of them shows data older than the last load.
CACHE_CONTROL = "public, no-cache"

Region = Annotated[str | None, Query(max_length=64, examples=["Europe"], pattern=NO_NUL)]
Seniority = Annotated[str | None, Query(max_length=32, examples=["senior"], pattern=NO_NUL)]
Category = Annotated[
    str | None,
    Query(
        max_length=64,
        description="The normalised category (category_normalised).",
        examples=["engineering"],
        pattern=NO_NUL,
    ),
]

#: how long a client should wait after a 503 for a database outage
RETRY_AFTER_SECONDS = 30
#: the largest request body read (a saved search's is a few hundred bytes); more is a 413
MAX_BODY_BYTES = 64 * 1024
#: the problems a 422 names; the rest are counted (a body of unknown keys has one each)
MAX_PROBLEMS = 20

VALIDATION = {422: {"model": Problem, "description": "A parameter is invalid."}}
NOT_FOUND = {404: {"model": Problem, "description": "No such listing."}}
UNAVAILABLE = {503: {"model": Problem, "description": "The marts have not been built yet."}}


class Unavailable(Exception):
    """A mart the endpoint reads does not exist yet (dbt has not built it)."""


class NotFound(HTTPException):
    """A 404 that names the parameter that found nothing."""

    def __init__(self, message: str, parameter: str | None = None) -> None:
        super().__init__(404, message)
        self.parameter = parameter


def create_app(
    conninfo: str | None = None,
    redis_url: str | None = None,
    cache_ttl_seconds: int = 300,
    pool_size: int = 8,
    searches: SearchConfig | None = None,
    env: Mapping[str, str] | None = None,
) -> FastAPI:
    """The application; without `conninfo` (or with `env`), configured from the
    environment (`env`, default the process's over .env): the pipeline's database (PG* or
    embedded), `JOBS_REDIS_URL`, `JOBS_API_CACHE_TTL_SECONDS` (0 switches the cache off)
    and the saved searches' `JOBS_SEARCH_*` and `JOBS_ALERT_ALLOW_*` (`Settings`)."""
    if conninfo is None or env is not None:
        from jobs_assets.lib import db
        from jobs_assets.settings import Settings, environment

        env = environment() if env is None else env  # .env is read, never exported
        settings = Settings.from_env(env)
        if conninfo is None:
            conninfo = db.conninfo_for(settings.data_dir, settings.pghost)
        redis_url = redis_url or settings.api_redis_url
        cache_ttl_seconds = settings.api_cache_ttl_seconds
        searches = searches or SearchConfig(
            rate_limit=rate_limit(*settings.search_rate_limit),
            policy=TargetPolicy(settings.alert_allow_http, settings.alert_allow_private),
            **({"client_key": settings.search_client_key} if settings.search_client_key else {}),
            base_url=settings.api_base_url,
        )
    install_log_filter()  # uvicorn's access log too: a feed's URL carries its token
    cache = make_cache(redis_url, cache_ttl_seconds)
    pool = ConnectionPool(
        conninfo,
        min_size=1,
        max_size=pool_size,
        kwargs={"autocommit": True},
        configure=_read_only,
        open=False,
        timeout=5.0,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Iterator[None]:
        pool.open(wait=False)
        yield
        pool.close()

    app = FastAPI(
        title="jobs_assets read API",
        version="1.0.0",
        description="Remote-job listings from "
        + ", ".join(s.display_name for s in SOURCES.values())
        + ", with attribution to each source. Read-only.",
        lifespan=lifespan,
        docs_url=None,  # Swagger UI and ReDoc load from a CDN; the schema is /openapi.json
        redoc_url=None,
    )
    app.state.pool, app.state.cache = pool, cache
    app.add_exception_handler(RequestValidationError, _validation_problem)
    app.add_exception_handler(StarletteHTTPException, _http_problem)
    app.add_exception_handler(Unavailable, _unavailable)
    app.add_exception_handler(psycopg.Error, _database_problem)
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    app.add_middleware(HeadAsGet)
    app.mount("/static", StaticFiles(directory=PAGE_DIR), name="static")

    def cached(
        request: Request,
        parts: dict[str, Any],
        compute: Callable[[Any], dict],
        marts: bool = False,
    ) -> Response:
        """The JSON for `parts` at the current data version (and, for answers from the
        marts, their build version): from the cache, or computed."""
        with pool.connection() as conn:
            version = queries.data_version(conn)
            extra: dict[str, Any] = {"data_version": version}
            key: str | None = f"v{version}:{request.url.path}:"
            if marts:
                built = queries.marts_version(conn)
                extra["marts_built_at"] = None if built == queries.MARTS_NEVER_BUILT else built
                key = None if built is None else f"{key}m{built}:"
            if key is not None:
                key += json.dumps(parts, sort_keys=True, default=str)
            body = cache.get(key) if key is not None else None
            hit = body is not None
            if body is None:
                try:
                    body = json.dumps(compute(conn) | extra).encode()
                except psycopg.errors.UndefinedTable as err:
                    if not marts:
                        raise
                    raise Unavailable(str(err).splitlines()[0]) from err
                if key is not None:
                    cache.set(key, body, cache_ttl_seconds)
        response = conditional(request, body, "application/json", CACHE_CONTROL)
        response.headers["X-Cache"] = "hit" if hit else "miss"
        return response

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(PAGE_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get(
        "/listings",
        response_model=ListingsPage,
        responses={**VALIDATION, 304: {"description": "Not modified (If-None-Match)."}},
        summary="Search listings",
    )
    def listings(request: Request, params: Annotated[ListingsParams, Query()]) -> Response:
        try:
            wanted = listings_request(
                params,
                params.sort,
                params.cursor,
                params.limit,
                params.facets,
                params.status.value,
                params.include_duplicates,
            )
        except BadParameter as err:
            _reject(err.parameter, err.message)

        def compute(conn: psycopg.Connection) -> dict:
            return listings_page(conn, wanted)

        parts = {"f": wanted.digest, "c": params.cursor, "l": params.limit, "facets": wanted.facets}
        return cached(request, parts, compute)

    @app.get(
        "/listings/{source}/{source_job_id:path}",
        response_model=ListingDetail,
        responses={**VALIDATION, **NOT_FOUND},
        summary="One listing with its history and duplicates",
    )
    def listing(
        request: Request,
        source: SourceName,
        source_job_id: Annotated[
            str, PathParam(max_length=SOURCE_JOB_ID_MAX_LENGTH, pattern=r"^[^\x00]+$")
        ],
    ) -> Response:
        def compute(conn: psycopg.Connection) -> dict:
            found = queries.listing_detail(conn, source.value, source_job_id)
            if found is None:
                raise NotFound(
                    f"source_job_id: no listing {source.value}/{source_job_id}; "
                    "GET /listings finds listings and their ids",
                    "source_job_id",
                )
            return found

        return cached(request, {"s": source.value, "id": source_job_id}, compute)

    @app.get(
        "/stats/postings",
        response_model=PostingsStats,
        responses={**VALIDATION, **UNAVAILABLE},
        summary="New, active and expired listings per day and source (marts.daily_postings)",
    )
    def postings(
        request: Request,
        source: Annotated[SourceName | None, Query()] = None,
        region: Region = None,
        category: Category = None,
        posted_since: Annotated[
            IsoDay | None, Query(description="First day; default: the mart's last 30 days.")
        ] = None,
    ) -> Response:
        name = source.value if source else None
        parts = {"source": name, "region": region, "category": category, "since": posted_since}

        def compute(conn: psycopg.Connection) -> dict:
            return {"rows": queries.postings_stats(conn, name, region, category, posted_since)}

        return cached(request, parts, compute, marts=True)

    @app.get(
        "/stats/salaries",
        response_model=SalaryStats,
        responses={**VALIDATION, **UNAVAILABLE},
        summary="Annual USD salary percentiles (marts.salary_percentiles)",
    )
    def salaries(
        request: Request,
        region: Region = None,
        category: Category = None,
        seniority: Seniority = None,
    ) -> Response:
        parts = {"region": region, "category": category, "seniority": seniority}

        def compute(conn: psycopg.Connection) -> dict:
            return queries.salary_stats(conn, region, category, seniority)

        return cached(request, parts, compute, marts=True)

    @app.get(
        "/facets",
        response_model=Facets,
        summary="The regions, categories, seniorities and job types active listings carry",
    )
    def facets(request: Request) -> Response:
        return cached(request, {}, queries.facets)

    @app.get(
        "/healthz",
        response_model=Health,
        responses={503: {"model": Health, "description": "The database is unreachable."}},
        summary="Database, cache and the latest window loaded",
    )
    def healthz() -> JSONResponse:
        cache_health = {"backend": cache.backend, "status": cache.status()}
        try:
            with pool.connection(timeout=2.0) as conn:
                data = queries.latest_window(conn)
            database: dict[str, Any] = {"ok": True, "error": None}
        except (psycopg.Error, TimeoutError, OSError) as err:
            data, database = None, {"ok": False, "error": type(err).__name__}
        status = (
            "down" if not database["ok"] else "ok" if cache_health["status"] == "ok" else "degraded"
        )
        body = {"status": status, "database": database, "cache": cache_health, "data": data}
        return JSONResponse(
            body, status_code=200 if database["ok"] else 503, headers={"Cache-Control": "no-store"}
        )

    add_search_routes(app, pool, searches or SearchConfig())
    return app


def _read_only(conn: psycopg.Connection) -> None:
    conn.execute("SET default_transaction_read_only = on")
    conn.execute("SET statement_timeout = '10s'")


def _reject(parameter: str, message: str) -> None:
    raise RequestValidationError(
        [{"loc": ("query", parameter), "msg": message, "type": "value_error", "input": None}]
    )


def _problem(
    status: int, message: str, parameter: str | None, detail: list[dict[str, Any]]
) -> JSONResponse:
    """Every error answer has one shape (models.Problem): what is wrong, which parameter
    (when one is to blame), and the details."""
    return JSONResponse(
        {"message": message, "parameter": parameter, "detail": detail}, status_code=status
    )


async def _validation_problem(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 whose message names each bad parameter, e.g. "limit: ... less than or equal to 100";
    the first `MAX_PROBLEMS` of them, and how many more there are."""
    errors = exc.errors()
    shown = errors[:MAX_PROBLEMS]
    problems, names = [], []
    for error in shown:
        name = ".".join(str(part) for part in error["loc"][1:]) or str(error["loc"][0])
        if error["type"] == "json_invalid":  # its loc is the offset of the bad character
            name = "body"
        names.append(name)
        problems.append(f"{name}: {error['msg']}")
    if len(errors) > len(shown):
        problems.append(f"and {len(errors) - len(shown)} more problems")
    detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in shown]
    return _problem(422, "; ".join(problems), names[0] if names else None, detail)


async def _http_problem(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """404 (no such listing, no such path), 405 and the like, in the 422's shape."""
    parameter = getattr(exc, "parameter", None)
    message = str(exc.detail)
    if exc.status_code == 404 and not isinstance(exc, NotFound):
        message = f"no such path {request.url.path}; the API's paths are in /openapi.json"
    response = _problem(exc.status_code, message, parameter, [])
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    if exc.status_code == 405:  # every method of the path (GET and DELETE /searches/{id})
        response.headers["Allow"] = ", ".join(_allowed_methods(request))
    return response


def _allowed_methods(request: Request) -> list[str]:
    """The methods of every route that matches the request's path (Starlette's 405 names
    only the first route's), HEAD with GET (`HeadAsGet`). Every route is the app's own
    (saved searches' too): FastAPI keeps an included router's out of `app.routes`."""
    methods: set[str] = set()
    for route in request.app.routes:
        match, _ = route.matches(request.scope)  # PARTIAL: the path, another method
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


async def _unavailable(request: Request, exc: Unavailable) -> JSONResponse:
    """503 while a mart does not exist: dbt has not built the marts in this database."""
    message = (
        f"the marts are not built yet ({exc}); they are built after a load "
        "(dagster asset materialize -m jobs_assets.definitions --select group:marts)"
    )
    response = _problem(503, message, None, [])
    response.headers["Retry-After"] = "300"
    return response


async def _database_problem(request: Request, exc: psycopg.Error) -> JSONResponse:
    """A search the database could not parse is the client's `q` (422), whatever the route
    (a saved search's feed too); a database that is down, out of connections or too slow
    is a 503 to retry (PoolTimeout, OperationalError and QueryCanceled are all
    `OperationalError`s); any other database error stays a 500."""
    if isinstance(exc, psycopg.errors.InternalError_) and "tsquery" in str(exc):
        message = (
            f"q: the search could not be parsed ({str(exc).splitlines()[0]}); "
            "use fewer operators in a row (at most "
            f"{queries.MAX_NEGATIONS_IN_A_ROW} '-' with no word between them)"
        )
        return _problem(422, message, "q", [])
    if isinstance(exc, psycopg.OperationalError):
        what = (
            "did not answer in time"
            if isinstance(exc, psycopg.errors.QueryCanceled)
            else "is unavailable"
        )
        first_line = (str(exc).strip().splitlines() or [""])[0]
        log.warning("%s %s: database %s (%s)", request.method, request.url.path, what, first_line)
        message = (
            f"the database {what} ({type(exc).__name__}); nothing is wrong with the request: "
            f"retry after {RETRY_AFTER_SECONDS} s (GET /healthz says when the database is back)"
        )
        response = _problem(503, message, None, [])
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response.headers["Cache-Control"] = "no-store"
        return response
    raise exc
