"""Which saved searches a window's listings match: the filters of `GET /listings`
evaluated over the listings the window may bring news of.

Those are the window's active listings that were first seen in it (`first_seen_at` is
the window's start, set by the upsert), came back in it after expiring, or changed in
it (an edit, a late exchange rate, a places backfill): all of them have a history
version that starts at the window, and it is their current one. Those rows are copied
into a temporary table first (through the indexes on `first_seen_at` and on the current
versions' `valid_from`), so what follows costs in proportion to the window and the
number of searches, never to the history. Whether a match is news to a search (the job
arrived after the search was saved, or came back since) is `news.py`'s to say.

A search's query becomes the API's `ListingFilters`, and its SQL is the API's own
(`jobs_assets.lib.listings.queries.where_clauses`), run against the temporary table: the listings a
search is told about are exactly those `GET /listings` would show it. Identical filters
are evaluated once, and every statement goes to the server in one pipeline. Each holds
its own constant full-text query, so the planner reads the temporary table's GIN index
for it; one statement per filter shape (the values in an `unnest`, joined LATERAL) was
tried and was 6x slower at 10,000 searches: the planner turned it into a join that
parses and matches the full text for every (search, listing) pair.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import psycopg

from jobs_assets.lib.listings.queries import ListingFilters, unsearchable, where_clauses
from jobs_assets.lib.normalise.eligibility import country_offsets
from jobs_assets.lib.schema import HISTORY, LISTINGS_TABLE

#: the temporary table of the window's new, returned and changed listings (dropped at commit)
WINDOW_LISTINGS = "search_window_listings"
#: filters a saved query may hold; `status` and `include_duplicates` are the matcher's own
QUERY_FIELDS = tuple(
    f.name
    for f in dataclasses.fields(ListingFilters)
    if f.name not in ("status", "include_duplicates", "eligible_in_offsets")
)


class QueryError(ValueError):
    """A stored query the matcher cannot read; the message names the field."""


def filters_for(query: Mapping[str, Any]) -> ListingFilters:
    """The `GET /listings` filters of a stored query, over active listings and every
    member of a duplicate cluster (the matcher announces each cluster once itself)."""
    unknown = sorted(set(query) - set(QUERY_FIELDS) - {"status", "include_duplicates"})
    if unknown:
        raise QueryError(
            f"unknown filter(s) {', '.join(unknown)}; a saved query takes {', '.join(QUERY_FIELDS)}"
        )
    values: dict[str, Any] = {}
    for name in QUERY_FIELDS:
        value = query.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if name == "posted_since" and isinstance(value, str):
            try:
                value = date.fromisoformat(value[:10])
            except ValueError:
                raise QueryError(f"posted_since={value!r} is not a date (YYYY-MM-DD)") from None
        if name == "q" and isinstance(value, str) and (why := unsearchable(value)):
            raise QueryError(f"q: {why}")
        if name == "min_salary_usd":
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise QueryError(f"min_salary_usd={value!r} is not a whole number") from None
        values[name] = value
    if values.get("eligible_in"):  # the country's UTC offsets, as GET /listings adds them
        values["eligible_in"] = str(values["eligible_in"]).upper()
        values["eligible_in_offsets"] = country_offsets(values["eligible_in"])
    return ListingFilters(**values, status="active", include_duplicates=True)


# back after expiring in the window: its expired version ends where the window starts
_CAME_BACK = f"""
    (l.reactivated_count > 0 AND EXISTS (
        SELECT 1 FROM {HISTORY.name} h
        WHERE h.source = l.source AND h.source_job_id = l.source_job_id
          AND h.status = 'expired' AND h.valid_to = %(window_start)s))
"""


def create_window_listings(conn: psycopg.Connection, window_start: datetime) -> int:
    """The window's new, returned and changed active listings as `WINDOW_LISTINGS`
    (every column of the listings, so the API's filters read it as they read the table,
    and `came_back`); how many. In the caller's transaction."""
    conn.execute(
        f"""
        CREATE TEMP TABLE {WINDOW_LISTINGS} ON COMMIT DROP AS
        WITH keys AS (
            SELECT source, source_job_id FROM {LISTINGS_TABLE}
            WHERE first_seen_at = %(window_start)s
            UNION
            SELECT source, source_job_id FROM {HISTORY.name}
            WHERE valid_from = %(window_start)s AND valid_to IS NULL AND status = 'active'
        )
        SELECT l.*, {_CAME_BACK} AS came_back
        FROM keys k
        JOIN {LISTINGS_TABLE} l ON l.source = k.source AND l.source_job_id = k.source_job_id
        WHERE l.status = 'active'
        """,
        {"window_start": window_start},
    )
    count = conn.execute(f"SELECT count(*) FROM {WINDOW_LISTINGS}").fetchone()[0]
    if count:
        conn.execute(f"ALTER TABLE {WINDOW_LISTINGS} ADD PRIMARY KEY (source, source_job_id)")
        conn.execute(
            f"CREATE INDEX ON {WINDOW_LISTINGS} USING gin (search_vector)"
        )  # full-text filters find their rows without reading every description
        conn.execute(f"ANALYZE {WINDOW_LISTINGS}")
    return count


def _statement(filters: ListingFilters) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {}
    clauses = where_clauses(filters, params)
    sql = (
        f"SELECT l.source, l.source_job_id FROM {WINDOW_LISTINGS} l "
        f"WHERE {' AND '.join(clauses) or 'true'}"
    )
    return sql, params


def match_searches(
    conn: psycopg.Connection, queries: Iterable[tuple[str, ListingFilters]]
) -> dict[str, list[tuple[str, str]]]:
    """search id -> the (source, source_job_id) of `WINDOW_LISTINGS` its filters match
    (searches without a match are left out). After `create_window_listings`."""
    by_filters: dict[ListingFilters, list[str]] = defaultdict(list)
    for search_id, filters in queries:
        by_filters[filters].append(search_id)
    found: dict[str, list[tuple[str, str]]] = {}
    cursors = []
    with conn.pipeline():
        for filters in by_filters:
            sql, params = _statement(filters)
            cursors.append((filters, conn.execute(sql, params)))
    for filters, cursor in cursors:
        rows = [(source, job_id) for source, job_id in cursor.fetchall()]
        if rows:
            for search_id in by_filters[filters]:
                found[search_id] = rows
    return found
