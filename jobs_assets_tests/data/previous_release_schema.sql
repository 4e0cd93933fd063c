-- The schema as the release before migrations (commit 963a301) created it: lib/db.py SCHEMA_SQL, frozen.
CREATE SCHEMA IF NOT EXISTS staging;

CREATE TABLE IF NOT EXISTS staging.staging_jobs_listings_data (
    source         text        NOT NULL,
    partition_key  text        NOT NULL,
    source_job_id  text        NOT NULL,
    payload        jsonb       NOT NULL,
    retrieved_at   timestamptz NOT NULL,
    PRIMARY KEY (source, partition_key, source_job_id)
);
-- Windows are read and replaced by key: keep that cheap whatever the history.
CREATE INDEX IF NOT EXISTS staging_jobs_listings_data_window_idx
    ON staging.staging_jobs_listings_data (partition_key, source);

CREATE TABLE IF NOT EXISTS public.jobs_listings_data (
    source                 text        NOT NULL,
    source_job_id          text        NOT NULL,
    title                  text,
    company_name           text,
    job_url                text,
    company_logo_url       text,
    job_type               text,
    seniority              text,
    category               text,
    tags                   text[]      NOT NULL DEFAULT '{}',
    location_raw           text,
    countries              text[]      NOT NULL DEFAULT '{}',
    regions                text[]      NOT NULL DEFAULT '{}',
    region                 text        NOT NULL,
    salary_raw             text,
    salary_min             numeric,
    salary_max             numeric,
    salary_currency        text,
    salary_period          text,
    salary_min_usd         numeric,
    salary_max_usd         numeric,
    salary_usd_rate_date   date,
    description_text       text,
    published_at           timestamptz,
    expires_at             timestamptz,
    retrieved_at           timestamptz NOT NULL,
    first_seen_at          timestamptz NOT NULL,
    last_seen_at           timestamptz NOT NULL,
    last_partition_key     text        NOT NULL,
    PRIMARY KEY (source, source_job_id)
);
CREATE INDEX IF NOT EXISTS jobs_listings_data_last_seen_idx
    ON public.jobs_listings_data (last_seen_at);
CREATE INDEX IF NOT EXISTS jobs_listings_data_published_idx
    ON public.jobs_listings_data (published_at);
CREATE INDEX IF NOT EXISTS jobs_listings_data_region_idx
    ON public.jobs_listings_data (region);
