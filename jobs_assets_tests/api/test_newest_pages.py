"""Pages of GET /listings, newest first, whichever way `queries.search_listings` finds them.

A page is found from the newest-first index (label and salary filters), or, with full
text, by a walk of the newest NEWEST_PROBE listings and, when that does not fill the
page, from every match of the words (queries._newest_page). Every way must give what
the plain query gives: the filters, then newest first. Here the pages of the pipeline's
data are compared with that plain query, with probes small enough that the second try
runs, and large enough that the first fills the page.
"""

from __future__ import annotations

import psycopg
import pytest

from jobs_assets.lib.listings import queries
from jobs_assets.lib.listings.queries import Keyset, ListingFilters


def plain(conn: psycopg.Connection, f: ListingFilters) -> list[tuple[str, str]]:
    """The keys of every listing `f` matches, newest first: the filters, then the order."""
    params: dict = {}
    where = " AND ".join(queries.where_clauses(f, params)) or "true"
    return [
        tuple(row)
        for row in conn.execute(
            f"SELECT l.source, l.source_job_id FROM public.jobs_listings_data l WHERE {where} "
            "ORDER BY coalesce(l.published_at, l.first_seen_at) DESC, l.source DESC, "
            "l.source_job_id DESC",
            params,
        )
    ]


def paged(conn: psycopg.Connection, f: ListingFilters, limit: int) -> list[tuple[str, str]]:
    """Every listing of every page of `f`, through the keyset, as the API pages them."""
    found, after = [], None
    snapshot = queries.snapshot(conn)
    while True:
        items, after = queries.search_listings(conn, f, "newest", Keyset(snapshot, after), limit)
        found += [(item["source"], item["source_job_id"]) for item in items]
        if after is None:
            return found


def filters_of_the_data(conn: psycopg.Connection) -> list[ListingFilters]:
    """Filters that match many, few and no listings of the loaded data: a common and a
    rare word, each label's most and least common value, a salary bound, contradictions."""

    def values(column: str) -> list[str]:
        rows = conn.execute(
            f"SELECT {column} FROM public.jobs_listings_data WHERE {column} <> '' "
            "GROUP BY 1 ORDER BY count(*) DESC, 1"
        ).fetchall()
        return [rows[0][0], rows[-1][0]]

    out = [ListingFilters(), ListingFilters(include_duplicates=True, status="all")]
    for word in ("engineer", "python", "zzznotaword"):
        out.append(ListingFilters(q=word))
    for region in values("region"):
        out += [ListingFilters(region=region.lower()), ListingFilters(region=region, q="data")]
    for category in values("category_normalised"):
        out.append(ListingFilters(category=category, min_salary_usd=40_000))
    out += [
        ListingFilters(seniority=values("seniority")[1]),
        ListingFilters(salary_band="not_stated", min_salary_usd=50_000),  # nothing
        ListingFilters(status="expired"),
    ]
    return out


@pytest.mark.parametrize("probe", [1, 5, 10_000])
def test_every_way_to_a_page_gives_the_plain_query(
    api_db: str, monkeypatch: pytest.MonkeyPatch, probe: int
) -> None:
    monkeypatch.setattr(queries, "NEWEST_PROBE", probe)
    with psycopg.connect(api_db, autocommit=True) as conn:
        cases = filters_of_the_data(conn)
        matched = 0
        for f in cases:
            expected = plain(conn, f)
            assert paged(conn, f, limit=7) == expected, f
            matched += bool(expected)
        # most cases match something, and one at least matches nothing
        assert len(cases) - 3 <= matched < len(cases)
