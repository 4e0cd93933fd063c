"""After a window's upsert: lifecycle, duplicate clusters and history, in one transaction.

Order matters: undoing a re-run's earlier expiries, reactivation and expiry first (they change `status`, which the history
records and the matcher reads), then the clusters of the window's listings (and a new
canonical member for clusters whose canonical listing just expired), then one version
per changed listing (the window's and the ones it expired), after removing the expiry
versions a re-run undid.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import psycopg

from jobs_assets.lib.identity.duplicates import assign_clusters, promote_after_expiry
from jobs_assets.lib.identity.history import record_versions, record_versions_at, undo_versions
from jobs_assets.lib.identity.lifecycle import (
    DEFAULT_MAX_SHARE,
    Evidence,
    EvidenceLookup,
    LifecycleResult,
    apply_lifecycle,
    create_window_keys,
    expire_seen_only_before,
)


@dataclass
class WindowIdentity:
    window_listings: int = 0
    lifecycle: LifecycleResult = field(default_factory=LifecycleResult)
    new_versions: int = 0
    clusters_formed: int = 0
    cross_source: int = 0
    cluster_assignments: int = 0
    candidate_pairs: int = 0  # listing pairs the matcher judged rule by rule
    title_scores: int = 0  # distinct-title pairs scored to find them
    largest_block: int = 0  # listings of the largest company block (new and stored)
    unchanged_skipped: int = 0  # window listings whose content (row_hash) did not change
    seconds: dict[str, float] = field(default_factory=dict)  # per step

    def as_metadata(self) -> dict[str, object]:
        share = self.cross_source / self.clusters_formed if self.clusters_formed else 0.0
        return {
            "listings_expired": self.lifecycle.expired_total,
            "listings_expired_per_source": dict(self.lifecycle.expired),
            "listings_reactivated": self.lifecycle.reactivated,
            # a re-run of the newest window replaced its earlier answer: undone, not
            # counted as reactivations (lib/identity/lifecycle.py)
            "listings_expiry_undone": self.lifecycle.undone,
            "expiry_held": dict(self.lifecycle.held),
            "expiry_confirmed": dict(self.lifecycle.confirmed),
            # a backfill's listings that later complete answers lacked (their windows)
            "listings_expired_by_later_windows": len(self.lifecycle.expired_later),
            "new_versions": self.new_versions,
            "clusters_formed": self.clusters_formed,
            "cross_source_share": round(share, 4),
            "cluster_assignments_written": self.cluster_assignments,
            "identity_candidate_pairs": self.candidate_pairs,
            "identity_title_scores": self.title_scores,
            "identity_largest_block": self.largest_block,
            "identity_unchanged_skipped": self.unchanged_skipped,
            "fetches_counted_complete": list(self.lifecycle.counted_complete),
            "fetches_not_counted": dict(self.lifecycle.not_counted),
            "identity_seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


def maintain_window(
    conn: psycopg.Connection,
    partition_key: str,
    window_start: datetime,
    evidence: Mapping[str, Evidence],
    rules: Mapping[str, str],
    unseen_days: int = 30,
    max_share: float = DEFAULT_MAX_SHARE,
    evidence_for: EvidenceLookup | None = None,
) -> WindowIdentity:
    """`evidence_for` judges other windows' fetches: with it, a backfill's listings that
    later complete answers lacked expire as those answers would have expired them."""
    out = WindowIdentity()
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        out.seconds[step] = now - clock
        clock = now

    with conn.transaction():
        out.window_listings = create_window_keys(conn, partition_key)
        out.lifecycle = apply_lifecycle(
            conn,
            window_start,
            evidence,
            rules,
            unseen_days,
            partition_key=partition_key,
            max_share=max_share,
        )
        lap("lifecycle")
        clusters = assign_clusters(conn, window_start)
        out.clusters_formed = clusters.clusters_formed
        out.cross_source = clusters.cross_source
        out.cluster_assignments = clusters.written
        out.candidate_pairs = clusters.matches.detailed
        out.title_scores = clusters.matches.comparisons
        out.largest_block = clusters.matches.largest_block
        out.unchanged_skipped = clusters.unchanged_skipped
        out.cluster_assignments += promote_after_expiry(conn, out.lifecycle.expired_keys)
        lap("clusters")
        undo_versions(conn, window_start, out.lifecycle.undone_keys)
        out.seconds["clusters_matching"] = clusters.match_seconds  # part of "clusters"
        out.new_versions = record_versions(conn, window_start, out.lifecycle.expired_keys)
        if evidence_for is not None:  # after the window's own versions: active, then gone
            late = expire_seen_only_before(
                conn,
                partition_key,
                window_start,
                out.lifecycle.backfilled,
                rules,
                evidence_for,
                unseen_days,
            )
            out.lifecycle.expired_later = late
            if late:
                keys = [(source, job_id) for source, job_id, _ in late]
                out.cluster_assignments += promote_after_expiry(conn, keys)
                out.new_versions += record_versions_at(conn, late)
        lap("history")
    return out
