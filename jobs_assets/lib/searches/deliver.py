"""Deliveries of saved searches: one message per search, window and channel, made once.

`plan_window` runs after a window is loaded. In one transaction (under an advisory lock,
so two pods or a re-run never plan side by side) it matches the window's new, returned
and changed listings against every search (`match.py`), keeps for each search the jobs
that are news to it (they arrived after it was saved, or came back since: `news.py`),
drops the jobs a search has announced already, and writes one row per search and
channel in `public.jobs_search_deliveries` (its `idempotency_key` is derived from
search, window, channel and part) together with what the message announces in
`public.jobs_search_announced`. A re-run of the window finds every match announced and
writes nothing, so nothing is sent twice; a later load of the window that brings a match
not yet announced writes a follow-up (the next `part`) listing just that; a crash before
the commit leaves nothing half-written, so nothing is lost. The matched searches are
locked (`FOR KEY SHARE`) before anything is written for them: one deleted meanwhile is
left out, and a deletion that comes later waits for the commit.

A job is a duplicate cluster (`duplicate_cluster_id`), or the listing alone. A job is
announced to a search once: the check looks up the cluster id and every member's own key
and (source, source_job_id), so a twin arriving later from another board is never
announced again, even when the cluster's id changed since; and every member the job has
when it is announced or matched again is remembered with it, so a cluster renamed after
its canonical listing expired is still known by the twins that joined it. The message lists the
canonical listing (or the first matching one) with the other boards' links.

`send_due` (`send.py`) posts what is due.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psycopg
from psycopg.types.json import Jsonb

from jobs_assets.lib.listings.queries import source_name
from jobs_assets.lib.schema import LISTINGS_TABLE
from jobs_assets.lib.searches import match, news
from jobs_assets.lib.searches.store import SEARCHES_TABLE, SavedSearch, all_searches
from jobs_assets.lib.sources import SOURCES

DELIVERIES_TABLE = "public.jobs_search_deliveries"
ANNOUNCED_TABLE = "public.jobs_search_announced"
WEBHOOK = "webhook"
EMAIL = "email"
#: the namespace of the deliveries' idempotency keys (a UUID 5 of search, window, channel)
KEY_NAMESPACE = uuid.UUID("6f1b2c0e-29a5-4d1e-9a57-5e1f0c7d2b29")
#: a search hears of windows that ended at most this long before it was made (a window
#: loaded late, or loaded again by the inbox), and then only of jobs that arrived after it
#: (`news.py`); a backfill of older windows tells it nothing
BACKFILL_GRACE = timedelta(days=1)
#: one planner at a time, whatever the pod: the announced check and its insert are one step
_PLAN_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('jobs_search_deliveries', 29))"


def idempotency_key(search_id: str, window_key: str, channel: str, part: int = 0) -> str:
    """The same key for the same message, whoever makes it and however often (a window's
    first message, part 0, keeps the key it had before follow-ups existed)."""
    follow_up = f"/{part}" if part else ""
    return str(uuid.uuid5(KEY_NAMESPACE, f"{search_id}/{window_key}/{channel}{follow_up}"))


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
    window_listings: int = 0  # new, back after expiring, or changed in the window
    searches: int = 0  # searches with a channel, evaluated
    matched: int = 0  # searches with at least one match before the announced check
    old_news: int = 0  # (search, listing) matches whose job the search could already see
    deleted: int = 0  # matched searches deleted while the window was planned
    deliveries: int = 0  # rows written (a re-run: 0)
    announced: int = 0  # jobs newly announced, over all searches
    #: search id -> why its query was skipped (a stored query the matcher cannot read)
    skipped: dict[str, str] = field(default_factory=dict)
    #: seconds per step (window, match, announced, payloads, write)
    seconds: dict[str, float] = field(default_factory=dict)

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.seconds[step] = round(now - self._clock, 3)
        self._clock = now

    _clock: float = field(default_factory=time.perf_counter, repr=False)


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
# Every listing of each matched job: the cluster's members (expired ones too: they were
# announced all the same; messages link the active ones), and a listing alone itself.
_MEMBERS = f"""
CREATE TEMP TABLE search_members ON COMMIT DROP AS
SELECT k.job_key, l.source, l.source_job_id, l.job_url, l.status
FROM (SELECT DISTINCT job_key FROM search_jobs) k
JOIN {LISTINGS_TABLE} l ON l.duplicate_cluster_id = k.job_key
UNION
SELECT coalesce(w.duplicate_cluster_id, w.source || ':' || w.source_job_id),
       w.source, w.source_job_id, w.job_url, w.status
FROM {match.WINDOW_LISTINGS} w
"""
# A job already announced to the search: by its cluster id or a member's own key (the
# announced table's primary key), or by a member's (source, source_job_id) when the
# cluster's id changed since (searched among that search's rows).
_ALREADY_ANNOUNCED = f"""
CREATE TEMP TABLE search_seen ON COMMIT DROP AS
SELECT j.search_id, j.job_key FROM search_jobs j
JOIN {ANNOUNCED_TABLE} a ON a.search_id = j.search_id AND a.job_key = j.job_key
UNION
SELECT j.search_id, j.job_key FROM search_jobs j
JOIN search_members c ON c.job_key = j.job_key
JOIN {ANNOUNCED_TABLE} a
    ON a.search_id = j.search_id AND a.job_key = c.source || ':' || c.source_job_id
UNION
SELECT j.search_id, j.job_key FROM search_jobs j
JOIN search_members c ON c.job_key = j.job_key
JOIN {ANNOUNCED_TABLE} a ON a.search_id = j.search_id
    AND a.source = c.source AND a.source_job_id = c.source_job_id
"""
_DROP_SEEN = """
DELETE FROM search_jobs j USING search_seen s
WHERE j.search_id = s.search_id AND j.job_key = s.job_key
"""
# Each matched job's entry, built once by the database however many searches list it
# (`names`: a source's display name, for the attribution), with the other boards' links.
_ENTRIES = f"""
CREATE TEMP TABLE search_entries ON COMMIT DROP AS
SELECT j.job_key, l.source, l.source_job_id,
       coalesce(l.published_at, l.first_seen_at) AS sort_at,
       jsonb_build_object(
        'job_key', j.job_key, 'title', l.title, 'company', l.company_name,
        'place', coalesce(nullif(l.location_raw, ''), l.region), 'region', l.region,
        'salary', jsonb_build_object(
            'min_annual', l.salary_min, 'max_annual', l.salary_max,
            'currency', l.salary_currency, 'min_usd_annual', l.salary_min_usd,
            'max_usd_annual', l.salary_max_usd, 'original_period', l.salary_period,
            'as_written', l.salary_raw),
        'url', l.job_url, 'source', l.source,
        'source_name', coalesce(%(names)s::jsonb ->> l.source, l.source),
        'source_job_id', l.source_job_id, 'published_at', l.published_at,
        'attribution', 'Listing from ' || coalesce(%(names)s::jsonb ->> l.source, l.source),
        'other_boards', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'source', m.source,
                       'source_name', coalesce(%(names)s::jsonb ->> m.source, m.source),
                       'url', m.job_url) ORDER BY m.source, m.source_job_id)
            FROM search_members m
            WHERE m.job_key = j.job_key AND m.status = 'active'
              AND (m.source, m.source_job_id) <> (l.source, l.source_job_id)), '[]'::jsonb)
       ) AS entry
FROM (SELECT DISTINCT job_key, source, source_job_id FROM search_jobs) j
JOIN {match.WINDOW_LISTINGS} l USING (source, source_job_id)
"""
# One message per search: its jobs, newest first.
_MESSAGES = """
CREATE TEMP TABLE search_messages ON COMMIT DROP AS
SELECT j.search_id, count(*)::int AS n,
       jsonb_build_object(
           'search_id', j.search_id, 'window', %(window)s::text,
           'window_start', %(window_start)s::timestamptz,
           'listings', jsonb_agg(e.entry ORDER BY e.sort_at DESC, e.source DESC,
                                 e.source_job_id DESC)) AS payload
FROM search_jobs j
JOIN search_entries e USING (job_key, source, source_job_id)
GROUP BY j.search_id
"""
_INSERT = f"""
INSERT INTO {DELIVERIES_TABLE}
    (search_id, window_key, channel, part, idempotency_key, payload, listing_count)
SELECT c.search_id, %(window)s, c.channel, c.part, c.key, m.payload, m.n
FROM search_channels c JOIN search_messages m USING (search_id)
ON CONFLICT (search_id, window_key, channel, part) DO NOTHING
RETURNING search_id
"""
# The part each channel's message takes: the next after the window's earlier messages.
_NEXT_PARTS = f"""
SELECT search_id, channel, max(part) + 1 FROM {DELIVERIES_TABLE}
WHERE window_key = %(window)s AND search_id IN (SELECT search_id FROM search_messages)
GROUP BY search_id, channel
"""
_ANNOUNCE = f"""
INSERT INTO {ANNOUNCED_TABLE} (search_id, job_key, source, source_job_id, window_key)
SELECT search_id, job_key, source, source_job_id, %(window)s FROM search_jobs
WHERE search_id IN (SELECT search_id FROM search_made)
ON CONFLICT (search_id, job_key) DO NOTHING
"""

# Every member a job has now, remembered as announced with it (the job's seen matches and
# its announced ones): when the cluster's id changes later (its canonical listing
# expired, another board's twin came), a member still names the job, so it is never
# announced again, and a re-run finds these rows written.
_REMEMBER_MEMBERS = f"""
INSERT INTO {ANNOUNCED_TABLE} (search_id, job_key, source, source_job_id, window_key)
SELECT DISTINCT j.search_id, c.source || ':' || c.source_job_id, c.source, c.source_job_id,
       %(window)s
FROM {{jobs}} AS j JOIN search_members c ON c.job_key = j.job_key
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
        result.lap("window")
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
        alive = _lock_searches(conn, found)
        result.deleted = len(found) - len(alive)
        found = {search_id: found[search_id] for search_id in alive}
        result.matched = len(found)
        result.lap("match")
        if not found:
            return result
        _keep_matches(conn, found)
        result.old_news = news.drop_old_news(conn, window_start)
        if not conn.execute("SELECT EXISTS (SELECT 1 FROM search_matches)").fetchone()[0]:
            return result  # every match arrived before its search was saved
        conn.execute(_PICK)
        conn.execute(_MEMBERS)
        conn.execute("CREATE INDEX ON search_members (job_key)")
        conn.execute("ANALYZE search_members")
        conn.execute("ANALYZE search_jobs")
        conn.execute(_ALREADY_ANNOUNCED)
        conn.execute(_REMEMBER_MEMBERS.format(jobs="search_seen"), {"window": window_key})
        if (
            conn.execute(_DROP_SEEN).rowcount
            and not conn.execute("SELECT EXISTS (SELECT 1 FROM search_jobs)").fetchone()[0]
        ):
            return result  # every match was announced before
        result.lap("announced")
        conn.execute(_ENTRIES, {"names": Jsonb(_source_names())})
        conn.execute("ALTER TABLE search_entries ADD PRIMARY KEY (job_key, source, source_job_id)")
        conn.execute(_MESSAGES, {"window": window_key, "window_start": window_start})
        _keep_channels(conn, channels, window_key)
        result.lap("messages")
        inserted = conn.execute(_INSERT, {"window": window_key}).fetchall()
        result.deliveries = len(inserted)
        if inserted:
            conn.execute("CREATE TEMP TABLE search_made (search_id text) ON COMMIT DROP")
            with conn.cursor() as cur, cur.copy("COPY search_made FROM STDIN") as copy:
                for search_id in sorted({search_id for (search_id,) in inserted}):
                    copy.write_row((search_id,))
            result.announced = conn.execute(_ANNOUNCE, {"window": window_key}).rowcount
            made = (
                "(SELECT * FROM search_jobs WHERE search_id IN (SELECT search_id FROM search_made))"
            )
            conn.execute(_REMEMBER_MEMBERS.format(jobs=made), {"window": window_key})
        result.lap("write")
    return result


def _searches_with_channels(conn: psycopg.Connection) -> list[SavedSearch]:
    return [s for s in all_searches(conn) if s.deliver]


def _lock_searches(conn: psycopg.Connection, found: dict[str, object]) -> list[str]:
    """The matched searches that still exist, locked until the plan commits (`FOR KEY
    SHARE`, in id order): a search deleted since it was read is left out, and a DELETE
    waits, so the deliveries' foreign keys always find their search."""
    if not found:
        return []
    rows = conn.execute(
        f"SELECT search_id FROM {SEARCHES_TABLE} WHERE search_id = ANY(%s) "
        "ORDER BY search_id FOR KEY SHARE",
        (sorted(found),),
    ).fetchall()
    return [search_id for (search_id,) in rows]


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


def _keep_channels(
    conn: psycopg.Connection, channels: dict[str, list[str]], window_key: str
) -> None:
    """The matched searches' channels, parts and idempotency keys, as a temp table."""
    conn.execute(
        "CREATE TEMP TABLE search_channels (search_id text, channel text, part int, key text) "
        "ON COMMIT DROP"
    )
    messages = [row[0] for row in conn.execute("SELECT search_id FROM search_messages")]
    parts = {
        (search_id, channel): part
        for search_id, channel, part in conn.execute(_NEXT_PARTS, {"window": window_key})
    }
    with conn.cursor() as cur, cur.copy("COPY search_channels FROM STDIN") as copy:
        for search_id in messages:
            for channel in channels[search_id]:
                part = parts.get((search_id, channel), 0)
                key = idempotency_key(search_id, window_key, channel, part)
                copy.write_row((search_id, channel, part, key))


def _source_names() -> dict[str, str]:
    return {name: source_name(name) for name in SOURCES}
