"""The change history: one row per version of a listing in `public.jobs_listings_history`.

A version is the listing's content (`HASHED`: every normalised column and its
lifecycle state) at a time; `row_hash` is the MD5 of that content, so a new version
starts only when it changes: `retrieved_at`, `first_seen_at`, `last_seen_at` and
`last_partition_key` move every window and are left out, as are the cluster columns
(which listing speaks for a cluster is not the listing's content). Expiry and
reactivation change `status`, so they are versions too.

`valid_from` of a version is the start of the window that brought it (re-running the
window recomputes the same hash and adds nothing), and closing the previous version
sets its `valid_to` to that instant. Only the window's keys and the keys it expired
are compared, each against its current version through the partial unique index, so
the cost follows the window, not the history.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import psycopg

from jobs_assets.lib.identity.lifecycle import WINDOW_KEYS
from jobs_assets.lib.schema import HISTORY, LISTINGS_TABLE, VERSIONED_COLUMNS

HISTORY_TABLE = HISTORY.name
#: the listing columns a version keeps, in table order (the contract's `versioned`)
HISTORY_COLUMNS: tuple[str, ...] = VERSIONED_COLUMNS
_MOVING = {"source", "source_job_id", "retrieved_at", "first_seen_at", "last_seen_at"}
_MOVING |= {"last_partition_key"}
#: what `row_hash` covers
HASHED: tuple[str, ...] = tuple(c for c in HISTORY_COLUMNS if c not in _MOVING)
ROW_HASH_SQL = "md5(row({})::text)"


def row_hash_sql(alias: str) -> str:
    return ROW_HASH_SQL.format(", ".join(f"{alias}.{c}" for c in HASHED))


def record_versions(
    conn: psycopg.Connection,
    window_start: datetime,
    extra_keys: Sequence[tuple[str, str]] = (),
) -> int:
    """Write a version for each of the window's listings (and `extra_keys`, e.g. the
    ones it expired) whose content differs from its current version; how many.

    Runs in the caller's transaction after `lifecycle.create_window_keys`.
    """
    if extra_keys:
        with conn.cursor() as cur, cur.copy(f"COPY {WINDOW_KEYS} FROM STDIN") as copy:
            # keys already in the window cannot be expired by it: no conflict
            for key in extra_keys:
                copy.write_row(key)
    return _record(conn, window_start, WINDOW_KEYS)


def record_versions_at(
    conn: psycopg.Connection, changes: Sequence[tuple[str, str, datetime]]
) -> int:
    """Write a version for each (source, id, at) whose content differs from its current
    version, starting at `at` (a backfill's listing that a later window expired:
    `lifecycle.expire_seen_only_before`); how many. In the caller's transaction."""
    written = 0
    for at in sorted({at for _, _, at in changes}):
        conn.execute(
            "CREATE TEMP TABLE history_keys (source text, source_job_id text,"
            " PRIMARY KEY (source, source_job_id)) ON COMMIT DROP"
        )
        with conn.cursor() as cur, cur.copy("COPY history_keys FROM STDIN") as copy:
            for source, job_id, when in changes:
                if when == at:
                    copy.write_row((source, job_id))
        written += _record(conn, at, "history_keys")
        conn.execute("DROP TABLE history_keys")
    return written


def _record(conn: psycopg.Connection, window_start: datetime, keys_table: str) -> int:
    """A version, starting at `window_start`, for each listing of `keys_table` whose
    content differs from its current version."""
    columns = ", ".join(HISTORY_COLUMNS)
    listed = ", ".join(f"t.{c}" for c in HISTORY_COLUMNS)
    changed = conn.execute(
        f"""
CREATE TEMP TABLE history_changed ON COMMIT DROP AS
SELECT {listed}, x.row_hash, h.valid_from AS current_from
FROM {keys_table} AS k
JOIN {LISTINGS_TABLE} AS t ON t.source = k.source AND t.source_job_id = k.source_job_id
-- the hash once per row (OFFSET 0 keeps the planner from copying it into the WHERE)
CROSS JOIN LATERAL (SELECT {row_hash_sql("t")} AS row_hash OFFSET 0) AS x
LEFT JOIN {HISTORY_TABLE} AS h
    ON h.source = t.source AND h.source_job_id = t.source_job_id AND h.valid_to IS NULL
WHERE h.row_hash IS DISTINCT FROM x.row_hash
"""
    ).rowcount
    if not changed:
        conn.execute("DROP TABLE history_changed")
        return 0
    # A version's start: this window, but never before the version it replaces (a
    # backfill that changes content, e.g. after a normaliser fix, still moves forward).
    start = "GREATEST(%(window_start)s, c.current_from + interval '1 microsecond')"
    params = {"window_start": window_start}
    conn.execute(
        f"""
UPDATE {HISTORY_TABLE} AS h SET valid_to = {start}
FROM history_changed AS c
WHERE h.source = c.source AND h.source_job_id = c.source_job_id AND h.valid_to IS NULL
""",
        params,
    )
    conn.execute(
        f"""
INSERT INTO {HISTORY_TABLE} ({columns}, valid_from, valid_to, row_hash)
SELECT {", ".join(f"c.{c}" for c in HISTORY_COLUMNS)},
       CASE WHEN c.current_from IS NULL THEN LEAST(%(window_start)s, c.first_seen_at)
            ELSE {start} END,
       NULL, c.row_hash
FROM history_changed AS c
""",
        params,
    )
    conn.execute("DROP TABLE history_changed")
    return changed


def undo_versions(
    conn: psycopg.Connection, window_start: datetime, keys: Sequence[tuple[str, str]]
) -> int:
    """Remove the expiry versions that an earlier answer of this window wrote for `keys`
    (expiries a re-run undid: `lifecycle.LifecycleResult.undone_keys`) and reopen the
    version each one closed, so the history tells one story: the listing never left.
    How many versions were removed. Before `record_versions`, in the same transaction.
    """
    if not keys:
        return 0
    removed = conn.execute(
        f"""
DELETE FROM {HISTORY_TABLE} AS h
USING unnest(%(sources)s::text[], %(ids)s::text[]) AS k(source, source_job_id)
WHERE h.source = k.source AND h.source_job_id = k.source_job_id AND h.valid_to IS NULL
  AND h.status = 'expired' AND h.valid_from >= %(window_start)s
RETURNING h.source, h.source_job_id, h.valid_from
""",
        {
            "sources": [s for s, _ in keys],
            "ids": [i for _, i in keys],
            "window_start": window_start,
        },
    ).fetchall()
    if removed:
        # after the DELETE (its own statement): the current-version index allows one
        conn.execute(
            f"""
UPDATE {HISTORY_TABLE} AS h SET valid_to = NULL
FROM unnest(%(sources)s::text[], %(ids)s::text[], %(ends)s::timestamptz[])
    AS r(source, source_job_id, valid_to)
WHERE h.source = r.source AND h.source_job_id = r.source_job_id AND h.valid_to = r.valid_to
""",
            {
                "sources": [s for s, _, _ in removed],
                "ids": [i for _, i, _ in removed],
                "ends": [t for _, _, t in removed],
            },
        )
    return len(removed)
