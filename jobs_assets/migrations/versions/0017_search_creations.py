"""Saved searches' creations counted apart from the searches (issue 29).

The rate limit on `POST /searches` counted the live searches a client had made in the
window, so saving and deleting over and over was never limited. Every creation by a
client is now a row of `public.jobs_search_creations` (its keyed hash and when), which a
deletion does not touch; rows older than any window are dropped as the client makes new
ones.

The API's role may only SELECT, INSERT and DELETE saved searches, so the count and the
record are one function, `public.jobs_record_search_creation`, that runs with the
owner's rights (`SECURITY DEFINER`, its search_path fixed): the role needs no privilege
on the new table, and the deployment's grants stay as they are.

The upgrade counts the searches already saved with a client as their creations.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
CREATE TABLE IF NOT EXISTS public.jobs_search_creations (
    client_hash text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS jobs_search_creations_client_idx
    ON public.jobs_search_creations (client_hash, created_at);
COMMENT ON TABLE public.jobs_search_creations IS
    'Every saved search a client made (keyed hash of its address), kept when the search is deleted: what the creation rate limit counts.';
INSERT INTO public.jobs_search_creations (client_hash, created_at)
SELECT client_hash, created_at FROM public.jobs_saved_searches WHERE client_hash IS NOT NULL;

-- NULL when the client may make one more search (and that creation is recorded), else
-- the oldest of its `allowed` creations within `per` (when one more will be allowed)
CREATE OR REPLACE FUNCTION public.jobs_record_search_creation(
    client text, allowed integer, per interval
) RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    made bigint;
    oldest timestamptz;
BEGIN
    DELETE FROM public.jobs_search_creations
    WHERE client_hash = client AND created_at <= now() - per;
    SELECT count(*), min(created_at) INTO made, oldest
    FROM public.jobs_search_creations WHERE client_hash = client;
    IF made >= allowed THEN
        RETURN oldest;
    END IF;
    INSERT INTO public.jobs_search_creations (client_hash) VALUES (client);
    RETURN NULL;
END
$$;
"""
    )


def downgrade() -> None:
    op.execute(
        """
DROP FUNCTION IF EXISTS public.jobs_record_search_creation(text, integer, interval);
DROP TABLE IF EXISTS public.jobs_search_creations;
"""
    )
