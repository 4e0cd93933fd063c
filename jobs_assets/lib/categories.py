"""One category vocabulary for every source (`category_normalised`).

Each source has its own categories (`Sales / Business`, `Programming`, slugs such as
`Feedback-Specialist`, or only tags), so listings only compare across sources through a
small shared vocabulary. The mapping is data, `jobs_assets/data/categories.csv`, so an
operator extends it without touching code:

- `source_value`: a source's value, matched case-insensitively after humanising
  (`-` and `_` become spaces: `Feedback-Specialist` is `feedback specialist`);
- `category_normalised`: one of `VOCABULARY`, or empty for a value that says nothing
  about the category (tags such as `senior`, `full-time`, `Remote`);
- `match`: `exact` for a whole value, `word` for a word or phrase inside an unknown
  value (`Senior Backend Engineer` -> `engineer`), tried in file order after the exact rows;
- `sources`: whose values the row was written for (documentation only).

A value no row covers maps to `Other` and is returned by `unknown_categories`, so the
parse report shows what to add.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable
from functools import cache
from importlib import resources

VOCABULARY: tuple[str, ...] = (
    "Software Development",
    "Data & Analytics",
    "DevOps & Infrastructure",
    "Design",
    "Product",
    "Marketing",
    "Sales",
    "Customer Support",
    "Finance & Legal",
    "Human Resources",
    "Writing & Content",
    "Education",
    "Healthcare",
    "Operations",
    "Other",
)
OTHER = "Other"
NEUTRAL = ""  # a known value that names no category


def humanise(value: str) -> str:
    """`Senior-Frontend-Engineer-(Angular)` -> `senior frontend engineer (angular)`."""
    return re.sub(r"\s+", " ", re.sub(r"[-_]+", " ", value)).strip().casefold()


@cache
def _table() -> tuple[dict[str, str], tuple[tuple[re.Pattern[str], str], ...]]:
    exact: dict[str, str] = {}
    words: list[tuple[re.Pattern[str], str]] = []
    path = resources.files("jobs_assets") / "data" / "categories.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            value, category = humanise(row["source_value"]), row["category_normalised"].strip()
            if category not in VOCABULARY and category != NEUTRAL:
                raise ValueError(f"categories.csv line {line}: {category!r} is not in VOCABULARY")
            if row["match"] == "word":
                words.append((re.compile(rf"(?<!\w){re.escape(value)}(?!\w)"), category))
            elif exact.setdefault(value, category) != category:
                raise ValueError(f"categories.csv line {line}: {value!r} is mapped twice")
    return exact, tuple(words)


def _lookup(value: object) -> str | None:
    """The vocabulary entry (or NEUTRAL) for a value, None when no row covers it."""
    if not isinstance(value, str) or not value.strip():
        return None
    key = humanise(value)
    exact, words = _table()
    if key in exact:
        return exact[key]
    return next((category for pattern, category in words if pattern.search(key)), None)


def normalise_category(value: str | None) -> str:
    """One source category value -> the shared vocabulary; unknown or empty -> `Other`."""
    return _lookup(value) or OTHER


def category_from_values(values: Iterable[str | None] | None) -> str:
    """For sources with several values (tags, lists of categories): the
    first value that maps to a real category; `Other` when none does."""
    for value in values or ():
        category = _lookup(value)
        if category and category != OTHER:
            return category
    return OTHER


def unknown_categories(values: Iterable[str | None]) -> Counter[str]:
    """Values no row of the table covers, with their counts, for the parse report."""
    return Counter(
        value.strip()
        for value in values
        if isinstance(value, str) and value.strip() and _lookup(value) is None
    )
