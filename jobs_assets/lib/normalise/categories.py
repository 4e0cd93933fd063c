"""One category vocabulary for every source (`category_normalised`).

Each source has its own categories (`Sales / Business`, `Programming`, slugs such as
`Feedback-Specialist`, or only tags), so listings only compare across sources through a
small shared vocabulary. The mapping is data, `jobs_assets/data/categories.csv`, so an
operator extends it without touching code:

- `source_value`: a source's value, matched case-insensitively after humanising
  (`-` and `_` become spaces: `Feedback-Specialist` is `feedback specialist`);
- `category_normalised`: one of `VOCABULARY`, or empty for a value that says nothing
  about the category (tags such as `senior`, `full-time`, `Remote`);
- `match`: `exact` for a whole value; `word` for a word or phrase inside a title or an
  unknown value (`Senior Backend Engineer` -> `backend`); `stem` for a piece of a word,
  for compounds (`Finanzbuchhalter` -> `buchhalter`), tried only where no `word` row
  matches. Which matching row decides (`_Rules.search`): the head of a title (before a
  comma, a dash, a bracket or `for`/`at`/`in`) outranks the qualifier after it
  (`Software Engineer, Customer Experience` is software), unless the head names only a
  generic role (a row weighing under 1, `engineer`); within one part the phrase of
  most words wins (`help desk` over `technician`), then a word that is not a generic
  role (`Pharmacy Technician` is pharmacy), then the row earlier in the file;
- `weight`: how decisive the value is as evidence (empty = 1). A board that derives
  most tags from the description tags nearly every listing with `support`, `software`,
  `design` or `training`, so they weigh little; a generic role word in a title
  (`engineer`) weighs less than a role phrase;
- `sources`: whose values the row was written for (documentation only).

One listing's category is decided from all it says (`categorise`): its title, its
source category and all its tags each add their weight to a class, the title most
(it names the job), then the source's own category, then the tags (capped, so twenty
description keywords cannot outvote the title). The first tag no longer wins alone:
tags `[software, education, ..., marketing, sales]` on a sales title are Sales.

A value no row covers maps to `Other` and is returned by `unknown_categories`, so the
parse report shows what to add.
"""

from __future__ import annotations

import csv
import re
import string
from collections import Counter
from collections.abc import Callable, Iterable
from functools import cache, lru_cache
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


TITLE_WEIGHT = 4.0  # the title names the job
CATEGORY_WEIGHT = 2.0  # a source category distinct from the tags
TAG_CAP = 2.0  # all tags together add at most this much to one class

_Evidence = tuple[str, float]  # (category or NEUTRAL, weight)


# Words split at punctuation and spaces; `&`, `#` and `+` stay inside a word (`fp&a`, `c#`).
_SPLIT = str.maketrans(
    dict.fromkeys(string.punctuation.translate(str.maketrans("", "", "&#+")) + "–—‘’“”…·•", " ")
)


def _tokens(text: str) -> list[str]:
    return text.translate(_SPLIT).split()


# Where a title's head (the role) ends and a qualifier (team, product, place) begins.
# A dash with a space after it ends the head too ("Sales Manager- Mortgage"); a hyphen
# inside a word does not ("Full-Stack").
_QUALIFIER = re.compile(r"[,;|()\[\]–—]|\s-\s|(?<=\w)-\s|:\s|\s(?:for|at|in|with|für|bei|im)\s")


class _Rules:
    """The table, compiled for speed (one dict probe per word and phrase of a text, not
    one regex per row): exact values; `word` rows by their words; `stem` rows as
    substrings."""

    def __init__(self, exact: dict[str, _Evidence], rules: list[tuple[str, str, _Evidence]]):
        self.exact = exact
        # key -> (rank, evidence); the lowest rank wins: more words, then a specific row
        # before a generic role (weight under 1), then the earlier row in the file
        self.words: dict[str, tuple[tuple[int, bool, int], _Evidence]] = {}
        self.stems: dict[str, tuple[tuple[int, bool, int], _Evidence]] = {}
        for order, (kind, value, evidence) in enumerate(rules):
            key = value if kind == "stem" else " ".join(_tokens(value))
            size = key.count(" ") + 1 if kind == "word" else 1
            rank = (-size, evidence[1] < 1, order)
            (self.stems if kind == "stem" else self.words).setdefault(key, (rank, evidence))
        # first word -> the most words a row starting with it has
        self.starts: dict[str, int] = {}
        for key in self.words:
            first, size = key.split(" ", 1)[0], key.count(" ") + 1
            self.starts[first] = max(self.starts.get(first, 0), size)

    def search(self, text: str) -> _Evidence | None:
        """The row deciding `text` (lower case): the head's best row, or the first
        qualifier's when the head names only a generic role (weight under 1) or nothing.
        `stem` rows are tried only when no `word` row matches any part."""
        parts = _QUALIFIER.split(text)
        return self._first(parts, self._best_word) or self._first(parts, self._best_stem)

    @staticmethod
    def _first(parts: list[str], best: Callable[[str], _Evidence | None]) -> _Evidence | None:
        generic: _Evidence | None = None
        for part in parts:
            found = best(part)
            if found is None:
                continue
            if found[1] >= 1:
                return found
            generic = generic or found
        return generic

    def _best_word(self, text: str) -> _Evidence | None:
        """The best `word` row for a word or phrase of `text`. The hot path of a
        window's parse: one dict probe per word and phrase."""
        words, starts = self.words, self.starts
        best: tuple[tuple[int, bool, int], _Evidence] | None = None
        tokens = _tokens(text)
        for start, token in enumerate(tokens):
            longest = starts.get(token)
            if longest is None:
                continue
            found = words.get(token)
            if found and (best is None or found[0] < best[0]):
                best = found
            for size in range(2, longest + 1):
                found = words.get(" ".join(tokens[start : start + size]))
                if found and (best is None or found[0] < best[0]):
                    best = found
        return best[1] if best else None

    def _best_stem(self, text: str) -> _Evidence | None:
        best: tuple[tuple[int, bool, int], _Evidence] | None = None
        for stem, found in self.stems.items():
            if stem in text and (best is None or found[0] < best[0]):
                best = found
        return best[1] if best else None


@cache
def _table() -> _Rules:
    exact: dict[str, _Evidence] = {}
    rules: list[tuple[str, str, _Evidence]] = []
    path = resources.files("jobs_assets") / "data" / "categories.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            value, category = humanise(row["source_value"]), row["category_normalised"].strip()
            if category not in VOCABULARY and category != NEUTRAL:
                raise ValueError(f"categories.csv line {line}: {category!r} is not in VOCABULARY")
            try:
                weight = float(row.get("weight") or 1)
            except ValueError:
                raise ValueError(
                    f"categories.csv line {line}: weight {row['weight']!r} is not a number"
                ) from None
            if row["match"] in ("word", "stem"):
                rules.append((row["match"], value, (category, weight)))
            elif row["match"] != "exact":
                raise ValueError(
                    f"categories.csv line {line}: match {row['match']!r} is not exact/word/stem"
                )
            elif exact.setdefault(value, (category, weight)) != (category, weight):
                raise ValueError(f"categories.csv line {line}: {value!r} is mapped twice")
    return _Rules(exact, rules)


def _evidence(value: object) -> _Evidence | None:
    """The vocabulary entry (or NEUTRAL) and its weight, None when no row covers it."""
    if not isinstance(value, str) or not value.strip():
        return None
    return _keyed(value)[1]


@lru_cache(maxsize=65536)
def _keyed(value: str) -> tuple[str, _Evidence | None]:
    """A value's humanised key and evidence. Tags and categories repeat across
    listings, so each distinct one is humanised and looked up once."""
    key = humanise(value)
    table = _table()
    return key, table.exact.get(key) or table.search(key)


def _lookup(value: object) -> str | None:
    found = _evidence(value)
    return found[0] if found else None


def normalise_category(value: str | None) -> str:
    """One source category value -> the shared vocabulary; unknown or empty -> `Other`."""
    return _lookup(value) or OTHER


# Pay in a title is not about the job: the `hr` of `$40/hr` is no HR.
_PAY = re.compile(r"\d[\d.,]*k?\s*/\s*[a-z]+", re.IGNORECASE)


def categorise(
    category: str | None = None,
    tags: Iterable[str | None] | None = None,
    title: str | None = None,
) -> str:
    """One listing's category from its title, its source category and all its tags.

    Each piece of evidence adds its row's weight to a class: the title x TITLE_WEIGHT,
    a source category x CATEGORY_WEIGHT (when it is not simply the first tag, as
    on boards without categories), the tags x 1 with at most TAG_CAP per class. The highest
    total wins; on a tie the class named first (title, category, tags) wins. Neutral
    values add nothing; no evidence at all gives `Other`.
    """
    scores: dict[str, float] = {}
    if isinstance(title, str) and title.strip():
        text = _PAY.sub(" ", title) if "/" in title else title
        found = _table().search(text.casefold().replace("_", " "))
        if found and found[0]:
            scores[found[0]] = TITLE_WEIGHT * found[1]
    keyed = [_keyed(v) for v in tags or () if isinstance(v, str) and v.strip()]
    if isinstance(category, str) and category.strip():
        key, found = _keyed(category)
        # a real source category, not the first tag again
        if (not keyed or keyed[0][0] != key) and found and found[0]:
            scores[found[0]] = scores.get(found[0], 0.0) + CATEGORY_WEIGHT * found[1]
    from_tags: dict[str, float] = {}
    seen: set[str] = set()
    for key, found in keyed:
        if found and found[0] and key not in seen:
            from_tags[found[0]] = from_tags.get(found[0], 0.0) + found[1]
        seen.add(key)
    for name, weight in from_tags.items():
        scores[name] = scores.get(name, 0.0) + min(weight, TAG_CAP)
    if not scores:
        return OTHER
    return max(scores, key=scores.__getitem__)  # first of the highest: title first


def category_from_values(values: Iterable[str | None] | None) -> str:
    """For sources with several values (tags, lists of categories) and no title: all
    values weighed together (`categorise`); `Other` when none names a category."""
    return categorise(tags=values)


def unknown_categories(values: Iterable[str | None]) -> Counter[str]:
    """Values no row of the table covers, with their counts, for the parse report."""
    return Counter(
        value.strip()
        for value in values
        if isinstance(value, str) and value.strip() and _lookup(value) is None
    )
