"""Listing identity: lifecycle and cluster columns, the history, overrides, the current view.

Existing rows become `active` (the column default), get `category_normalised` and
`company_key` computed here from their stored values (the same functions the
normaliser uses, once per distinct value), and their present state as the first
version in `public.jobs_listings_history` (valid from `first_seen_at`). Duplicate
clusters are assigned by the next load of each listing's window (NULL meanwhile,
which the current view treats as a listing alone).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The content columns a version is told apart by (frozen here: lib/identity/lifecycle.py keeps
# its own list; should they ever differ, the next load writes one extra version).
_CONTENT = (
    "title, company_name, job_url, company_logo_url, job_type, seniority, category, tags, "
    "location_raw, countries, regions, region, salary_raw, salary_min, salary_max, "
    "salary_currency, salary_period, salary_min_usd, salary_max_usd, salary_usd_rate_date, "
    "description_text, published_at, expires_at, status, expired_at, reactivated_count, "
    "category_normalised, company_key"
)
_HISTORY_COLUMNS = (
    "source, source_job_id, title, company_name, job_url, company_logo_url, job_type, "
    "seniority, category, tags, location_raw, countries, regions, region, salary_raw, "
    "salary_min, salary_max, salary_currency, salary_period, salary_min_usd, salary_max_usd, "
    "salary_usd_rate_date, description_text, published_at, expires_at, retrieved_at, "
    "first_seen_at, last_seen_at, last_partition_key, status, expired_at, reactivated_count, "
    "category_normalised, company_key"
)


def upgrade() -> None:
    op.execute(
        """
ALTER TABLE public.jobs_listings_data
    ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'expired')),
    ADD COLUMN IF NOT EXISTS expired_at timestamptz,
    ADD COLUMN IF NOT EXISTS reactivated_count integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS duplicate_cluster_id text,
    ADD COLUMN IF NOT EXISTS is_canonical boolean,
    ADD COLUMN IF NOT EXISTS category_normalised text,
    ADD COLUMN IF NOT EXISTS company_key text;

-- Blocking: the matcher reads the active listings of the window's companies only.
CREATE INDEX IF NOT EXISTS jobs_listings_data_company_key_idx
    ON public.jobs_listings_data (company_key) WHERE status = 'active';
-- Expiry: the active listings of a source not seen since a given window.
CREATE INDEX IF NOT EXISTS jobs_listings_data_active_seen_idx
    ON public.jobs_listings_data (source, last_seen_at) WHERE status = 'active';

CREATE TABLE IF NOT EXISTS public.jobs_listings_history (
    source               text        NOT NULL,
    source_job_id        text        NOT NULL,
    title                text,
    company_name         text,
    job_url              text,
    company_logo_url     text,
    job_type             text,
    seniority            text,
    category             text,
    tags                 text[]      NOT NULL DEFAULT '{}',
    location_raw         text,
    countries            text[]      NOT NULL DEFAULT '{}',
    regions              text[]      NOT NULL DEFAULT '{}',
    region               text        NOT NULL,
    salary_raw           text,
    salary_min           numeric,
    salary_max           numeric,
    salary_currency      text,
    salary_period        text,
    salary_min_usd       numeric,
    salary_max_usd       numeric,
    salary_usd_rate_date date,
    description_text     text,
    published_at         timestamptz,
    expires_at           timestamptz,
    retrieved_at         timestamptz NOT NULL,
    first_seen_at        timestamptz NOT NULL,
    last_seen_at         timestamptz NOT NULL,
    last_partition_key   text        NOT NULL,
    status               text        NOT NULL,
    expired_at           timestamptz,
    reactivated_count    integer     NOT NULL,
    category_normalised  text,
    company_key          text,
    valid_from           timestamptz NOT NULL,
    valid_to             timestamptz,
    row_hash             text        NOT NULL,
    PRIMARY KEY (source, source_job_id, valid_from)
);
-- The current version of a key: one at most, found by the key.
CREATE UNIQUE INDEX IF NOT EXISTS jobs_listings_history_current_idx
    ON public.jobs_listings_history (source, source_job_id) WHERE valid_to IS NULL;

CREATE TABLE IF NOT EXISTS public.jobs_duplicate_overrides (
    left_key    text        NOT NULL,
    right_key   text        NOT NULL,
    same        boolean     NOT NULL,
    note        text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (left_key, right_key),
    CHECK (left_key < right_key)
);

CREATE OR REPLACE VIEW public.jobs_listings_current AS
    SELECT * FROM public.jobs_listings_data
    WHERE status = 'active' AND (duplicate_cluster_id IS NULL OR is_canonical);
"""
    )
    _backfill_derived()
    op.execute(
        f"""
INSERT INTO public.jobs_listings_history ({_HISTORY_COLUMNS}, valid_from, valid_to, row_hash)
SELECT {_HISTORY_COLUMNS}, first_seen_at, NULL, md5(row({_CONTENT})::text)
FROM public.jobs_listings_data
ON CONFLICT DO NOTHING
"""
    )


def _backfill_derived() -> None:
    """category_normalised and company_key of the rows already stored, computed once per
    distinct value in Python (the normaliser's own functions) and set with one UPDATE."""
    from jobs_assets.lib.identity.text import company_key
    from jobs_assets.lib.normalise.categories import OTHER, category_from_values, normalise_category

    bind = op.get_bind()
    rows = bind.exec_driver_sql(
        "SELECT DISTINCT category, tags, company_name FROM public.jobs_listings_data"
    ).fetchall()
    if not rows:
        return
    values = []
    for category, tags, company in rows:
        found = normalise_category(category)
        if found == OTHER:
            found = category_from_values(tags)
        values.append((category, tags, company, found, company_key(company) if company else None))
    bind.exec_driver_sql(
        "CREATE TEMP TABLE derived_backfill (category text, tags text[], company_name text, "
        "category_normalised text, company_key text) ON COMMIT DROP"
    )
    bind.exec_driver_sql("INSERT INTO derived_backfill VALUES (%s, %s, %s, %s, %s)", values)
    bind.exec_driver_sql(
        "UPDATE public.jobs_listings_data AS t SET category_normalised = d.category_normalised, "
        "company_key = d.company_key FROM derived_backfill AS d "
        "WHERE t.category IS NOT DISTINCT FROM d.category AND t.tags = d.tags "
        "AND t.company_name IS NOT DISTINCT FROM d.company_name"
    )
    bind.exec_driver_sql("DROP TABLE derived_backfill")


def downgrade() -> None:
    op.execute(
        """
DROP VIEW IF EXISTS public.jobs_listings_current;
DROP TABLE IF EXISTS public.jobs_duplicate_overrides;
DROP TABLE IF EXISTS public.jobs_listings_history;
ALTER TABLE public.jobs_listings_data
    DROP COLUMN IF EXISTS company_key,
    DROP COLUMN IF EXISTS category_normalised,
    DROP COLUMN IF EXISTS is_canonical,
    DROP COLUMN IF EXISTS duplicate_cluster_id,
    DROP COLUMN IF EXISTS reactivated_count,
    DROP COLUMN IF EXISTS expired_at,
    DROP COLUMN IF EXISTS status;
"""
    )
