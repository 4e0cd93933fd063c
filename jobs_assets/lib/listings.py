"""SQL for the two tables: stage a window with COPY, upsert its normalised rows.

Both writes are one transaction per window, so a retry or a backfill never leaves
a window half-written, and each reads or replaces only that window's rows: the
cost follows the window, not the history.

Normalising a window is a pipeline over chunks of `CHUNK_ROWS`: one thread reads the
next chunks from the staging table (COPY out as CSV, parsed by Arrow), two threads
normalise two chunks and render them as COPY text (mostly Arrow kernels, which release
the GIL), and one thread writes the previous chunk: listings never seen before are
copied straight into the table, the others upserted through a temporary table. On two
cores the database and Python work side by side, and memory stays bounded by the few
chunks in flight whatever the window's size (see BENCHMARKS.md).
"""

from __future__ import annotations

import json
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
from psycopg import sql

from jobs_assets.lib.currency import rate_date
from jobs_assets.lib.normalise import EXTRACTED, OUTPUT_COLUMNS, ParseReport, normalise
from jobs_assets.lib.sources import SOURCES, WindowRecords

STAGING_TABLE = "staging.staging_jobs_listings_data"
LISTINGS_TABLE = "public.jobs_listings_data"
CHUNK_ROWS = 25_000
NORMALISE_THREADS = 2
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
_ARROW_TEXT = {pa.string(): pd.ArrowDtype(pa.string())}
_CSV_OPTIONS = {
    "parse_options": pcsv.ParseOptions(newlines_in_values=True),
    "convert_options": pcsv.ConvertOptions(
        column_types={
            name: pa.int64() if name == "retrieved_at" else pa.string() for name in _STAGED_NAMES
        },
        # Only an unquoted \N is NULL: PostgreSQL quotes a value that reads \N, and a
        # location "NA" is Namibia, not a missing value.
        null_values=["\\N"],
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
        " FROM ({}) AS q) TO STDOUT (FORMAT csv, NULL '\\N')"
    ).format(extract_query(source))  # fmt: skip


def _staged_frame(data: bytearray) -> pd.DataFrame:
    table = pcsv.read_csv(
        pa.BufferReader(pa.py_buffer(data)),
        read_options=pcsv.ReadOptions(column_names=list(_STAGED_NAMES)),
        **_CSV_OPTIONS,
    )
    stamps = table.column("retrieved_at").cast(pa.timestamp("us", "UTC"))
    table = table.set_column(1, "retrieved_at", stamps)
    # text stays in Arrow memory (no copy into pandas' own string storage)
    return table.to_pandas(types_mapper=_ARROW_TEXT.get)


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


def _escape_array(values: pa.Array, absent: str = "") -> pa.Array:
    """COPY-escaped; `absent` lists characters known not to occur (their pass is skipped)."""
    for raw, escaped in _COPY_ESCAPES:  # a literal replace is cheaper than looking first
        if raw not in absent:
            values = pc.replace_substring(values, raw, escaped)
    return values


def _is_null(value: object) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and value != value)


def _rendered(values: pd.Series, render: Callable[[object], str]) -> pa.Array:
    """`render` once per distinct value, as an Arrow string array (NULL for missing).

    Values of one kind (all floats, all dates...) are told apart by pandas' hashing;
    a column mixing ints and floats is rendered row by row, as `1` and `1.0` differ.
    """
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind in ("floating", "integer", "date", "datetime", "string", "decimal", "empty"):
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        table = pa.array([*(render(u) for u in uniques), _NULL], type=pa.string())
        return pc.take(table, pa.array(np.where(codes < 0, len(uniques), codes)))
    out = [_NULL if _is_null(v) else render(v) for v in values.tolist()]
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
    """Rendered once per list object: `normalise` shares one list among the rows of a
    distinct value, so telling them apart by identity is exact and cheap."""
    items = values.tolist()
    identities = np.fromiter(map(id, items), dtype=np.int64, count=len(items))
    first, codes = np.unique(identities, return_index=True, return_inverse=True)[1:]
    table = pa.array([_array_text(items[i]) for i in first], type=pa.string())
    return pc.take(table, pa.array(codes.reshape(-1)))


def _timestamp_column(values: pd.Series) -> pa.Array:
    """ "2026-11-22 04:00:00.000000Z", formatted once per distinct instant."""
    arrow = pa.array(values, from_pandas=True)
    if not pa.types.is_timestamp(arrow.type):
        arrow = pa.array(pd.to_datetime(values, utc=True, errors="coerce"))
    if isinstance(arrow, pa.ChunkedArray):
        arrow = arrow.combine_chunks()
    stamps = arrow.cast(pa.timestamp("us", "UTC")).dictionary_encode()
    text = stamps.dictionary.cast(pa.string())
    return pc.fill_null(pc.take(text, stamps.indices), _NULL)


def _text_column(values: pd.Series, absent: str = "") -> pa.Array:
    try:
        arrow = pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all str: render each value
        arrow = pa.array(
            [None if _is_null(v) else str(v) for v in values.tolist()], type=pa.string()
        )
    if isinstance(arrow, pa.ChunkedArray):
        arrow = arrow.combine_chunks()
    return pc.fill_null(_escape_array(arrow, absent), _NULL)


def copy_lines(frame: pd.DataFrame) -> pa.Array:
    """`frame`'s OUTPUT_COLUMNS as COPY text, one line per row without its newline
    (NaN, NaT and None are NULL).

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
            columns.append(_rendered(values, _value_text))
        elif name == "description_text":  # html_to_text leaves no tab or carriage return
            columns.append(_text_column(values, absent="\t\r"))
        else:
            columns.append(_text_column(values))
    return pc.binary_join_element_wise(*columns, "\t")


def _copy_buffer(lines: pa.Array, constants: tuple[str, ...] = ()) -> pa.Buffer:
    """`lines`, each followed by `constants` (COPY text) and a newline, as one buffer."""
    if constants:
        lines = pc.binary_join_element_wise(lines, *constants, "\t")
    lines = pc.binary_join_element_wise(lines, "", "\n")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
    start, end = offsets[lines.offset], offsets[lines.offset + len(lines)]
    return lines.buffers()[2][start:end]


def copy_text(frame: pd.DataFrame, constants: tuple[str, ...] = ()) -> pa.Buffer:
    """`copy_lines` of `frame` as one COPY text buffer, each line ending with `constants`."""
    return _copy_buffer(copy_lines(frame), constants)


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
                close()  # ends the COPY in this thread
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


@dataclass
class _Chunk:
    """A normalised chunk and its rows as COPY text, ready for the writer."""

    source: str
    rows: pd.DataFrame
    report: ParseReport
    lines: pa.Array
    keys: list[str]


def _prepare(source: str, staged: pd.DataFrame) -> _Chunk:
    rows, report = normalise(staged, source)
    return _Chunk(source, rows, report, copy_lines(rows), rows["source_job_id"].tolist())


def _prepared(chunks: Iterator[tuple[str, pd.DataFrame]], threads: int) -> Iterator[_Chunk]:
    """Each chunk normalised and rendered as COPY text, in order, `threads` at a time:
    most of it is Arrow kernels that release the GIL, so two chunks use two cores."""
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="normalise") as pool:
        pending: deque[Future] = deque()
        try:
            for source, staged in chunks:
                pending.append(pool.submit(_prepare, source, staged))
                if len(pending) >= threads:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for waiting in pending:
                waiting.cancel()


class _WindowWriter:
    """Writes a window's normalised chunks on `conn`, in the caller's transaction.

    Listings the table has never seen are copied straight into it; the others go
    through a temporary table and one INSERT .. ON CONFLICT (`_upsert_sql`). Should
    another transaction insert one of the new listings meanwhile, the chunk takes
    the second way instead.
    """

    def __init__(self, conn: psycopg.Connection, partition_key: str, window_start: datetime):
        self.conn = conn
        self.params = {"window_start": window_start, "partition_key": partition_key}
        stamp = pd.Timestamp(window_start).tz_convert("UTC")
        self.constants = (
            stamp.strftime("%Y-%m-%d %H:%M:%S.%fZ"),
            stamp.strftime("%Y-%m-%d %H:%M:%S.%fZ"),
            _copy_field(partition_key),
        )
        self.upsert = _upsert_sql()
        self.inserted = 0
        self.updated = 0
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
        lines = chunk.lines
        if not known and self._insert(lines):
            return
        new = pa.array(~chunk.rows["source_job_id"].isin(known).to_numpy(dtype=bool))
        if known and pc.any(new).as_py() and self._insert(pc.filter(lines, new)):
            lines = pc.filter(lines, pc.invert(new))
        if len(lines):
            self._upsert(lines)

    def _insert(self, lines: pa.Array) -> bool:
        columns = ", ".join(
            (*OUTPUT_COLUMNS, "first_seen_at", "last_seen_at", "last_partition_key")
        )
        data = _copy_buffer(lines, self.constants)
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
        data = _copy_buffer(lines)
        with self.conn.cursor() as cur:
            cur.execute(f"TRUNCATE {_TEMP_TABLE}")
            with cur.copy(f"COPY {_TEMP_TABLE} ({', '.join(OUTPUT_COLUMNS)}) FROM STDIN") as copy:
                copy.write(memoryview(data))
            inserted, updated = cur.execute(self.upsert, self.params).fetchone()
        self.inserted += inserted
        self.updated += updated


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
    # The ECB rate table takes most of a second to load; let it load while the first
    # chunk is read rather than when the first chunk needs it.
    threading.Thread(target=rate_date, name="ecb_rates", daemon=True).start()
    with conn.transaction(), read_conn.transaction():
        writer = _WindowWriter(conn, partition_key, window_start)
        worker = _Worker("upsert_window", writer.write)
        chunks = _prefetched(read_staged(read_conn, partition_key, chunk_rows))
        prepared = _prepared(chunks, NORMALISE_THREADS)
        try:
            for chunk in prepared:
                result.staged += len(chunk.rows)
                result.report.merge(chunk.report)
                if result.preview is None or len(result.preview) < preview_rows:
                    head = chunk.rows.head(preview_rows).copy()  # not a view of the chunk
                    result.preview = (
                        head
                        if result.preview is None
                        else pd.concat([result.preview, head]).head(preview_rows)
                    )
                worker.put(chunk)
        except BaseException:
            prepared.close()
            chunks.close()
            worker.close(raise_error=False)
            raise
        worker.close()
        result.inserted, result.updated = writer.inserted, writer.updated
        result.older = result.staged - result.inserted - result.updated
    return result
