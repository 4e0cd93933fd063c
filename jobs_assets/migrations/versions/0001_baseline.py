"""Baseline: the schema of the release before migrations, as it created it.

Every statement says IF NOT EXISTS, so a database made by that release (tables in
place, no `alembic_version`) is upgraded in place: this revision changes nothing there
and only records itself, and later revisions run on its rows. Never edit this file:
change the schema with a new revision.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
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
"""
    )


def downgrade() -> None:
    raise NotImplementedError(
        "the baseline is not reversible: dropping the tables would drop every listing; "
        "restore a backup (make restore) to go back to an earlier state"
    )
