"""Whether two listings are the same job, and which pairs of a window to ask about.

Blocking: only listings whose normalised company is the same are compared (different
companies are never merged), and within a block only titles that rapidfuzz finds close.
A window's cost is the sum over its blocks of new x (existing + new) listings, so it
follows the window and the size of each company's block, not the table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

from jobs_assets.lib.identity.text import (
    company_key,
    description_words,
    place_key,
    requisition_ids,
    seniority_rank,
    title_parts,
)

#: titles below this token_sort_ratio (0-100) are not compared further
TITLE_CUTOFF = 90.0
#: a word only one title has must be this close to a word of the other (typos, plurals)
WORD_CUTOFF = 85.0
#: descriptions (first 400 words, token_set_ratio) below this are different jobs
DESCRIPTION_CUTOFF = 50.0
#: descriptions shorter than this many words say too little to veto
DESCRIPTION_MIN_WORDS = 40
#: requisition ids are looked for in the title and this many characters of description
REQUISITION_HEAD = 600


class Listing:
    """What the matcher knows about one listing. Only the company and title are read
    up front (blocking needs them); the rest when a pair gets that far."""

    __slots__ = ("__dict__", "company", "key", "levels", "row", "title_core", "title_text")

    def __init__(self, row: dict[str, Any]) -> None:
        self.row = row
        self.key = listing_key(row["source"], row["source_job_id"])
        self.company = company_key(row.get("company_name"))
        self.title_core, self.levels = title_parts(row.get("title") or "")
        self.title_text = " ".join(sorted(self.title_core))

    @cached_property
    def description(self) -> str | None:
        text = self.row.get("description_text")
        return text if isinstance(text, str) else None

    @cached_property
    def seniority(self) -> int | None:
        return seniority_rank(self.row.get("seniority"))

    @cached_property
    def requisitions(self) -> frozenset[str]:
        head = (self.description or "")[:REQUISITION_HEAD]
        return requisition_ids(self.row.get("title"), head)

    @cached_property
    def countries(self) -> frozenset[str]:
        return _items(self.row.get("countries"))

    @cached_property
    def regions(self) -> frozenset[str]:
        return _items(self.row.get("regions"))

    @cached_property
    def place(self) -> str:
        return place_key(self.row.get("location_raw"))

    @cached_property
    def words(self) -> str:
        return " ".join(description_words(self.description))


def listing_key(source: str, source_job_id: str) -> str:
    """The listing key used in cluster ids and overrides: `source:source_job_id`."""
    return f"{source}:{source_job_id}"


def _items(value: Any) -> frozenset[str]:
    if value is None or isinstance(value, float):
        return frozenset()
    if isinstance(value, str):
        return frozenset({value}) if value else frozenset()
    return frozenset(str(v) for v in value if v)


def listing_of(row: dict[str, Any]) -> Listing:
    """A `Listing` from a row with the columns of `public.jobs_listings_data`."""
    return Listing(row)


def _title_conflict(a: Listing, b: Listing) -> str | None:
    """A word one title has and the other has nothing close to ("Storage" and
    "Fulfillment", "Korean" and "Khmer", ZIP 78634 and 78653)."""
    only_a = set(a.title_core) - set(b.title_core)
    only_b = set(b.title_core) - set(a.title_core)
    for mine, theirs in ((only_a, only_b), (only_b, only_a)):
        for word in mine:
            if word.isdigit() or not any(
                fuzz.ratio(word, other) >= WORD_CUTOFF and not other.isdigit() for other in theirs
            ):
                return f"title word {word!r} has no counterpart"
    return None


def compare(a: Listing, b: Listing) -> tuple[bool, str]:
    """(same job?, why): every rule that can say no is asked before the evidence for yes."""
    if a.company != b.company:
        return False, "different companies"
    if a.requisitions and b.requisitions and not (a.requisitions & b.requisitions):
        return False, "different requisition ids"
    if a.levels != b.levels:
        return False, "different seniority in the titles"
    if a.seniority is not None and b.seniority is not None and abs(a.seniority - b.seniority) >= 2:
        return False, "clearly different seniority"
    if a.countries and b.countries and not (a.countries & b.countries):
        return False, "no country in common"
    only_regions = not a.countries and not b.countries and a.regions and b.regions
    if only_regions and not (a.regions & b.regions):
        return False, "no region in common"
    if a.place and b.place and fuzz.ratio(a.place, b.place) < WORD_CUTOFF:
        return False, "different places"
    if fuzz.token_sort_ratio(a.title_text, b.title_text) < TITLE_CUTOFF:
        return False, "different titles"
    conflict = _title_conflict(a, b)
    if conflict:
        return False, conflict
    wa, wb = a.words, b.words
    long_enough = min(wa.count(" "), wb.count(" ")) >= DESCRIPTION_MIN_WORDS
    if long_enough and fuzz.token_set_ratio(wa, wb) < DESCRIPTION_CUTOFF:
        return False, "different descriptions"
    if a.requisitions & b.requisitions:
        return True, "same requisition id"
    return True, "same company, title, place and level"


@dataclass
class Candidates:
    """Matched pairs of a window and how much work finding them took."""

    pairs: list[tuple[str, str, str]] = field(default_factory=list)  # (key_a, key_b, reason)
    comparisons: int = 0  # title pairs scored by rapidfuzz
    detailed: int = 0  # pairs that passed the title cut-off and were checked rule by rule
    blocks: int = 0


def find_matches(new: list[Listing], existing: list[Listing]) -> Candidates:
    """Pairs (new, existing) and (new, new) of the same company that are the same job."""
    out = Candidates()
    blocks: dict[str, tuple[list[Listing], list[Listing]]] = {}
    for item in new:
        blocks.setdefault(item.company, ([], []))[0].append(item)
    for item in existing:
        block = blocks.get(item.company)
        if block is not None:
            block[1].append(item)
    for company, (fresh, old) in blocks.items():
        if not company:
            continue  # no company name: nothing safe to block on
        out.blocks += 1
        others = old + fresh
        scores = process.cdist(
            [x.title_text for x in fresh],
            [x.title_text for x in others],
            scorer=fuzz.token_sort_ratio,
            score_cutoff=TITLE_CUTOFF,
            dtype=np.uint8,
        )
        out.comparisons += len(fresh) * len(old) + len(fresh) * (len(fresh) - 1) // 2
        for i, j in zip(*np.nonzero(scores), strict=True):
            a, b = fresh[i], others[j]
            if j >= len(old) and j - len(old) <= i:
                continue  # each new-new pair once, and never a listing with itself
            out.detailed += 1
            same, reason = compare(a, b)
            if same:
                out.pairs.append((a.key, b.key, reason))
    return out
