"""TEST HELPER, LEAD: REMOVE WHEN MIGRATION 0002 (listing identity) LANDS.

Migration 0005 (`jobs_listings_current_with_estimates`) and the salary model's queries
are written for the schema of revision 0002: `status`, `expired_at`,
`duplicate_cluster_id`, `is_canonical`, `category_normalised` on
`public.jobs_listings_data`, and the view `public.jobs_listings_current`. Until 0002 is
merged this creates those names, with the meanings issue 14 gives them, between
revisions 0004 and 0005, so the chain can be tested now.
"""

from __future__ import annotations

import psycopg

from jobs_assets.lib.schema.migrate import current_revision, migrate

IDENTITY_STUB = """
ALTER TABLE public.jobs_listings_data
    ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'active',
    ADD COLUMN IF NOT EXISTS expired_at timestamptz,
    ADD COLUMN IF NOT EXISTS duplicate_cluster_id text,
    ADD COLUMN IF NOT EXISTS is_canonical boolean NOT NULL DEFAULT true,
    ADD COLUMN IF NOT EXISTS category_normalised text;
CREATE OR REPLACE VIEW public.jobs_listings_current AS
    SELECT * FROM public.jobs_listings_data WHERE status = 'active' AND is_canonical;
"""


def ensure_schema(conninfo: str) -> None:
    """`db.ensure_schema`, with the identity stub applied before revision 0005."""
    if current_revision(conninfo) in (None, "0001", "0004"):
        migrate(conninfo, "0004")
        with psycopg.connect(conninfo) as conn:
            conn.execute(IDENTITY_STUB)
    migrate(conninfo)
