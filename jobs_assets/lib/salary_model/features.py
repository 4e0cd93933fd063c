"""From rows of `jobs_listings_data` to the model's inputs, and the target.

Everything here is plain column work done before the scikit-learn pipeline, so the
pipeline holds only scikit-learn's own classes (which skops can load without
trusting any code of ours).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from jobs_assets.lib.salary_model.masking import mask_money_many

#: the listing columns the model reads (`category_normalised` falls back to `category`)
LISTING_COLUMNS = (
    "source",
    "title",
    "company_name",
    "category_normalised",
    "seniority",
    "job_type",
    "region",
    "countries",
    "tags",
    "description_text",
)
CATEGORICAL = ("source", "company", "category", "seniority", "job_type", "region")
TEXT = ("title", "countries", "tags", "description")
FEATURES = CATEGORICAL + TEXT
#: the start of a description carries most of what it says about the role; reading
#: all of it costs time and adds boilerplate (benefits, legal text)
DESCRIPTION_CHARS = 1000
UNKNOWN = "unknown"


def _text(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna(), "").astype(str)


def _label(values: pd.Series) -> pd.Series:
    text = _text(values).str.strip().str.lower()
    return text.where(text != "", UNKNOWN)


def _tokens(values: pd.Series) -> list[str]:
    """A list column as space-separated lower-case tokens (a tag's own spaces become `_`),
    in Arrow: one pass per column, not one Python call per row."""
    lists = pa.array(
        [v if isinstance(v, (list, tuple, np.ndarray)) else None for v in values],
        type=pa.list_(pa.large_string()),
    )
    items = pc.utf8_lower(pc.utf8_trim_whitespace(lists.flatten()))
    items = pc.replace_substring_regex(items, r"\s+", "_")
    rebuilt = pa.LargeListArray.from_arrays(lists.offsets, items) if len(lists) else lists
    joined = pc.binary_join(rebuilt, pa.scalar(" ", pa.large_string()))
    return pc.fill_null(joined, "").to_pylist()


def model_inputs(listings: pd.DataFrame) -> pd.DataFrame:
    """One row of model inputs per listing, in `FEATURES` order."""
    missing = [c for c in LISTING_COLUMNS if c not in listings and c != "category_normalised"]
    if missing:
        raise KeyError(f"listings lack the columns {missing} the salary model reads")
    category = (
        listings["category_normalised"]
        if "category_normalised" in listings
        else pd.Series(None, index=listings.index, dtype=object)
    )
    if "category" in listings:
        category = category.where(category.notna(), listings["category"])
    description = _text(listings["description_text"]).str.slice(0, DESCRIPTION_CHARS)
    return pd.DataFrame(
        {
            "source": _label(listings["source"]),
            "company": _label(listings["company_name"]),
            "category": _label(category),
            "seniority": _label(listings["seniority"]),
            "job_type": _label(listings["job_type"]),
            "region": _label(listings["region"]),
            "title": _text(listings["title"]).str.lower(),
            "countries": _tokens(listings["countries"]),
            "tags": _tokens(listings["tags"]),
            "description": mask_money_many(description.tolist()),
        },
        index=listings.index,
    )[list(FEATURES)]


def annual_usd_midpoint(listings: pd.DataFrame) -> pd.Series:
    """The stated salary as one annual USD figure: the middle of the range, or the one end given."""
    low = pd.to_numeric(listings["salary_min_usd"], errors="coerce")
    high = pd.to_numeric(listings["salary_max_usd"], errors="coerce")
    return pd.concat([low, high], axis=1).mean(axis=1, skipna=True)


def log_target(usd: pd.Series) -> np.ndarray:
    return np.log(usd.to_numpy(dtype=float))
