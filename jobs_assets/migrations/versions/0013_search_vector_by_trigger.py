"""`search_vector` kept by a trigger that recomputes it only when its text changes.

Until now the full-text vector was a STORED generated column. PostgreSQL skips a
generated column in an UPDATE that does not touch its inputs, but not when the table has
a BEFORE ROW UPDATE trigger, and it has one (`jobs_listings_data_stamp_change`, 0006): so
every UPDATE of a listing, whatever it changed (its duplicate cluster, its status, the
window that last saw it), parsed the whole description again with `to_tsvector`. That
was most of the cost of writing a window's cluster assignments (issue 25: 29 s of the
identity step's 42 s for 10,000 new listings).

The column becomes an ordinary one (`DROP EXPRESSION` keeps every stored value and does
not rewrite the table), and a BEFORE trigger sets it with the very expression of 0003:
on every INSERT (a value the writer supplied is replaced), and on an UPDATE that names
title, company_name, tags, description_text or search_vector, unless all five hold the
values they had (then it is what it was). An UPDATE that names none of them (cluster
columns, lifecycle) does not fire it at all. As before, no code path can leave it stale.

Revision ID: 0013
Revises: 0012 (0012 is written concurrently; the lead re-chains this one after it)
Create Date: 2026-12-06
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# The expression of migration 0003 (frozen here); `{row}` is "NEW." in the trigger.
_EXPRESSION = (
    "setweight(to_tsvector('english'::regconfig, coalesce({row}title, '')), 'A')"
    " || setweight(to_tsvector('english'::regconfig, coalesce({row}company_name, '')), 'B')"
    " || setweight(to_tsvector('english'::regconfig, public.jobs_tags_text({row}tags)), 'C')"
    " || setweight(to_tsvector('english'::regconfig, "
    "left(coalesce({row}description_text, ''), 100000)), 'D')"
)
_VECTOR = _EXPRESSION.format(row="NEW.")


def upgrade() -> None:
    op.execute(
        f"""
ALTER TABLE public.jobs_listings_data ALTER COLUMN search_vector DROP EXPRESSION IF EXISTS;

CREATE OR REPLACE FUNCTION public.jobs_listings_search_vector() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND NEW.title IS NOT DISTINCT FROM OLD.title
        AND NEW.company_name IS NOT DISTINCT FROM OLD.company_name
        AND NEW.tags IS NOT DISTINCT FROM OLD.tags
        AND NEW.description_text IS NOT DISTINCT FROM OLD.description_text
        AND NEW.search_vector IS NOT DISTINCT FROM OLD.search_vector THEN
        RETURN NEW;
    END IF;
    NEW.search_vector := {_VECTOR};
    RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS jobs_listings_data_search_vector ON public.jobs_listings_data;
CREATE TRIGGER jobs_listings_data_search_vector
    BEFORE INSERT OR UPDATE OF title, company_name, tags, description_text, search_vector
    ON public.jobs_listings_data
    FOR EACH ROW EXECUTE FUNCTION public.jobs_listings_search_vector();
"""
    )


# The views of 0010 (they select `*`, expanded when created), kept here so this migration
# never changes: the downgrade adds the column again, so they are made again after it.
VIEWS = """
DROP VIEW IF EXISTS public.jobs_listings_current_with_estimates;
DROP VIEW IF EXISTS public.jobs_listings_current;
CREATE VIEW public.jobs_listings_current AS
SELECT * FROM public.jobs_listings_data
    WHERE status = 'active' AND (duplicate_cluster_id IS NULL OR is_canonical);
COMMENT ON VIEW public.jobs_listings_current IS
    'Active listings, one per duplicate cluster (a listing not yet clustered stands alone): every column of the listings.';
CREATE VIEW public.jobs_listings_current_with_estimates AS
SELECT c.*,
       e.estimate      AS salary_estimate_usd,
       e.low           AS salary_estimate_low_usd,
       e.high          AS salary_estimate_high_usd,
       e.model_version AS salary_model_version,
       e.predicted_at  AS salary_predicted_at
FROM public.jobs_listings_current c
LEFT JOIN ml.salary_estimates e USING (source, source_job_id);
COMMENT ON VIEW public.jobs_listings_current_with_estimates IS
    'Active, canonical listings; salary_min_usd/salary_max_usd as stated, and the salary model''s annual USD estimate with its 80% interval (NULL until estimated).';
"""


def downgrade() -> None:
    # Back to the generated column of 0003. PostgreSQL cannot give an existing column an
    # expression, so the column is added again (at the end; the table is rewritten).
    op.execute(
        f"""
DROP TRIGGER IF EXISTS jobs_listings_data_search_vector ON public.jobs_listings_data;
DROP FUNCTION IF EXISTS public.jobs_listings_search_vector();
DROP VIEW IF EXISTS public.jobs_listings_current_with_estimates;
DROP VIEW IF EXISTS public.jobs_listings_current;
ALTER TABLE public.jobs_listings_data DROP COLUMN search_vector;
ALTER TABLE public.jobs_listings_data ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS ({_EXPRESSION.format(row="")}) STORED;
CREATE INDEX IF NOT EXISTS jobs_listings_data_search_idx
    ON public.jobs_listings_data USING gin (search_vector);
"""
    )
    op.execute(VIEWS)
