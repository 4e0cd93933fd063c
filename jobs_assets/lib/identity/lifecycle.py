"""Which listings are still open: expire only on proof, reactivate what comes back.

The loaders we compared retire a row whenever a batch lacks it, so a partial batch
retires live listings. Here a listing expires only when its source's fetch of the
window is *proven complete* by the stored window manifest (`evidence_of`):

- `origin` is `live`, or `replay` (a fetch from a replay server, as `make demo` runs:
  the server's recording is the whole feed that run reads), not the inbox; a reused
  window keeps the manifest of the fetch that made it, and the backfill guard below
  stops it from expiring anything newer; and `complete` is true: every page answered and
  parsed (a fetch with an unusable page is abandoned, never committed), paging reached
  the source's own end (no truncation, no page limit), and every page holds as many
  listings as the source says it does (`Source.stated_size`, each source's own counts;
  `Source.size_statement` names them; a short answer is recorded as truncated). A skipped, failed or
  never-fetched window has no such manifest; manifests written before the flag existed
  count as incomplete.

Each source declares its rule (`Source.expiry`):

- `absence`: active listings of the source not seen in the window expire.
- `expires_at_or_unseen` (a source read only by its newest pages: absence proves
  nothing): expire when `expires_at` has passed or when unseen for
  `JOBS_EXPIRE_UNSEEN_DAYS`, still only on a complete fetch of the window.

A listing that arrived but was rejected at parse time (its id readable, a required field
missing: `Evidence.arrived_unloaded`) is still listed by the source: it never expires on
that fetch.

The sudden-drop guard (for a source that states nothing about its size, and for one
whose statement is wrong): when a complete fetch would expire more than `max_share`
(`JOBS_EXPIRE_MAX_SHARE`, default 0.3) of the source's listings active before the
window (those first seen in it do not count), nothing is expired and the window is
recorded as held (`jobs_expiry_holds`). A complete fetch of a later window confirms the
drop for the listings it lacks too (seen last before the held window): they expire.
What it lacks besides is a drop of its own, expired when within the share and held
again when above it; a fetch that would expire no more than the share clears the hold.

A window expires nothing for a source that has a newer window stored, or that sent no
listing in it (an empty answer is likelier an outage than an empty market), and
reactivates nothing for a source with a newer window, so a backfill of an older window
never moves a status back. What a backfill brings that no later window has seen is
judged by the later windows' answers as they would have judged it
(`expire_seen_only_before`): expired at the first later complete, unheld answer that
lacked it. `expired_at` is the start of the window that proved it; a
listing seen in a later window (the source's newest) is active again, `expired_at`
cleared and `reactivated_count` + 1.

A listing's status follows the newest complete evidence: a re-run of the newest window
replaces that window's earlier answer, whatever that answer did. Its expiries are set
back and its verdicts on other windows' holds reopened, then the new answer is judged
whole, the guard included (so re-runs cannot expire a source's listings in steps each
under the share): what the earlier answer expired and the new one holds (or received
and rejected) is *undone* (active, `expired_at` cleared, `reactivated_count` unchanged,
the expiry's history version removed: `history.undo_versions`), not counted as a
reactivation; what both lack stays expired with no new version; what the earlier answer
held and the new one lacks expires. When the re-run proves nothing (its fetch is not
complete, or it has no listing of the source), all of the earlier answer's expiries are
undone and its hold is cleared. A held window's drop is confirmed for what its latest
answer lacked. The run reports undone expiries as `listings_expiry_undone`.

The SQL is set-based and parameterised; it touches the window's keys and the listings it
expires, never the whole table (the partial index on active listings by last seen).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg

from jobs_assets.lib.errors import RawFileError
from jobs_assets.lib.raw.parsed_windows import PARSE_KEY
from jobs_assets.lib.raw.store import RawStore
from jobs_assets.lib.schema import LISTINGS_TABLE, STAGING_TABLE, WINDOW_KEY_FORMAT

ABSENCE = "absence"
EXPIRES_AT_OR_UNSEEN = "expires_at_or_unseen"
RULES = (ABSENCE, EXPIRES_AT_OR_UNSEEN)
#: manifest origins of a fetch that read a source's whole feed (not the inbox's files)
FETCHED = ("live", "replay")
#: temp table of the window's listing keys (this transaction), read by history and clusters
WINDOW_KEYS = "window_keys"
#: expiries held by the sudden-drop guard, per source and window (migration 0007)
HOLDS_TABLE = "public.jobs_expiry_holds"
#: `JOBS_EXPIRE_MAX_SHARE`: the most of a source's active listings one fetch may expire
DEFAULT_MAX_SHARE = 0.3


@dataclass(frozen=True)
class Evidence:
    """Whether a source's fetch of a window counts as complete, and why (for the operator)."""

    complete: bool
    reason: str
    #: ids of listings that arrived but were rejected at parse time: the fetch does not
    #: prove them gone, so they never expire on it (`ParseSummary.rejected_ids`)
    arrived_unloaded: frozenset[str] = frozenset()


def evidence(manifest: Mapping | None) -> Evidence:
    """The verdict on one stored window manifest (`RawStore.manifest`)."""
    if not manifest:
        return Evidence(False, "no stored live fetch (skipped, failed or never fetched)")
    if manifest.get("origin") not in FETCHED:
        return Evidence(False, f"origin {manifest.get('origin')!r}, not a fetch of the feed")
    if manifest.get("truncated"):
        return Evidence(False, f"truncated: {manifest.get('truncated_reason')}")
    if manifest.get("complete") is not True:
        return Evidence(False, "the manifest does not record a complete fetch")
    parse = manifest.get(PARSE_KEY)
    rejected = parse.get("rejected_ids") if isinstance(parse, Mapping) else None
    return Evidence(
        True, f"complete {manifest['origin']} fetch", frozenset(map(str, rejected or ()))
    )


def evidence_of(store: RawStore, sources: Iterable[str], partition_key: str) -> dict[str, Evidence]:
    return {name: evidence(store.manifest(name, partition_key)) for name in sources}


#: (source, partition key) -> the verdict on that window's fetch of the source
EvidenceLookup = Callable[[str, str], Evidence]


def stored_evidence(store: RawStore) -> EvidenceLookup:
    """`EvidenceLookup` from the stored manifests; a damaged one proves nothing."""

    def lookup(source: str, partition_key: str) -> Evidence:
        try:
            return evidence(store.manifest(source, partition_key))
        except RawFileError as err:
            return Evidence(False, f"unreadable manifest: {err}")

    return lookup


@dataclass
class LifecycleResult:
    reactivated: int = 0
    #: listings this window had expired that its re-run saw again: the expiry undone
    undone: int = 0
    undone_keys: list[tuple[str, str]] = field(default_factory=list)
    expired: dict[str, int] = field(default_factory=dict)  # per source
    expired_keys: list[tuple[str, str]] = field(default_factory=list)
    counted_complete: list[str] = field(default_factory=list)
    not_counted: dict[str, str] = field(default_factory=dict)  # source -> why
    #: source -> why nothing was expired (the sudden-drop guard held it)
    held: dict[str, str] = field(default_factory=dict)
    #: source -> the earlier held window(s) this window's complete fetch confirmed
    confirmed: dict[str, str] = field(default_factory=dict)
    #: sources of the window with a newer window stored: for them it is a backfill
    backfilled: list[str] = field(default_factory=list)
    #: a backfill's listings that later complete answers lacked: (source, id, expired_at)
    expired_later: list[tuple[str, str, datetime]] = field(default_factory=list)

    @property
    def expired_total(self) -> int:
        return sum(self.expired.values())


def create_window_keys(conn: psycopg.Connection, partition_key: str) -> int:
    """The window's listings (from staging) as a temp table dropped at commit."""
    conn.execute(
        f"CREATE TEMP TABLE {WINDOW_KEYS} ON COMMIT DROP AS "
        f"SELECT DISTINCT source, source_job_id FROM {STAGING_TABLE} WHERE partition_key = %s",
        (partition_key,),
    )
    conn.execute(f"ALTER TABLE {WINDOW_KEYS} ADD PRIMARY KEY (source, source_job_id)")
    conn.execute(f"ANALYZE {WINDOW_KEYS}")
    return conn.execute(f"SELECT count(*) FROM {WINDOW_KEYS}").fetchone()[0]


# Sources of the window (staged, or with a fetch on record) with no newer window stored:
# only for them can this window expire anything, or undo what its earlier answer
# expired (else it is a backfill).
_NEWEST = f"""
SELECT s FROM unnest(%(candidates)s::text[]) AS s
WHERE NOT EXISTS (
    SELECT 1 FROM {LISTINGS_TABLE} AS n WHERE n.source = s AND n.last_seen_at > %(window_start)s)
ORDER BY s
"""
_STAGED_SOURCES = f"SELECT DISTINCT source FROM {WINDOW_KEYS}"

# A re-run of the newest window replaces its earlier answer: what that answer expired
# (`expired_at` is this window's start) is set back first, and this answer decides again.
# The caller nets the two: what this answer expires again is neither undone nor expired.
_UNDO_EARLIER = f"""
UPDATE {LISTINGS_TABLE} AS t
SET status = 'active', expired_at = NULL
WHERE t.source = ANY(%(sources)s) AND t.status = 'expired' AND t.expired_at = %(window_start)s
RETURNING t.source, t.source_job_id
"""
# (for a source with no fetch on record: only what this answer holds)
_UNDO_SEEN = f"""
UPDATE {LISTINGS_TABLE} AS t
SET status = 'active', expired_at = NULL
FROM {WINDOW_KEYS} AS k
WHERE t.source = k.source AND t.source_job_id = k.source_job_id
  AND t.status = 'expired' AND t.expired_at = %(window_start)s AND t.source = ANY(%(sources)s)
RETURNING t.source, t.source_job_id
"""
# ... and so are the earlier answer's verdicts on other windows' held drops (a
# confirmation, or a clearing): held again, for this answer to decide.
_REOPEN_HOLDS = f"""
UPDATE {HOLDS_TABLE} SET status = 'held', resolved_by = NULL
WHERE source = ANY(%(sources)s) AND resolved_by = %(key)s AND partition_key <> %(key)s
  AND status IN ('confirmed', 'cleared')
"""
# A source whose re-run proves nothing (not complete, or no listing at all): its own
# hold is cleared, as nothing is expired on it.
_CLEAR_UNPROVEN = f"""
UPDATE {HOLDS_TABLE} SET status = 'cleared', resolved_by = %(key)s
WHERE source = ANY(%(sources)s) AND partition_key = %(key)s AND status = 'held'
"""

# Only in a source's newest window: a backfill never moves a status back, even for a
# listing it saw after its expiry (a newer complete answer lacked it since).
_REACTIVATE = f"""
UPDATE {LISTINGS_TABLE} AS t
SET status = 'active', expired_at = NULL, reactivated_count = t.reactivated_count + 1
FROM {WINDOW_KEYS} AS k
WHERE t.source = k.source AND t.source_job_id = k.source_job_id
  AND t.status = 'expired' AND t.expired_at < %(window_start)s AND t.source = ANY(%(sources)s)
RETURNING t.source
"""

# What the source's rule would expire: not seen in this window's answer (the caller asks
# only for a source newest in the window; a listing an earlier answer of this window saw
# was last seen at its start), nor among the listings that arrived but were rejected.
_WOULD_EXPIRE = f"""
SELECT t.source_job_id, t.last_seen_at FROM {LISTINGS_TABLE} AS t
WHERE t.source = %(source)s AND t.status = 'active' AND t.last_seen_at <= %(window_start)s
  AND NOT EXISTS (
      SELECT 1 FROM {WINDOW_KEYS} AS k
      WHERE k.source = t.source AND k.source_job_id = t.source_job_id)
  AND NOT t.source_job_id = ANY(%(arrived)s) AND {{rule}}
"""
# Of the listings a held window's drop would expire, those its own (latest) answer held
_IN_HELD_ANSWER = f"""
SELECT DISTINCT source_job_id FROM {STAGING_TABLE}
WHERE partition_key = %(held_key)s AND source = %(source)s AND source_job_id = ANY(%(keys)s)
"""
_EXPIRE = f"""
UPDATE {LISTINGS_TABLE} AS t
SET status = 'expired', expired_at = %(window_start)s
WHERE t.source = %(source)s AND t.source_job_id = ANY(%(keys)s) AND t.status = 'active'
RETURNING t.source, t.source_job_id
"""
_RULE_SQL = {
    ABSENCE: "true",
    EXPIRES_AT_OR_UNSEEN: (
        "((t.expires_at IS NOT NULL AND t.expires_at <= %(window_start)s)"
        " OR t.last_seen_at < %(window_start)s - make_interval(days => %(unseen_days)s))"
    ),
}
# The guard's measure: the source's listings active before this window (those first
# seen in it are not; those it reactivated are subtracted by the caller).
_ACTIVE_BEFORE = f"""
SELECT count(*) FROM {LISTINGS_TABLE}
WHERE source = %(source)s AND status = 'active' AND first_seen_at < %(window_start)s
"""
_OPEN_HOLDS = f"""
SELECT partition_key, window_start FROM {HOLDS_TABLE}
WHERE source = %(source)s AND status = 'held' AND window_start < %(window_start)s
ORDER BY window_start
"""
_HOLD = f"""
INSERT INTO {HOLDS_TABLE}
    (source, partition_key, window_start, active_listings, would_expire, max_share)
VALUES (%(source)s, %(key)s, %(window_start)s, %(active)s, %(would)s, %(max_share)s)
ON CONFLICT (source, partition_key) DO UPDATE SET
    active_listings = EXCLUDED.active_listings, would_expire = EXCLUDED.would_expire,
    max_share = EXCLUDED.max_share, status = 'held', resolved_by = NULL, recorded_at = now()
"""
# `earlier`: only holds of earlier windows (a confirmation); else this one's too (cleared)
_RESOLVE = f"""
UPDATE {HOLDS_TABLE} SET status = %(status)s, resolved_by = %(key)s
WHERE source = %(source)s AND status = 'held'
  AND (window_start < %(window_start)s OR (NOT %(earlier)s AND window_start = %(window_start)s))
"""


def apply_lifecycle(
    conn: psycopg.Connection,
    window_start: datetime,
    evidence_by_source: Mapping[str, Evidence],
    rules: Mapping[str, str],
    unseen_days: int = 30,
    *,
    partition_key: str,
    max_share: float = DEFAULT_MAX_SHARE,
) -> LifecycleResult:
    """Undo what an earlier answer of this window expired, reactivate, then expire on
    proof behind the sudden-drop guard; in the caller's transaction, after
    `create_window_keys`."""
    result = LifecycleResult()
    params: dict[str, object] = {"window_start": window_start, "key": partition_key}
    staged = {row[0] for row in conn.execute(_STAGED_SOURCES)}
    candidates = sorted(staged | set(evidence_by_source))
    newest = [row[0] for row in conn.execute(_NEWEST, {**params, "candidates": candidates})]
    result.backfilled = sorted(staged - set(newest))
    judged = {**params, "sources": [s for s in newest if s in evidence_by_source]}
    conn.execute(_REOPEN_HOLDS, judged)
    undone = set(conn.execute(_UNDO_EARLIER, judged).fetchall())
    unjudged = [s for s in newest if s not in evidence_by_source]
    if unjudged:  # no fetch on record decides them: only what this answer holds is back
        undone |= set(conn.execute(_UNDO_SEEN, {**params, "sources": unjudged}).fetchall())
    unproven = [
        s
        for s in newest
        if s in evidence_by_source and (not evidence_by_source[s].complete or s not in staged)
    ]
    if unproven:
        conn.execute(_CLEAR_UNPROVEN, {**params, "sources": unproven})
    reactivated = Counter(
        row[0] for row in conn.execute(_REACTIVATE, {**params, "sources": newest})
    )
    result.reactivated = sum(reactivated.values())
    again: set[tuple[str, str]] = set()  # expired by the earlier answer and by this one
    for source, proof in sorted(evidence_by_source.items()):
        if not proof.complete:
            result.not_counted[source] = proof.reason
            continue
        result.counted_complete.append(source)
        rule = rules.get(source, ABSENCE)
        if rule not in _RULE_SQL:
            raise ValueError(f"{source}: unknown expiry rule {rule!r}; expected one of {RULES}")
        result.expired[source] = 0
        if source not in newest or source not in staged:
            continue  # a backfill, or the source sent nothing in the window
        source_params = {
            **params,
            "source": source,
            "unseen_days": unseen_days,
            "arrived": sorted(proof.arrived_unloaded),
        }
        active = conn.execute(_ACTIVE_BEFORE, source_params).fetchone()[0] - reactivated[source]
        rows = _expire_guarded(conn, source, rule, source_params, active, max_share, result)
        new = [row for row in rows if tuple(row) not in undone]
        again.update(tuple(row) for row in rows if tuple(row) in undone)
        result.expired[source] = len(new)
        result.expired_keys.extend(new)
    result.undone_keys = sorted(undone - again)
    result.undone = len(result.undone_keys)
    return result


def _expire_guarded(
    conn: psycopg.Connection,
    source: str,
    rule: str,
    params: dict[str, object],
    active: int,
    max_share: float,
    result: LifecycleResult,
) -> list[tuple[str, str]]:
    """Expire the source's listings by its rule, unless that would retire more than
    `max_share` of the `active` listings it had before this window (then nothing, and
    the window is held). A later complete fetch confirms a held drop only for the
    listings the held window lacked too (seen last before it); what else this one lacks
    is a drop of its own, expired when within the share and held when above it. What
    was expired."""
    would = conn.execute(_WOULD_EXPIRE.format(rule=_RULE_SQL[rule]), params).fetchall()

    def too_many(count: int) -> bool:
        return active > 0 and count / active > max_share

    def expire(keys: list[str]) -> list[tuple[str, str]]:
        return conn.execute(_EXPIRE, {**params, "keys": keys}).fetchall() if keys else []

    keys = [key for key, _ in would]
    if not too_many(len(keys)):
        conn.execute(_RESOLVE, {**params, "status": "cleared", "earlier": False})
        return expire(keys)
    rows: list[tuple[str, str]] = []
    earlier = conn.execute(_OPEN_HOLDS, params).fetchall()
    if earlier:  # a second complete fetch, in a later window, confirms what both lack
        held_key, held_since = earlier[0]
        in_held = {
            row[0]
            for row in conn.execute(_IN_HELD_ANSWER, {**params, "held_key": held_key, "keys": keys})
        }
        lacked = {key for key, last_seen in would if last_seen <= held_since} - in_held
        confirmed = [key for key in keys if key in lacked]
        keys = [key for key in keys if key not in lacked]  # its own drop
        # a held drop that came back entirely is cleared, as by a fetch within the share
        status = "confirmed" if confirmed else "cleared"
        conn.execute(_RESOLVE, {**params, "status": status, "earlier": True})
        rows = expire(confirmed)
        if rows:
            result.confirmed[source] = (
                f"expired {len(rows)} of {active} active listings: this complete fetch "
                f"confirms the drop held in window(s) {', '.join(key for key, _ in earlier)}"
            )
        if not too_many(len(keys)):
            return rows + expire(keys)
    conn.execute(_HOLD, {**params, "active": active, "would": len(keys), "max_share": max_share})
    result.held[source] = (
        f"would expire {len(keys)} {'more ' if rows else ''}of {active} active listings "
        f"({len(keys) / active:.0%}, more than JOBS_EXPIRE_MAX_SHARE = {max_share:g}): "
        f"{'none of those is' if rows else 'nothing'} expired until a complete fetch of a later "
        "window confirms the drop"
    )
    return rows


# A backfill's listings that no later window has seen: still active, last seen in this
# window (a listing a later window saw was last seen then).
_SEEN_LAST_HERE = f"""
SELECT t.source_job_id,
       LEAST(t.expires_at, t.last_seen_at + make_interval(days => %(unseen_days)s))
FROM {WINDOW_KEYS} AS k
JOIN {LISTINGS_TABLE} AS t ON t.source = k.source AND t.source_job_id = k.source_job_id
WHERE k.source = %(source)s AND t.status = 'active' AND t.last_seen_at <= %(window_start)s
"""
# The source's next window with an answer stored (the staging index's order)
_NEXT_ANSWER = f"""
SELECT partition_key FROM {STAGING_TABLE}
WHERE partition_key > %(after)s AND partition_key >= %(since)s AND source = %(source)s
ORDER BY partition_key LIMIT 1
"""
# A window whose drop the guard held expired nothing on its own answer
_HELD_THERE = f"""
SELECT EXISTS (
    SELECT 1 FROM {HOLDS_TABLE}
    WHERE source = %(source)s AND partition_key = %(key)s
      AND NOT (status = 'cleared' AND resolved_by = partition_key))
"""
_EXPIRE_BY_RULE = f"""
UPDATE {LISTINGS_TABLE} AS t
SET status = 'expired', expired_at = %(window_start)s
WHERE t.source = %(source)s AND t.source_job_id = ANY(%(keys)s) AND t.status = 'active'
  AND {{rule}}
RETURNING t.source_job_id
"""


def expire_seen_only_before(
    conn: psycopg.Connection,
    partition_key: str,
    window_start: datetime,
    sources: Iterable[str],
    rules: Mapping[str, str],
    evidence_for: EvidenceLookup,
    unseen_days: int = 30,
) -> list[tuple[str, str, datetime]]:
    """A backfill's listings that later complete answers lacked, expired as those answers
    would have expired them: (source, id, `expired_at`), oldest proof first.

    A backfill of an older window can bring a listing no later window has seen (the
    source took it down before the newer windows were fetched). Left active, it would be
    listed as open although the newest evidence lacks it, and the next window would
    expire every such listing at once (a large backfill trips the sudden-drop guard).
    Each later window of the source with an answer stored is looked at in order, as the
    lifecycle would have judged it: a complete fetch whose drop was not held expires,
    by the source's rule at that window's start, what its answer lacked (and did not
    reject); `expired_at` is that window's start. In the caller's transaction, after
    `create_window_keys`, for `sources`: the window's sources that have a newer window
    (`LifecycleResult.backfilled`).
    """
    expired: list[tuple[str, str, datetime]] = []
    for source in sources:
        rule = rules.get(source, ABSENCE)
        params: dict[str, object] = {
            "source": source,
            "window_start": window_start,
            "unseen_days": unseen_days,
        }
        left = dict(conn.execute(_SEEN_LAST_HERE, params).fetchall())
        # the rule holds from the window at or after the earliest of these instants
        # (expires_at, or unseen for long enough); under `absence` from the next window
        after, since = partition_key, ""
        if rule == EXPIRES_AT_OR_UNSEEN and left:
            since = min(left.values()).astimezone(UTC).strftime(WINDOW_KEY_FORMAT)
        while left:
            key = conn.execute(
                _NEXT_ANSWER, {"after": after, "since": since, "source": source}
            ).fetchone()
            if key is None:
                break
            after = key[0]
            proof = evidence_for(source, after)
            held = conn.execute(_HELD_THERE, {"source": source, "key": after}).fetchone()[0]
            if not proof.complete or held:
                continue
            candidates = sorted(set(left) - proof.arrived_unloaded)
            in_answer = conn.execute(
                _IN_HELD_ANSWER, {"held_key": after, "source": source, "keys": candidates}
            ).fetchall()
            candidates = sorted(set(candidates) - {row[0] for row in in_answer})
            start = datetime.strptime(after, WINDOW_KEY_FORMAT).replace(tzinfo=UTC)
            done = conn.execute(
                _EXPIRE_BY_RULE.format(rule=_RULE_SQL[rule]),
                {**params, "window_start": start, "keys": candidates},
            ).fetchall()
            for (job_id,) in done:
                expired.append((source, job_id, start))
                del left[job_id]
    return expired
