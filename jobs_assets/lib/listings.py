"""SQL for the two tables: stage a window with COPY, upsert its normalised rows.

Both writes are one transaction per window, so a retry or a backfill never leaves
a window half-written, and each reads or replaces only that window's rows: the
cost follows the window, not the history.

Normalising a window is a pipeline over chunks of `CHUNK_ROWS`: one thread reads the
next chunk from the staging table, the caller's thread normalises the current one,
and another thread copies the previous one into PostgreSQL and upserts it. On two
cores the database and Python work side by side, and memory stays bounded by a few
chunks whatever the window's size (see BENCHMARKS.md).
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
from psycopg import sql

from jobs_assets.lib.normalise import EXTRACTED, OUTPUT_COLUMNS, ParseReport, normalise
from jobs_assets.lib.sources import SOURCES, WindowRecords

STAGING_TABLE = "staging.staging_jobs_listings_data"
LISTINGS_TABLE = "public.jobs_listings_data"
CHUNK_ROWS = 50_000
_STAGE_BATCH_ROWS = 2_000


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
            key = _copy_field(partition_key)
            for source, window in windows.items():
                batch: list[str] = []
                for job_id, payload, retrieved_at in window.records:
                    batch.append(
                        f"{source}\t{key}\t{_copy_field(job_id)}\t"
                        f"{_copy_field(json.dumps(payload))}\t{retrieved_at.isoformat()}\n"
                    )
                    if len(batch) >= _STAGE_BATCH_ROWS:
                        copy.write("".join(batch))
                        batch = []
                if batch:
                    copy.write("".join(batch))
                counts[source] = window.parsed
    return counts


def extract_query(source: str) -> sql.Composed:
    """SELECT of one source's staged window with its fields mapped to common names.

    The payload is decompressed once per row in the inner query (`|| '{}'` returns it
    detoasted); without it every one of the ~25 field references decompresses it again.
    """
    columns = SOURCES[source].columns
    missing = set(EXTRACTED) - set(columns)
    if missing:
        raise ValueError(f"source {source!r} does not map {sorted(missing)}")
    selected = ", ".join(f"{columns[name]} AS {name}" for name in EXTRACTED)
    return sql.SQL(
        "SELECT source_job_id, retrieved_at, " + selected + " FROM ("
        "SELECT source_job_id, retrieved_at, payload || '{}'::jsonb AS payload"
        " FROM " + STAGING_TABLE + " WHERE partition_key = %s AND source = %s"
        " OFFSET 0) AS staged"
    )  # fmt: skip


_STAGED_NAMES = ("source_job_id", "retrieved_at", *EXTRACTED)
_CSV_OPTIONS = {
    "parse_options": pcsv.ParseOptions(newlines_in_values=True),
    "convert_options": pcsv.ConvertOptions(
        column_types={
            name: pa.int64() if name == "retrieved_at" else pa.string() for name in _STAGED_NAMES
        },
        # FORCE_QUOTE * quotes every value, so only an unquoted empty field is NULL
        # (a location "NA" is Namibia, not a missing value).
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    ),
}


def _staged_copy(source: str) -> sql.Composed:
    """COPY of `extract_query` as CSV, with `retrieved_at` as exact epoch microseconds."""
    rest = ", ".join(f"q.{name}" for name in EXTRACTED)
    return sql.SQL(
        "COPY (SELECT q.source_job_id,"
        " (extract(epoch FROM q.retrieved_at) * 1000000)::bigint, " + rest +
        " FROM ({}) AS q) TO STDOUT (FORMAT csv, FORCE_QUOTE *)"
    ).format(extract_query(source))  # fmt: skip


def _staged_frame(data: bytearray) -> pd.DataFrame:
    table = pcsv.read_csv(
        pa.BufferReader(pa.py_buffer(data)),
        read_options=pcsv.ReadOptions(column_names=list(_STAGED_NAMES)),
        **_CSV_OPTIONS,
    )
    stamps = table.column("retrieved_at").cast(pa.timestamp("us", "UTC"))
    table = table.set_column(1, "retrieved_at", stamps)
    return table.to_pandas()


def read_staged(
    conn: psycopg.Connection, partition_key: str, chunk_rows: int = CHUNK_ROWS
) -> Iterator[tuple[str, pd.DataFrame]]:
    """The window's staged listings, per source, in DataFrames of at most `chunk_rows`.

    Read with COPY as CSV and parsed by Arrow: no Python object per value until the
    normaliser asks for one.
    """
    for source in SOURCES:
        with conn.cursor() as cur, cur.copy(_staged_copy(source), (partition_key, source)) as copy:
            data, rows = bytearray(), 0
            for row in copy:  # one CSV line per row
                data += row
                rows += 1
                if rows >= chunk_rows:
                    yield source, _staged_frame(data)
                    data, rows = bytearray(), 0
            if rows:
                yield source, _staged_frame(data)


# --- normalised rows as COPY text -----------------------------------------------------

_NULL = "\\N"
_COPY_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))
_ARRAY_COLUMNS = frozenset({"tags", "countries", "regions"})
_TIMESTAMP_COLUMNS = frozenset({"published_at", "expires_at", "retrieved_at"})
_VALUE_COLUMNS = frozenset(
    {"salary_min", "salary_max", "salary_min_usd", "salary_max_usd", "salary_usd_rate_date"}
)


def _copy_field(text: str) -> str:
    """One value in COPY's text format."""
    for raw, escaped in _COPY_ESCAPES:
        if raw in text:
            text = text.replace(raw, escaped)
    return text


def _escape_array(values: pa.Array) -> pa.Array:
    for raw, escaped in _COPY_ESCAPES:  # a literal replace is cheaper than looking first
        values = pc.replace_substring(values, raw, escaped)
    return values


def _is_null(value: object) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and value != value)


def _rendered(values: Iterable[object], render: Callable[[object], str]) -> pa.Array:
    """`render` once per distinct value (by type and value), as an Arrow string array."""
    cache: dict[tuple[type, object], str] = {}
    out = []
    for value in values:
        if _is_null(value):
            out.append(_NULL)
            continue
        key = (type(value), value)
        try:
            out.append(cache[key])
        except KeyError:
            cache[key] = text = render(value)
            out.append(text)
        except TypeError:  # unhashable
            out.append(render(value))
    return pa.array(out, type=pa.string())


def _value_text(value: object) -> str:
    """As psycopg would send it: numbers by `str` (keeping int or float), dates ISO."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (np.floating, np.integer)):
        value = value.item()
    return _copy_field(str(value))


def _array_text(items: object) -> str:
    """A Python list as a PostgreSQL array literal (every element quoted), COPY-escaped."""
    if not isinstance(items, (list, tuple)):
        return _NULL
    quoted = (
        '"' + str(item).replace("\\", "\\\\").replace('"', '\\"') + '"'
        for item in items
        if item is not None
    )
    return _copy_field("{" + ",".join(quoted) + "}")


def _array_column(values: pd.Series) -> pa.Array:
    cache: dict[tuple, str] = {}
    out = []
    for items in values.tolist():
        if not isinstance(items, (list, tuple)):
            out.append(_NULL)
            continue
        key = tuple(items)
        try:
            out.append(cache[key])
        except KeyError:
            cache[key] = text = _array_text(items)
            out.append(text)
    return pa.array(out, type=pa.string())


def _timestamp_column(values: pd.Series) -> pa.Array:
    stamps = pd.to_datetime(values, utc=True, errors="coerce")
    arrow = pa.array(stamps).cast(pa.timestamp("us", "UTC"))
    return pc.fill_null(arrow.cast(pa.string()), _NULL)  # "2026-11-22 04:00:00.000000Z"


def _text_column(values: pd.Series) -> pa.Array:
    try:
        arrow = pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all str: render each value
        arrow = pa.array(
            [None if _is_null(v) else str(v) for v in values.tolist()], type=pa.string()
        )
    return pc.fill_null(_escape_array(arrow), _NULL)


def copy_text(frame: pd.DataFrame) -> pa.Buffer:
    """`frame`'s OUTPUT_COLUMNS as one COPY text buffer (NaN, NaT and None are NULL).

    Built column by column with Arrow kernels instead of one `write_row` per row.
    """
    columns = []
    for name in OUTPUT_COLUMNS:
        values = frame[name]
        if name in _ARRAY_COLUMNS:
            columns.append(_array_column(values))
        elif name in _TIMESTAMP_COLUMNS:
            columns.append(_timestamp_column(values))
        elif name in _VALUE_COLUMNS:
            columns.append(_rendered(values.tolist(), _value_text))
        else:
            columns.append(_text_column(values))
    lines = pc.binary_join_element_wise(*columns, "\t")
    lines = pc.binary_join_element_wise(lines, "", "\n")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
    start, end = offsets[lines.offset], offsets[lines.offset + len(lines)]
    return lines.buffers()[2][start:end]


# --- the upsert -----------------------------------------------------------------------


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
_NEWER = "t.last_seen_at <= EXCLUDED.last_seen_at"


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
        ({columns}, first_seen_at, last_seen_at, last_partition_key)
    SELECT {columns}, %(window_start)s, %(window_start)s, %(partition_key)s
    FROM {_TEMP_TABLE}
    ON CONFLICT (source, source_job_id) DO UPDATE SET
        {updates},
        first_seen_at = LEAST(t.first_seen_at, EXCLUDED.first_seen_at),
        last_seen_at = GREATEST(t.last_seen_at, EXCLUDED.last_seen_at),
        last_partition_key = CASE WHEN {_NEWER}
            THEN EXCLUDED.last_partition_key ELSE t.last_partition_key END
    WHERE {_NEWER} OR t.first_seen_at > EXCLUDED.first_seen_at
    RETURNING (xmax = 0) AS inserted, last_seen_at = %(window_start)s AS current
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted AND current)
FROM upserted
"""


_DONE = object()


class _Worker:
    """A thread fed through a one-slot queue, so the producer runs at most one item ahead.

    The first error stops it and is re-raised in the producer by `put` or `close`.
    """

    def __init__(self, name: str, handle: Callable[[object], None]) -> None:
        self._handle = handle
        self._queue: queue.Queue = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._queue.get()) is not _DONE:
            if self.error is None:
                try:
                    self._handle(item)
                except BaseException as err:  # re-raised in the producer
                    self.error = err

    def put(self, item: object) -> None:
        if self.error is not None:
            raise self.error
        self._queue.put(item)

    def close(self, raise_error: bool = True) -> None:
        self._queue.put(_DONE)
        self._thread.join()
        if raise_error and self.error is not None:
            raise self.error


def _prefetched(chunks: Iterator) -> Iterator:
    """`chunks` read one ahead in a thread (the database works while the caller computes).

    Closing this generator stops and joins the thread, which closes `chunks`.
    """
    stop = threading.Event()
    slot: queue.Queue = queue.Queue(maxsize=1)
    failure: list[BaseException] = []

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                slot.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for chunk in chunks:
                if not offer(chunk):
                    return
        except BaseException as err:
            failure.append(err)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()  # closes the server-side cursor in this thread
        offer(_DONE)

    thread = threading.Thread(target=produce, name="read_staged", daemon=True)
    thread.start()
    try:
        while (chunk := slot.get()) is not _DONE:
            yield chunk
        if failure:
            raise failure[0]
    finally:
        stop.set()
        thread.join()


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
    upsert = _upsert_sql()

    def write(data: pa.Buffer) -> None:  # runs in the writer thread, on `conn`
        with conn.cursor() as cur:
            cur.execute(f"TRUNCATE {_TEMP_TABLE}")
            with cur.copy(f"COPY {_TEMP_TABLE} ({', '.join(OUTPUT_COLUMNS)}) FROM STDIN") as copy:
                copy.write(memoryview(data))
            cur.execute(upsert, params)
            inserted, updated = cur.fetchone()
        result.inserted += inserted
        result.updated += updated

    with conn.transaction(), read_conn.transaction():
        conn.execute(
            f"CREATE TEMP TABLE {_TEMP_TABLE} ON COMMIT DROP AS "
            f"SELECT {', '.join(OUTPUT_COLUMNS)} FROM {LISTINGS_TABLE} WITH NO DATA"
        )
        writer = _Worker("upsert_window", write)
        chunks = _prefetched(read_staged(read_conn, partition_key, chunk_rows))
        try:
            for source, chunk in chunks:
                rows, report = normalise(chunk, source)
                result.staged += len(rows)
                result.report.merge(report)
                if result.preview is None or len(result.preview) < preview_rows:
                    head = rows.head(preview_rows).copy()  # not a view of the chunk
                    result.preview = (
                        head
                        if result.preview is None
                        else pd.concat([result.preview, head]).head(preview_rows)
                    )
                writer.put(copy_text(rows))
        except BaseException:
            chunks.close()
            writer.close(raise_error=False)
            raise
        writer.close()
        result.older = result.staged - result.inserted - result.updated
    return result
