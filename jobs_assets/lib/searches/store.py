"""Saved searches in `public.jobs_saved_searches` (migration 0011).

A search is its `query` (the filters of `GET /listings`, validated by the caller) and
`deliver` (`webhook_url` and/or `email`). Its secret token is returned once, by
`create_search`, and stored only as a SHA-256; `get_search`/`delete_search` answer
`None`/`False` for an unknown id and a wrong token alike, so a caller cannot tell
whether an id exists. Creation is rate-limited per client: the client's address is
kept only as a keyed hash (`client_hash`); every creation is counted in
`public.jobs_search_creations` (migration 0017), which deleting a search leaves as it is,
and an advisory lock per client makes the count and the insert one step even with
several API workers.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

TOKEN_BYTES = 32
SEARCHES_TABLE = "public.jobs_saved_searches"


class RateLimited(Exception):
    """Too many searches made from one client in the window; retry after a while."""

    def __init__(self, limit: int, window: timedelta, retry_after_seconds: int) -> None:
        self.limit = limit
        self.window = window
        self.retry_after_seconds = retry_after_seconds
        super().__init__(
            f"at most {limit} saved searches per {int(window.total_seconds() // 60)} minutes "
            f"from one address; try again in {retry_after_seconds} s"
        )


@dataclass(frozen=True)
class RateLimit:
    """At most `count` searches per client per `window`."""

    count: int = 20
    window: timedelta = timedelta(hours=1)


@dataclass(frozen=True)
class SavedSearch:
    search_id: str
    query: dict
    deliver: dict
    created_at: datetime


@dataclass(frozen=True)
class CreatedSearch:
    """A new search and its token (shown to its owner once, kept nowhere)."""

    search: SavedSearch
    token: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def client_hash(address: str, key: str) -> str:
    """A keyed hash of a client address: counts per client without keeping addresses."""
    return hmac.new(key.encode("utf-8"), address.encode("utf-8"), hashlib.sha256).hexdigest()


def create_search(
    conn: psycopg.Connection,
    query: dict,
    deliver: dict,
    *,
    client: str | None = None,
    rate_limit: RateLimit | None = None,
) -> CreatedSearch:
    """Store a search (committed); `RateLimited` when `client` made too many lately.

    `client` is already hashed (`client_hash`); `None` (the CLI, the MCP server on a
    person's own machine) is not limited.
    """
    token = secrets.token_urlsafe(TOKEN_BYTES)
    search_id = uuid.uuid4().hex
    with conn.transaction():
        if client is not None and rate_limit is not None:
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 29))", (client,))
            (oldest,) = conn.execute(
                "SELECT public.jobs_record_search_creation(%s, %s, %s)",
                (client, rate_limit.count, rate_limit.window),
            ).fetchone()
            if oldest is not None:
                (wait,) = conn.execute(
                    "SELECT greatest(1, ceil(extract(epoch FROM %s::timestamptz + %s - now())))",
                    (oldest, rate_limit.window),
                ).fetchone()
                raise RateLimited(rate_limit.count, rate_limit.window, int(wait))
        (created_at,) = conn.execute(
            f"""
            INSERT INTO {SEARCHES_TABLE}
                (search_id, token_sha256, query, deliver, client_hash)
            VALUES (%s, %s, %s, %s, %s)
            RETURNING created_at
            """,
            (search_id, token_hash(token), Jsonb(query), Jsonb(deliver), client),
        ).fetchone()
    return CreatedSearch(SavedSearch(search_id, query, deliver, created_at), token)


def get_search(conn: psycopg.Connection, search_id: str, token: str | None) -> SavedSearch | None:
    """The search when `token` is its token; `None` for a wrong token or an unknown id."""
    if not token:
        return None
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            f"""
            SELECT search_id, token_sha256, query, deliver, created_at
            FROM {SEARCHES_TABLE} WHERE search_id = %s
            """,
            (search_id,),
        ).fetchone()
    # compare even when the id is unknown, so both answers take the same time
    stored = row["token_sha256"] if row else token_hash(secrets.token_urlsafe(TOKEN_BYTES))
    if not hmac.compare_digest(stored, token_hash(token)) or row is None:
        return None
    return SavedSearch(row["search_id"], row["query"], row["deliver"], row["created_at"])


def delete_search(conn: psycopg.Connection, search_id: str, token: str | None) -> bool:
    """Remove the search (and its deliveries); False for a wrong token or an unknown id."""
    if get_search(conn, search_id, token) is None:
        return False
    with conn.transaction():
        conn.execute(f"DELETE FROM {SEARCHES_TABLE} WHERE search_id = %s", (search_id,))
    return True


def all_searches(conn: psycopg.Connection) -> Iterator[SavedSearch]:
    """Every saved search, oldest first (the delivery's input)."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            f"SELECT search_id, query, deliver, created_at FROM {SEARCHES_TABLE}"
            " ORDER BY created_at, search_id"
        ).fetchall()
    for row in rows:
        yield SavedSearch(row["search_id"], row["query"], row["deliver"], row["created_at"])


#: what the read API's role may do to saved searches: read, save and delete them, never
#: change one (the deliveries of a deleted search go with it, by the foreign keys)
API_PRIVILEGES = "SELECT, INSERT, DELETE"
#: the tables of `public` the read API and the MCP server read, granted by name: a table
#: added later (the alert outbox, the deliveries, the expiry holds) is theirs only once
#: listed here (`test_deploy.py` checks every `public.` table their code names is)
API_READS = (
    "jobs_listings_data",
    "jobs_listings_history",
    "jobs_listing_facet_counts",
    "jobs_data_version",
)
#: the functions they call; migration 0022 revokes EXECUTE on the first from PUBLIC (it
#: runs with its owner's rights)
API_CALLS = (
    "jobs_record_search_creation(text, integer, interval)",
    "jobs_salary_k(numeric, numeric)",
)


def grant_api_role(conn: psycopg.Connection, role: str) -> None:
    """Grant the API's database role what it reads (`API_READS`, `API_CALLS`) and what
    `POST`/`DELETE /searches` need, and nothing else in `public`: what an earlier init
    script's default privileges gave it there is revoked (run as the tables' owner, after
    the migrations; idempotent). The marts are read whole (the init script's default
    privileges on `marts` and `analytics_intermediate`)."""
    who = sql.Identifier(role)
    with conn.transaction():
        conn.execute(
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT ON TABLES FROM {}"
            ).format(who)
        )
        conn.execute(sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}").format(who))
        for table in API_READS:
            conn.execute(
                sql.SQL("GRANT SELECT ON {} TO {}").format(sql.Identifier("public", table), who)
            )
        conn.execute(
            sql.SQL("GRANT {} ON {} TO {}").format(
                sql.SQL(API_PRIVILEGES), sql.SQL(SEARCHES_TABLE), who
            )
        )
        for function in API_CALLS:
            conn.execute(
                sql.SQL("GRANT EXECUTE ON FUNCTION {} TO {}").format(
                    sql.SQL("public." + function), who
                )
            )
