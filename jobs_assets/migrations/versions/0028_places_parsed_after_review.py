"""Places and who may apply decided again after a review on new real listings.

Tried on 484 location strings that real listings carried and the parser had never seen
(saved by other public projects, not kept here), this release reads a few more of them
right (`lib/normalise/location.py`): a US state code with words that do not change the
place after it is still the state ("Remote, Boston, MA Preferred", "Boston, MA (Hybrid)"
were Morocco; "Seattle, WA Preferred" Ghana too); in mixed-case text "OR" in capitals is
Oregon ("Portland, OR Metro" split on "or" and found Metro in Indonesia); a comma lists
places, so in "Canada, USA timezones" Canada stays a country; a worldwide word inside a
restriction is no worldwide ("Anywhere in Country", "GM Global Technical Center" were
`worldwide`); and remote said otherwise is ("Work From Home", "Virtual", "#LI-Remote",
"World Wide"). Listings stored by the previous release keep their old parse until a
window sees them again, so the upgrade decides them again, as 0021 did.

It runs 0018's upgrade with this release's parser: once per distinct input, one UPDATE
per table of the rows whose values change; the current version of each listing in the
history gets the same values and its `row_hash` again, so the upgrade writes no new
version, and no column or row is added or removed.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07
"""

from jobs_assets.migrations.again import upgrade_again

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_again("0018_places_parsed_again")


def downgrade() -> None:
    """Nothing to undo: the columns keep the newer parse (a parse, not a schema change)."""
