"""Listings that expired, by company and when: a re-post finds the job it repeats.

Identity now matches a window's listings against the stored listings of their companies
that are active *or expired within `REPOST_HORIZON`* (lib/identity/duplicates.py): a job
posted again after its listing expired, on its board or another, joins that job's
cluster instead of starting a new one. The active ones are found by
`jobs_listings_data_company_key_idx` (partial, `status = 'active'`); this partial index
finds the expired ones of a company since a time without reading the rest of its
history. Only expired rows are in it, so inserting new (active) listings costs it nothing.

The upgrade keeps every row (an index only).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07
"""

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX IF NOT EXISTS jobs_listings_data_company_key_expired_idx "
        "ON public.jobs_listings_data (company_key, expired_at) WHERE status = 'expired'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS public.jobs_listings_data_company_key_expired_idx")
