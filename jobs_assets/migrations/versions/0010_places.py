"""Places as a gazetteer knows them: `cities` and `subdivisions` on `jobs_listings_data`.

Two text[] columns beside `countries`/`regions` (issue 28), and a backfill: every
listing's `location_raw` is parsed again with the release's `lib/normalise/location.py`, which
fills the new columns and re-derives `countries`, `regions` and `region` (cities and
subdivisions now decide many that were Unknown). The parse runs once per distinct
(source, location_raw), a few thousand strings even for a long history, and the result
reaches the table in one UPDATE joined on a temporary table, so the cost follows the
variety of the text, not the number of rows. `location_raw` itself is never changed.

`jobs_listings_history` gets the two columns too (a version keeps every normalised
column); its current versions get the re-derived values and a `row_hash` over them, so
the upgrade writes no new version of any listing.

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-06
"""

from alembic import op

from jobs_assets.migrations.again import rehash_current_versions

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


_ADD = (
    " ADD COLUMN IF NOT EXISTS cities text[] NOT NULL DEFAULT '{}',"
    " ADD COLUMN IF NOT EXISTS subdivisions text[] NOT NULL DEFAULT '{}'"
)


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
    op.execute("ALTER TABLE public.jobs_listings_data" + _ADD)
    op.execute("ALTER TABLE public.jobs_listings_history" + _ADD)  # a version keeps them
    op.execute(VIEWS)
    backfill()


def backfill() -> None:
    """Parse each listing's place again as the pipeline does (see the module docstring).

    A source that sends a list of places (its field map's `location_json`) is read from
    its newest staged payload with `locate_names`, as the pipeline reads it: an empty list
    is anywhere, not an unknown place. Listings whose places do not change are not
    written; the current version of each listing in `jobs_listings_history` gets the same
    values and its `row_hash` recomputed: a re-parse is not a change of the listing, so
    the next window writes no new version for it.
    """
    from jobs_assets.lib.normalise.location import locate_names, locate_text
    from jobs_assets.lib.normalise.rows import _home_country, _location_names
    from jobs_assets.lib.sources import SOURCES

    bind = op.get_bind()
    bind.exec_driver_sql(
        "CREATE TEMPORARY TABLE jobs_places_staged (source text, source_job_id text,"
        " location_json text) ON COMMIT DROP"
    )
    listed = {name for name, source in SOURCES.items() if source.columns["location_json"] != "NULL"}
    for name in sorted(listed):
        bind.exec_driver_sql(
            "INSERT INTO jobs_places_staged SELECT DISTINCT ON (source_job_id)"
            f" source, source_job_id, {SOURCES[name].columns['location_json']}"
            " FROM staging.staging_jobs_listings_data"
            " WHERE source = %s ORDER BY source_job_id, partition_key DESC",
            (name,),
        )
    bind.exec_driver_sql(
        """
CREATE TEMPORARY TABLE jobs_places_inputs ON COMMIT DROP AS
SELECT l.source, l.source_job_id, l.location_raw, s.location_json,
       s.source_job_id IS NOT NULL AS staged,
       dense_rank() OVER (ORDER BY l.source, l.location_raw, s.source_job_id IS NOT NULL,
                          s.location_json) AS combo
FROM public.jobs_listings_data AS l
LEFT JOIN jobs_places_staged AS s USING (source, source_job_id)
WHERE l.location_raw IS NOT NULL
"""
    )
    combos = bind.exec_driver_sql(
        "SELECT DISTINCT ON (combo) combo, source, location_raw, staged, location_json"
        " FROM jobs_places_inputs ORDER BY combo"
    ).fetchall()
    bind.exec_driver_sql(
        "CREATE TEMPORARY TABLE jobs_places_backfill (combo bigint, countries text[],"
        " regions text[], region text, cities text[], subdivisions text[]) ON COMMIT DROP"
    )
    rows = []
    for combo, source, raw, staged, location_json in combos:
        home = _home_country(source)
        if staged and location_json is not None:
            place = locate_names(_location_names(location_json)[0], home)
        elif source in listed:  # a list stored as its names joined
            place = locate_names([raw] if raw else [], home)
        else:
            place = locate_text(raw, home)
        rows.append(
            (
                combo,
                list(place.countries),
                list(place.regions),
                place.region,
                list(place.cities),
                list(place.subdivisions),
            )
        )
    if rows:
        bind.exec_driver_sql(
            "INSERT INTO jobs_places_backfill VALUES (%s, %s, %s, %s, %s, %s)", rows
        )
    bind.exec_driver_sql(
        """
UPDATE public.jobs_listings_data AS l
   SET countries = b.countries, regions = b.regions, region = b.region,
       cities = b.cities, subdivisions = b.subdivisions
  FROM jobs_places_inputs AS i
  JOIN jobs_places_backfill AS b USING (combo)
 WHERE l.source = i.source AND l.source_job_id = i.source_job_id
   AND (l.countries, l.regions, l.region, l.cities, l.subdivisions)
       IS DISTINCT FROM (b.countries, b.regions, b.region, b.cities, b.subdivisions)
"""
    )
    bind.exec_driver_sql(
        """
UPDATE public.jobs_listings_history AS h
   SET countries = l.countries, regions = l.regions, region = l.region,
       cities = l.cities, subdivisions = l.subdivisions
  FROM public.jobs_listings_data AS l
 WHERE h.valid_to IS NULL AND h.source = l.source AND h.source_job_id = l.source_job_id
   AND (h.countries, h.regions, h.region, h.cities, h.subdivisions)
       IS DISTINCT FROM (l.countries, l.regions, l.region, l.cities, l.subdivisions)
"""
    )
    rehash_current_versions(bind)  # every current version: its hash now covers the new columns


def downgrade() -> None:
    op.execute(
        "DROP VIEW IF EXISTS public.jobs_listings_current_with_estimates;"
        " DROP VIEW IF EXISTS public.jobs_listings_current;"
    )
    for table in ("public.jobs_listings_data", "public.jobs_listings_history"):
        op.execute(
            f"ALTER TABLE {table} DROP COLUMN IF EXISTS subdivisions, DROP COLUMN IF EXISTS cities"
        )
    op.execute(VIEWS)  # as 0009 left them
