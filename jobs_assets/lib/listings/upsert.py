"""Normalise a staged window and upsert it into the listings table, in one transaction.

Listings never seen before are copied straight into the table, the others upserted
through a temporary table; the cost follows the window, not the history. A new listing
is written as its own duplicate cluster's canonical member (`CLUSTER_COLUMNS`), what
identity decides for most listings: identity rewrites only those that join another.

A window of at most `CHUNK_ROWS` listings (every real one: a few thousand) runs in the
caller's thread: one chunk leaves nothing to overlap. A larger one runs as a pipeline
(`pipeline.py`): one thread reads the next chunks, two normalise and render, one writes,
so on two cores the database and Python work side by side and memory stays bounded by
the chunks in flight (BENCHMARKS.md, B2: about 30 s of wall time for 55 CPU-seconds
at 1 M rows).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc

from jobs_assets.lib.listings.copy_text import (
    copy_buffer,
    copy_field,
    copy_lines,
    copy_text_column,
)
from jobs_assets.lib.listings.extract import CHUNK_ROWS, read_staged, staged_rows
from jobs_assets.lib.listings.pipeline import Worker, mapped_in_order, prefetched
from jobs_assets.lib.money.currency import rate_date
from jobs_assets.lib.money.ecb_rates import RateTable
from jobs_assets.lib.normalise.rows import ParseReport, normalise
from jobs_assets.lib.schema import CLUSTER_COLUMNS, LISTINGS_TABLE, OUTPUT_COLUMNS, WINDOW_COLUMNS

NORMALISE_THREADS = 2


@dataclass
class UpsertResult:
    staged: int = 0
    inserted: int = 0
    updated: int = 0
    older: int = 0  # rows of a window older than what the table already had
    unchanged: int = 0  # rows identical to what the table held for this window
    report: ParseReport = field(default_factory=ParseReport)
    preview: pd.DataFrame | None = None


_TEMP_TABLE = "window_listings"
_KEY = ("source", "source_job_id")
_CONTENT = [c for c in OUTPUT_COLUMNS if c not in _KEY]
_NEWER = "t.last_seen_at <= EXCLUDED.last_seen_at"
# Content that differs from what the table holds (`retrieved_at` aside): a re-run of the
# same window writes nothing and reports its rows unchanged.
_COMPARED = [c for c in _CONTENT if c != "retrieved_at"]
_CHANGED = (
    f"({', '.join(f't.{c}' for c in _COMPARED)}) IS DISTINCT FROM "
    f"({', '.join(f'EXCLUDED.{c}' for c in _COMPARED)})"
)


def _upsert_sql() -> str:
    """Insert new listings; update those seen before, unless the table has a newer window.

    A backfill of an older window keeps the newer content and only moves
    `first_seen_at` back, so one statement covers both (no second pass over the
    window). `current` tells an update apart from an older window's row.
    """
    columns = ", ".join(OUTPUT_COLUMNS)
    updates = ",\n        ".join(
        f"{c} = CASE WHEN {_NEWER} THEN EXCLUDED.{c} ELSE t.{c} END" for c in _CONTENT
    )
    return f"""
WITH upserted AS (
    INSERT INTO {LISTINGS_TABLE} AS t
        ({columns}, {", ".join((*WINDOW_COLUMNS, *CLUSTER_COLUMNS))})
    SELECT {columns}, %(window_start)s, %(window_start)s, %(partition_key)s,
        source || ':' || source_job_id, true
    FROM {_TEMP_TABLE}
    ON CONFLICT (source, source_job_id) DO UPDATE SET
        {updates},
        first_seen_at = LEAST(t.first_seen_at, EXCLUDED.first_seen_at),
        last_seen_at = GREATEST(t.last_seen_at, EXCLUDED.last_seen_at),
        last_partition_key = CASE WHEN {_NEWER}
            THEN EXCLUDED.last_partition_key ELSE t.last_partition_key END
    WHERE ({_NEWER} AND (t.last_seen_at < EXCLUDED.last_seen_at OR {_CHANGED}))
        OR t.first_seen_at > EXCLUDED.first_seen_at
    RETURNING (xmax = 0) AS inserted, last_seen_at = %(window_start)s AS current
), older AS (
    SELECT count(*) AS n FROM {_TEMP_TABLE} w JOIN {LISTINGS_TABLE} t USING (source, source_job_id)
    WHERE t.last_seen_at > %(window_start)s
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted AND current),
       (SELECT n FROM older)
FROM upserted
"""


@dataclass
class _Chunk:
    """A normalised chunk and its rows as COPY text, ready for the writer."""

    source: str
    rows: pd.DataFrame
    report: ParseReport
    lines: pa.Array
    keys: list[str]


def _prepare(source: str, staged: pd.DataFrame, rates: RateTable | None = None) -> _Chunk:
    rows, report = normalise(staged, source, rates)
    return _Chunk(source, rows, report, copy_lines(rows), rows["source_job_id"].tolist())


class _WindowWriter:
    """Writes a window's normalised chunks on `conn`, in the caller's transaction.

    Should another transaction insert one of the new listings meanwhile, the chunk
    takes the upsert instead of the plain COPY.
    """

    def __init__(self, conn: psycopg.Connection, partition_key: str, window_start: datetime):
        self.conn = conn
        self.params = {"window_start": window_start, "partition_key": partition_key}
        stamp = pd.Timestamp(window_start).tz_convert("UTC").strftime("%Y-%m-%d %H:%M:%S.%fZ")
        # first_seen_at, last_seen_at, last_partition_key (WINDOW_COLUMNS) of a new row
        self.constants = (stamp, stamp, copy_field(partition_key))
        self.upsert = _upsert_sql()
        self.inserted = 0
        self.updated = 0
        self.older = 0
        conn.execute(
            f"CREATE TEMP TABLE {_TEMP_TABLE} ON COMMIT DROP AS "
            f"SELECT {', '.join(OUTPUT_COLUMNS)} FROM {LISTINGS_TABLE} WITH NO DATA"
        )

    def write(self, chunk: _Chunk) -> None:
        with self.conn.cursor() as cur:
            # One primary-key probe per key, whatever the statistics say: right after a
            # large first load they claim an empty table, and the planner would then
            # filter every row of the source against the whole list.
            cur.execute("SET LOCAL enable_seqscan = off")
            known = {
                key
                for (key,) in cur.execute(
                    f"SELECT key FROM unnest(%(keys)s::text[]) AS key, LATERAL ("
                    f" SELECT 1 FROM {LISTINGS_TABLE}"
                    "  WHERE source = %(source)s AND source_job_id = key LIMIT 1) AS seen",
                    {"keys": chunk.keys, "source": chunk.source},
                )
            }
            cur.execute("RESET enable_seqscan")
        lines, job_ids = chunk.lines, chunk.rows["source_job_id"]
        if not known and self._insert(lines, _own_clusters(chunk.source, job_ids)):
            return
        unseen = ~job_ids.isin(known).to_numpy(dtype=bool)
        new = pa.array(unseen)
        if (
            known
            and unseen.any()
            and self._insert(pc.filter(lines, new), _own_clusters(chunk.source, job_ids[unseen]))
        ):
            lines = pc.filter(lines, pc.invert(new))
        if len(lines):
            self._upsert(lines)

    def _insert(self, lines: pa.Array, clusters: pa.Array) -> bool:
        """COPY new listings; `clusters`: each one's own cluster id, as COPY text."""
        columns = ", ".join((*OUTPUT_COLUMNS, *WINDOW_COLUMNS, *CLUSTER_COLUMNS))
        data = copy_buffer(lines, (*self.constants, clusters, "t"))
        try:
            with (
                self.conn.transaction(),  # a savepoint
                self.conn.cursor() as cur,
                cur.copy(f"COPY {LISTINGS_TABLE} ({columns}) FROM STDIN") as copy,
            ):
                copy.write(memoryview(data))
        except psycopg.errors.UniqueViolation:
            return False  # inserted by another transaction since we looked: upsert them
        self.inserted += len(lines)
        return True

    def _upsert(self, lines: pa.Array) -> None:
        data = copy_buffer(lines)
        with self.conn.cursor() as cur:
            cur.execute(f"TRUNCATE {_TEMP_TABLE}")
            with cur.copy(f"COPY {_TEMP_TABLE} ({', '.join(OUTPUT_COLUMNS)}) FROM STDIN") as copy:
                copy.write(memoryview(data))
            inserted, updated, older = cur.execute(self.upsert, self.params).fetchone()
        self.inserted += inserted
        self.updated += updated
        self.older += older


def _own_clusters(source: str, job_ids: pd.Series) -> pa.Array:
    """New listings' own cluster ids (`source:source_job_id`) as COPY text: a new listing
    is written as its own cluster's canonical member (what identity decides for most),
    so identity rewrites only those that join another. Rendered only for new listings."""
    return copy_text_column(source + ":" + job_ids.astype(str))


def _add(result: UpsertResult, chunk: _Chunk, preview_rows: int) -> None:
    """Count the chunk; the preview keeps the first `preview_rows` rows of every source."""
    result.staged += len(chunk.rows)
    result.report.merge(chunk.report)
    shown = 0 if result.preview is None else int((result.preview["source"] == chunk.source).sum())
    if shown < preview_rows:
        head = chunk.rows.head(preview_rows - shown).copy()  # not a view of the chunk
        result.preview = head if result.preview is None else pd.concat([result.preview, head])


def window_counts(conn: psycopg.Connection, partition_key: str, column: str) -> dict[str, int]:
    """Listings last seen in the window per value of `column` (`source` or `region`)."""
    if column not in ("source", "region"):
        raise ValueError(f"window_counts: no counts by {column!r}")
    rows = conn.execute(
        f"SELECT coalesce({column}, 'unknown'), count(*) FROM {LISTINGS_TABLE} "
        "WHERE last_partition_key = %s GROUP BY 1 ORDER BY 1",
        (partition_key,),
    ).fetchall()
    return {value: int(n) for value, n in rows}


def _write_pipelined(
    chunks: Iterator[tuple[str, pd.DataFrame]],
    writer: _WindowWriter,
    result: UpsertResult,
    preview_rows: int,
    rates: RateTable | None,
) -> None:
    worker = Worker("upsert_window", writer.write)
    ahead = prefetched(chunks)
    prepared = mapped_in_order(ahead, partial(_prepare, rates=rates), NORMALISE_THREADS)
    try:
        for chunk in prepared:
            _add(result, chunk, preview_rows)
            worker.put(chunk)
    except BaseException:
        prepared.close()
        ahead.close()
        worker.close(raise_error=False)
        raise
    worker.close()


def upsert_window(
    conn: psycopg.Connection,
    read_conn: psycopg.Connection,
    partition_key: str,
    window_start: datetime,
    chunk_rows: int = CHUNK_ROWS,
    preview_rows: int = 2,
    rates: RateTable | None = None,
) -> UpsertResult:
    """Normalise the staged window chunk by chunk and upsert it in one transaction.

    `rates` is the ECB daily table the window converts with (None: the shipped rates).
    """
    result = UpsertResult()
    # The ECB rate table takes most of a second to load; let it load while the first
    # chunk is read rather than when the first chunk needs it.
    threading.Thread(target=rate_date, name="ecb_rates", daemon=True).start()
    with conn.transaction(), read_conn.transaction():
        writer = _WindowWriter(conn, partition_key, window_start)
        chunks = read_staged(read_conn, partition_key, chunk_rows)
        if staged_rows(read_conn, partition_key) > chunk_rows:
            _write_pipelined(chunks, writer, result, preview_rows, rates)
        else:
            for source, staged in chunks:
                chunk = _prepare(source, staged, rates)
                _add(result, chunk, preview_rows)
                writer.write(chunk)
        result.inserted, result.updated = writer.inserted, writer.updated
        result.older = writer.older
        result.unchanged = result.staged - result.inserted - result.updated - result.older
    return result
