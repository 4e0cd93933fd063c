"""Places, who may apply and categories decided again with this release's rules.

This release reads more of what boards write (`lib/normalise/location.py`,
`lib/normalise/eligibility.py`, `data/categories.csv`): "Atlanta, Georgia" is the US
state, not the country; every place an exclusion names is left out ("Worldwide except
US and Canada" no longer names Canada), in German, French, Spanish, Italian, Portuguese
and Dutch too; a state left out keeps its country eligible ("US only, excluding
Hawaii"); directions share one noun ("North and South America") and alone name no
place; flags are their country; "West Coast", "New England" and "Long Island" are the
US; "Weltweit" and "Europa" are no German village; parts of the world in other
languages are those parts ("Osteuropa", "Europa del Este", "América del Norte", not
all of Europe or the US), Central Europe its own countries, "CEE" and "Central Africa"
theirs; "Berlin (Remote)" is Berlin, not worldwide; a ZIP code is no town; US states'
codes side by side are states and ET/PT the US zones; flags side by side a list; hybrid
words in other languages; bands with a bare UTC end; tools
and titles the vocabulary lacked (figma, power bi, Datenanalyst). Listings stored by
the previous release keep their old parse until a window sees them again, and some of
those parses named a wrong country, so the upgrade decides them again.

It runs 0018's and 0019's upgrades, with this release's parser and vocabulary: once per
distinct input, one UPDATE per table of the rows whose values change; the current
version of each listing in the history gets the same values and its `row_hash` again,
so the upgrade writes no new version, and no column or row is added or removed. An
upgrade from before 0018 runs them twice (a few seconds per 10,000 listings).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from jobs_assets.migrations.again import load_revision

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    load_revision("0018_places_parsed_again").upgrade()
    load_revision("0019_categories_decided_again").upgrade()


def downgrade() -> None:
    """Nothing to undo: the columns keep the newer parse (a parse, not a schema change)."""
