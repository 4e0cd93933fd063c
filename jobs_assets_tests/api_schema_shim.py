"""TEST STAND-IN for the read API: the marts it reads, as plain tables the tests fill.

Everything else the API reads (the listing-identity columns, the history, the current
view, the full-text column and the data version) comes from the migrations
(jobs_assets/migrations/versions/0002, 0003). dbt builds the marts in production; the
API tests fill these stand-ins directly so they run without dbt.
"""

from __future__ import annotations

import psycopg

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
    """The marts stand-ins, on top of a migrated database (idempotent)."""
    with conn.transaction():
        conn.execute(MARTS_SQL)
