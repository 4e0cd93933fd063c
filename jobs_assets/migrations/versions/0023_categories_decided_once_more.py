"""Categories decided again with this release's vocabulary.

This release's `categories.csv` puts a role's noun before the areas it serves (a
"Marketing Designer" is Design, a "Sales Recruiter" Human Resources, a "Finance Tutor"
Education: the area word's row came first in the file and won), maps "support engineer"
to Customer Support (it was DevOps), takes a board's "All others" as saying nothing (the
title and tags decide; it was evidence for Other), puts German payroll titles with Human
Resources ("Lohnbuchhalter", "Entgeltabrechner"), and knows titles in German, French and
Spanish that fell to Other ("Projektleiter", "Comptable", "Ingeniero de Datos"). Listings
stored by the previous release keep their old category until a window sees them again,
so the upgrade runs 0019's: once per distinct (category, tags, title), one UPDATE of the
rows whose category changes; the current version in the history gets the same value and
its `row_hash` again, so no new version is written.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07
"""

from jobs_assets.migrations.again import upgrade_again

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_again("0019_categories_decided_again")


def downgrade() -> None:
    """Nothing to undo: the column keeps the newer decision (no schema change)."""
