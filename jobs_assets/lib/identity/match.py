"""Whether two listings are the same job, and which pairs of a window to ask about.

Candidates, in three levels, so a window's cost follows its size and not the square of
its largest company (one employer may post thousands of listings in a window):

1. Blocking: only listings whose normalised company is the same are compared (different
   companies are never merged).
2. Titles: inside a block, listings with the same normalised title and title levels form
   a title group. Distinct titles are scored against each other with rapidfuzz, all
   against all while that is at most `EXACT_TITLE_CELLS` scores, else each against its
   `TITLE_NEIGHBOURS` neighbours in two sort orders (the words, and the same read
   backwards, so a typo at either end still finds its twin).
3. Listings: in a title group (or two groups whose titles are close), the listings are
   sorted on a second key (place, countries, regions, head of the description) and each
   new listing is compared with its `NEIGHBOURS` neighbours on either side. Pairs that
   are already linked (the same stored cluster, or through pairs matched earlier) are
   not compared again, so a group of 1,400 copies of one job costs about 1,400
   comparisons, not a million.

Small groups are compared in full (the window covers them), so on ordinary data the
result is the one the all-pairs comparison gives. Every candidate is judged by
`compare`, rule by rule.
"""

from __future__ import annotations

from collections.abc import Iterable
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
    title_scope,
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
#: a new listing is compared with this many listings on each side in its title group
NEIGHBOURS = 8
#: distinct titles of a block are scored all against all up to this many scores
EXACT_TITLE_CELLS = 250_000
#: beyond that, each distinct title is scored against this many in each sort order
TITLE_NEIGHBOURS = 16
#: characters of the description that take part in the listings' sort key
ORDER_HEAD = 200


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
    def scope(self) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
        return title_scope(self.row.get("title") or "")

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
    def cities(self) -> frozenset[str]:
        """The cities the gazetteer read in the place (when the row has them)."""
        return _items(self.row.get("cities"))

    @cached_property
    def word_tuple(self) -> tuple[str, ...]:
        return description_words(self.description)

    @cached_property
    def words(self) -> str:
        return " ".join(self.word_tuple)

    @cached_property
    def word_set(self) -> frozenset[str]:
        return frozenset(self.word_tuple)

    @cached_property
    def word_set_chars(self) -> int:
        return sum(map(len, self.word_set))

    @cached_property
    def order(self) -> tuple:
        """The second-level sort key inside a title group: listings that may be the same
        job sort next to each other."""
        head = (self.description or "")[:ORDER_HEAD]
        return (self.place, sorted(self.countries), sorted(self.regions), head, self.key)


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


def _scope_conflict(a: Listing, b: Listing) -> str | None:
    """Titles that both name countries, or both regions, or both a job type, and name
    different ones: two jobs of one company (its EMEA and its APAC account executive)."""
    kinds = ("countries", "regions", "job types")
    for kind, mine, theirs in zip(kinds, a.scope, b.scope, strict=True):
        if mine and theirs and not (mine & theirs):
            return f"the titles name different {kind}"
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
    if (
        a.place
        and b.place
        and fuzz.ratio(a.place, b.place) < WORD_CUTOFF
        and not (a.cities & b.cities)  # "München, Bayern" is "Munich, Bavaria"
    ):
        return False, "different places"
    scope = _scope_conflict(a, b)
    if scope:
        return False, scope
    if fuzz.token_sort_ratio(a.title_text, b.title_text) < TITLE_CUTOFF:
        return False, "different titles"
    conflict = _title_conflict(a, b)
    if conflict:
        return False, conflict
    long_enough = min(len(a.word_tuple), len(b.word_tuple)) > DESCRIPTION_MIN_WORDS
    if long_enough and not _descriptions_close(a, b):
        return False, "different descriptions"
    if a.requisitions & b.requisitions:
        return True, "same requisition id"
    return True, "same company, title, place and level"


def _descriptions_close(a: Listing, b: Listing) -> bool:
    """`token_set_ratio(words) >= DESCRIPTION_CUTOFF`, without rapidfuzz when the word
    sets alone settle it. rapidfuzz's score is the best of three; two of them (the shared
    words against the shared words plus one side's own) follow from the lengths, so
    copies of one text (a repost, a clone with its own last line) cost two set
    operations instead of joining and aligning 400 words."""
    if a.words == b.words:
        return True
    shared = a.word_set & b.word_set
    if shared and (len(shared) == len(a.word_set) or len(shared) == len(b.word_set)):
        return True  # one text's words are all in the other: rapidfuzz says 100
    if shared:
        shared_len = sum(map(len, shared)) + len(shared) - 1
        best = 0.0
        for mine in (a, b):
            only = len(mine.word_set) - len(shared)
            only_len = mine.word_set_chars - (shared_len - len(shared) + 1) + only - 1
            with_shared = shared_len + 1 + only_len
            best = max(best, 100.0 * (1 - (1 + only_len) / (shared_len + with_shared)))
        if best >= DESCRIPTION_CUTOFF + 1:  # a margin for rounding: near the line, ask
            return True
    return fuzz.token_set_ratio(a.words, b.words) >= DESCRIPTION_CUTOFF


class Links:
    """Union-find over listing keys (path halving, union by size): near-linear in the
    links, whatever the size of a cluster."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.size: dict[str, int] = {}

    def find(self, key: str) -> str:
        parent = self.parent
        if key not in parent:
            parent[key] = key
            self.size[key] = 1
            return key
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    def union(self, a: str, b: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        return True


@dataclass
class Candidates:
    """Matched pairs of a window and how much work finding them took."""

    pairs: list[tuple[str, str, str]] = field(default_factory=list)  # (key_a, key_b, reason)
    comparisons: int = 0  # distinct-title pairs scored by rapidfuzz
    detailed: int = 0  # candidate listing pairs checked rule by rule (`compare`)
    blocks: int = 0
    largest_block: int = 0  # listings (new and stored) in the largest company block


def find_matches(
    new: list[Listing], existing: list[Listing], linked: Iterable[Iterable[str]] = ()
) -> Candidates:
    """Pairs (new, existing) and (new, new) of the same company that are the same job.

    `linked`: groups of keys already known to be one job (stored clusters); a pair
    inside one is not compared. Only enough matched pairs to connect each cluster are
    returned (a pair whose listings are already linked is skipped).
    """
    out = Candidates()
    links = Links()
    for group in linked:
        first = None
        for key in group:
            first = first or key
            links.union(first, key)
    blocks: dict[str, tuple[list[Listing], list[Listing]]] = {}
    for item in new:
        blocks.setdefault(item.company, ([], []))[0].append(item)
    for item in existing:
        block = blocks.get(item.company)
        if block is not None:
            block[1].append(item)
    for company in sorted(blocks):
        if not company:
            continue  # no company name: nothing safe to block on
        fresh, old = blocks[company]
        out.blocks += 1
        out.largest_block = max(out.largest_block, len(fresh) + len(old))
        _match_block(fresh, old, links, out)
    return out


def _match_block(fresh: list[Listing], old: list[Listing], links: Links, out: Candidates) -> None:
    new_keys = {x.key for x in fresh}
    groups: dict[tuple[str, frozenset[str]], list[Listing]] = {}
    for item in old + fresh:
        groups.setdefault((item.title_text, item.levels), []).append(item)
    titles = sorted(groups, key=lambda t: (t[0], sorted(t[1])))
    members = [groups[t] for t in titles]
    with_new = [any(x.key in new_keys for x in group) for group in members]
    for index, group in enumerate(members):
        if with_new[index]:
            _neighbourhood(_in_order(group), new_keys, links, out)
    for i, j in _title_pairs(titles, with_new, out):
        merged = _in_order(members[i] + members[j])
        _neighbourhood(merged, new_keys, links, out, across=(titles[i], titles[j]))


def _in_order(group: list[Listing]) -> list[Listing]:
    """A group in the order its neighbourhoods are taken: by `Listing.order` when it is
    larger than a neighbourhood (else every pair is asked anyway: by key, cheaper)."""
    if len(group) <= NEIGHBOURS + 1:
        return sorted(group, key=lambda x: x.key)
    return sorted(group, key=lambda x: x.order)


def _title_pairs(
    titles: list[tuple[str, frozenset[str]]], with_new: list[bool], out: Candidates
) -> list[tuple[int, int]]:
    """Pairs of distinct titles (indexes into `titles`, at least one with a new
    listing, the same levels) whose words are close enough to compare their listings."""
    texts = [t[0] for t in titles]
    fresh = [i for i, has in enumerate(with_new) if has]
    found: set[tuple[int, int]] = set()
    if len(fresh) * len(texts) <= EXACT_TITLE_CELLS:
        out.comparisons += len(fresh) * len(texts)
        scores = process.cdist(
            [texts[i] for i in fresh],
            texts,
            scorer=fuzz.token_sort_ratio,
            score_cutoff=TITLE_CUTOFF,
            dtype=np.uint8,
        )
        for row, j in zip(*np.nonzero(scores), strict=True):
            i = fresh[row]
            if i != j and titles[i][1] == titles[j][1]:
                found.add((min(i, j), max(i, j)))
    else:
        backwards = sorted(range(len(texts)), key=lambda i: texts[i][::-1])
        for order in (list(range(len(texts))), backwards):
            for p, i in enumerate(order):
                for j in order[p + 1 : p + 1 + TITLE_NEIGHBOURS]:
                    pair = (min(i, j), max(i, j))
                    if pair in found or not (with_new[i] or with_new[j]):
                        continue
                    if titles[i][1] != titles[j][1]:
                        continue
                    out.comparisons += 1
                    if fuzz.token_sort_ratio(texts[i], texts[j]) >= TITLE_CUTOFF:
                        found.add(pair)
    return sorted(found)


def _neighbourhood(
    group: list[Listing],
    new_keys: set[str],
    links: Links,
    out: Candidates,
    across: tuple | None = None,
) -> None:
    """Compare each new listing of `group` (sorted on `Listing.order`) with the
    `NEIGHBOURS` listings on each side; `across`: the two titles of a merged pair of
    groups, where only pairs across the two are asked (each group asked its own)."""
    for p, a in enumerate(group):
        if a.key not in new_keys:
            continue
        for q in range(max(0, p - NEIGHBOURS), min(len(group), p + NEIGHBOURS + 1)):
            b = group[q]
            if q == p or (q < p and b.key in new_keys):
                continue  # a pair of two new listings is asked once, from the first
            if across is not None and (a.title_text, a.levels) == (b.title_text, b.levels):
                continue
            if links.find(a.key) == links.find(b.key):
                continue  # already one job through pairs matched before
            out.detailed += 1
            same, reason = compare(a, b)
            if same:
                links.union(a.key, b.key)
                out.pairs.append((*sorted((a.key, b.key)), reason))
