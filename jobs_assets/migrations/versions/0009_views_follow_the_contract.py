"""The views over the listings show every column of the table again.

`jobs_listings_current` and `jobs_listings_current_with_estimates` select `*`, which
PostgreSQL expanded when they were created (0003, 0005): `changed_xid` (0006) never
reached them. They are created again from the listings as they are now, as the column
contract declares them (`lib/schema/columns.py`, `VIEWS`; the SQL is `views_sql()` of
this revision, kept here as text so this migration never changes).

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-06
"""

from alembic import op

revision = "0009"
down_revision: str | None = "0008"
branch_labels = None
depends_on = None

VIEWS = """
DROP VIEW IF EXISTS public.jobs_listings_current_with_estimates;
DROP VIEW IF EXISTS public.jobs_listings_current;
CREATE VIEW public.jobs_listings_current AS
SELECT * FROM public.jobs_listings_data
    WHERE status = 'active' AND (duplicate_cluster_id IS NULL OR is_canonical);
COMMENT ON VIEW public.jobs_listings_current IS
    'Active listings, one per duplicate cluster (a listing not yet clustered stands alone): every column of the listings.';
CREATE VIEW public.jobs_listings_current_with_estimates AS
SELECT c.*,
       e.estimate      AS salary_estimate_usd,
       e.low           AS salary_estimate_low_usd,
       e.high          AS salary_estimate_high_usd,
       e.model_version AS salary_model_version,
       e.predicted_at  AS salary_predicted_at
FROM public.jobs_listings_current c
LEFT JOIN ml.salary_estimates e USING (source, source_job_id);
COMMENT ON VIEW public.jobs_listings_current_with_estimates IS
    'Active, canonical listings; salary_min_usd/salary_max_usd as stated, and the salary model''s annual USD estimate with its 80% interval (NULL until estimated).';
"""


def upgrade() -> None:
    op.execute(VIEWS)


def downgrade() -> None:
    """The views as 0006 left them: without `changed_xid`."""
    op.execute(
        VIEWS.replace(
            "SELECT * FROM public.jobs_listings_data",
            "SELECT source, source_job_id, title, company_name, job_url, company_logo_url, "
            "job_type, seniority, category, tags, location_raw, countries, regions, region, "
            "salary_raw, salary_min, salary_max, salary_currency, salary_period, "
            "salary_min_usd, salary_max_usd, salary_usd_rate_date, description_text, "
            "published_at, expires_at, retrieved_at, first_seen_at, last_seen_at, "
            "last_partition_key, status, expired_at, reactivated_count, duplicate_cluster_id, "
            "is_canonical, category_normalised, company_key, search_vector "
            "FROM public.jobs_listings_data",
        )
    )
