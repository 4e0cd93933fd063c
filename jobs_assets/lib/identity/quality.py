"""The rules the listing-identity checks run on a window (see `lib/listings/quality.py`'s `Finding`).

- No listing was expired by a window whose source's fetch did not count as complete
  (`expired_at` is the start of the window that expired it).
- No duplicate cluster touched by the window spans two companies (`company_key`).
- Clusters are of a plausible size (active members: a job re-posted over months gathers
  expired ones), with exactly one canonical member.
- No source's expiry is held by the sudden-drop guard for the window (a fetch that
  would retire more than `JOBS_EXPIRE_MAX_SHARE` of its active listings).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import psycopg

from jobs_assets.lib.findings import SAMPLE_ROWS, Finding
from jobs_assets.lib.identity.lifecycle import HOLDS_TABLE, Evidence
from jobs_assets.lib.schema import LISTINGS_TABLE

#: more active listings than this in one cluster is more likely a matcher fault than one job
MAX_PLAUSIBLE_CLUSTER = 10

_TOUCHED = f"""
WITH touched AS (
    SELECT DISTINCT duplicate_cluster_id AS id FROM {LISTINGS_TABLE}
    WHERE last_partition_key = %(key)s AND duplicate_cluster_id IS NOT NULL
), clusters AS (
    SELECT t.duplicate_cluster_id AS id, count(*) FILTER (WHERE t.status = 'active') AS members,
           count(DISTINCT coalesce(t.company_key, '')) AS companies,
           count(*) FILTER (WHERE t.is_canonical) AS canonical,
           array_agg(DISTINCT t.company_name) AS names
    FROM touched JOIN {LISTINGS_TABLE} AS t ON t.duplicate_cluster_id = touched.id
    GROUP BY t.duplicate_cluster_id
)
"""


def expired_on_incomplete_fetch(
    conn: psycopg.Connection, window_start: datetime, evidence: Mapping[str, Evidence]
) -> Finding:
    rows = conn.execute(
        f"SELECT source, count(*) FROM {LISTINGS_TABLE} "
        "WHERE status = 'expired' AND expired_at = %s GROUP BY source ORDER BY source",
        (window_start,),
    ).fetchall()
    finding = Finding({"expired_without_complete_fetch": 0}, checked=sum(n for _, n in rows))
    for source, count in rows:
        proof = evidence.get(source)
        if proof is None or not proof.complete:
            finding.violations["expired_without_complete_fetch"] += count
            why = proof.reason if proof else "unknown source"
            finding.samples.append({"source": source, "expired": count, "fetch": why})
    return finding


def expiry_held(conn: psycopg.Connection, partition_key: str) -> Finding:
    """Sources whose expiry the window's complete fetch would have made but the
    sudden-drop guard held (still waiting for a later window to confirm it)."""
    rows = conn.execute(
        f"SELECT source, would_expire, active_listings, max_share FROM {HOLDS_TABLE} "
        "WHERE partition_key = %s AND status = 'held' ORDER BY source",
        (partition_key,),
    ).fetchall()
    finding = Finding({"sources_with_expiry_held": len(rows)}, checked=len(rows))
    for source, would, active, share in rows:
        finding.samples.append(
            {
                "source": source,
                "would_expire": would,
                "active_listings": active,
                "share": round(would / active, 3) if active else 0.0,
                "max_share": share,
            }
        )
    return finding


def clusters_across_companies(conn: psycopg.Connection, partition_key: str) -> Finding:
    return _cluster_rule(conn, partition_key, {"clusters_spanning_companies": "companies > 1"})


def cluster_sizes(conn: psycopg.Connection, partition_key: str) -> Finding:
    return _cluster_rule(
        conn,
        partition_key,
        {
            "clusters_too_large": f"members > {MAX_PLAUSIBLE_CLUSTER}",
            "clusters_without_one_canonical": "canonical <> 1",
        },
    )


def _cluster_rule(conn: psycopg.Connection, partition_key: str, rules: dict[str, str]) -> Finding:
    params = {"key": partition_key}
    counts = ", ".join(f"count(*) FILTER (WHERE {cond})" for cond in rules.values())
    row = conn.execute(f"{_TOUCHED} SELECT count(*), {counts} FROM clusters", params).fetchone()
    finding = Finding(dict(zip(rules, row[1:], strict=True)), checked=row[0])
    for rule, cond in rules.items():
        if finding.violations[rule]:
            for cluster, members, names in conn.execute(
                f"{_TOUCHED} SELECT id, members, names FROM clusters WHERE {cond} "
                f"ORDER BY id LIMIT {SAMPLE_ROWS}",
                params,
            ):
                finding.samples.append(
                    {"rule": rule, "cluster": cluster, "members": members, "companies": names}
                )
    finding.samples = finding.samples[:SAMPLE_ROWS]
    return finding
