"""Whether a match is news to a search: a saved search hears only of jobs that arrived
after it was saved.

A job (a duplicate cluster, or a listing alone) arrived when its earliest listing did:
`public.jobs_listing_arrivals` (migrations 0025, 0027) holds when and by which
transaction each listing was first inserted, stamped by a trigger, and when and by which
it last came back after expiring. "After the search was saved" is decided in commit
order, not by clocks: a listing is old news to a search exactly when the transaction
that inserted it is visible in the snapshot of the statement that stored the search
(`pg_visible_in_snapshot`), so a search saved while a load was still running hears of
that load's listings. Rows stamped before 0027, and ids or snapshots ahead of this
server's count (a backup restored elsewhere), are compared by time. So a window
loaded again after a search was saved (a retried source, an inbox file) tells it nothing
of the listings it could already see; a twin on another board that joins the cluster of
an older job is not a new job; and an edited listing is news only when its job arrived
after the search. A listing that came back in the window after expiring is news to the
searches saved before it came back, whenever its job first arrived; so is a re-post of a
job all of whose listings had expired (the re-post joined the job's cluster, `lib/identity`:
the job is back).

The window's start says nothing here: a window loaded late still brings news to a
search saved after the window began, and a backfill of old windows brings none to the
searches made since (`deliver.BACKFILL_GRACE`).
"""

from __future__ import annotations

from datetime import datetime

import psycopg

from jobs_assets.lib.schema import LISTINGS_TABLE
from jobs_assets.lib.searches.match import WINDOW_LISTINGS
from jobs_assets.lib.searches.store import SEARCHES_TABLE

ARRIVALS_TABLE = "public.jobs_listing_arrivals"

# For each matched listing of the window: the arrivals of its job (the listing and every
# member of its cluster, expired ones too; a listing the trigger never saw counts from
# its first window, by time) and its return, if it came back.
_ARRIVALS = f"""
CREATE TEMP TABLE search_window_arrivals ON COMMIT DROP AS
SELECT w.source, w.source_job_id,
       -- a re-post, new in the window, of a job whose every listing had expired before
       -- it: the job is back, as a listing back after expiring is
       w.came_back OR (w.first_seen_at = %(window_start)s AND coalesce(j.others_gone, false))
           AS came_back,
       CASE WHEN w.came_back THEN a.returned_at ELSE a.arrived_at END AS returned_at,
       CASE WHEN w.came_back THEN a.returned_xid ELSE a.arrived_xid END AS returned_xid,
       j.arrived_at, j.arrived_xid
FROM {WINDOW_LISTINGS} w
LEFT JOIN {ARRIVALS_TABLE} a ON a.source = w.source AND a.source_job_id = w.source_job_id
CROSS JOIN LATERAL (
    SELECT array_agg(coalesce(ma.arrived_at, m.first_seen_at)) AS arrived_at,
           array_agg(ma.arrived_xid) AS arrived_xid,
           bool_and(m.status = 'expired' AND m.expired_at < %(window_start)s)
               FILTER (WHERE (m.source, m.source_job_id) <> (w.source, w.source_job_id))
               AS others_gone
    FROM (
        SELECT w.source, w.source_job_id, w.first_seen_at, w.status, w.expired_at
        UNION
        SELECT l.source, l.source_job_id, l.first_seen_at, l.status, l.expired_at
        FROM {LISTINGS_TABLE} l WHERE l.duplicate_cluster_id = w.duplicate_cluster_id
    ) m
    LEFT JOIN {ARRIVALS_TABLE} ma ON ma.source = m.source AND ma.source_job_id = m.source_job_id
) j
WHERE (w.source, w.source_job_id) IN (SELECT source, source_job_id FROM search_matches)
"""
# Whether the search saw a transaction `xid` stamped at `at`: by its creation snapshot
# when both belong to this server's count (ahead of it: made elsewhere), else by time.
_SAW = """CASE WHEN {xid} IS NOT NULL AND {xid} < n.xmax AND s.created_snapshot IS NOT NULL
       AND pg_snapshot_xmax(s.created_snapshot) <= n.xmax
  THEN pg_visible_in_snapshot({xid}, s.created_snapshot) ELSE {at} < s.created_at END"""
# A match is old news to a search that saw one of its job's arrivals, unless it came back
# in the window after the search was saved (a return stamped before 0025: news, as it was).
_DROP_OLD_NEWS = f"""
DELETE FROM search_matches m
USING (SELECT *, pg_snapshot_xmax(pg_current_snapshot()) AS xmax
       FROM search_window_arrivals) n, {SEARCHES_TABLE} s
WHERE n.source = m.source AND n.source_job_id = m.source_job_id
  AND s.search_id = m.search_id
  AND EXISTS (SELECT 1 FROM unnest(n.arrived_xid, n.arrived_at) AS u(xid, at)
              WHERE {_SAW.format(xid="u.xid", at="u.at")})
  AND NOT (n.came_back AND (n.returned_at IS NULL
           OR NOT {_SAW.format(xid="n.returned_xid", at="n.returned_at")}))
"""


def drop_old_news(conn: psycopg.Connection, window_start: datetime) -> int:
    """Remove from `search_matches` the listings whose job is not news to the search;
    how many (search, listing) pairs went. After `match.create_window_listings`, in the
    planner's transaction."""
    conn.execute(_ARRIVALS, {"window_start": window_start})
    return conn.execute(_DROP_OLD_NEWS).rowcount
