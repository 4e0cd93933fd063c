"""SQL for the two tables: stage a window with COPY, upsert its normalised rows.

Both writes are one transaction per window, so a retry or a backfill never leaves
a window half-written, and each reads or replaces only that window's rows: the
cost follows the window, not the history.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
import psycopg
from psycopg import sql

from jobs_assets.lib.normalise import EXTRACTED, OUTPUT_COLUMNS, ParseReport, as_rows, normalise
from jobs_assets.lib.sources import SOURCES, WindowRecords

STAGING_TABLE = "staging.staging_jobs_listings_data"
LISTINGS_TABLE = "public.jobs_listings_data"
CHUNK_ROWS = 50_000


def stage_window(
    conn: psycopg.Connection, partition_key: str, windows: Mapping[str, WindowRecords]
) -> dict[str, int]:
    """Replace the window's staged rows with `windows` (per source) in one transaction."""
    counts = {}
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(f"DELETE FROM {STAGING_TABLE} WHERE partition_key = %s", (partition_key,))
        with cur.copy(
            f"COPY {STAGING_TABLE} (source, partition_key, source_job_id, payload, retrieved_at)"
            " FROM STDIN"
        ) as copy:
            for source, window in windows.items():
                for job_id, payload, retrieved_at in window.records:
                    copy.write_row(
                        (source, partition_key, job_id, json.dumps(payload), retrieved_at)
                    )
                counts[source] = window.parsed
    return counts


def extract_query(source: str) -> sql.Composed:
    """SELECT of one source's staged window with its fields mapped to common names."""
    columns = SOURCES[source].columns
    missing = set(EXTRACTED) - set(columns)
    if missing:
        raise ValueError(f"source {source!r} does not map {sorted(missing)}")
    selected = ", ".join(f"{columns[name]} AS {name}" for name in EXTRACTED)
    return sql.SQL(
        "SELECT source_job_id, retrieved_at, " + selected + " FROM " + STAGING_TABLE +
        " WHERE partition_key = %s AND source = %s"
    )  # fmt: skip


def read_staged(
    conn: psycopg.Connection, partition_key: str, chunk_rows: int = CHUNK_ROWS
) -> Iterator[tuple[str, pd.DataFrame]]:
    """The window's staged listings, per source, in DataFrames of at most `chunk_rows`."""
    names = ["source_job_id", "retrieved_at", *EXTRACTED]
    for source in SOURCES:
        with conn.cursor(name=f"staged_{source}") as cur:
            cur.itersize = chunk_rows
            cur.execute(extract_query(source), (partition_key, source))
            while rows := cur.fetchmany(chunk_rows):
                yield source, pd.DataFrame(rows, columns=names)


@dataclass
class UpsertResult:
    staged: int = 0
    inserted: int = 0
    updated: int = 0
    older: int = 0  # rows of a window older than what the table already had
    report: ParseReport = field(default_factory=ParseReport)
    preview: pd.DataFrame | None = None


_TEMP_TABLE = "window_listings"
_CONTENT = [c for c in OUTPUT_COLUMNS if c not in ("source", "source_job_id")]


def _upsert_sql() -> str:
    columns = ", ".join(OUTPUT_COLUMNS)
    updates = ",\n        ".join(f"{c} = EXCLUDED.{c}" for c in _CONTENT)
    return f"""
WITH upserted AS (
    INSERT INTO {LISTINGS_TABLE} AS t
        ({columns}, first_seen_at, last_seen_at, last_partition_key)
    SELECT {columns}, %(window_start)s, %(window_start)s, %(partition_key)s
    FROM {_TEMP_TABLE}
    ON CONFLICT (source, source_job_id) DO UPDATE SET
        {updates},
        first_seen_at = LEAST(t.first_seen_at, EXCLUDED.first_seen_at),
        last_seen_at = EXCLUDED.last_seen_at,
        last_partition_key = EXCLUDED.last_partition_key
    -- A backfill of an older window must not overwrite newer content.
    WHERE t.last_seen_at <= EXCLUDED.last_seen_at
    RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM upserted
"""


_BACKFILL_FIRST_SEEN = f"""
UPDATE {LISTINGS_TABLE} AS t SET first_seen_at = %(window_start)s
FROM {_TEMP_TABLE} AS w
WHERE t.source = w.source AND t.source_job_id = w.source_job_id
  AND t.first_seen_at > %(window_start)s
"""


def upsert_window(
    conn: psycopg.Connection,
    read_conn: psycopg.Connection,
    partition_key: str,
    window_start: datetime,
    chunk_rows: int = CHUNK_ROWS,
    preview_rows: int = 10,
) -> UpsertResult:
    """Normalise the staged window chunk by chunk and upsert it in one transaction."""
    result = UpsertResult()
    params = {"window_start": window_start, "partition_key": partition_key}
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(
            f"CREATE TEMP TABLE {_TEMP_TABLE} ON COMMIT DROP AS "
            f"SELECT {', '.join(OUTPUT_COLUMNS)} FROM {LISTINGS_TABLE} WITH NO DATA"
        )
        with read_conn.transaction():
            for source, chunk in read_staged(read_conn, partition_key, chunk_rows):
                rows, report = normalise(chunk, source)
                result.staged += len(rows)
                result.report.merge(report)
                if result.preview is None or len(result.preview) < preview_rows:
                    head = rows.head(preview_rows)
                    result.preview = (
                        head
                        if result.preview is None
                        else pd.concat([result.preview, head]).head(preview_rows)
                    )
                with cur.copy(
                    f"COPY {_TEMP_TABLE} ({', '.join(OUTPUT_COLUMNS)}) FROM STDIN"
                ) as copy:
                    for row in as_rows(rows):
                        copy.write_row(row)
        cur.execute(f"ANALYZE {_TEMP_TABLE}")
        cur.execute(_upsert_sql(), params)
        result.inserted, result.updated = cur.fetchone()
        cur.execute(_BACKFILL_FIRST_SEEN, params)
        result.older = result.staged - result.inserted - result.updated
    return result
