"""Missing values and text columns, the same way for the normaliser and the COPY renderer."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa


def is_missing(value: object) -> bool:
    """None, NaN, NaT or pd.NA: what pandas may put where a value is absent."""
    return (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float) and value != value)
    )


def arrow_strings(values: pd.Series) -> pa.Array:
    """`values` as one Arrow string array (null where missing); values that are not str
    are rendered with `str`."""
    try:
        text = pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all str: render each value
        text = pa.array(
            [None if is_missing(v) else str(v) for v in values.tolist()], type=pa.string()
        )
    return text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
