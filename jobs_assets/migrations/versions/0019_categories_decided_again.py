"""Categories decided again with this release's vocabulary and title rule.

This release decides a title's category by its head (the role before a comma, dash,
bracket or "for/at/in" outranks a qualifier after it, unless it names only a generic
role) and the longest phrase, not the first row of `categories.csv`, and its vocabulary
knows professions that fell to `Other` (`lib/normalise/categories.py`). Listings stored
by the previous release keep their old `category_normalised` until a window sees them
again, so the upgrade decides every stored listing's category again: once per distinct
(category, tags, title), one UPDATE of the rows whose category changes. The UPDATE joins
on the three as one row's text (NULL and '' stay apart in it): an equality, so a hash
join, where `IS NOT DISTINCT FROM` on each would compare every listing with every input.
The current version of each listing in the history gets the same value and its
`row_hash` again, so the upgrade writes no new version; no column or row is added or
removed.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from alembic import op

from jobs_assets.migrations.again import rehash_current_versions

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from jobs_assets.lib.normalise.categories import categorise

    bind = op.get_bind()
    inputs = bind.exec_driver_sql(
        "SELECT DISTINCT category, tags, title FROM public.jobs_listings_data"
    ).fetchall()
    decided = [
        (category, tags, title, categorise(category, tags or (), title))
        for category, tags, title in inputs
    ]
    # dropped at commit; a later revision that runs this again in the same transaction
    # (an upgrade over several revisions) finds it still there
    bind.exec_driver_sql("DROP TABLE IF EXISTS pg_temp.jobs_categories_again")
    bind.exec_driver_sql(
        "CREATE TEMPORARY TABLE jobs_categories_again (category text, tags text[], "
        "title text, category_normalised text) ON COMMIT DROP"
    )
    if decided:
        bind.exec_driver_sql("INSERT INTO jobs_categories_again VALUES (%s, %s, %s, %s)", decided)
    for table, current in (
        ("jobs_listings_data", ""),
        ("jobs_listings_history", "AND t.valid_to IS NULL"),
    ):
        bind.exec_driver_sql(
            f"""
UPDATE public.{table} AS t SET category_normalised = d.category_normalised
  FROM jobs_categories_again AS d
 WHERE ROW(t.category, t.tags, t.title)::text = ROW(d.category, d.tags, d.title)::text
   AND t.category_normalised IS DISTINCT FROM d.category_normalised {current}
"""
        )
    rehash_current_versions(bind)  # no new version: the current ones hashed again


def downgrade() -> None:
    """Nothing to undo: the column keeps the newer decision (no schema change)."""
