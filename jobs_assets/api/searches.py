"""Saved searches in the API: `POST /searches`, `GET`/`DELETE /searches/{id}` and the
Atom feed `GET /searches/{id}/feed.atom`.

A search is the filters of `GET /listings` (`filters.SavedQuery`, the same model) and
where to deliver new matches. Searches live in PostgreSQL (`lib/searches/store.py`:
tokens hashed, creation rate-limited per keyed hash of the client address) and never
in the response cache: every answer here is read from the database and sent with
`Cache-Control: no-store` (the feed: `private, no-cache` with an ETag).

The API's sessions are read-only; creating and deleting run in a transaction that is
read-write (`writable`), and in a deployment the API's role may write this one table
only (`store.grant_api_role`). A wrong token and an unknown id get the same 404.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

import psycopg
from fastapi import FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool
from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError
from starlette.datastructures import URL

from jobs_assets.api.cache import conditional
from jobs_assets.api.feed import CONTENT_TYPE, atom_feed
from jobs_assets.api.filters import NO_NUL, SavedQuery
from jobs_assets.api.models import Problem
from jobs_assets.lib.listings import queries
from jobs_assets.lib.ops.targets import TargetPolicy, UnsafeTarget, check_target
from jobs_assets.lib.searches import store

#: entries in a feed: the newest matching jobs, one per duplicate cluster
FEED_ENTRIES = 50
#: listings read a time while looking for them (a cluster's copies may take several)
FEED_PAGE = 100
NO_STORE = "no-store"
NOT_FOUND_MESSAGE = (
    "no saved search with this id and token; check both (the token was shown once, when "
    "the search was saved), or save the search again"
)


@dataclass(frozen=True)
class SearchConfig:
    """What a deployment decides for saved searches (from `Settings` in `create_app`)."""

    rate_limit: store.RateLimit = field(default_factory=store.RateLimit)
    policy: TargetPolicy = field(default_factory=TargetPolicy)
    #: the keyed hash's key for client addresses; random per process when not given
    client_key: str = field(default_factory=lambda: secrets.token_hex(32))
    #: where the API is served (`JOBS_API_BASE_URL`): the links it gives out start with
    #: it; unset, with the request's own scheme and host (which a client can choose)
    base_url: str | None = None

    def link(self, request: Request, name: str, **params: str) -> URL:
        """The absolute URL of route `name`, under `base_url` when one is set."""
        if not self.base_url:
            return request.url_for(name, **params)
        return URL(self.base_url.rstrip("/") + request.app.url_path_for(name, **params))


class Deliver(BaseModel):
    """Where new matches go, besides the feed (both optional)."""

    model_config = ConfigDict(extra="forbid")

    webhook_url: str | None = Field(
        None,
        max_length=2000,
        pattern=NO_NUL,
        description="https URL that receives a POST (JSON) after each load with new matches.",
        examples=["https://hooks.example.com/jobs/Xy12"],
    )
    email: EmailStr | None = Field(None, description="An address that receives the matches.")

    def stored(self) -> dict[str, str]:
        """What is given, as kept with the search: the URL without blanks around it."""
        stored = self.model_dump(mode="json", exclude_none=True)
        if self.webhook_url is not None:
            stored["webhook_url"] = self.webhook_url.strip()
        return stored


class SearchCreate(BaseModel):
    """`POST /searches`: the filters of `GET /listings`, and where to deliver."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "query": {"q": "python", "region": "Europe", "min_salary_usd": 80000},
                    "deliver": {"webhook_url": "https://hooks.example.com/jobs/Xy12"},
                }
            ]
        },
    )

    query: SavedQuery = Field(default_factory=SavedQuery)
    deliver: Deliver = Field(default_factory=Deliver)


class SavedSearch(BaseModel):
    id: str
    query: dict[str, Any]
    deliver: dict[str, Any]
    created_at: datetime


class CreatedSearch(SavedSearch):
    token: str = Field(description="The search's secret: shown this once, kept nowhere.")
    feed_url: str = Field(description="The Atom feed of the search (holds the token).")


NOT_FOUND = {404: {"model": Problem, "description": "No such search, or a wrong token."}}
VALIDATION = {422: {"model": Problem, "description": "A field is invalid."}}
LIMITED = {429: {"model": Problem, "description": "Too many searches saved from this address."}}
UNREADABLE = {400: {"model": Problem, "description": "The body is not readable JSON."}}

# Any id and any token get the same 404 when they do not match a search (a token is
# only ever hashed and compared in Python; an id is a bound parameter, never NUL).
SearchId = Annotated[str, PathParam(max_length=200, pattern=r"^[^\x00]+$")]
Token = Annotated[str | None, Query(description="The token `POST /searches` returned.")]


class SearchNotFound(Exception):
    """Unknown id or wrong token: one answer for both."""


def problem(status: int, message: str, parameter: str | None = None) -> JSONResponse:
    return JSONResponse(
        {"message": message, "parameter": parameter, "detail": []},
        status_code=status,
        headers={"Cache-Control": NO_STORE},
    )


@contextmanager
def writable(pool: ConnectionPool) -> Iterator[psycopg.Connection]:
    """A pool connection in a read-write transaction (the pool's sessions are read-only),
    committed when the block ends; only saved searches are written through it."""
    with pool.connection() as conn, conn.transaction():
        conn.execute("SET TRANSACTION READ WRITE")
        yield conn


def _shown(search: store.SavedSearch) -> dict[str, Any]:
    return {
        "id": search.search_id,
        "query": search.query,
        "deliver": search.deliver,
        "created_at": search.created_at.isoformat(),
    }


def describe(query: dict[str, Any]) -> str:
    """A feed title from the filters: "Jobs: q=python, region=Europe"."""
    said = ", ".join(f"{name}={value}" for name, value in query.items())
    return f"Jobs: {said}" if said else "Jobs: every new listing"


def job_key(listing: dict) -> str:
    """A listing's job: its duplicate cluster, or the listing alone (as the matcher says)."""
    return listing["duplicate_cluster_id"] or f"{listing['source']}:{listing['source_job_id']}"


def feed_listings(
    conn: psycopg.Connection, query: SavedQuery
) -> tuple[list[dict], dict[str, list[dict]]]:
    """The newest `FEED_ENTRIES` matching jobs, one listing each, and per duplicate cluster
    among them the other boards' active listings of that job.

    A job matches as the matcher (`lib/searches/match.py`) decides: when any of its active
    listings passes the filters, so every job a webhook announced is in the feed. Its
    entry is the cluster's canonical listing while that is active, else its newest
    matching one; jobs come newest match first."""
    filters = query.listing_filters(status="active", include_duplicates=True)
    matched: dict[str, dict] = {}  # job -> its newest matching listing, newest job first
    keyset = queries.Keyset(None)
    while len(matched) < FEED_ENTRIES:
        page, after = queries.search_listings(conn, filters, "newest", keyset, FEED_PAGE)
        for listing in page:
            matched.setdefault(job_key(listing), listing)
        if after is None:
            break
        keyset = queries.Keyset(None, after)
    jobs = list(matched.items())[:FEED_ENTRIES]
    clusters = [key for key, listing in jobs if listing["duplicate_cluster_id"]]
    members: dict[str, list[dict]] = {}
    if clusters:
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(
                "SELECT * FROM public.jobs_listings_data "
                "WHERE duplicate_cluster_id = ANY(%s) AND status = 'active' "
                "ORDER BY duplicate_cluster_id, is_canonical IS TRUE DESC, source, source_job_id",
                (clusters,),
            ).fetchall()
        for row in rows:
            members.setdefault(row["duplicate_cluster_id"], []).append(queries.listing_json(row))
    listings, related = [], {}
    for key, listing in jobs:
        cluster = members.get(key, [])
        shown = cluster[0] if cluster and cluster[0]["is_canonical"] else listing
        listings.append(shown)
        others = [
            m
            for m in cluster
            if m["job_url"]
            and (m["source"], m["source_job_id"]) != (shown["source"], shown["source_job_id"])
        ]
        if others:
            related[key] = others
    return listings, related


def add_search_routes(app: FastAPI, pool: ConnectionPool, config: SearchConfig) -> None:
    """The routes, on the app itself: an included router's routes are not in `app.routes`,
    where a 405 reads the methods its `Allow` lists."""
    tags = ["saved searches"]

    @app.exception_handler(SearchNotFound)
    async def _not_found(request: Request, exc: SearchNotFound) -> JSONResponse:
        return problem(404, NOT_FOUND_MESSAGE, "token")

    @app.exception_handler(store.RateLimited)
    async def _limited(request: Request, exc: store.RateLimited) -> JSONResponse:
        response = problem(429, str(exc))
        response.headers["Retry-After"] = str(exc.retry_after_seconds)
        return response

    def found(conn: psycopg.Connection, search_id: str, token: str | None) -> store.SavedSearch:
        search = store.get_search(conn, search_id, token)
        if search is None:
            raise SearchNotFound()
        return search

    @app.post(
        "/searches",
        tags=tags,
        status_code=201,
        response_model=CreatedSearch,
        responses={**UNREADABLE, **VALIDATION, **LIMITED},
        summary="Save a search: its Atom feed, and a webhook or e-mail for new matches",
    )
    def create(request: Request, body: SearchCreate) -> JSONResponse:
        if body.deliver.webhook_url is not None:
            try:
                check_target(body.deliver.webhook_url, config.policy)
            except UnsafeTarget as err:
                raise RequestValidationError(
                    [
                        {
                            "loc": ("body", "deliver", "webhook_url"),
                            "msg": str(err),
                            "type": "value_error",
                        }
                    ]
                ) from None
        address = request.client.host if request.client else "unknown"
        with writable(pool) as conn:
            made = store.create_search(
                conn,
                body.query.stored(),
                body.deliver.stored(),
                client=store.client_hash(address, config.client_key),
                rate_limit=config.rate_limit,
            )
        search_id = made.search.search_id
        feed = config.link(request, "search_feed", search_id=search_id).include_query_params(
            token=made.token
        )
        shown = _shown(made.search) | {"token": made.token, "feed_url": str(feed)}
        return JSONResponse(
            shown,
            status_code=201,
            headers={
                "Cache-Control": NO_STORE,
                "Location": str(config.link(request, "get_search", search_id=search_id)),
            },
        )

    @app.get(
        "/searches/{search_id}",
        tags=tags,
        response_model=SavedSearch,
        responses={**NOT_FOUND, **VALIDATION},
        summary="A saved search (its filters and delivery; never its token)",
    )
    def get_search(search_id: SearchId, token: Token = None) -> JSONResponse:
        with pool.connection() as conn:
            search = found(conn, search_id, token)
        return JSONResponse(_shown(search), headers={"Cache-Control": NO_STORE})

    @app.delete(
        "/searches/{search_id}",
        tags=tags,
        status_code=204,
        responses={**NOT_FOUND, **VALIDATION},
        summary="Delete a saved search (and what it has delivered)",
    )
    def delete_search(search_id: SearchId, token: Token = None) -> Response:
        with writable(pool) as conn:
            if not store.delete_search(conn, search_id, token):
                raise SearchNotFound()
        return Response(status_code=204, headers={"Cache-Control": NO_STORE})

    @app.get(
        "/searches/{search_id}/feed.atom",
        tags=tags,
        responses={
            200: {"content": {"application/atom+xml": {}}, "description": "Atom 1.0"},
            304: {"description": "Not modified (If-None-Match)."},
            409: {"model": Problem, "description": "The search's filters are no longer valid."},
            **NOT_FOUND,
            **VALIDATION,
        },
        response_class=Response,
        summary="The newest 50 matching jobs as an Atom feed, one entry per job",
    )
    def search_feed(request: Request, search_id: SearchId, token: Token = None) -> Response:
        with pool.connection() as conn:
            search = found(conn, search_id, token)
            try:
                query = SavedQuery.model_validate(search.query)
            except ValidationError as err:  # a filter this release no longer has
                bad = ".".join(str(p) for p in err.errors()[0]["loc"])
                return problem(
                    409,
                    f"query.{bad}: this saved search's filters are no longer valid "
                    f"({err.errors()[0]['msg']}); delete it and save it again",
                    f"query.{bad}",
                )
            listings, related = feed_listings(conn, query)
        body = atom_feed(
            search_id=search.search_id,
            title=describe(search.query),
            self_url=str(
                config.link(request, "search_feed", search_id=search.search_id).replace(
                    query=request.url.query
                )
            ),
            page_url=str(config.link(request, "page")),
            created_at=search.created_at,
            listings=listings,
            related=related,
        )
        return conditional(request, body, CONTENT_TYPE, "private, no-cache")


def rate_limit(count: int, seconds: int) -> store.RateLimit:
    return store.RateLimit(count=count, window=timedelta(seconds=seconds))
