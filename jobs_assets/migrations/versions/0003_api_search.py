"""The read API's schema: full-text generated column, its indexes, the data version.

Was `jobs_assets/api/schema.sql` (applied by a test shim); now a migration. The
full-text column is GENERATED, so no code path can leave it stale; adding it rewrites
the table once under an ACCESS EXCLUSIVE lock. The view `jobs_listings_current` is
recreated after it, so `SELECT *` includes the new column.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SQL = r"""
-- The read API's schema: a migration body (the lead wraps it in an Alembic revision).
-- Needs the listing-identity columns of issue 14 (status, duplicate_cluster_id,
-- is_canonical, category_normalised) to exist first.
--
-- Full text: a GENERATED column rather than one the pipeline fills in. The database
-- recomputes it on every INSERT/UPDATE the upsert makes, so no code path (a backfill,
-- a restore, a hand fix) can leave it stale, and the pipeline needs no change. The cost
-- is paid at load time (to_tsvector over ~1 KB of description per changed row), and
-- adding it rewrites the table once, under an ACCESS EXCLUSIVE lock.
-- A generated column may only call IMMUTABLE functions: to_tsvector with an explicit
-- regconfig is, but array_to_string is only STABLE (it could depend on the element
-- type's output function), hence the small IMMUTABLE wrapper for text[].
CREATE OR REPLACE FUNCTION public.jobs_tags_text(tags text[]) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT coalesce(array_to_string(tags, ' '), '') $$;

ALTER TABLE public.jobs_listings_data
    ADD COLUMN IF NOT EXISTS search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
        || setweight(to_tsvector('english'::regconfig, coalesce(company_name, '')), 'B')
        || setweight(to_tsvector('english'::regconfig, public.jobs_tags_text(tags)), 'C')
        -- a tsvector holds at most 1 MB: the first 100,000 characters are plenty to find a job
        || setweight(to_tsvector('english'::regconfig, left(coalesce(description_text, ''), 100000)), 'D')
    ) STORED;

CREATE INDEX IF NOT EXISTS jobs_listings_data_search_idx
    ON public.jobs_listings_data USING gin (search_vector);

-- "newest" ordering and its keyset cursor: (published_at or first_seen_at, source, id).
CREATE INDEX IF NOT EXISTS jobs_listings_data_newest_idx
    ON public.jobs_listings_data ((coalesce(published_at, first_seen_at)) DESC, source DESC, source_job_id DESC);
-- The same for the default view (active, one row per duplicate cluster): most requests.
CREATE INDEX IF NOT EXISTS jobs_listings_data_newest_active_idx
    ON public.jobs_listings_data ((coalesce(published_at, first_seen_at)) DESC, source DESC, source_job_id DESC)
    WHERE status = 'active' AND (duplicate_cluster_id IS NULL OR is_canonical);
-- Filters.
CREATE INDEX IF NOT EXISTS jobs_listings_data_countries_idx
    ON public.jobs_listings_data USING gin (countries);
CREATE INDEX IF NOT EXISTS jobs_listings_data_category_idx
    ON public.jobs_listings_data (category_normalised);
CREATE INDEX IF NOT EXISTS jobs_listings_data_salary_usd_idx
    ON public.jobs_listings_data ((coalesce(salary_max_usd, salary_min_usd)));
-- The cursor's snapshot bound (max(first_seen_at)) and the duplicates of a listing.
CREATE INDEX IF NOT EXISTS jobs_listings_data_first_seen_idx
    ON public.jobs_listings_data (first_seen_at);
CREATE INDEX IF NOT EXISTS jobs_listings_data_cluster_idx
    ON public.jobs_listings_data (duplicate_cluster_id) WHERE duplicate_cluster_id IS NOT NULL;

-- The data version: one row, bumped by each successful load (jobs_assets.lib.listings.data_version).
-- The API puts it in every cache key and ETag, so nothing cached outlives its data.
CREATE TABLE IF NOT EXISTS public.jobs_data_version (
    singleton      boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    version        bigint      NOT NULL,
    partition_key  text,
    loaded_at      timestamptz NOT NULL
);
INSERT INTO public.jobs_data_version (version, partition_key, loaded_at)
    VALUES (1, NULL, now()) ON CONFLICT DO NOTHING;

CREATE OR REPLACE VIEW public.jobs_listings_current AS
    SELECT * FROM public.jobs_listings_data
    WHERE status = 'active' AND (duplicate_cluster_id IS NULL OR is_canonical);
"""


def upgrade() -> None:
    op.execute(SQL)


def downgrade() -> None:
    op.execute(
        """
DROP VIEW IF EXISTS public.jobs_listings_current;
DROP TABLE IF EXISTS public.jobs_data_version;
ALTER TABLE public.jobs_listings_data DROP COLUMN IF EXISTS search_vector;
DROP FUNCTION IF EXISTS public.jobs_tags_text(text[]);
CREATE VIEW public.jobs_listings_current AS
    SELECT * FROM public.jobs_listings_data
    WHERE status = 'active' AND (duplicate_cluster_id IS NULL OR is_canonical);
"""
    )
