"""Whether a match is news to a search: a saved search hears only of jobs that arrived
after it was saved.

A job (a duplicate cluster, or a listing alone) arrived when its earliest listing did:
`public.jobs_listing_arrivals` (migration 0025) holds when each listing was first
inserted, stamped by a trigger, and when it last came back after expiring. So a window
loaded again after a search was saved (a retried source, an inbox file) tells it nothing
of the listings it could already see; a twin on another board that joins the cluster of
an older job is not a new job; and an edited listing is news only when its job arrived
after the search. A listing that came back in the window after expiring is news to the
searches saved before it came back, whenever its job first arrived.

The window's start says nothing here: a window loaded late still brings news to a
search saved after the window began, and a backfill of old windows brings none to the
searches made since (`deliver.BACKFILL_GRACE`).
"""

from __future__ import annotations

import psycopg

from jobs_assets.lib.schema import LISTINGS_TABLE
from jobs_assets.lib.searches.match import WINDOW_LISTINGS
from jobs_assets.lib.searches.store import SEARCHES_TABLE

ARRIVALS_TABLE = "public.jobs_listing_arrivals"

# For each matched listing of the window: when its job arrived (the earliest arrival of
# the listing and of every member of its cluster, expired ones too; a listing the
# trigger never saw counts from its first window) and when it came back, if it did.
_ARRIVALS = f"""
CREATE TEMP TABLE search_window_arrivals ON COMMIT DROP AS
SELECT w.source, w.source_job_id, w.came_back, a.returned_at, j.arrived_at
FROM {WINDOW_LISTINGS} w
LEFT JOIN {ARRIVALS_TABLE} a ON a.source = w.source AND a.source_job_id = w.source_job_id
CROSS JOIN LATERAL (
    SELECT min(coalesce(ma.arrived_at, m.first_seen_at)) AS arrived_at
    FROM (
        SELECT w.source, w.source_job_id, w.first_seen_at
        UNION ALL
        SELECT l.source, l.source_job_id, l.first_seen_at FROM {LISTINGS_TABLE} l
        WHERE l.duplicate_cluster_id = w.duplicate_cluster_id
    ) m
    LEFT JOIN {ARRIVALS_TABLE} ma ON ma.source = m.source AND ma.source_job_id = m.source_job_id
) j
WHERE (w.source, w.source_job_id) IN (SELECT source, source_job_id FROM search_matches)
"""
# A match is old news to a search saved after its job arrived, unless it came back in
# the window after the search was saved (a return stamped before 0025: news, as it was).
_DROP_OLD_NEWS = f"""
DELETE FROM search_matches m
USING search_window_arrivals n, {SEARCHES_TABLE} s
WHERE n.source = m.source AND n.source_job_id = m.source_job_id
  AND s.search_id = m.search_id
  AND n.arrived_at < s.created_at
  AND NOT (n.came_back AND coalesce(n.returned_at, 'infinity') >= s.created_at)
"""


def drop_old_news(conn: psycopg.Connection) -> int:
    """Remove from `search_matches` the listings whose job is not news to the search;
    how many (search, listing) pairs went. After `match.create_window_listings`, in the
    planner's transaction."""
    conn.execute(_ARRIVALS)
    return conn.execute(_DROP_OLD_NEWS).rowcount
