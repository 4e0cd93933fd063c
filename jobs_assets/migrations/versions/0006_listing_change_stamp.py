"""Change tracking for the incremental marts: `changed_xid` on `public.jobs_listings_data`.

A trigger stamps every inserted or updated row with the id of the transaction that wrote
it, so the marts (jobs_assets/dbt) read only the listings changed since their last build:
`changed_xid >= ` the oldest transaction still running when that build read its input
(`pg_snapshot_xmin`), which no commit that build could not see is older than.

Deleting listings (or truncating the table) is recorded per statement in
`public.jobs_listings_removals`: the next build of the marts then reads every listing.

The column is added without a default, so upgrading does not rewrite the table: existing
rows keep NULL ("unchanged since this migration"), which the first build after it reads
in full anyway.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
ALTER TABLE public.jobs_listings_data ADD COLUMN IF NOT EXISTS changed_xid xid8;

CREATE OR REPLACE FUNCTION public.jobs_listings_stamp_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.changed_xid := pg_current_xact_id();
    RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS jobs_listings_data_stamp_change ON public.jobs_listings_data;
CREATE TRIGGER jobs_listings_data_stamp_change
    BEFORE INSERT OR UPDATE ON public.jobs_listings_data
    FOR EACH ROW EXECUTE FUNCTION public.jobs_listings_stamp_change();

CREATE INDEX IF NOT EXISTS jobs_listings_data_changed_xid_idx
    ON public.jobs_listings_data (changed_xid);

CREATE TABLE IF NOT EXISTS public.jobs_listings_removals (
    removed_xid xid8 NOT NULL,
    removed_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE public.jobs_listings_removals IS
    'One row per DELETE or TRUNCATE of public.jobs_listings_data: the marts rebuild in full.';

CREATE OR REPLACE FUNCTION public.jobs_listings_note_removal() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.jobs_listings_removals (removed_xid) VALUES (pg_current_xact_id());
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS jobs_listings_data_note_removal ON public.jobs_listings_data;
CREATE TRIGGER jobs_listings_data_note_removal
    AFTER DELETE OR TRUNCATE ON public.jobs_listings_data
    FOR EACH STATEMENT EXECUTE FUNCTION public.jobs_listings_note_removal();
"""
    )


def downgrade() -> None:
    op.execute(
        """
DROP TRIGGER IF EXISTS jobs_listings_data_note_removal ON public.jobs_listings_data;
DROP FUNCTION IF EXISTS public.jobs_listings_note_removal();
DROP TABLE IF EXISTS public.jobs_listings_removals;
DROP TRIGGER IF EXISTS jobs_listings_data_stamp_change ON public.jobs_listings_data;
DROP FUNCTION IF EXISTS public.jobs_listings_stamp_change();
ALTER TABLE public.jobs_listings_data DROP COLUMN IF EXISTS changed_xid;
"""
    )
