"""The search-creation function callable only by the roles granted it.

`public.jobs_record_search_creation` (migration 0017) runs with its owner's rights
(`SECURITY DEFINER`), and PostgreSQL lets every role execute a new function: any role
that can connect could write the rate limiter's table through it. EXECUTE is revoked from
PUBLIC; the owner keeps it, and the migrate service grants it to the read API's role
(`JOBS_API_PG_ROLE`, `store.grant_api_role`). No table, column or row changes.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

FUNCTION = "public.jobs_record_search_creation(text, integer, interval)"


def upgrade() -> None:
    op.execute(f"REVOKE ALL ON FUNCTION {FUNCTION} FROM PUBLIC")


def downgrade() -> None:
    op.execute(f"GRANT EXECUTE ON FUNCTION {FUNCTION} TO PUBLIC")
