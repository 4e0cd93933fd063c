"""Checks of listing identity on `jobs_listings`, in `build_listings_check`'s style:
expiry only on complete fetches and clusters within one company (ERROR, blocking), and
plausible cluster sizes and no expiry held by the sudden-drop guard (WARN)."""

import dagster as dg

from jobs_assets.defs.ingestion.assets import JOBS_LISTINGS_KEY
from jobs_assets.defs.ingestion.checks import (
    ERROR,
    WARN,
    Check,
    build_listings_check,
    checks_step,
    finding_result,
)
from jobs_assets.lib.identity import quality as identity_quality
from jobs_assets.lib.identity.lifecycle import evidence_of
from jobs_assets.lib.sources import SOURCES
from jobs_assets.resources import PostgresResource, RawStoreResource


def expired_only_on_complete_fetch(
    context: dg.AssetCheckExecutionContext,
    postgres: PostgresResource,
    raw_store: RawStoreResource,
) -> dg.AssetCheckResult:
    proof = evidence_of(raw_store.store(), SOURCES, context.partition_key)
    with postgres.connect() as conn:
        finding = identity_quality.expired_on_incomplete_fetch(
            conn, context.partition_time_window.start, proof
        )
    return finding_result(finding, ERROR)


listings_expired_only_on_complete_fetch = Check(
    "listings_expired_only_on_complete_fetch",
    ERROR,
    "Every listing this window expired belongs to a source whose fetch of the window "
    "counted as complete (a live fetch, every page usable, paging to its end). If it "
    "fails, listings were retired on partial evidence: set them back with UPDATE "
    "public.jobs_listings_data SET status = 'active', expired_at = NULL WHERE "
    "expired_at = <window start> AND source = <source>, and report the manifest.",
    expired_only_on_complete_fetch,
)


clusters_within_one_company = build_listings_check(
    "clusters_within_one_company",
    identity_quality.clusters_across_companies,
    ERROR,
    "No duplicate cluster the window touched holds listings of two companies (the "
    "matcher blocks on company_key, so this means a bug or a bad override). If it fails, "
    "add a `same = false` row to public.jobs_duplicate_overrides for the wrong pair and "
    "re-materialise jobs_listings for the window.",
)
cluster_sizes_plausible = build_listings_check(
    "cluster_sizes_plausible",
    identity_quality.cluster_sizes,
    WARN,
    f"Clusters the window touched have at most {identity_quality.MAX_PLAUSIBLE_CLUSTER} "
    "listings and exactly one canonical member. If it fails, look at the cluster's "
    "titles: a generic title may be matching unrelated jobs; separate them with "
    "overrides (same = false) and re-materialise the window.",
)

listings_expiry_not_held = build_listings_check(
    "listings_expiry_not_held",
    identity_quality.expiry_held,
    WARN,
    "No source's complete fetch of the window would have expired more than "
    "JOBS_EXPIRE_MAX_SHARE (default 0.3) of its active listings. If it fails, nothing "
    "was expired for that source (public.jobs_expiry_holds says how many would have "
    "been): compare the raw window with the source's website. A real drop is confirmed "
    "(and expired) by the next complete fetch of a later window; a partial answer is "
    "cleared by the next complete one that is whole.",
)

identity_checks = [
    checks_step(
        "jobs_listings_identity_checks",
        JOBS_LISTINGS_KEY,
        [
            listings_expired_only_on_complete_fetch,
            clusters_within_one_company,
            cluster_sizes_plausible,
            listings_expiry_not_held,
        ],
    )
]
