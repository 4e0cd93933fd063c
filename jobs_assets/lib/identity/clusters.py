"""Duplicate clusters of a window: union-find over matched pairs, overrides first.

Cluster ids: a cluster is named after its earliest member, `source:source_job_id`
(`listing_key`): the earliest `first_seen_at`, then the first source in `SOURCE_ORDER`,
then the smallest key, so the same listings always give the same id and a re-run of a
window changes nothing. Its canonical member, the one that speaks for it, is the
earliest *active* member in the same order (the earliest member when none is active):
a job keeps its id when the listing it was first seen as expires, or when a re-post
joins it after that listing expired, while an active listing stands for it. A listing
alone is its own cluster and canonical. When a backfill brings an earlier member, the
cluster takes its name; the assignments returned say which stored rows change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from jobs_assets.lib.identity.match import (
    Candidates,
    Links,
    compare,
    find_matches,
    listing_key,
    listing_of,
)
from jobs_assets.lib.identity.text import company_key
from jobs_assets.lib.sources import SOURCES

#: ties on first_seen_at go to the source registered earlier (the more complete record)
SOURCE_ORDER = tuple(SOURCES)
ASSIGNMENT_COLUMNS = ("source", "source_job_id", "duplicate_cluster_id", "is_canonical")
#: the columns `match_window` reads (existing rows may add `duplicate_cluster_id`)
INPUT_COLUMNS = (
    "source",
    "source_job_id",
    "title",
    "company_name",
    "location_raw",
    "countries",
    "regions",
    "seniority",
    "description_text",
    "first_seen_at",
)
#: read when present: an expired member never speaks for its cluster while another is active
STATUS_COLUMN = "status"
#: read when present: the cities the gazetteer read in a listing's place ("München" and
#: "Munich" are one), so a place written in two languages is one place
CITIES_COLUMN = "cities"
#: what `match_window` reads of a row
_RECORD_COLUMNS = frozenset({*INPUT_COLUMNS, *ASSIGNMENT_COLUMNS, STATUS_COLUMN, CITIES_COLUMN})


@dataclass(frozen=True)
class Override:
    """An operator's verdict on two listings (`source:source_job_id` keys); it always wins."""

    key_a: str
    key_b: str
    same: bool


@dataclass
class WindowResult:
    """Assignments to write, and what the operator sees about the window."""

    assignments: pd.DataFrame
    matches: Candidates
    clusters_formed: int = 0  # clusters of two or more that gained a member this window
    cross_source: int = 0  # of those, how many span two or more sources
    split_by_override: int = 0
    unchanged_skipped: int = 0  # window listings not matched again: content as stored
    match_seconds: float = 0.0  # of which in `match_window` (set by the caller)
    written: int = 0  # stored rows whose cluster columns changed (set by the caller)
    notes: list[str] = field(default_factory=list)


def _source_rank(source: str) -> int:
    return SOURCE_ORDER.index(source) if source in SOURCE_ORDER else len(SOURCE_ORDER)


def _epoch(value: object) -> float:
    seen = pd.Timestamp(value) if value is not None else pd.NaT
    if pd.isna(seen):
        return float("inf")  # never seen: last
    return (seen.tz_localize("UTC") if seen.tzinfo is None else seen).timestamp()


def canonical_order(first_seen_at: object, source: str, key: str) -> tuple:
    """Sort key of a cluster member: the smallest is canonical."""
    return (_epoch(first_seen_at), _source_rank(source), source, key)


def _records(frame: pd.DataFrame | None) -> list[dict]:
    """Rows as dicts, built column-wise (DataFrame.to_dict is several times slower)."""
    if frame is None or frame.empty:
        return []
    columns = [c for c in frame.columns if c in _RECORD_COLUMNS]
    values = [frame[c].tolist() for c in columns]
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


def _as_overrides(overrides: Iterable[Override | tuple] | None) -> list[Override]:
    out = []
    for item in overrides or ():
        out.append(item if isinstance(item, Override) else Override(*item))
    return out


def match_window(
    new: pd.DataFrame,
    existing: pd.DataFrame,
    overrides: Iterable[Override | tuple[str, str, bool]] | None = None,
) -> WindowResult:
    """Cluster assignments for a window's listings against the stored ones of their
    companies (the active ones, the recently expired ones a re-post may repeat, and the
    clusters they belong to whole).

    `new` and `existing` have the columns of `public.jobs_listings_data` (`INPUT_COLUMNS`);
    `existing` may carry `duplicate_cluster_id` and `is_canonical` from earlier windows
    (only rows of the companies `new` touches are read, so the caller may pass them all
    or pre-filter them). Returned assignments cover every listing whose cluster id or
    canonical flag changes: every new one, unless it already holds what it is given (the
    upsert writes a new listing as its own cluster, and most stay so).
    """
    overrides = _as_overrides(overrides)
    new_rows = _records(new)
    new_keys = {listing_key(r["source"], r["source_job_id"]) for r in new_rows}
    override_keys = {k for o in overrides for k in (o.key_a, o.key_b)}
    touched = {company_key(r.get("company_name")) for r in new_rows}

    stored: dict[str, dict] = {}
    if existing is not None and not existing.empty:
        companies = existing["company_name"]
        codes, names = pd.factorize(companies)
        keys_of_names = [company_key(n) for n in names]
        wanted = {i for i, k in enumerate(keys_of_names) if k in touched}
        mask = pd.Series(codes, index=existing.index).isin(wanted)
        by_source: dict[str, set[str]] = {}
        for key in override_keys:
            source, _, job_id = key.partition(":")
            by_source.setdefault(source, set()).add(job_id)
        for source, job_ids in by_source.items():
            ids = existing["source_job_id"].astype(str)
            mask |= (existing["source"] == source) & ids.isin(job_ids)
        for row in _records(existing[mask]):
            key = listing_key(row["source"], row["source_job_id"])
            if key not in new_keys:  # a re-fetched listing is judged as new
                stored[key] = row
    # Stored rows of the clusters touched, so a cluster is always handled whole.
    rows: dict[str, dict] = {**stored}
    for row in new_rows:
        rows[listing_key(row["source"], row["source_job_id"])] = row

    listings = {key: listing_of(row) for key, row in rows.items()}
    forbidden = {frozenset((o.key_a, o.key_b)) for o in overrides if not o.same}
    forced = [(o.key_a, o.key_b) for o in overrides if o.same]
    # only the verdicts on two listings at hand can separate anything here
    forbidden_here = sorted(tuple(sorted(p)) for p in forbidden if p <= rows.keys())

    # Stored clusters, unless an override now separates two of their members: then the
    # cluster is re-decided by the matcher, as if its members were new.
    members: dict[str, list[str]] = {}
    for key in sorted(stored):
        cluster = stored[key].get("duplicate_cluster_id")
        if isinstance(cluster, str) and cluster:
            members.setdefault(cluster, []).append(key)
    links: list[tuple[str, str]] = []
    kept: list[list[str]] = []  # stored clusters that stand: linked before matching
    split: set[str] = set()  # members of stored clusters an override re-decides
    split_clusters = 0
    for keys in members.values():
        keyset = set(keys)
        if any(pair <= keyset for pair in forbidden):
            result_split = find_matches([listings[k] for k in keys], [])
            links.extend((a, b) for a, b, _ in result_split.pairs)
            split |= keyset
            split_clusters += 1
        else:
            kept.append(keys)
            links.extend((keys[0], other) for other in keys[1:])

    fresh = [listings[k] for k in sorted(new_keys)]  # sorted: the same result on every run
    old = [listings[k] for k in sorted(stored)]
    found = find_matches(fresh, old, kept)
    result = WindowResult(assignments=pd.DataFrame(columns=list(ASSIGNMENT_COLUMNS)), matches=found)
    result.split_by_override = split_clusters

    uf = Links()
    for key in rows:
        uf.find(key)
    for a, b in forced:
        if a in rows and b in rows:
            uf.union(a, b)

    def separated(a: str, b: str) -> bool:
        ra, rb = uf.find(a), uf.find(b)
        if ra == rb:
            return False
        return any({uf.find(x), uf.find(y)} == {ra, rb} for x, y in forbidden_here)

    # Stored links first, then matches in a fixed order: with a "not the same" override the
    # order decides which of two conflicting links is kept, so it must not vary.
    for a, b in [*sorted(links), *sorted((a, b) for a, b, _ in found.pairs)]:
        if frozenset((a, b)) in forbidden or separated(a, b):
            continue
        uf.union(a, b)

    groups: dict[str, list[str]] = {}
    for key in rows:
        groups.setdefault(uf.find(key), []).append(key)
    # A group of stored rows only (none forced, split or an override's), all of one stored
    # cluster whose named member is still here, is as it was: nothing to re-decide
    # (most of a company block, usually).
    decide = new_keys | split | {k for pair in forced for k in pair} | override_keys
    out = []
    for keys in groups.values():
        ids = {rows[k].get("duplicate_cluster_id") for k in keys}
        if decide.isdisjoint(keys) and len(ids) == 1 and next(iter(ids)) in keys:
            continue
        keys.sort(key=lambda k: canonical_order(rows[k].get("first_seen_at"), rows[k]["source"], k))
        cluster_id = keys[0]
        speaker = next((k for k in keys if rows[k].get(STATUS_COLUMN) != "expired"), cluster_id)
        grew = len(keys) > 1 and any(k in new_keys for k in keys)
        if grew:
            result.clusters_formed += 1
            if len({rows[k]["source"] for k in keys}) > 1:
                result.cross_source += 1
        for key in keys:
            row = rows[key]
            canonical = key == speaker
            if (
                row.get("duplicate_cluster_id") != cluster_id
                or row.get("is_canonical") is None
                or bool(row.get("is_canonical")) != canonical
            ):
                out.append((row["source"], str(row["source_job_id"]), cluster_id, canonical))
    out.sort()
    result.assignments = pd.DataFrame(out, columns=list(ASSIGNMENT_COLUMNS))
    return result


def pair_is_same(a: dict, b: dict) -> tuple[bool, str]:
    """The matcher's verdict on two listing rows, without blocking (for evaluation)."""
    return compare(listing_of(a), listing_of(b))


__all__ = [
    "ASSIGNMENT_COLUMNS",
    "SOURCE_ORDER",
    "STATUS_COLUMN",
    "Override",
    "WindowResult",
    "canonical_order",
    "match_window",
    "pair_is_same",
]
