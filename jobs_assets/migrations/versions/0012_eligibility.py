"""Who may apply: `eligibility`, `eligible_countries`, `utc_offset_min`/`utc_offset_max`.

Four columns on `jobs_listings_data` (issue 28, `lib/normalise/eligibility.py`), in the history
too (a version keeps them; versions written before the upgrade hold NULL: they never
had them), and the views created again so they show them.

The backfill computes them from what is stored: each listing's `location_raw`, and,
where the staging table still holds a payload of the listing (the newest window's),
the fields `lib/normalise/eligibility.py` reads beyond the text (a source's list of
places and of time-zone restrictions, its remote flag), read with each source's field
map as the pipeline reads them. The parse runs once per distinct combination of those
inputs and the result reaches the table in one UPDATE joined on temporary tables, so
the cost follows the variety of the text, not the number of rows. Nothing else of a
listing changes. The current version of each listing in the history gets the same
values and a `row_hash` over them, so the upgrade writes no new version.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from alembic import op

from jobs_assets.migrations.again import rehash_current_versions

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


_LISTINGS = (
    "ALTER TABLE public.jobs_listings_data"
    " ADD COLUMN IF NOT EXISTS eligibility text NOT NULL DEFAULT 'unknown'::text,"
    " ADD COLUMN IF NOT EXISTS eligible_countries text[] NOT NULL DEFAULT '{}',"
    " ADD COLUMN IF NOT EXISTS utc_offset_min numeric,"
    " ADD COLUMN IF NOT EXISTS utc_offset_max numeric"
)
_HISTORY = (
    "ALTER TABLE public.jobs_listings_history"
    " ADD COLUMN IF NOT EXISTS eligibility text,"
    " ADD COLUMN IF NOT EXISTS eligible_countries text[],"
    " ADD COLUMN IF NOT EXISTS utc_offset_min numeric,"
    " ADD COLUMN IF NOT EXISTS utc_offset_max numeric"
)
_COLUMNS = ("eligibility", "eligible_countries", "utc_offset_min", "utc_offset_max")

# The views select `*`, which PostgreSQL expands when they are created: created again so
# they show the new columns (the text of 0009, kept here so this migration never changes).
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


def upgrade() -> None:
    op.execute(_LISTINGS)
    op.execute(_HISTORY)
    op.execute(VIEWS)
    backfill()


def backfill() -> None:
    """Compute the four columns for every stored listing (see the module docstring)."""
    from jobs_assets.lib.normalise.eligibility import eligibility_of
    from jobs_assets.lib.normalise.location import locate_names, locate_text
    from jobs_assets.lib.normalise.rows import (
        _flag,
        _home_country,
        _location_names,
        _offsets,
        _source_attribute,
    )
    from jobs_assets.lib.sources import SOURCES

    bind = op.get_bind()
    bind.exec_driver_sql(
        "CREATE TEMPORARY TABLE jobs_eligibility_staged (source text, source_job_id text,"
        " location_json text, timezones_json text, remote_flag text) ON COMMIT DROP"
    )
    for name, source in SOURCES.items():
        fields = source.columns  # SQL over `payload`, as the pipeline extracts
        bind.exec_driver_sql(
            "INSERT INTO jobs_eligibility_staged SELECT DISTINCT ON (source_job_id)"
            f" source, source_job_id, {fields['location_json']}, {fields['timezones_json']},"
            f" {fields['remote_flag']} FROM staging.staging_jobs_listings_data"
            " WHERE source = %s ORDER BY source_job_id, partition_key DESC",
            (name,),
        )
    bind.exec_driver_sql(
        """
CREATE TEMPORARY TABLE jobs_eligibility_inputs ON COMMIT DROP AS
SELECT l.source, l.source_job_id, l.location_raw, s.location_json, s.timezones_json,
       s.remote_flag, s.source_job_id IS NOT NULL AS staged,
       dense_rank() OVER (ORDER BY l.source, l.location_raw, s.source_job_id IS NOT NULL,
                          s.location_json, s.timezones_json, s.remote_flag) AS combo
FROM public.jobs_listings_data AS l
LEFT JOIN jobs_eligibility_staged AS s USING (source, source_job_id)
"""
    )
    combos = bind.exec_driver_sql(
        "SELECT DISTINCT ON (combo) combo, source, location_raw, staged, location_json,"
        " timezones_json, remote_flag FROM jobs_eligibility_inputs ORDER BY combo"
    ).fetchall()
    rows = []
    for combo, source, raw, staged, location_json, timezones, remote in combos:
        home = _home_country(source)
        listed = SOURCES[source].columns["location_json"] != "NULL"  # a list of names
        if staged and location_json is not None:
            place = locate_names(_location_names(location_json)[0], home)
        elif listed and not staged and raw is not None:  # a list stored as its names joined
            place = locate_names([raw] if raw else [], home)
        else:
            place = locate_text(raw, home)
        found = eligibility_of(
            raw,
            place,
            timezones=_offsets(timezones),
            remote=_flag(remote),
            remote_only=bool(_source_attribute(source, "remote_only", True)),
            home_country=home,
        )
        rows.append(
            (
                combo,
                found.eligibility,
                list(found.eligible_countries),
                found.utc_offset_min,
                found.utc_offset_max,
            )
        )
    bind.exec_driver_sql(
        "CREATE TEMPORARY TABLE jobs_eligibility_found (combo bigint, eligibility text,"
        " eligible_countries text[], utc_offset_min numeric, utc_offset_max numeric)"
        " ON COMMIT DROP"
    )
    if rows:
        bind.exec_driver_sql("INSERT INTO jobs_eligibility_found VALUES (%s, %s, %s, %s, %s)", rows)
    bind.exec_driver_sql(
        """
UPDATE public.jobs_listings_data AS l
   SET eligibility = f.eligibility, eligible_countries = f.eligible_countries,
       utc_offset_min = f.utc_offset_min, utc_offset_max = f.utc_offset_max
  FROM jobs_eligibility_inputs AS i
  JOIN jobs_eligibility_found AS f USING (combo)
 WHERE l.source = i.source AND l.source_job_id = i.source_job_id
   AND (l.eligibility, l.eligible_countries, l.utc_offset_min, l.utc_offset_max)
       IS DISTINCT FROM (f.eligibility, f.eligible_countries, f.utc_offset_min,
                         f.utc_offset_max)
"""
    )
    bind.exec_driver_sql(
        """
UPDATE public.jobs_listings_history AS h
   SET eligibility = l.eligibility, eligible_countries = l.eligible_countries,
       utc_offset_min = l.utc_offset_min, utc_offset_max = l.utc_offset_max
  FROM public.jobs_listings_data AS l
 WHERE h.valid_to IS NULL AND h.source = l.source AND h.source_job_id = l.source_job_id
   AND (h.eligibility, h.eligible_countries, h.utc_offset_min, h.utc_offset_max)
       IS DISTINCT FROM (l.eligibility, l.eligible_countries, l.utc_offset_min,
                         l.utc_offset_max)
"""
    )
    rehash_current_versions(bind)  # every current version: its hash now covers the new columns


def downgrade() -> None:
    op.execute(
        "DROP VIEW IF EXISTS public.jobs_listings_current_with_estimates;"
        " DROP VIEW IF EXISTS public.jobs_listings_current;"
    )
    drops = ", ".join(f"DROP COLUMN IF EXISTS {c}" for c in reversed(_COLUMNS))
    for table in ("public.jobs_listings_data", "public.jobs_listings_history"):
        op.execute(f"ALTER TABLE {table} {drops}")
    op.execute(VIEWS)  # as 0010 left them
