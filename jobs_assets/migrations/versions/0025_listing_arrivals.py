"""When each listing arrived, so a saved search hears only of jobs newer than itself.

A saved search announces the new jobs that match it, each once. A listing's
`first_seen_at` is the start of the window that first had it, not when it reached the
table: a window loaded late, loaded again (a retried source, an inbox file) or
backfilled brings listings whose window began before a search was saved although they
arrived after it, and listings a search could already see when it was saved came again
with every reload. `public.jobs_listing_arrivals` keeps, per listing, when it was first
inserted (`arrived_at`) and when it last came back after expiring (`returned_at`),
stamped by triggers on `public.jobs_listings_data`, so the pipeline's code writes
nothing more: a statement-level AFTER INSERT trigger (its transition table: the rows a
COPY or an upsert inserted) and a row trigger that fires only when
`reactivated_count` grows. The stamp is the inserting statement's start: a search saved
while a load was still running counts that load's listings as older than itself.

The planner (`lib/searches/deliver.py`) also takes the listings whose content changed
in a window (an edit, a late exchange rate, a places backfill): their current history
version starts at the window. A partial index on the current versions' `valid_from`
finds them without reading the history.

Stored saved queries whose `job_type` differs from the listings' vocabulary only in case
or in `-`/space for `_` ("Full-Time") are rewritten as the listings spell it: the API
now accepts those spellings and stores the vocabulary's, and the matcher compares
`job_type` exactly.

The upgrade keeps every row. Listings already stored get the first fetch their history
recorded as their arrival (else their own `retrieved_at`), and their last return after
an expiry from the history's versions.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-08
"""

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

# the listings' job types as this release spells them (lib/normalise/rows.JOB_TYPES,
# frozen here: a later vocabulary must not change what this revision did)
JOB_TYPES = (
    "full_time",
    "part_time",
    "contract",
    "freelance",
    "internship",
    "temporary",
    "volunteer",
    "other",
)


def upgrade() -> None:
    op.execute(
        """
CREATE TABLE IF NOT EXISTS public.jobs_listing_arrivals (
    source text NOT NULL,
    source_job_id text NOT NULL,
    arrived_at timestamptz NOT NULL,
    returned_at timestamptz,
    PRIMARY KEY (source, source_job_id)
);
COMMENT ON TABLE public.jobs_listing_arrivals IS
    'When each listing of public.jobs_listings_data was first inserted (arrived_at) and last came back after expiring (returned_at); kept by its triggers. A saved search hears only of jobs that arrived after it was saved.';

INSERT INTO public.jobs_listing_arrivals (source, source_job_id, arrived_at, returned_at)
SELECT l.source, l.source_job_id, least(h.first_fetch, l.retrieved_at), r.returned_at
FROM public.jobs_listings_data AS l
LEFT JOIN (
    SELECT source, source_job_id, min(retrieved_at) AS first_fetch
    FROM public.jobs_listings_history GROUP BY source, source_job_id
) AS h USING (source, source_job_id)
LEFT JOIN (
    SELECT source, source_job_id, max(retrieved_at) AS returned_at
    FROM (
        SELECT source, source_job_id, status, retrieved_at,
               lag(status) OVER (PARTITION BY source, source_job_id ORDER BY valid_from)
                   AS status_before
        FROM public.jobs_listings_history
    ) AS v
    WHERE status = 'active' AND status_before = 'expired'
    GROUP BY source, source_job_id
) AS r USING (source, source_job_id)
ON CONFLICT (source, source_job_id) DO NOTHING;

CREATE OR REPLACE FUNCTION public.jobs_listing_arrived() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.jobs_listing_arrivals (source, source_job_id, arrived_at)
    SELECT source, source_job_id, statement_timestamp() FROM arrived
    ON CONFLICT (source, source_job_id)  -- deleted once, inserted again: a new arrival
        DO UPDATE SET arrived_at = EXCLUDED.arrived_at, returned_at = NULL;
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS jobs_listings_data_arrival ON public.jobs_listings_data;
CREATE TRIGGER jobs_listings_data_arrival
    AFTER INSERT ON public.jobs_listings_data
    REFERENCING NEW TABLE AS arrived
    FOR EACH STATEMENT EXECUTE FUNCTION public.jobs_listing_arrived();

CREATE OR REPLACE FUNCTION public.jobs_listing_returned() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.jobs_listing_arrivals (source, source_job_id, arrived_at, returned_at)
    VALUES (NEW.source, NEW.source_job_id, NEW.first_seen_at, statement_timestamp())
    ON CONFLICT (source, source_job_id) DO UPDATE SET returned_at = EXCLUDED.returned_at;
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS jobs_listings_data_returned ON public.jobs_listings_data;
CREATE TRIGGER jobs_listings_data_returned
    AFTER UPDATE OF reactivated_count ON public.jobs_listings_data
    FOR EACH ROW WHEN (NEW.reactivated_count > OLD.reactivated_count)
    EXECUTE FUNCTION public.jobs_listing_returned();

-- the listings whose current version a window started (lib/searches/match.py)
CREATE INDEX IF NOT EXISTS jobs_listings_history_current_from_idx
    ON public.jobs_listings_history (valid_from) WHERE valid_to IS NULL;
"""
    )
    bind = op.get_bind()
    bind.exec_driver_sql(
        """
UPDATE public.jobs_saved_searches AS s
   SET query = jsonb_set(s.query, '{job_type}', to_jsonb(v.job_type))
  FROM unnest(%(types)s::text[]) AS v(job_type)
 WHERE jsonb_typeof(s.query -> 'job_type') = 'string'
   AND lower(regexp_replace(btrim(s.query ->> 'job_type'), '[-_[:space:]]+', '_', 'g'))
       = v.job_type
   AND s.query ->> 'job_type' <> v.job_type
""",
        {"types": list(JOB_TYPES)},
    )


def downgrade() -> None:
    """The arrivals, their triggers and the index go; rewritten job types stay."""
    op.execute(
        """
DROP INDEX IF EXISTS public.jobs_listings_history_current_from_idx;
DROP TRIGGER IF EXISTS jobs_listings_data_returned ON public.jobs_listings_data;
DROP FUNCTION IF EXISTS public.jobs_listing_returned();
DROP TRIGGER IF EXISTS jobs_listings_data_arrival ON public.jobs_listings_data;
DROP FUNCTION IF EXISTS public.jobs_listing_arrived();
DROP TABLE IF EXISTS public.jobs_listing_arrivals;
"""
    )
