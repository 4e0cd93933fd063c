"""`jobs mcp`: the listings for AI assistants, as an MCP server over stdio.

Four tools, each the same code as the read API's endpoint it mirrors, so an assistant
gets what GET /listings, GET /listings/{source}/{id} and GET /stats/salaries answer:

- `search_listings`: the filters of GET /listings (the very model the API validates
  them with, `ListingQuery`), a sort, the cursor of the previous page and a limit;
  with `facets`, counts per value as GET /listings?facets= gives them.
- `get_listing`: one listing by source and id, with its history and duplicates.
- `salary_stats`: the salary percentiles (marts.salary_percentiles).
- `create_saved_search`: a saved search (`query`: the same filters, validated by the
  same model, an unknown name refused; `deliver`: a webhook URL and/or an e-mail
  address, validated by the API's own model, `Deliver`) -> its id, its secret token and
  its Atom feed's URL. The webhook URL passes the same check as at delivery
  (lib/ops/targets.py).

Configured like the API (the environment over .env, read through settings.py): the
database (PG* or embedded), `JOBS_API_BASE_URL` (where the feed is served; default the
local `make api`), and `JOBS_ALERT_ALLOW_HTTP` / `JOBS_ALERT_ALLOW_PRIVATE` (`on`: plain
http, private or loopback webhook hosts). stdout carries the protocol: nothing else may
print there.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any
from urllib.parse import quote

import psycopg
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field, ValidationError

from jobs_assets.api.filters import (
    CURSOR_MAX_LENGTH,
    SOURCE_JOB_ID_MAX_LENGTH,
    BadParameter,
    SavedQuery,
    Sort,
    SourceName,
    listings_page,
    listings_request,
)
from jobs_assets.api.searches import Deliver
from jobs_assets.lib import db
from jobs_assets.lib.listings import queries
from jobs_assets.lib.ops import targets
from jobs_assets.lib.searches import store

#: where the read API is served when `JOBS_API_BASE_URL` is not set (`make api`)
DEFAULT_API_URL = "http://127.0.0.1:8000"

INSTRUCTIONS = (
    "Remote-job listings collected from public job boards. search_listings finds "
    "listings (filters as GET /listings of the read API; page with next_cursor); "
    "get_listing shows one with its history; salary_stats gives annual USD salary "
    "percentiles; create_saved_search saves a search and returns its Atom feed URL "
    "(keep the token: it is shown once). Credit the board named in each listing's "
    "attribution and link to its url."
)
#: where the read API is served (`make api`), for the feed URLs of saved searches


def problems(err: ValidationError) -> str:
    """The validation errors as the API's 422 says them: "region: String should ..."."""
    said = []
    for error in err.errors():
        name = ".".join(str(part) for part in error["loc"]) or "query"
        if error["type"] == "extra_forbidden":  # a misspelt filter is never ignored
            known = ", ".join(SavedQuery.model_fields)
            said.append(f"{name}: not a filter of GET /listings (the filters: {known})")
        else:
            said.append(f"{name}: {error['msg']}")
    return "; ".join(said)


def _with_filters(fn: Callable[..., dict], extra: list[inspect.Parameter]) -> Callable:
    """`fn(**arguments)` as a tool whose arguments are the filters of GET /listings (the
    fields of SavedQuery, with their types, limits and descriptions), then `extra`:
    a filter added to the API is a tool argument with nothing to change here."""
    filters = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=field.default,
            annotation=Annotated[field.annotation, field],
        )
        for name, field in SavedQuery.model_fields.items()
    ]
    fn.__signature__ = inspect.Signature(filters + extra, return_annotation=dict[str, Any])  # type: ignore[attr-defined]
    return fn


def build_server(
    conninfo: str,
    api_base_url: str,
    policy: targets.TargetPolicy,
) -> MCPServer:
    """The MCP server over the database of `conninfo`."""
    server = MCPServer("jobs", instructions=INSTRUCTIONS)

    @contextmanager
    def connection(read_only: bool = True) -> Iterator[psycopg.Connection]:
        with db.connect(conninfo, autocommit=True) as conn:
            if read_only:  # as the API's pool: a read can never write
                conn.execute("SET default_transaction_read_only = on")
            conn.execute("SET statement_timeout = '10s'")
            yield conn

    def search_listings(**arguments: Any) -> dict[str, Any]:
        paging = {k: arguments.pop(k) for k in ("sort", "cursor", "limit", "facets")}
        try:
            query = SavedQuery.model_validate(arguments)
            wanted = listings_request(
                query, Sort(paging["sort"]), paging["cursor"], paging["limit"], paging["facets"]
            )
        except ValidationError as err:
            raise ToolError(problems(err)) from None
        except BadParameter as err:
            raise ToolError(str(err)) from None
        with connection() as conn:
            return listings_page(conn, wanted) | {"data_version": queries.data_version(conn)}

    server.add_tool(
        _with_filters(
            search_listings,
            [
                inspect.Parameter(
                    "sort",
                    inspect.Parameter.KEYWORD_ONLY,
                    default=Sort.newest,
                    annotation=Annotated[Sort, Field(description="relevance needs q.")],
                ),
                inspect.Parameter(
                    "cursor",
                    inspect.Parameter.KEYWORD_ONLY,
                    default=None,
                    annotation=Annotated[
                        str | None,
                        Field(
                            max_length=CURSOR_MAX_LENGTH,
                            description="next_cursor of the previous page.",
                        ),
                    ],
                ),
                inspect.Parameter(
                    "limit",
                    inspect.Parameter.KEYWORD_ONLY,
                    default=20,
                    annotation=Annotated[int, Field(ge=1, le=100)],
                ),
                inspect.Parameter(
                    "facets",
                    inspect.Parameter.KEYWORD_ONLY,
                    default=None,
                    annotation=Annotated[
                        str | None,
                        Field(
                            max_length=200,
                            description="Also count listings per value of these facets "
                            "(comma-separated: " + ", ".join(queries.LISTING_FACETS) + ").",
                        ),
                    ],
                ),
            ],
        ),
        name="search_listings",
        description="Search remote-job listings with the filters of GET /listings; newest "
        "first (or by relevance with q). Returns `items`, `next_cursor` (pass it as "
        "`cursor` for the next page, with the same filters) and, with `facets`, counts.",
    )

    @server.tool()
    def get_listing(
        source: SourceName,
        source_job_id: Annotated[
            str,
            Field(min_length=1, max_length=SOURCE_JOB_ID_MAX_LENGTH, pattern=r"^[^\x00]+$"),
        ],
    ) -> dict[str, Any]:
        """One listing (with its description), its earlier versions and its duplicates
        on other boards, by its source and id (as search_listings gives them)."""
        with connection() as conn:
            found = queries.listing_detail(conn, SourceName(source).value, source_job_id)
            version = queries.data_version(conn)
        if found is None:
            raise ToolError(
                f"source_job_id: no listing {SourceName(source).value}/{source_job_id}; "
                "search_listings finds listings and their ids"
            )
        return found | {"data_version": version}

    @server.tool()
    def salary_stats(
        region: Annotated[str | None, Field(max_length=64, pattern=r"^[^\x00]*$")] = None,
        category: Annotated[str | None, Field(max_length=64, pattern=r"^[^\x00]*$")] = None,
        seniority: Annotated[str | None, Field(max_length=32, pattern=r"^[^\x00]*$")] = None,
    ) -> dict[str, Any]:
        """Annual USD salary percentiles per region, category and seniority (cells with
        at least 5 listings that state a salary), and a per-region summary."""
        with connection() as conn:
            try:
                stats = queries.salary_stats(conn, region, category, seniority)
            except psycopg.errors.UndefinedTable:
                raise ToolError(
                    "the salary statistics are not built yet; they are built after a load "
                    "(dagster asset materialize -m jobs_assets.definitions --select group:marts)"
                ) from None
            built = queries.marts_version(conn)
            version = queries.data_version(conn)
        marts_built_at = None if built in (None, queries.MARTS_NEVER_BUILT) else built
        return stats | {"data_version": version, "marts_built_at": marts_built_at}

    @server.tool()
    def create_saved_search(query: dict[str, Any], deliver: Deliver) -> dict[str, Any]:
        """Save a search: `query` takes the filters of search_listings (q, source, region,
        category, seniority, min_salary_usd, ...); `deliver` a `webhook_url` (https)
        and/or an `email`. Returns its `id`, its secret `token` (shown this once: keep
        it) and `feed_url`, an Atom feed of its newest matching listings."""
        try:
            stored = SavedQuery.model_validate(query)
        except ValidationError as err:
            raise ToolError("query." + problems(err)) from None
        if not (deliver.webhook_url or deliver.email):
            raise ToolError("deliver: give a webhook_url, an email, or both")
        if deliver.webhook_url:
            try:
                targets.check_target(deliver.webhook_url, policy)
            except targets.UnsafeTarget as err:
                raise ToolError(f"deliver.webhook_url: {err}") from None
        saved_query = stored.stored()
        with connection(read_only=False) as conn:
            created = store.create_search(conn, saved_query, deliver.stored())
        search_id = created.search.search_id
        feed = f"{api_base_url.rstrip('/')}/searches/{quote(search_id)}/feed.atom"
        return {
            "id": search_id,
            "token": created.token,
            "feed_url": f"{feed}?token={quote(created.token)}",
            "query": saved_query,
        }

    return server


def main(conninfo: str | None = None, env: Mapping[str, str] | None = None) -> int:
    """Serve over stdio, configured from `env` (default: the process environment over
    .env) as the API is (create_app); `conninfo` defaults to the pipeline's database."""
    from jobs_assets.settings import Settings, environment

    env = environment() if env is None else env
    settings = Settings.from_env(env)
    server = build_server(
        conninfo or db.conninfo_for(settings.data_dir, settings.pghost),
        settings.api_base_url or DEFAULT_API_URL,
        targets.TargetPolicy(
            allow_http=settings.alert_allow_http, allow_private=settings.alert_allow_private
        ),
    )
    server.run("stdio")
    return 0
