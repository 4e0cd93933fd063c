"""Places as a gazetteer knows them: `cities` and `subdivisions` on `jobs_listings_data`.

Two text[] columns beside `countries`/`regions` (issue 28), and a backfill: every
listing's `location_raw` is parsed again with the release's `lib/location.py`, which
fills the new columns and re-derives `countries`, `regions` and `region` (cities and
subdivisions now decide many that were Unknown). The parse runs once per distinct
(source, location_raw), a few thousand strings even for a long history, and the result
reaches the table in one UPDATE joined on a temporary table, so the cost follows the
variety of the text, not the number of rows. `location_raw` itself is never changed.

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-06
"""

from alembic import op

revision = "0010"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE public.jobs_listings_data"
        " ADD COLUMN IF NOT EXISTS cities text[] NOT NULL DEFAULT '{}',"
        " ADD COLUMN IF NOT EXISTS subdivisions text[] NOT NULL DEFAULT '{}'"
    )
    backfill()


def backfill() -> None:
    """Re-parse each distinct location of the table (see the module docstring)."""
    from jobs_assets.lib.location import locate_text
    from jobs_assets.lib.normalise import _home_country

    bind = op.get_bind()
    pairs = bind.exec_driver_sql(
        "SELECT DISTINCT source, location_raw FROM public.jobs_listings_data"
        " WHERE location_raw IS NOT NULL"
    ).fetchall()
    if not pairs:
        return
    bind.exec_driver_sql(
        "CREATE TEMPORARY TABLE jobs_places_backfill (source text, location_raw text,"
        " countries text[], regions text[], region text, cities text[],"
        " subdivisions text[]) ON COMMIT DROP"
    )
    rows = []
    for source, raw in pairs:
        place = locate_text(raw, _home_country(source))
        rows.append(
            (
                source,
                raw,
                list(place.countries),
                list(place.regions),
                place.region,
                list(place.cities),
                list(place.subdivisions),
            )
        )
    bind.exec_driver_sql(
        "INSERT INTO jobs_places_backfill VALUES (%s, %s, %s, %s, %s, %s, %s)", rows
    )
    bind.exec_driver_sql(
        """
UPDATE public.jobs_listings_data AS l
   SET countries = b.countries, regions = b.regions, region = b.region,
       cities = b.cities, subdivisions = b.subdivisions
  FROM jobs_places_backfill AS b
 WHERE l.source = b.source AND l.location_raw = b.location_raw
   AND (l.countries, l.regions, l.region, l.cities, l.subdivisions)
       IS DISTINCT FROM (b.countries, b.regions, b.region, b.cities, b.subdivisions)
"""
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE public.jobs_listings_data"
        " DROP COLUMN IF EXISTS subdivisions, DROP COLUMN IF EXISTS cities"
    )
