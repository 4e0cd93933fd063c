"""`jobs mcp`: the listings for AI assistants, as an MCP server over stdio.

Four tools, each the same code as the read API's endpoint it mirrors, so an assistant
gets what GET /listings, GET /listings/{source}/{id} and GET /stats/salaries answer:

- `search_listings`: the filters of GET /listings (the very model the API validates
  them with, `ListingQuery`), a sort, the cursor of the previous page and a limit;
  with `facets`, counts per value as GET /listings?facets= gives them.
- `get_listing`: one listing by source and id, with its history and duplicates.
- `salary_stats`: the salary percentiles (marts.salary_percentiles).
- `create_saved_search`: a saved search (`query`: the same filters, validated by the
  same model; `deliver`: a webhook URL and/or an e-mail address, validated by the API's
  own model, `Deliver`) -> its id, its secret token and its Atom feed's URL. The webhook
  URL passes the same check as at delivery (lib/ops/targets.py).

Each tool's arguments are one model (`ToolArguments`), which is also the input schema the
tool publishes: a name the tool does not take is refused, never ignored, and a JSON value
of the wrong type is refused, never coerced (the API's query parameters are text by
nature; a tool call is typed JSON). Every refusal names the argument, as the API's 422.

Configured like the API (the environment over .env, read through settings.py): the
database (PG* or embedded), `JOBS_API_BASE_URL` (where the feed is served; default the
local `make api`), and `JOBS_ALERT_ALLOW_HTTP` / `JOBS_ALERT_ALLOW_PRIVATE` (`on`: plain
http, private or loopback webhook hosts). stdout carries the protocol: nothing else may
print there.
"""

from __future__ import annotations

import inspect
import json
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

import psycopg
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from jobs_assets.api.app import MAX_PROBLEMS, Category, Region, Seniority
from jobs_assets.api.filters import (
    SOURCE_JOB_ID_MAX_LENGTH,
    BadParameter,
    ListingQuery,
    ListingsParams,
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

#: the JSON values lax pydantic would coerce to a field of this type, and what it takes
_COERCED: dict[type, tuple[tuple[type, ...], str]] = {
    int: ((bool, str), "a number"),
    float: ((bool, str), "a number"),
    bool: ((str, int, float), "true or false"),
}
_JSON_NAMES = {bool: "true or false", str: "a string", int: "a number", float: "a number"}


def _scalar(annotation: Any) -> type | None:
    """int, float or bool when `annotation` is one of them (optional or not), else None."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        kinds = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        annotation = kinds[0] if len(kinds) == 1 else None
    return annotation if annotation in _COERCED else None


def _json_object(text: str) -> object:
    """The object `text` holds as JSON, else `text` (for the model to refuse)."""
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return text
    return parsed if isinstance(parsed, dict) else text


class ToolArguments(BaseModel):
    """A tool's arguments as the call's JSON gives them: a name the tool does not take is
    refused, and a number or a boolean must be one (lax pydantic reads "5" and true as 5
    and 1: right for a query string, a silent guess for a typed call). An object sent as
    JSON text is read as that object, as the SDK reads it: some clients (Claude Desktop)
    send objects so."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _json_typed(cls, value: object, info: ValidationInfo) -> object:
        annotation = cls.model_fields[info.field_name or ""].annotation
        if (
            isinstance(value, str)
            and isinstance(annotation, type)
            and issubclass(annotation, BaseModel)
        ):
            return _json_object(value)
        kind = _scalar(annotation)
        if kind and type(value) in _COERCED[kind][0]:
            raise ValueError(f"expected {_COERCED[kind][1]}, not {_JSON_NAMES[type(value)]}")
        return value


class Filters(ToolArguments, SavedQuery):
    """The filters of GET /listings (a saved search's `query`)."""


class SearchListingsArguments(Filters):
    """The filters, then the page as GET /listings declares it."""

    sort: Sort = ListingsParams.model_fields["sort"]
    cursor: str | None = ListingsParams.model_fields["cursor"]
    limit: int = ListingsParams.model_fields["limit"]
    facets: str | None = ListingsParams.model_fields["facets"]


class GetListingArguments(ToolArguments):
    source: SourceName
    source_job_id: Annotated[
        str, Field(min_length=1, max_length=SOURCE_JOB_ID_MAX_LENGTH, pattern=r"^[^\x00]+$")
    ]


class SalaryStatsArguments(ToolArguments):
    """The parameters of GET /stats/salaries."""

    region: Region = None
    category: Category = None
    seniority: Seniority = None


class CreateSavedSearchArguments(ToolArguments):
    query: Filters = Field(description="The filters of search_listings.")
    deliver: Deliver = Field(description="A webhook_url (https) and/or an email.")


#: the longest name a refusal repeats (a client may send any key)
SHOWN_NAME_LENGTH = 80


def problems(err: ValidationError, model: type[BaseModel], tool: str) -> str:
    """The validation errors of `tool`'s arguments (`model`) as the API's 422 says them,
    "region: String should ...", the first MAX_PROBLEMS of them; a name not taken is
    refused with the names that are (said once per object)."""
    errors = err.errors()
    said, listed = [], set()
    for error in errors[:MAX_PROBLEMS]:
        name = ".".join(str(part) for part in error["loc"]) or "arguments"
        if len(name) > SHOWN_NAME_LENGTH:
            name = name[:SHOWN_NAME_LENGTH] + "..."
        if error["type"] == "extra_forbidden":  # a misspelt name is never ignored
            path = error["loc"][:-1]
            said.append(f"{name}: {_not_taken(model, tool, path, path not in listed)}")
            listed.add(path)
        elif error["type"] == "model_type":  # pydantic would name the class
            said.append(f"{name}: Input should be an object")
        else:
            said.append(f"{name}: {error['msg']}")
    if len(errors) > MAX_PROBLEMS:
        said.append(f"and {len(errors) - MAX_PROBLEMS} more problems")
    return "; ".join(said)


def _not_taken(
    model: type[BaseModel], tool: str, path: tuple[int | str, ...], with_names: bool
) -> str:
    """What a name the object at `path` of `model` does not take is, and which it takes."""
    owner = model
    for part in path:
        owner = owner.model_fields[str(part)].annotation
    if not path:
        what, names = f"an argument of {tool}", "its arguments"
    elif issubclass(owner, ListingQuery):
        what, names = "a filter of GET /listings", "the filters"
    else:
        what, names = f"a field of {path[-1]}", "its fields"
    known = f" ({names}: {', '.join(owner.model_fields)})" if with_names else ""
    return f"not {what}{known}"


Arguments = TypeVar("Arguments", bound=ToolArguments)


def _tool(name: str, model: type[Arguments], run: Callable[[Arguments], dict[str, Any]]) -> Tool:
    """`run` as the tool `name` (described by its docstring), whose input schema is
    `model`'s and whose arguments `model` validates, as the client sent them: the SDK's
    own model of a tool's arguments would drop a name it does not know, and coerce."""

    def call(ctx: Context) -> dict[str, Any]:
        sent = (ctx.request_context.params or {}).get("arguments") or {}
        try:
            arguments = model.model_validate(sent)
        except ValidationError as err:
            raise ToolError(problems(err, model, name)) from None
        return run(arguments)

    tool = Tool.from_function(call, name=name, description=inspect.cleandoc(run.__doc__ or ""))
    return tool.model_copy(update={"parameters": model.model_json_schema()})


def build_server(
    conninfo: str,
    api_base_url: str,
    policy: targets.TargetPolicy,
) -> MCPServer:
    """The MCP server over the database of `conninfo`."""

    @contextmanager
    def connection(read_only: bool = True) -> Iterator[psycopg.Connection]:
        with db.connect(conninfo, autocommit=True) as conn:
            if read_only:  # as the API's pool: a read can never write
                conn.execute("SET default_transaction_read_only = on")
            conn.execute("SET statement_timeout = '10s'")
            yield conn

    def search_listings(arguments: SearchListingsArguments) -> dict[str, Any]:
        """Search remote-job listings with the filters of GET /listings; newest first (or
        by relevance with q). Returns `items`, `next_cursor` (pass it as `cursor` for the
        next page, with the same filters) and, with `facets`, counts."""
        try:
            wanted = listings_request(
                arguments, arguments.sort, arguments.cursor, arguments.limit, arguments.facets
            )
        except BadParameter as err:
            raise ToolError(str(err)) from None
        with connection() as conn:
            return listings_page(conn, wanted) | {"data_version": queries.data_version(conn)}

    def get_listing(arguments: GetListingArguments) -> dict[str, Any]:
        """One listing (with its description), its earlier versions and its duplicates
        on other boards, by its source and id (as search_listings gives them)."""
        source, source_job_id = arguments.source.value, arguments.source_job_id
        with connection() as conn:
            found = queries.listing_detail(conn, source, source_job_id)
            version = queries.data_version(conn)
        if found is None:
            raise ToolError(
                f"source_job_id: no listing {source}/{source_job_id}; "
                "search_listings finds listings and their ids"
            )
        return found | {"data_version": version}

    def salary_stats(arguments: SalaryStatsArguments) -> dict[str, Any]:
        """Annual USD salary percentiles per region, category and seniority (cells with
        at least 5 listings that state a salary), and a per-region summary."""
        with connection() as conn:
            try:
                stats = queries.salary_stats(
                    conn, arguments.region, arguments.category, arguments.seniority
                )
            except psycopg.errors.UndefinedTable:
                raise ToolError(
                    "the salary statistics are not built yet; they are built after a load "
                    "(dagster asset materialize -m jobs_assets.definitions --select group:marts)"
                ) from None
            built = queries.marts_version(conn)
            version = queries.data_version(conn)
        marts_built_at = None if built in (None, queries.MARTS_NEVER_BUILT) else built
        return stats | {"data_version": version, "marts_built_at": marts_built_at}

    def create_saved_search(arguments: CreateSavedSearchArguments) -> dict[str, Any]:
        """Save a search: `query` takes the filters of search_listings (q, source, region,
        category, seniority, min_salary_usd, ...); `deliver` a `webhook_url` (https)
        and/or an `email`. Returns its `id`, its secret `token` (shown this once: keep
        it) and `feed_url`, an Atom feed of its newest matching listings."""
        deliver = arguments.deliver
        if not (deliver.webhook_url or deliver.email):
            raise ToolError("deliver: give a webhook_url, an email, or both")
        if deliver.webhook_url:
            try:
                targets.check_target(deliver.webhook_url, policy)
            except targets.UnsafeTarget as err:
                raise ToolError(f"deliver.webhook_url: {err}") from None
        saved_query = arguments.query.stored()
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

    tools = [
        _tool("search_listings", SearchListingsArguments, search_listings),
        _tool("get_listing", GetListingArguments, get_listing),
        _tool("salary_stats", SalaryStatsArguments, salary_stats),
        _tool("create_saved_search", CreateSavedSearchArguments, create_saved_search),
    ]
    return MCPServer("jobs", instructions=INSTRUCTIONS, tools=tools)


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
