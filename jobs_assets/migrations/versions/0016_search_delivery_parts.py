"""Follow-up messages for a window loaded again (issue 29).

A window can be loaded more than once (a source retried, a file dropped in the inbox),
and a later load can bring a matching job the first did not have. Its message is a
follow-up of the same search, window and channel, so the deliveries' key gains `part`:
0 for a window's first message (the rows already stored, whose idempotency keys stay as
they are), 1, 2, … for the follow-ups. What a message announces is still recorded in
`public.jobs_search_announced`, so a follow-up lists only jobs not announced before.

Every existing row is kept, with part 0.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
ALTER TABLE public.jobs_search_deliveries ADD COLUMN IF NOT EXISTS part integer NOT NULL DEFAULT 0;
ALTER TABLE public.jobs_search_deliveries DROP CONSTRAINT IF EXISTS jobs_search_deliveries_pkey;
ALTER TABLE public.jobs_search_deliveries
    ADD CONSTRAINT jobs_search_deliveries_pkey PRIMARY KEY (search_id, window_key, channel, part);
COMMENT ON COLUMN public.jobs_search_deliveries.part IS
    '0 for a window''s first message to the search on this channel; 1, 2, … for follow-ups when the window was loaded again with jobs not yet announced.';
"""
    )


def downgrade() -> None:
    op.execute(
        """
DELETE FROM public.jobs_search_deliveries WHERE part > 0;
ALTER TABLE public.jobs_search_deliveries DROP CONSTRAINT jobs_search_deliveries_pkey;
ALTER TABLE public.jobs_search_deliveries
    ADD CONSTRAINT jobs_search_deliveries_pkey PRIMARY KEY (search_id, window_key, channel);
ALTER TABLE public.jobs_search_deliveries DROP COLUMN part;
"""
    )
