"""A saved search hears of every listing its creation could not see, in commit order.

Migration 0025 stamped each listing's arrival with the inserting statement's start, and
a search counted a listing as old news when it arrived before the search was saved. A
load's transaction commits after its statements start: a search saved while a load was
running (at 50x today's volume, a window's upsert runs for a minute) could not see that
load's listings, yet counted them as older than itself and never announced them.

Time cannot tell in which order two transactions became visible; PostgreSQL's snapshots
can. The arrival triggers now also keep the inserting (or returning) transaction's id
(`arrived_xid`, `returned_xid`: `pg_current_xact_id()`), and a saved search keeps the
snapshot of the statement that stored it (`created_snapshot`: `pg_current_snapshot()`,
the column's default). A listing is old news to a search exactly when its arrival's
transaction is visible in that snapshot (`pg_visible_in_snapshot`): committed before the
search was stored. Rows stored before this revision have no id or snapshot and are
compared by time as before; so are ids and snapshots that lie ahead of the server's own
count (a backup restored on another server: once that server's count passes them, an id
from before is older than every snapshot taken since, and a snapshot from before sees
none of the ids made since, which is again the truth).

The upgrade keeps every row (two columns added to each table, the trigger functions
replaced).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07
"""

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
ALTER TABLE public.jobs_listing_arrivals
    ADD COLUMN IF NOT EXISTS arrived_xid xid8,
    ADD COLUMN IF NOT EXISTS returned_xid xid8;
COMMENT ON COLUMN public.jobs_listing_arrivals.arrived_xid IS
    'The transaction that first inserted the listing: a saved search whose creation snapshot does not see it has not seen the listing.';
COMMENT ON COLUMN public.jobs_listing_arrivals.returned_xid IS
    'The transaction that last brought the listing back after it expired.';
-- added empty, then given its default: a search stored before has no snapshot (the
-- migration's own would claim it saw what arrived after it was saved)
ALTER TABLE public.jobs_saved_searches ADD COLUMN IF NOT EXISTS created_snapshot pg_snapshot;
ALTER TABLE public.jobs_saved_searches
    ALTER COLUMN created_snapshot SET DEFAULT pg_current_snapshot();
COMMENT ON COLUMN public.jobs_saved_searches.created_snapshot IS
    'The snapshot of the statement that stored the search: the listings it could see.';

CREATE OR REPLACE FUNCTION public.jobs_listing_arrived() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.jobs_listing_arrivals (source, source_job_id, arrived_at, arrived_xid)
    SELECT source, source_job_id, statement_timestamp(), pg_current_xact_id() FROM arrived
    ON CONFLICT (source, source_job_id)  -- deleted once, inserted again: a new arrival
        DO UPDATE SET arrived_at = EXCLUDED.arrived_at, arrived_xid = EXCLUDED.arrived_xid,
                      returned_at = NULL, returned_xid = NULL;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION public.jobs_listing_returned() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.jobs_listing_arrivals
        (source, source_job_id, arrived_at, returned_at, returned_xid)
    VALUES (NEW.source, NEW.source_job_id, NEW.first_seen_at, statement_timestamp(),
            pg_current_xact_id())
    ON CONFLICT (source, source_job_id) DO UPDATE
        SET returned_at = EXCLUDED.returned_at, returned_xid = EXCLUDED.returned_xid;
    RETURN NULL;
END
$$;
"""
    )


def downgrade() -> None:
    op.execute(
        """
CREATE OR REPLACE FUNCTION public.jobs_listing_arrived() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.jobs_listing_arrivals (source, source_job_id, arrived_at)
    SELECT source, source_job_id, statement_timestamp() FROM arrived
    ON CONFLICT (source, source_job_id)
        DO UPDATE SET arrived_at = EXCLUDED.arrived_at, returned_at = NULL;
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION public.jobs_listing_returned() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.jobs_listing_arrivals (source, source_job_id, arrived_at, returned_at)
    VALUES (NEW.source, NEW.source_job_id, NEW.first_seen_at, statement_timestamp())
    ON CONFLICT (source, source_job_id) DO UPDATE SET returned_at = EXCLUDED.returned_at;
    RETURN NULL;
END
$$;
ALTER TABLE public.jobs_saved_searches DROP COLUMN IF EXISTS created_snapshot;
ALTER TABLE public.jobs_listing_arrivals
    DROP COLUMN IF EXISTS arrived_xid, DROP COLUMN IF EXISTS returned_xid;
"""
    )
