"""Duplicate clusters in the database: read a window's blocks, run the matcher, write back.

`identity.match_window` is pure; this module feeds it only what it needs: the window's
listings; the stored listings of the same `company_key`s (the blocking key, indexed;
different companies are never merged, so no other row can join a cluster) that are
active or expired within `REPOST_HORIZON` before the window (a job posted again after
its listing expired, on its board or another, is a re-post of the same job: it joins
that job's cluster, so it keeps its id and a saved search that announced it hears
nothing new); the clusters of all of these whole where a cluster is named after a
listing not among them (an expired first member: the cluster keeps its name); the
listings named by operator overrides that involve them, and the overrides themselves
(`public.jobs_duplicate_overrides`, which always win and outlive re-runs). Only the
assignments that change are written (COPY into a temp table, one UPDATE).

A window's listing whose content did not change since its current version in the
history (same `row_hash`; a new listing has no version yet) and that has a cluster is
not matched again: it keeps its cluster and only takes part as a stored listing of its
company.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pandas as pd
import psycopg

from jobs_assets.lib.identity import (
    ASSIGNMENT_COLUMNS,
    SOURCE_ORDER,
    STATUS_COLUMN,
    Override,
    WindowResult,
    listing_key,
    match_window,
)
from jobs_assets.lib.identity.clusters import CITIES_COLUMN, INPUT_COLUMNS
from jobs_assets.lib.identity.history import HISTORY_TABLE, row_hash_sql
from jobs_assets.lib.identity.lifecycle import WINDOW_KEYS
from jobs_assets.lib.schema import LISTINGS_TABLE

OVERRIDES_TABLE = "public.jobs_duplicate_overrides"
_READ = [*INPUT_COLUMNS, STATUS_COLUMN, CITIES_COLUMN, "company_key", "duplicate_cluster_id",
         "is_canonical"]  # fmt: skip
#: how long after its listing expired a job may be posted again and still be the same job
#: (a re-post, one of the four kinds of duplicate online-job-ad statistics count); later,
#: a posting of the same text is a new hiring round. Job ads run about a month.
REPOST_HORIZON = timedelta(days=30)


def _frame(conn: psycopg.Connection, query: str, params: dict | None = None) -> pd.DataFrame:
    with conn.cursor() as cur:
        cur.execute(query, params)
        names = [d.name for d in cur.description]
        return pd.DataFrame(cur.fetchall(), columns=names, dtype=object)


def add_override(
    conn: psycopg.Connection, key_a: str, key_b: str, same: bool, note: str = ""
) -> None:
    """Record (or replace) an operator's verdict on two `source:source_job_id` keys."""
    left, right = sorted((key_a, key_b))
    conn.execute(
        f"INSERT INTO {OVERRIDES_TABLE} (left_key, right_key, same, note) "
        "VALUES (%s, %s, %s, %s) ON CONFLICT (left_key, right_key) "
        "DO UPDATE SET same = EXCLUDED.same, note = EXCLUDED.note, created_at = now()",
        (left, right, same, note),
    )


def _named_elsewhere(rows: pd.DataFrame) -> set[str]:
    """The clusters of `rows` named after a listing other than the row itself."""
    return {
        cluster
        for source, job_id, cluster in zip(
            rows["source"], rows["source_job_id"], rows["duplicate_cluster_id"], strict=True
        )
        if isinstance(cluster, str) and cluster != listing_key(source, job_id)
    }


def assign_clusters(conn: psycopg.Connection, window_start: datetime) -> WindowResult:
    """Cluster the window's listings (`lifecycle.create_window_keys`) in the caller's
    transaction and write the changed assignments."""
    columns = ", ".join(f"t.{c}" for c in _READ)
    window = _frame(
        conn,
        # CASE: the hash of a listing without a version (a new one) is never computed
        f"SELECT {columns}, CASE WHEN h.row_hash IS NULL OR t.duplicate_cluster_id IS NULL "
        f"THEN false ELSE h.row_hash = {row_hash_sql('t')} END AS unchanged "
        f"FROM {WINDOW_KEYS} AS k JOIN {LISTINGS_TABLE} AS t "
        "ON t.source = k.source AND t.source_job_id = k.source_job_id "
        f"LEFT JOIN {HISTORY_TABLE} AS h ON h.source = t.source "
        "AND h.source_job_id = t.source_job_id AND h.valid_to IS NULL",
    )
    keys = [f"{s}:{j}" for s, j in zip(window["source"], window["source_job_id"], strict=True)]
    overrides = [
        Override(a, b, same)
        for a, b, same in conn.execute(
            f"SELECT left_key, right_key, same FROM {OVERRIDES_TABLE} "
            "WHERE left_key = ANY(%(keys)s) OR right_key = ANY(%(keys)s)",
            {"keys": keys},
        )
    ]
    # an operator's verdict may be newer than the listing: judge its listings again
    judged = {k for o in overrides for k in (o.key_a, o.key_b)}
    unchanged = pd.Series(
        [bool(u) and k not in judged for u, k in zip(window["unchanged"], keys, strict=True)],
        index=window.index,
        dtype=bool,
    )
    new = window[~unchanged].drop(columns="unchanged")
    kept = window[unchanged].drop(columns="unchanged")
    if new.empty:
        result = match_window(new, new)
        result.unchanged_skipped = len(kept)
        return result
    keys = [k for k, u in zip(keys, unchanged, strict=True) if not u]
    named = sorted({k for o in overrides for k in (o.key_a, o.key_b)} - set(keys))
    companies = sorted({k for k in new["company_key"] if isinstance(k, str)})
    # their stored clusters whole, expired members included (a cluster keeps its members),
    # and those of the kept rows named after another listing; the window's own rows are
    # in hand already (a window of 100,000 read twice is slow)
    stored_clusters = {c for c in new["duplicate_cluster_id"] if isinstance(c, str)}
    stored_clusters |= _named_elsewhere(kept)
    outside_window = (
        f"NOT EXISTS (SELECT 1 FROM {WINDOW_KEYS} AS k "
        "WHERE k.source = t.source AND k.source_job_id = t.source_job_id)"
    )
    existing = _frame(
        conn,
        f"WITH pool AS (SELECT {columns} FROM {LISTINGS_TABLE} AS t "
        "WHERE t.status = 'active' AND t.company_key = ANY(%(companies)s) "
        f"AND {outside_window} "
        f"UNION ALL SELECT {columns} FROM {LISTINGS_TABLE} AS t "
        "WHERE t.status = 'expired' AND t.company_key = ANY(%(companies)s) "
        f"AND t.expired_at >= %(since)s AND {outside_window}) "
        "SELECT * FROM pool "
        f"UNION SELECT {columns} FROM {LISTINGS_TABLE} AS t "
        "WHERE t.duplicate_cluster_id = ANY(%(clusters)s::text[] || ARRAY("
        "SELECT p.duplicate_cluster_id FROM pool AS p "
        "WHERE p.duplicate_cluster_id <> p.source || ':' || p.source_job_id)) "
        f"AND {outside_window} "
        f"UNION SELECT {columns} FROM unnest(%(named)s::text[]) AS n(key) "
        f"JOIN {LISTINGS_TABLE} AS t ON t.source = split_part(n.key, ':', 1) "
        "AND t.source_job_id = substr(n.key, length(split_part(n.key, ':', 1)) + 2)",
        {
            "companies": companies,
            "named": named,
            "clusters": sorted(stored_clusters),
            "since": window_start - REPOST_HORIZON,
        },
    )
    if len(kept):
        existing = pd.concat([existing, kept[existing.columns]], ignore_index=True)
    started = time.perf_counter()
    result = match_window(new, existing, overrides)
    result.match_seconds = time.perf_counter() - started
    result.unchanged_skipped = len(kept)
    if len(result.assignments):
        conn.execute(
            "CREATE TEMP TABLE cluster_assignments (source text, source_job_id text, "
            "duplicate_cluster_id text, is_canonical boolean) ON COMMIT DROP"
        )
        with (
            conn.cursor() as cur,
            cur.copy(
                f"COPY cluster_assignments ({', '.join(ASSIGNMENT_COLUMNS)}) FROM STDIN"
            ) as copy,
        ):
            for row in result.assignments.itertuples(index=False):
                copy.write_row(tuple(row))
        # only rows whose cluster changes are written: a new listing was written as its
        # own cluster (`listings.upsert`), and most stay so
        result.written = conn.execute(
            f"UPDATE {LISTINGS_TABLE} AS t SET duplicate_cluster_id = a.duplicate_cluster_id, "
            "is_canonical = a.is_canonical FROM cluster_assignments AS a "
            "WHERE t.source = a.source AND t.source_job_id = a.source_job_id "
            "AND (t.duplicate_cluster_id IS DISTINCT FROM a.duplicate_cluster_id "
            "OR t.is_canonical IS DISTINCT FROM a.is_canonical)"
        ).rowcount
        conn.execute("DROP TABLE cluster_assignments")
    return result


# The earliest active member (then the source order) speaks for a cluster whose canonical
# listing expired, so the cluster stays in `jobs_listings_current`; the cluster keeps its
# id, and a reactivated listing takes its place back when its window is clustered.
# Clusters looked at: those of the window's listings and of the ones it expired.
_PROMOTE = f"""
WITH touched AS (
    SELECT DISTINCT t.duplicate_cluster_id AS id
    FROM (SELECT source, source_job_id FROM {WINDOW_KEYS}
          UNION SELECT * FROM unnest(%(sources)s::text[], %(ids)s::text[])) AS e
    JOIN {LISTINGS_TABLE} AS t ON t.source = e.source AND t.source_job_id = e.source_job_id
    WHERE t.duplicate_cluster_id IS NOT NULL
), lost AS (
    SELECT touched.id FROM touched
    WHERE EXISTS (SELECT 1 FROM {LISTINGS_TABLE} AS c WHERE c.duplicate_cluster_id = touched.id
                  AND c.is_canonical AND c.status = 'expired')
), best AS (
    SELECT DISTINCT ON (t.duplicate_cluster_id) t.duplicate_cluster_id AS id,
           t.source, t.source_job_id
    FROM lost JOIN {LISTINGS_TABLE} AS t ON t.duplicate_cluster_id = lost.id
    WHERE t.status = 'active'
    ORDER BY t.duplicate_cluster_id, t.first_seen_at,
             array_position(%(order)s::text[], t.source) NULLS LAST, t.source, t.source_job_id
)
UPDATE {LISTINGS_TABLE} AS t
SET is_canonical = (t.source = best.source AND t.source_job_id = best.source_job_id)
FROM best WHERE t.duplicate_cluster_id = best.id
  AND t.is_canonical IS DISTINCT FROM (t.source = best.source AND t.source_job_id = best.source_job_id)
"""


def promote_after_expiry(conn: psycopg.Connection, expired: list[tuple[str, str]]) -> int:
    """Hand the canonical role of expired listings to their clusters' earliest active
    member, in the clusters of the window (`WINDOW_KEYS`) and of `expired`; how many
    rows changed."""
    params = {
        "sources": [s for s, _ in expired],
        "ids": [i for _, i in expired],
        "order": list(SOURCE_ORDER),
    }
    return conn.execute(_PROMOTE, params).rowcount
