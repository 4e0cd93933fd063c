"""Listings counted per combination of the facets' values, kept by triggers (issue 29).

GET /listings?facets=… counts listings per source, region, category, seniority, job type,
eligibility and salary band, each facet ignoring its own filter. Counting the rows
themselves reads every listing the other filters leave: nearly the whole table for the
default view, about a second at 100,000 listings. The counts for filters that are
themselves facet values (and the lifecycle status and "one per duplicate cluster") only
depend on how many listings hold each combination of those values: a few thousand
combinations, however many listings there are.

`public.jobs_listing_facet_counts` holds that number per combination. Statement-level
AFTER triggers on `public.jobs_listings_data` add the rows a statement wrote and subtract
the rows it replaced or removed (transition tables), so the cost of keeping it follows
the statement, never the history; a TRUNCATE empties it. A combination whose count falls
to zero keeps its row with 0 (readers skip zeros; there are only as many rows as
combinations ever seen, and deleting them here could make two writers wait on each
other in the table's order rather than the key's).
Concurrent writers lock the combinations they change in one order (the key's), so two
windows of different sources, which touch different combinations, never wait on each
other.

`public.jobs_salary_band(min_usd, max_usd)` is the band of lib/listings/queries.py's
SALARY_BANDS, frozen here, and `public.jobs_salary_k` the annual USD figure in steps of
$10,000 (100: a million or more), so `min_salary_usd` is counted too (queries.py reads
whole steps here and the one step its bound splits from the listings); the tests compare the counts read here with the counts of the
listings themselves.

The facets' index of 0014 is made again with each listing's `source_job_id` in it, so a
page of listings whose filters the index holds finds its newest matches from the index
alone, and the newest-first index of the default view holds the columns of the label
and salary filters, so a page filtered by them walks it without reading the table.
Existing listings are counted once, in this migration. Every row kept.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

#: the combination's columns, as the listings name them (salary_band and shown excepted)
_KEY = (
    "status, shown, source, region, category_normalised, seniority, job_type, "
    "eligibility, salary_band, salary_k"
)
#: the same, computed from a listing row `r`
_ROW_KEY = (
    "r.status, (r.duplicate_cluster_id IS NULL OR coalesce(r.is_canonical, false)), "
    "r.source, r.region, r.category_normalised, r.seniority, r.job_type, r.eligibility, "
    "public.jobs_salary_band(r.salary_min_usd, r.salary_max_usd), "
    "public.jobs_salary_k(r.salary_min_usd, r.salary_max_usd)"
)


def _apply(new: str | None, old: str | None) -> str:
    """The statement adding the rows of transition table `new` and subtracting `old`."""
    parts = []
    if new:
        parts.append(f"SELECT {_ROW_KEY}, 1 FROM {new} r")
    if old:
        parts.append(f"SELECT {_ROW_KEY}, -1 FROM {old} r")
    return f"""
        INSERT INTO public.jobs_listing_facet_counts AS c ({_KEY}, listings)
        SELECT {_KEY}, sum(d) FROM ({" UNION ALL ".join(parts)}) x ({_KEY}, d)
        GROUP BY {_KEY} HAVING sum(d) <> 0
        ORDER BY {_KEY}
        ON CONFLICT ({_KEY}) DO UPDATE SET listings = c.listings + excluded.listings;"""


def upgrade() -> None:
    op.execute(
        f"""
CREATE OR REPLACE FUNCTION public.jobs_salary_band(min_usd numeric, max_usd numeric)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN coalesce(max_usd, min_usd) IS NULL THEN 'not_stated'
        WHEN coalesce(max_usd, min_usd) < 50000 THEN 'under_50k'
        WHEN coalesce(max_usd, min_usd) < 100000 THEN '50k_100k'
        WHEN coalesce(max_usd, min_usd) < 150000 THEN '100k_150k'
        WHEN coalesce(max_usd, min_usd) < 200000 THEN '150k_200k'
        ELSE '200k_plus' END
$$;

CREATE OR REPLACE FUNCTION public.jobs_salary_k(min_usd numeric, max_usd numeric)
RETURNS smallint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    -- NULL without a figure (least() alone would give 100: it skips NULLs)
    SELECT CASE WHEN coalesce(max_usd, min_usd) IS NOT NULL
        THEN least(floor(coalesce(max_usd, min_usd) / 10000), 100)::smallint END
$$;

CREATE TABLE IF NOT EXISTS public.jobs_listing_facet_counts (
    status text,
    shown boolean,
    source text,
    region text,
    category_normalised text,
    seniority text,
    job_type text,
    eligibility text,
    salary_band text,
    salary_k smallint,
    listings bigint NOT NULL,
    CONSTRAINT jobs_listing_facet_counts_key UNIQUE NULLS NOT DISTINCT ({_KEY})
);
COMMENT ON TABLE public.jobs_listing_facet_counts IS
    'Listings per combination of the facet values (status, shown = one per duplicate '
    'cluster, source, region, category, seniority, job type, eligibility, salary band), '
    'kept by triggers on public.jobs_listings_data: GET /listings facets read it.';

CREATE OR REPLACE FUNCTION public.jobs_listing_facets_count() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN{_apply("new_rows", None)}
    ELSIF TG_OP = 'UPDATE' THEN{_apply("new_rows", "old_rows")}
    ELSIF TG_OP = 'DELETE' THEN{_apply(None, "old_rows")}
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION public.jobs_listing_facets_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM public.jobs_listing_facet_counts;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS jobs_listings_data_facets_insert ON public.jobs_listings_data;
CREATE TRIGGER jobs_listings_data_facets_insert
    AFTER INSERT ON public.jobs_listings_data REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.jobs_listing_facets_count();
DROP TRIGGER IF EXISTS jobs_listings_data_facets_update ON public.jobs_listings_data;
CREATE TRIGGER jobs_listings_data_facets_update
    AFTER UPDATE ON public.jobs_listings_data
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.jobs_listing_facets_count();
DROP TRIGGER IF EXISTS jobs_listings_data_facets_delete ON public.jobs_listings_data;
CREATE TRIGGER jobs_listings_data_facets_delete
    AFTER DELETE ON public.jobs_listings_data REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.jobs_listing_facets_count();
DROP TRIGGER IF EXISTS jobs_listings_data_facets_truncate ON public.jobs_listings_data;
CREATE TRIGGER jobs_listings_data_facets_truncate
    AFTER TRUNCATE ON public.jobs_listings_data
    FOR EACH STATEMENT EXECUTE FUNCTION public.jobs_listing_facets_truncate();

-- the listings already stored, counted once
DELETE FROM public.jobs_listing_facet_counts;
INSERT INTO public.jobs_listing_facet_counts ({_KEY}, listings)
SELECT {_ROW_KEY}, count(*) FROM public.jobs_listings_data r
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10;

-- the facets' index also gives each listing's key, so a page whose filters it holds
-- finds its newest matches from the index alone (queries.search_listings)
DROP INDEX IF EXISTS public.jobs_listings_data_facets_idx;
CREATE INDEX jobs_listings_data_facets_idx
    ON public.jobs_listings_data (source, region, category_normalised, seniority, job_type)
    INCLUDE (source_job_id, salary_min_usd, salary_max_usd, countries, published_at,
        first_seen_at, eligibility, eligible_countries, utc_offset_min, utc_offset_max)
    WHERE status = 'active' AND (duplicate_cluster_id IS NULL OR is_canonical);

-- the newest-first index of the default view also holds the columns of the label and
-- salary filters (and the sort's own inputs), so a page filtered by them walks it
-- without reading a table row, however few listings match
DROP INDEX IF EXISTS public.jobs_listings_data_newest_active_idx;
CREATE INDEX jobs_listings_data_newest_active_idx ON public.jobs_listings_data
    (COALESCE(published_at, first_seen_at) DESC, source DESC, source_job_id DESC)
    INCLUDE (published_at, first_seen_at, region, category_normalised, seniority, job_type,
        eligibility, salary_min_usd, salary_max_usd)
    WHERE status = 'active' AND (duplicate_cluster_id IS NULL OR is_canonical);
"""
    )


def downgrade() -> None:
    op.execute(
        """
DROP INDEX IF EXISTS public.jobs_listings_data_newest_active_idx;
CREATE INDEX jobs_listings_data_newest_active_idx ON public.jobs_listings_data
    (COALESCE(published_at, first_seen_at) DESC, source DESC, source_job_id DESC)
    WHERE status = 'active' AND (duplicate_cluster_id IS NULL OR is_canonical);
DROP TRIGGER IF EXISTS jobs_listings_data_facets_insert ON public.jobs_listings_data;
DROP TRIGGER IF EXISTS jobs_listings_data_facets_update ON public.jobs_listings_data;
DROP TRIGGER IF EXISTS jobs_listings_data_facets_delete ON public.jobs_listings_data;
DROP TRIGGER IF EXISTS jobs_listings_data_facets_truncate ON public.jobs_listings_data;
DROP FUNCTION IF EXISTS public.jobs_listing_facets_count();
DROP FUNCTION IF EXISTS public.jobs_listing_facets_truncate();
DROP TABLE IF EXISTS public.jobs_listing_facet_counts;
DROP FUNCTION IF EXISTS public.jobs_salary_band(numeric, numeric);
DROP FUNCTION IF EXISTS public.jobs_salary_k(numeric, numeric);
DROP INDEX IF EXISTS public.jobs_listings_data_facets_idx;
CREATE INDEX jobs_listings_data_facets_idx
    ON public.jobs_listings_data (source, region, category_normalised, seniority, job_type)
    INCLUDE (salary_min_usd, salary_max_usd, countries, published_at, first_seen_at,
        eligibility, eligible_countries, utc_offset_min, utc_offset_max)
    WHERE status = 'active' AND (duplicate_cluster_id IS NULL OR is_canonical);
"""
    )
