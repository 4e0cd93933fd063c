"""`public.jobs_listings_current_with_estimates`: the current listings with the salary
model's estimate beside the stated salary.

Built on `public.jobs_listings_current` (revision 0002), so it comes after both.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
CREATE OR REPLACE VIEW public.jobs_listings_current_with_estimates AS
SELECT c.*,
       e.estimate      AS salary_estimate_usd,
       e.low           AS salary_estimate_low_usd,
       e.high          AS salary_estimate_high_usd,
       e.model_version AS salary_model_version,
       e.predicted_at  AS salary_predicted_at
FROM public.jobs_listings_current c
LEFT JOIN ml.salary_estimates e USING (source, source_job_id);
COMMENT ON VIEW public.jobs_listings_current_with_estimates IS
    'Active, canonical listings; salary_min_usd/salary_max_usd as stated, and the salary '
    'model''s annual USD estimate with its 80% interval (NULL until estimated).';
"""
    )


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS public.jobs_listings_current_with_estimates")
