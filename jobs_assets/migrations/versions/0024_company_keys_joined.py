"""Company keys computed again: the words of a name joined, a domain's ending only.

This release's `company_key` (lib/identity/text.py) joins a folded name's words, so "Open
AI" and "OpenAI" block together, and drops a domain ending only when the name ends as a
domain does ("Zafran.io"): "Open AI" lost its "ai" as if it were one and blocked with
"Open". Listings stored by the previous release keep their old key until a window sees
them again, and the matcher reads the stored keys of active listings to find a new
listing's candidates, so the upgrade computes every stored listing's key again: once per
distinct company name, one UPDATE of the rows whose key changes. The current version of
each listing in the history gets the same value and its `row_hash` again, so the upgrade
writes no new version; no column or row is added or removed.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07
"""

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from jobs_assets.lib.identity.history import HASHED, ROW_HASH_SQL
    from jobs_assets.lib.identity.text import company_key

    bind = op.get_bind()
    names = bind.exec_driver_sql(
        "SELECT DISTINCT company_name FROM public.jobs_listings_data WHERE company_name IS NOT NULL"
    ).fetchall()
    keys = [(name, company_key(name) or None) for (name,) in names]
    bind.exec_driver_sql(
        "CREATE TEMPORARY TABLE jobs_company_keys_again (company_name text PRIMARY KEY,"
        " company_key text) ON COMMIT DROP"
    )
    if keys:
        bind.exec_driver_sql("INSERT INTO jobs_company_keys_again VALUES (%s, %s)", keys)
    present = {
        row[0]
        for row in bind.exec_driver_sql(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name = 'jobs_listings_history'"
        )
    }
    for table, current in (
        ("jobs_listings_data", ""),
        ("jobs_listings_history", "AND t.valid_to IS NULL"),
    ):
        if table == "jobs_listings_history" and "company_key" not in present:
            continue
        bind.exec_driver_sql(
            f"""
UPDATE public.{table} AS t SET company_key = d.company_key
  FROM jobs_company_keys_again AS d
 WHERE t.company_name = d.company_name
   AND t.company_key IS DISTINCT FROM d.company_key {current}
"""
        )
    # over the columns the history has at this revision (a later one may add more)
    hashed = ROW_HASH_SQL.format(", ".join(f"h.{c}" for c in HASHED if c in present))
    bind.exec_driver_sql(
        f"UPDATE public.jobs_listings_history AS h SET row_hash = {hashed}"
        f" WHERE h.valid_to IS NULL AND h.row_hash IS DISTINCT FROM {hashed}"
    )
    bind.exec_driver_sql("DROP TABLE jobs_company_keys_again")


def downgrade() -> None:
    """Nothing to undo: the column keeps the newer keys (no schema change)."""
