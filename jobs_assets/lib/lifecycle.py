"""Which listings are still open: expire only on proof, reactivate what comes back.

The loaders we compared retire a row whenever a batch lacks it, so a partial batch
retires live listings. Here a listing expires only when its source's fetch of the
window is *proven complete* by the stored window manifest (`evidence_of`):

- `origin` is `live`, or `replay` (a fetch from a replay server, as `make demo` runs:
  the server's recording is the whole feed that run reads), not the inbox; a reused
  window keeps the manifest of the fetch that made it, and the backfill guard below
  stops it from expiring anything newer; and `complete` is true: every page answered and parsed (a fetch with
  an unusable page is abandoned, never committed) and paging reached the source's own
  end (no truncation, no page limit). A skipped, failed or never-fetched window has no
  such manifest; manifests written before the flag existed count as incomplete.

Each source declares its rule (`Source.expiry`):

- `absence`: active listings of the source not seen in the window expire.
- `expires_at_or_unseen` (a source read only by its newest pages: absence proves
  nothing): expire when `expires_at` has passed or when unseen for
  `JOBS_EXPIRE_UNSEEN_DAYS`, still only on a complete fetch of the window.

A window expires nothing for a source that has a newer window stored, or that sent no
listing in it (an empty answer is likelier an outage than an empty market), so a
backfill of an older window never moves a status backwards. `expired_at` is the start
of the window that proved it; a listing seen in a later window is active again,
`expired_at` cleared and `reactivated_count` + 1.

The SQL is set-based and parameterised; it touches the window's keys and the listings it
expires, never the whole table (the partial index on active listings by last seen).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import psycopg

from jobs_assets.lib.raw_store import RawStore
from jobs_assets.lib.schema import LISTINGS_TABLE, STAGING_TABLE

ABSENCE = "absence"
EXPIRES_AT_OR_UNSEEN = "expires_at_or_unseen"
RULES = (ABSENCE, EXPIRES_AT_OR_UNSEEN)
#: manifest origins of a fetch that read a source's whole feed (not the inbox's files)
FETCHED = ("live", "replay")
#: temp table of the window's listing keys (this transaction), read by history and clusters
WINDOW_KEYS = "window_keys"


@dataclass(frozen=True)
class Evidence:
    """Whether a source's fetch of a window counts as complete, and why (for the operator)."""

    complete: bool
    reason: str


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
    return Evidence(True, f"complete {manifest['origin']} fetch")


def evidence_of(store: RawStore, sources: Iterable[str], partition_key: str) -> dict[str, Evidence]:
    return {name: evidence(store.manifest(name, partition_key)) for name in sources}


@dataclass
class LifecycleResult:
    reactivated: int = 0
    expired: dict[str, int] = field(default_factory=dict)  # per source
    expired_keys: list[tuple[str, str]] = field(default_factory=list)
    counted_complete: list[str] = field(default_factory=list)
    not_counted: dict[str, str] = field(default_factory=dict)  # source -> why

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


_REACTIVATE = f"""
UPDATE {LISTINGS_TABLE} AS t
SET status = 'active', expired_at = NULL, reactivated_count = t.reactivated_count + 1
FROM {WINDOW_KEYS} AS k
WHERE t.source = k.source AND t.source_job_id = k.source_job_id
  AND t.status = 'expired' AND t.expired_at < %(window_start)s
"""

# Not seen in this window, and no newer window of the source stored (else a backfill).
_EXPIRE = f"""
UPDATE {LISTINGS_TABLE} AS t
SET status = 'expired', expired_at = %(window_start)s
WHERE t.source = %(source)s AND t.status = 'active' AND t.last_seen_at < %(window_start)s
  AND {{rule}}
  AND NOT EXISTS (
      SELECT 1 FROM {LISTINGS_TABLE} AS n
      WHERE n.last_seen_at > %(window_start)s AND n.source = %(source)s)
  AND EXISTS (SELECT 1 FROM {WINDOW_KEYS} AS k WHERE k.source = %(source)s)
RETURNING t.source, t.source_job_id
"""
_RULE_SQL = {
    ABSENCE: "true",
    EXPIRES_AT_OR_UNSEEN: (
        "((t.expires_at IS NOT NULL AND t.expires_at <= %(window_start)s)"
        " OR t.last_seen_at < %(window_start)s - make_interval(days => %(unseen_days)s))"
    ),
}


def apply_lifecycle(
    conn: psycopg.Connection,
    window_start: datetime,
    evidence_by_source: Mapping[str, Evidence],
    rules: Mapping[str, str],
    unseen_days: int = 30,
) -> LifecycleResult:
    """Reactivate the window's expired listings, then expire on proof; in the caller's
    transaction, after `create_window_keys`."""
    result = LifecycleResult()
    result.reactivated = conn.execute(_REACTIVATE, {"window_start": window_start}).rowcount
    for source, proof in sorted(evidence_by_source.items()):
        if not proof.complete:
            result.not_counted[source] = proof.reason
            continue
        result.counted_complete.append(source)
        rule = rules.get(source, ABSENCE)
        if rule not in _RULE_SQL:
            raise ValueError(f"{source}: unknown expiry rule {rule!r}; expected one of {RULES}")
        params = {"window_start": window_start, "source": source, "unseen_days": unseen_days}
        rows = conn.execute(_EXPIRE.format(rule=_RULE_SQL[rule]), params).fetchall()
        result.expired[source] = len(rows)
        result.expired_keys.extend(rows)
    return result
