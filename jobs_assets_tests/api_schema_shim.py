"""TEST SHIM for the read API: the schema it needs that other work has not landed yet.

Until the migrations of issue 11/14/15 land, the API's tests create here, in their own
scratch database, the pieces the API reads:
- issue 14's listing-identity columns, `public.jobs_listings_history` and the
  `public.jobs_listings_current` view (stand-ins with the agreed names and types);
- jobs_assets/api/schema.sql itself (the full-text column, indexes, data version): the
  migration body the lead turns into an Alembic revision;
- issue 15's marts `marts.daily_postings` and `marts.salary_percentiles`, as plain tables
  the tests fill directly (dbt builds them in production).
Delete the stand-ins once the real migrations and dbt models exist; keep API_SCHEMA_SQL.
"""

from __future__ import annotations

from pathlib import Path

import psycopg

import jobs_assets.api

API_SCHEMA_SQL = (Path(jobs_assets.api.__file__).parent / "schema.sql").read_text()

# --- stand-in for issue 14 (listing identity) ---------------------------------------
LISTING_IDENTITY_SQL = """
ALTER TABLE public.jobs_listings_data
    ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'expired')),
    ADD COLUMN IF NOT EXISTS expired_at timestamptz,
    ADD COLUMN IF NOT EXISTS reactivated_count integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS duplicate_cluster_id text,
    ADD COLUMN IF NOT EXISTS is_canonical boolean,
    ADD COLUMN IF NOT EXISTS category_normalised text;

CREATE TABLE IF NOT EXISTS public.jobs_listings_history (
    LIKE public.jobs_listings_data,
    valid_from timestamptz NOT NULL,
    valid_to   timestamptz,
    row_hash   text NOT NULL
);

CREATE OR REPLACE VIEW public.jobs_listings_current AS
    SELECT * FROM public.jobs_listings_data
    WHERE status = 'active' AND (duplicate_cluster_id IS NULL OR is_canonical);
"""

# --- stand-in for issue 15 (dbt marts) -----------------------------------------------
MARTS_SQL = """
CREATE SCHEMA IF NOT EXISTS marts;
CREATE TABLE IF NOT EXISTS marts.daily_postings (
    day date NOT NULL, source text NOT NULL, region text, category_normalised text,
    new_listings bigint NOT NULL, active_listings bigint NOT NULL,
    expired_listings bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS marts.salary_percentiles (
    region text, category_normalised text, seniority text, listings bigint NOT NULL,
    p25 numeric, p50 numeric, p75 numeric
);
CREATE TABLE IF NOT EXISTS marts.top_companies (
    iso_week text, company text, new_listings bigint, share numeric
);
CREATE TABLE IF NOT EXISTS marts.tag_trends (
    iso_week text, tag text, listings bigint, share numeric
);
CREATE TABLE IF NOT EXISTS marts.listing_durations (
    source text, category_normalised text, listings_expired bigint, median_days numeric,
    p90_days numeric
);
"""


def apply_api_schema(conn: psycopg.Connection) -> None:
    """Everything the API reads, on top of jobs_assets.lib.db's base schema (idempotent)."""
    with conn.transaction():
        conn.execute(LISTING_IDENTITY_SQL)
        conn.execute(API_SCHEMA_SQL)
        conn.execute(MARTS_SQL)
