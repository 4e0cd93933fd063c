"""Places and who may apply decided again with this release's rules.

This release reads a few more of the ways boards write a place (`lib/normalise/location.py`,
`lib/normalise/eligibility.py`): a state or province inside a longer text is its
subdivision too ("Remote - Quebec"), so a part of a country left out with words around
it keeps the rest of the country ("Canada (Remote - Quebec excluded)", "US - excluding
residents of California": both were `unknown`); a country's time zones are a band as
"US time zones" is ("UK time zones", "EU/UK timezones", "US/Canada time zones"); how a
team works restricts nothing ("Global (async team)" is worldwide); a state or province
after a city decides which city it is ("Valencia, Carabobo" is Venezuela's), and a name
undecided alone is looked for in the one country the text's other places are in
("Valencia, Barcelona"). Listings stored by the previous release keep their old parse
until a window sees them again, so the upgrade decides them again.

It runs 0018's upgrade with this release's parser: once per distinct input, one UPDATE
per table of the rows whose values change (a source that sends a list of places is read
from its staged list, as the pipeline reads it: an empty list is anywhere, which
reading the joined text made Unknown); the current version of each listing in the
history gets the same values and its `row_hash` again, so the upgrade writes no new
version, and no column or row is added or removed.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

from jobs_assets.migrations.again import upgrade_again

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_again("0018_places_parsed_again")


def downgrade() -> None:
    """Nothing to undo: the columns keep the newer parse (a parse, not a schema change)."""
