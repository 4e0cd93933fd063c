"""An index for the facet counts of GET /listings (`facets=`, issue 29).

Counting listings per source, region, category, seniority, job type, salary band and
eligibility
reads every listing the request's other filters leave, which for the default view (active,
one listing per duplicate cluster) is nearly the whole table. This partial index holds
just the columns those counts and the common filters read, so PostgreSQL answers from
the index alone (an index-only scan of about 130 bytes a listing) instead of the table's
wide rows (descriptions, full-text vectors). Its key is the facets' columns, so the
grouping reads them already sorted.

An index only: no row changes. Built without CONCURRENTLY, as the migrations run before
a load, not beside one (the API may wait for the build once).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
CREATE INDEX IF NOT EXISTS jobs_listings_data_facets_idx
    ON public.jobs_listings_data (source, region, category_normalised, seniority, job_type)
    INCLUDE (salary_min_usd, salary_max_usd, countries, published_at, first_seen_at,
        eligibility, eligible_countries, utc_offset_min, utc_offset_max)
    WHERE status = 'active' AND (duplicate_cluster_id IS NULL OR is_canonical);
"""
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS public.jobs_listings_data_facets_idx;")
