"""Places and who may apply parsed again with this release's parser.

This release reads more of what listings write about place and eligibility
(`lib/normalise/location.py`, `lib/normalise/eligibility.py`): a state code after a city
is that country's subdivision, not a country ("Porto Alegre, RS" is Brazil, not Serbia);
a city's own name beats another city's alternate one; "non-US", "no US", "anywhere but
US" and "(US not eligible)" exclude the US instead of naming it; spelled-out time zones
give their band; the home market yields to a much bigger foreign city. Listings stored
by the previous release keep their old parse until a window sees them again, and some
of those parses named a wrong country, so the upgrade parses every stored listing again.

It runs the two backfills that brought these columns (0010 for `countries`, `regions`,
`region`, `cities`, `subdivisions`; 0012 for `eligibility`, `eligible_countries`,
`utc_offset_min`/`utc_offset_max`), with the parser this release ships: once per
distinct input, one UPDATE per table, only rows whose values change are written. The
current version of each listing in the history gets the same values and its
`row_hash` again, so the upgrade writes no new version; no column or row is added or
removed.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from alembic import op

from jobs_assets.migrations.again import load_revision

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


#: the backfills' scratch tables, dropped at commit: an upgrade from before 0010 runs
#: them earlier in the same transaction
_SCRATCH = (
    "jobs_places_staged",
    "jobs_places_inputs",
    "jobs_places_backfill",
    "jobs_eligibility_staged",
    "jobs_eligibility_inputs",
    "jobs_eligibility_found",
)


def upgrade() -> None:
    for table in _SCRATCH:
        op.execute(f"DROP TABLE IF EXISTS pg_temp.{table}")
    load_revision("0010_places").backfill()
    load_revision("0012_eligibility").backfill()


def downgrade() -> None:
    """Nothing to undo: the columns keep the newer parse (a parse, not a schema change)."""
