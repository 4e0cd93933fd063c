"""Read a staged window back, each source's fields mapped to the common names.

Rows come out with COPY as CSV and are parsed by Arrow: no Python object per value
until the normaliser asks for one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pcsv
from psycopg import sql

from jobs_assets.lib.schema import EXTRACTED, STAGING_TABLE
from jobs_assets.lib.sources import SOURCES

CHUNK_ROWS = 25_000


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


def staged_rows(conn: psycopg.Connection, partition_key: str) -> int:
    return conn.execute(
        f"SELECT count(*) FROM {STAGING_TABLE} WHERE partition_key = %s", (partition_key,)
    ).fetchone()[0]


def read_staged(
    conn: psycopg.Connection, partition_key: str, chunk_rows: int = CHUNK_ROWS
) -> Iterator[tuple[str, pd.DataFrame]]:
    """The window's staged listings, per source, in DataFrames of at most `chunk_rows`."""
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
