"""Deliveries of saved searches: one message per search, window and channel, made once.

`plan_window` runs after a window is loaded. In one transaction (under an advisory lock,
so two pods or a re-run never plan side by side) it matches the window's new and
reactivated listings against every search (`match.py`), drops the jobs a search has
announced already, and writes one row per search and channel in
`public.jobs_search_deliveries` (`INSERT ... ON CONFLICT DO NOTHING` on the primary key;
its `idempotency_key` is derived from search, window and channel) together with what the
message announces in `public.jobs_search_announced`. A re-run of the window finds the
rows there and writes nothing, so nothing is sent twice; a crash before the commit
leaves nothing half-written, so nothing is lost.

A job is a duplicate cluster (`duplicate_cluster_id`), or the listing alone. A job is
announced to a search once: the check looks up the cluster id and every member's own key
and (source, source_job_id), so a twin arriving later from another board is never
announced again, even when the cluster's id changed since. The message lists the
canonical listing (or the first matching one) with the other boards' links.

`send_due` (`send.py`) posts what is due.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from jobs_assets.api.queries import _LISTING_COLUMNS, listing_json, source_name
from jobs_assets.lib.schema import LISTINGS_TABLE
from jobs_assets.lib.searches import match
from jobs_assets.lib.searches.store import SavedSearch, all_searches

DELIVERIES_TABLE = "public.jobs_search_deliveries"
ANNOUNCED_TABLE = "public.jobs_search_announced"
SEARCHES_TABLE = "public.jobs_saved_searches"
WEBHOOK = "webhook"
EMAIL = "email"
#: the namespace of the deliveries' idempotency keys (a UUID 5 of search, window, channel)
KEY_NAMESPACE = uuid.UUID("6f1b2c0e-29a5-4d1e-9a57-5e1f0c7d2b29")
#: a search hears of windows that ended at most this long before it was made (a window
#: loaded late, or loaded again by the inbox); a backfill of older windows tells it nothing
BACKFILL_GRACE = timedelta(days=1)
#: one planner at a time, whatever the pod: the announced check and its insert are one step
_PLAN_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('jobs_search_deliveries', 29))"


def idempotency_key(search_id: str, window_key: str, channel: str) -> str:
    """The same key for the same message, whoever makes it and however often."""
    return str(uuid.uuid5(KEY_NAMESPACE, f"{search_id}/{window_key}/{channel}"))


def channels_of(search: SavedSearch, email_enabled: bool) -> list[str]:
    """Where the search's messages go: its webhook, and its e-mail when mail is set up."""
    deliver = search.deliver or {}
    out = []
    if deliver.get("webhook_url"):
        out.append(WEBHOOK)
    if deliver.get("email") and email_enabled:
        out.append(EMAIL)
    return out


@dataclass
class PlanResult:
    window_listings: int = 0  # new or reactivated in the window
    searches: int = 0  # searches with a channel, evaluated
    matched: int = 0  # searches with at least one match before the announced check
    deliveries: int = 0  # rows written (a re-run: 0)
    announced: int = 0  # jobs newly announced, over all searches
    #: search id -> why its query was skipped (a stored query the matcher cannot read)
    skipped: dict[str, str] = field(default_factory=dict)


_PICK = f"""
CREATE TEMP TABLE search_jobs ON COMMIT DROP AS
SELECT DISTINCT ON (m.search_id, k.job_key)
       m.search_id, k.job_key, w.source, w.source_job_id
FROM search_matches m
JOIN {match.WINDOW_LISTINGS} w USING (source, source_job_id)
CROSS JOIN LATERAL (SELECT coalesce(w.duplicate_cluster_id, w.source || ':' || w.source_job_id)
                    AS job_key) k
ORDER BY m.search_id, k.job_key, w.is_canonical IS TRUE DESC, w.source, w.source_job_id
"""
# Every listing of each matched job: the cluster's members, and a listing alone itself.
_MEMBERS = f"""
CREATE TEMP TABLE search_members ON COMMIT DROP AS
SELECT k.job_key, l.source, l.source_job_id, l.job_url
FROM (SELECT DISTINCT job_key FROM search_jobs) k
JOIN {LISTINGS_TABLE} l ON l.duplicate_cluster_id = k.job_key
UNION
SELECT coalesce(w.duplicate_cluster_id, w.source || ':' || w.source_job_id),
       w.source, w.source_job_id, w.job_url
FROM {match.WINDOW_LISTINGS} w
"""
_ALREADY_ANNOUNCED = f"""
DELETE FROM search_jobs j
WHERE EXISTS (SELECT 1 FROM {ANNOUNCED_TABLE} a
              WHERE a.search_id = j.search_id AND a.job_key = j.job_key)
   OR EXISTS (SELECT 1 FROM search_members c JOIN {ANNOUNCED_TABLE} a
                  ON a.search_id = j.search_id AND a.job_key = c.source || ':' || c.source_job_id
              WHERE c.job_key = j.job_key)
   OR EXISTS (SELECT 1 FROM search_members c JOIN {ANNOUNCED_TABLE} a
                  ON a.search_id = j.search_id AND a.source = c.source
                 AND a.source_job_id = c.source_job_id
              WHERE c.job_key = j.job_key)
"""
_LISTINGS = f"""
SELECT {_LISTING_COLUMNS}
FROM {match.WINDOW_LISTINGS} l
WHERE (l.source, l.source_job_id) IN (SELECT source, source_job_id FROM search_jobs)
"""
_INSERT = f"""
INSERT INTO {DELIVERIES_TABLE}
    (search_id, window_key, channel, idempotency_key, payload, listing_count)
SELECT search_id, %(window)s, channel, key, payload, n
FROM unnest(%(search_ids)s::text[], %(channels)s::text[], %(keys)s::text[],
            %(payloads)s::jsonb[], %(counts)s::int[]) AS d(search_id, channel, key, payload, n)
ON CONFLICT (search_id, window_key, channel) DO NOTHING
RETURNING search_id
"""
_ANNOUNCE = f"""
INSERT INTO {ANNOUNCED_TABLE} (search_id, job_key, source, source_job_id, window_key)
SELECT search_id, job_key, source, source_job_id, %(window)s FROM search_jobs
WHERE search_id = ANY(%(search_ids)s)
ON CONFLICT (search_id, job_key) DO NOTHING
"""


def plan_window(
    conn: psycopg.Connection,
    window_key: str,
    window_start: datetime,
    *,
    email_enabled: bool,
    window_end: datetime | None = None,
    searches: Callable[[psycopg.Connection], list[SavedSearch]] | None = None,
) -> PlanResult:
    """Write the window's deliveries and what they announce, in one transaction (see the
    module docstring); what it did. Safe to run again: a second run writes nothing.

    With `window_end`, searches made more than `BACKFILL_GRACE` after the window ended
    are left out (a backfill announces old listings to no one who was not there)."""
    result = PlanResult()
    with conn.transaction():
        conn.execute(_PLAN_LOCK)
        result.window_listings = match.create_window_listings(conn, window_start)
        if not result.window_listings:
            return result
        candidates = (searches or _searches_with_channels)(conn)
        queries, channels = [], {}
        for search in candidates:
            if window_end is not None and search.created_at >= window_end + BACKFILL_GRACE:
                continue  # a backfill of a window long before the search was made
            wanted = channels_of(search, email_enabled)
            if not wanted:
                continue
            try:
                filters = match.filters_for(search.query or {})
            except match.QueryError as err:
                result.skipped[search.search_id] = str(err)
                continue
            queries.append((search.search_id, filters))
            channels[search.search_id] = wanted
        result.searches = len(queries)
        found = match.match_searches(conn, queries)
        result.matched = len(found)
        if not found:
            return result
        _keep_matches(conn, found)
        conn.execute(_PICK)
        conn.execute(_MEMBERS)
        conn.execute("CREATE INDEX ON search_members (job_key)")
        conn.execute("ANALYZE search_members")
        conn.execute(_ALREADY_ANNOUNCED)
        jobs = conn.execute(
            "SELECT search_id, job_key, source, source_job_id FROM search_jobs"
        ).fetchall()
        if not jobs:
            return result
        payloads = _payloads(conn, jobs, window_key, window_start)
        rows: dict[str, list] = defaultdict(list)
        for search_id, payload in payloads.items():
            for channel in channels[search_id]:
                rows["search_ids"].append(search_id)
                rows["channels"].append(channel)
                rows["keys"].append(idempotency_key(search_id, window_key, channel))
                rows["payloads"].append(Jsonb(payload))
                rows["counts"].append(len(payload["listings"]))
        inserted = conn.execute(_INSERT, {"window": window_key, **rows}).fetchall()
        result.deliveries = len(inserted)
        made = sorted({search_id for (search_id,) in inserted})
        if made:
            result.announced = conn.execute(
                _ANNOUNCE, {"window": window_key, "search_ids": made}
            ).rowcount
    return result


def _searches_with_channels(conn: psycopg.Connection) -> list[SavedSearch]:
    return [s for s in all_searches(conn) if s.deliver]


def _keep_matches(conn: psycopg.Connection, found: dict[str, list[tuple[str, str]]]) -> None:
    conn.execute(
        "CREATE TEMP TABLE search_matches (search_id text, source text, source_job_id text) "
        "ON COMMIT DROP"
    )
    with conn.cursor() as cur, cur.copy("COPY search_matches FROM STDIN") as copy:
        for search_id, keys in found.items():
            for source, job_id in keys:
                copy.write_row((search_id, source, job_id))
    conn.execute("ANALYZE search_matches")


def _payloads(
    conn: psycopg.Connection, jobs: list[tuple], window_key: str, window_start: datetime
) -> dict[str, dict]:
    """search id -> its message: the window and one entry per job, newest first."""
    with conn.cursor(row_factory=dict_row) as cur:
        listings = {
            (row["source"], row["source_job_id"]): row for row in cur.execute(_LISTINGS).fetchall()
        }
    others: dict[str, list[tuple[str, str, str | None]]] = defaultdict(list)
    for job_key, source, job_id, url in conn.execute(
        "SELECT job_key, source, source_job_id, job_url FROM search_members "
        "WHERE job_key IN (SELECT job_key FROM search_jobs) ORDER BY job_key, source, source_job_id"
    ):
        others[job_key].append((source, job_id, url))
    by_search: dict[str, list[dict]] = defaultdict(list)
    for search_id, job_key, source, job_id in jobs:
        row = listings[(source, job_id)]
        entry = message_listing(row, job_key)
        entry["other_boards"] = [
            {"source": s, "source_name": source_name(s), "url": u}
            for s, i, u in others[job_key]
            if (s, i) != (source, job_id)
        ]
        by_search[search_id].append((row["sort_at"], source, job_id, entry))
    payloads = {}
    for search_id, entries in by_search.items():
        entries.sort(key=lambda e: (e[0], e[1], e[2]), reverse=True)
        payloads[search_id] = {
            "search_id": search_id,
            "window": window_key,
            "window_start": window_start.isoformat(),
            "listings": [e[3] for e in entries],
        }
    return payloads


def message_listing(row: dict, job_key: str) -> dict:
    """One listing as a message shows it (the API's fields, fewer of them)."""
    shown = listing_json(row)
    return {
        "job_key": job_key,
        "title": shown["title"],
        "company": shown["company"],
        "place": shown["location"] or shown["region"],
        "region": shown["region"],
        "salary": shown["salary"],
        "url": shown["job_url"],
        "source": shown["source"],
        "source_name": shown["attribution"]["source_name"],
        "source_job_id": shown["source_job_id"],
        "published_at": shown["published_at"],
        "attribution": shown["attribution"]["text"],
    }
