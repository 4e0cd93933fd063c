"""Normalised rows as COPY text, column by column with Arrow kernels.

Each column is rendered as the contract says (`Column.render` in `lib/schema/columns.py`)
instead of one `write_row` per row; NaN, NaT and None become NULL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from jobs_assets.lib.normalise.frames import arrow_strings, is_missing
from jobs_assets.lib.schema import LISTINGS, OUTPUT_COLUMNS, Render

NULL = "\\N"
_COPY_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))


def copy_field(text: str) -> str:
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


def _rendered(values: pd.Series, render: Callable[[object], str]) -> pa.Array:
    """`render` once per distinct value, as an Arrow string array (NULL for missing).

    Values of one kind (all floats, all dates...) are told apart by pandas' hashing;
    a column mixing ints and floats is rendered row by row, as `1` and `1.0` differ.
    """
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind in ("floating", "integer", "date", "datetime", "string", "decimal", "empty"):
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        table = pa.array([*(render(u) for u in uniques), NULL], type=pa.string())
        return pc.take(table, pa.array(np.where(codes < 0, len(uniques), codes)))
    out = [NULL if is_missing(v) else render(v) for v in values.tolist()]
    return pa.array(out, type=pa.string())


def _value_text(value: object) -> str:
    """As psycopg would send it: numbers by `str` (keeping int or float), dates ISO."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (np.floating, np.integer)):
        value = value.item()
    return copy_field(str(value))


def _array_text(items: object) -> str:
    """A Python list as a PostgreSQL array literal (every element quoted), COPY-escaped."""
    if not isinstance(items, (list, tuple)):
        return NULL
    quoted = (
        '"' + str(item).replace("\\", "\\\\").replace('"', '\\"') + '"'
        for item in items
        if item is not None
    )
    return copy_field("{" + ",".join(quoted) + "}")


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
    return pc.fill_null(pc.take(text, stamps.indices), NULL)


def copy_text_column(values: pd.Series, absent: str = "") -> pa.Array:
    """Text values as COPY fields, NULL for missing (`absent`: characters known not to
    occur, whose escaping pass is skipped)."""
    return pc.fill_null(_escape_array(arrow_strings(values), absent), NULL)


_RENDERERS: dict[Render, Callable[[pd.Series], pa.Array]] = {
    Render.TEXT: copy_text_column,
    Render.PLAIN_TEXT: lambda values: copy_text_column(values, absent="\t\r"),
    Render.ARRAY: _array_column,
    Render.TIMESTAMP: _timestamp_column,
    Render.VALUE: lambda values: _rendered(values, _value_text),
}
_OUTPUT_RENDERERS = tuple(
    (name, _RENDERERS[LISTINGS.column(name).render]) for name in OUTPUT_COLUMNS
)


def copy_lines(frame: pd.DataFrame) -> pa.Array:
    """`frame`'s OUTPUT_COLUMNS as COPY text, one line per row without its newline."""
    return pc.binary_join_element_wise(
        *(render(frame[name]) for name, render in _OUTPUT_RENDERERS), "\t"
    )


def copy_buffer(lines: pa.Array, constants: tuple[str, ...] = ()) -> pa.Buffer:
    """`lines`, each followed by `constants` (COPY text) and a newline, as one buffer."""
    if constants:
        lines = pc.binary_join_element_wise(lines, *constants, "\t")
    lines = pc.binary_join_element_wise(lines, "", "\n")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
    start, end = offsets[lines.offset], offsets[lines.offset + len(lines)]
    return lines.buffers()[2][start:end]
