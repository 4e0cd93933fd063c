"""The read side's SQL: listings, their filters, stats and facets, as the API shows them.

One place for the SQL that the read API, the saved searches' feed and delivery, and
the MCP server run, so a filter means the same thing everywhere. Every value is a bound
parameter, every identifier is fixed text here. Functions take a connection and return
plain dicts, already shaped like the JSON the endpoints send (the endpoints only cache
and serialise them). Pure: psycopg and `lib.sources`, no Dagster, no FastAPI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from jobs_assets.lib.sources import SOURCES

# What a listing shows in a list; the detail adds the description.
_LISTING_COLUMNS = """
    l.source, l.source_job_id, l.title, l.company_name, l.company_logo_url, l.job_url,
    l.job_type, l.seniority, l.category, l.category_normalised, l.tags, l.location_raw,
    l.countries, l.regions, l.region, l.eligibility, l.eligible_countries,
    l.utc_offset_min, l.utc_offset_max, l.salary_raw, l.salary_min, l.salary_max,
    l.salary_currency, l.salary_period, l.salary_min_usd, l.salary_max_usd, l.published_at, l.first_seen_at,
    l.last_seen_at, l.status, l.expired_at, l.duplicate_cluster_id, l.is_canonical,
    coalesce(l.published_at, l.first_seen_at) AS sort_at
"""
#: `q`: PostgreSQL's query parser stacks each '-' (NOT) until the next word, on a stack
#: 32 deep; more in a row fails the query ("tsquery stack too small"), so a q with more
#: than this many '-' between two letters or digits is refused. Only ASCII letters and
#: digits count as words: in a database with the C locale no other character is one.
MAX_NEGATIONS_IN_A_ROW = 16
_WORD_CHARACTER = re.compile(r"[A-Za-z0-9]")


def unsearchable(q: str) -> str | None:
    """Why PostgreSQL's web-search parser would fail on `q`, or None: the one rule the
    API's `q` and a saved search's stored `q` share."""
    run = max(part.count("-") for part in _WORD_CHARACTER.split(q))
    if run > MAX_NEGATIONS_IN_A_ROW:
        return (
            f"{run} '-' with no word between them; each '-' excludes the next word, "
            f"and the search takes at most {MAX_NEGATIONS_IN_A_ROW} in a row"
        )
    return None


_ANNUAL_USD = "coalesce(l.salary_max_usd, l.salary_min_usd)"
_SORT_AT = "coalesce(l.published_at, l.first_seen_at)"


def source_name(source: str) -> str:
    """The name a source asks to be credited by (its `display_name`, else its key)."""
    found = SOURCES.get(source)
    return getattr(found, "display_name", None) or source.capitalize()


#: Annual USD salary bands, on the figure `min_salary_usd` compares (the listing's USD
#: maximum a year, its minimum when it gives no maximum): name -> [low, high) in US
#: dollars a year (None: unbounded); "not_stated": no USD figure (no salary, or one in a
#: currency without an ECB rate).
SALARY_BANDS: dict[str, tuple[int | None, int | None] | None] = {
    "under_50k": (None, 50_000),
    "50k_100k": (50_000, 100_000),
    "100k_150k": (100_000, 150_000),
    "150k_200k": (150_000, 200_000),
    "200k_plus": (200_000, None),
    "not_stated": None,
}


@dataclass(frozen=True)
class ListingFilters:
    """The filters of GET /listings (validated by the endpoint)."""

    q: str | None = None
    source: str | None = None
    region: str | None = None
    country: str | None = None
    eligible_in: str | None = None
    #: the UTC offsets of `eligible_in` over a year (lib/eligibility.country_offsets)
    eligible_in_offsets: tuple[float, float] | None = None
    utc_offset: float | None = None
    eligibility: str | None = None
    category: str | None = None
    seniority: str | None = None
    job_type: str | None = None
    min_salary_usd: int | None = None
    salary_band: str | None = None
    posted_since: date | None = None
    status: str = "active"
    include_duplicates: bool = False


@dataclass(frozen=True)
class Keyset:
    """Where a page starts: after (sort value, source, id), among rows first seen by `snapshot`."""

    snapshot: datetime | None
    after: tuple[Any, str, str] | None = None


def where_clauses(f: ListingFilters, params: dict[str, Any]) -> list[str]:
    return list(_clauses(f, params).values())


def _salary_band_clause(band: str, params: dict[str, Any]) -> str:
    bounds = SALARY_BANDS[band]
    if bounds is None:
        return f"{_ANNUAL_USD} IS NULL"
    low, high = bounds
    clauses = []
    if low is not None:
        clauses.append(f"{_ANNUAL_USD} >= %(salary_band_low)s")
        params["salary_band_low"] = low
    if high is not None:
        clauses.append(f"{_ANNUAL_USD} < %(salary_band_high)s")
        params["salary_band_high"] = high
    return "(" + " AND ".join(clauses) + ")"


def _clauses(f: ListingFilters, params: dict[str, Any]) -> dict[str, str]:
    """Each filter that is set, by its field name: its SQL over `l`, its values in `params`."""
    clauses = {}
    if f.status != "all":
        clauses["status"] = "l.status = %(status)s"
        params["status"] = f.status
    if not f.include_duplicates:
        clauses["include_duplicates"] = "(l.duplicate_cluster_id IS NULL OR l.is_canonical)"
    simple = {
        "source": "l.source = %(source)s",
        # labels as people type them: "europe" finds "Europe"
        "region": "lower(l.region) = lower(%(region)s)",
        "category": "lower(l.category_normalised) = lower(%(category)s)",
        "seniority": "lower(l.seniority) = lower(%(seniority)s)",
        "job_type": "l.job_type = %(job_type)s",
    }
    for name, clause in simple.items():
        value = getattr(f, name)
        if value is not None:
            clauses[name] = clause
            params[name] = value
    if f.country is not None:
        clauses["country"] = "l.countries @> ARRAY[%(country)s]::text[]"
        params["country"] = f.country
    if f.eligible_in is not None:
        # worldwide, named (regions expanded), or a time-zone band meeting its offsets
        clauses["eligible_in"] = (
            "(l.eligibility = 'worldwide' OR l.eligible_countries @> ARRAY[%(eligible_in)s]"
            "::text[] OR (l.eligibility = 'timezones' AND l.utc_offset_min <= "
            "%(eligible_in_east)s AND l.utc_offset_max >= %(eligible_in_west)s))"
        )
        west, east = f.eligible_in_offsets or (0.0, 0.0)
        params.update(eligible_in=f.eligible_in, eligible_in_west=west, eligible_in_east=east)
    if f.utc_offset is not None:
        clauses["utc_offset"] = (
            "(l.eligibility = 'worldwide' OR (l.utc_offset_min <= %(utc_offset)s"
            " AND l.utc_offset_max >= %(utc_offset)s))"
        )
        params["utc_offset"] = f.utc_offset
    if f.eligibility is not None:
        clauses["eligibility"] = "l.eligibility = %(eligibility)s"
        params["eligibility"] = f.eligibility
    if f.min_salary_usd is not None:
        clauses["min_salary_usd"] = f"{_ANNUAL_USD} >= %(min_salary_usd)s"
        params["min_salary_usd"] = f.min_salary_usd
    if f.salary_band is not None:
        clauses["salary_band"] = _salary_band_clause(f.salary_band, params)
    if f.posted_since is not None:
        clauses["posted_since"] = f"{_SORT_AT} >= %(posted_since)s::timestamp AT TIME ZONE 'UTC'"
        params["posted_since"] = f.posted_since
    if f.q is not None:
        clauses["q"] = "l.search_vector @@ websearch_to_tsquery('english', %(q)s)"
        params["q"] = f.q
    return clauses


def snapshot(conn: psycopg.Connection) -> datetime | None:
    """The newest first-seen time: a cursor only pages through listings seen by then."""
    return conn.execute("SELECT max(first_seen_at) FROM public.jobs_listings_data").fetchone()[0]


#: how many of the newest listings the first try of a full-text page reads (_newest_page)
NEWEST_PROBE = 500
#: the filters that choose the view (and the cursor's snapshot), not the listings in it
_VIEW_FILTERS = ("status", "include_duplicates", "snapshot")


def search_listings(
    conn: psycopg.Connection, f: ListingFilters, sort: str, keyset: Keyset, limit: int
) -> tuple[list[dict], tuple[Any, str, str] | None]:
    """One page of listings and the keyset of its last row (None: no further page).
    Newest first: `_newest_page` says how its keys are found."""
    params: dict[str, Any] = {"limit": limit + 1}
    clauses = _clauses(f, params)
    if keyset.snapshot is not None:
        clauses["snapshot"] = "l.first_seen_at <= %(snapshot)s"
        params["snapshot"] = keyset.snapshot
    if keyset.after is not None:
        params.update(k0=keyset.after[0], k1=keyset.after[1], k2=keyset.after[2])
    if sort == "relevance":
        filters = " AND ".join(clauses.values()) or "true"
        # the rank is computed once per match, in a subquery the keyset can compare with
        rank = "ts_rank_cd(l.search_vector, websearch_to_tsquery('english', %(q)s))"
        # float8: a rank from a cursor is compared as it is, never cast into a narrower type
        after = "(order_value, source, source_job_id) < (%(k0)s::float8, %(k1)s, %(k2)s)"
        sql = (
            f"SELECT * FROM (SELECT {_LISTING_COLUMNS}, {rank} AS order_value "
            f"FROM public.jobs_listings_data l WHERE {filters}) page "
            f"WHERE {after if keyset.after is not None else 'true'} "
            "ORDER BY order_value DESC, source DESC, source_job_id DESC LIMIT %(limit)s"
        )
        rows = _rows(conn, sql, params)
    else:
        rows = _newest_page(conn, clauses, params, keyset.after is not None, limit)
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more else None
    next_key = (last["order_value"], last["source"], last["source_job_id"]) if last else None
    return [listing_json(r) for r in rows], next_key


def _newest_page(
    conn: psycopg.Connection, clauses: dict[str, str], params: dict[str, Any], after: bool,
    limit: int,
) -> list[dict]:  # fmt: skip
    """Newest first (search_listings). The page's keys are found first, from an index
    where they can be, then its rows are read."""
    # the same expression as jobs_listings_data_newest(_active)_idx, so a walk uses it
    keyset = f"({_SORT_AT}, l.source, l.source_job_id) < (%(k0)s::timestamptz, %(k1)s, %(k2)s)"
    everything = " AND ".join(list(clauses.values()) + ([keyset] if after else [])) or "true"
    order = "ORDER BY order_value DESC, source DESC, source_job_id DESC LIMIT %(limit)s"
    keys = f"SELECT l.source, l.source_job_id, {_SORT_AT} AS order_value FROM public.jobs_listings_data l"
    if "q" not in clauses:
        # every other filter reads columns jobs_listings_data_newest_active_idx holds:
        # walking it reads no table row, however few listings match (migration 0015)
        return _page_rows(conn, f"{keys} WHERE {everything} {order}", params)
    # Full text: the first try walks the newest NEWEST_PROBE listings, which fills the
    # page of a word many listings have. A rare word (or a rare word's listings all
    # old: the planner cannot know where in time they lie) would make that walk read
    # the whole table, so the second try finds every match by the word's index (OFFSET
    # 0: a subquery of its own, never a walk of the newest index) and sorts them.
    view = [clause for name, clause in clauses.items() if name in _VIEW_FILTERS]
    rest = [clause for name, clause in clauses.items() if name not in _VIEW_FILTERS]
    inner = " AND ".join(view + ([keyset] if after else [])) or "true"
    probe = (
        f"SELECT source, source_job_id, order_value FROM (SELECT l.*, {_SORT_AT} AS "
        f"order_value FROM public.jobs_listings_data l WHERE {inner} "
        f"ORDER BY {_SORT_AT} DESC, l.source DESC, l.source_job_id DESC "
        f"LIMIT {NEWEST_PROBE}) l WHERE {' AND '.join(rest)} {order}"
    )
    rows = _page_rows(conn, probe, params)
    if len(rows) > limit:
        return rows
    return _page_rows(conn, f"SELECT * FROM ({keys} WHERE {everything} OFFSET 0) m {order}", params)


def _page_rows(conn: psycopg.Connection, keys: str, params: dict[str, Any]) -> list[dict]:
    """The listings of the page whose keys (source, source_job_id, order_value) `keys` selects."""
    sql = (
        f"SELECT {_LISTING_COLUMNS}, k.order_value FROM ({keys}) k "
        "JOIN public.jobs_listings_data l USING (source, source_job_id) "
        "ORDER BY k.order_value DESC, l.source DESC, l.source_job_id DESC"
    )
    return _rows(conn, sql, params)


def _rows(conn: psycopg.Connection, sql: str, params: dict[str, Any]) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql, params).fetchall()


def listing_json(row: dict) -> dict:
    """A listing as the API shows it, with the attribution its source's terms ask for."""
    return {
        "source": row["source"],
        "source_job_id": row["source_job_id"],
        "title": row["title"],
        "company": row["company_name"],
        "company_logo_url": row["company_logo_url"],
        "job_url": row["job_url"],
        "job_type": row["job_type"],
        "seniority": row["seniority"],
        "category": row["category"],
        "category_normalised": row["category_normalised"],
        "tags": list(row["tags"] or []),
        "location": row["location_raw"],
        "countries": list(row["countries"] or []),
        "regions": list(row["regions"] or []),
        "region": row["region"],
        "eligibility": {
            "kind": row["eligibility"],
            "countries": list(row["eligible_countries"] or []),
            "utc_offset_min": _num(row["utc_offset_min"]),
            "utc_offset_max": _num(row["utc_offset_max"]),
        },
        "salary": {
            "min_annual": _num(row["salary_min"]),
            "max_annual": _num(row["salary_max"]),
            "currency": row["salary_currency"],
            "min_usd_annual": _num(row["salary_min_usd"]),
            "max_usd_annual": _num(row["salary_max_usd"]),
            "original_period": row["salary_period"],
            "as_written": row["salary_raw"],
        },
        "published_at": _iso(row["published_at"]),
        "first_seen_at": _iso(row["first_seen_at"]),
        "last_seen_at": _iso(row["last_seen_at"]),
        "status": row["status"],
        "expired_at": _iso(row["expired_at"]),
        "duplicate_cluster_id": row["duplicate_cluster_id"],
        "is_canonical": row["is_canonical"],
        "attribution": {
            "source_name": source_name(row["source"]),
            "url": row["job_url"],
            "text": f"Listing from {source_name(row['source'])}",
        },
    }


def listing_detail(conn: psycopg.Connection, source: str, source_job_id: str) -> dict | None:
    """One listing with its description, its history and the other members of its cluster."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            f"SELECT {_LISTING_COLUMNS}, l.description_text FROM public.jobs_listings_data l "
            "WHERE l.source = %s AND l.source_job_id = %s",
            (source, source_job_id),
        ).fetchone()
        if row is None:
            return None
        # whatever columns issue 14's history carries, minus the bulky and internal ones
        history = cur.execute(
            "SELECT to_jsonb(h) - 'description_text' - 'search_vector' AS version "
            "FROM public.jobs_listings_history h WHERE h.source = %s AND h.source_job_id = %s "
            "ORDER BY h.valid_from DESC LIMIT 100",
            (source, source_job_id),
        ).fetchall()
        duplicates = []
        if row["duplicate_cluster_id"] is not None:
            duplicates = cur.execute(
                f"SELECT {_LISTING_COLUMNS} FROM public.jobs_listings_data l "
                "WHERE l.duplicate_cluster_id = %s AND (l.source, l.source_job_id) <> (%s, %s) "
                "ORDER BY l.is_canonical DESC, l.source, l.source_job_id LIMIT 50",
                (row["duplicate_cluster_id"], source, source_job_id),
            ).fetchall()
    listing = listing_json(row) | {"description_text": row["description_text"]}
    return {
        "listing": listing,
        "history": [h["version"] for h in history],
        "duplicates": [listing_json(d) for d in duplicates],
    }


#: a mart cell's filter: labels compared as people type them ("europe" finds "Europe")
_MART_FILTERS = {
    "source": "source = %(source)s",
    "region": "lower(region) = lower(%(region)s)",
    "category": "lower(category_normalised) = lower(%(category)s)",
    "seniority": "lower(seniority) = lower(%(seniority)s)",
}


def _mart_where(params: dict[str, Any]) -> str:
    clauses = [_MART_FILTERS[name] for name, value in params.items() if value is not None]
    return " AND ".join(clauses) or "true"


def postings_stats(
    conn: psycopg.Connection,
    source: str | None,
    region: str | None,
    category: str | None,
    since: date | None,
) -> list[dict]:
    """New, active and expired listings per day and source (marts.daily_postings)."""
    params: dict[str, Any] = {"source": source, "region": region, "category": category}
    where = _mart_where(params)
    params["since"] = since
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            f"""
            SELECT day, source, sum(new_listings)::bigint AS new_listings,
                   sum(active_listings)::bigint AS active_listings,
                   sum(expired_listings)::bigint AS expired_listings
            FROM marts.daily_postings
            WHERE {where}
              AND day >= coalesce(%(since)s::date,
                                  (SELECT max(day) - 29 FROM marts.daily_postings))
            GROUP BY day, source ORDER BY day, source LIMIT 5000
            """,
            params,
        ).fetchall()
    return [r | {"day": r["day"].isoformat()} for r in rows]


#: why /stats/salaries can be empty (marts/salary_percentiles.sql leaves small cells out)
MIN_CELL_LISTINGS = 5
NO_SALARY_CELLS = (
    "No salary figures yet: a cell (region, category, seniority) is shown once it has at "
    f"least {MIN_CELL_LISTINGS} active listings that state a salary."
)
NO_MATCHING_CELLS = "No salary cell matches these filters; GET /facets lists the labels."


def salary_stats(
    conn: psycopg.Connection, region: str | None, category: str | None, seniority: str | None
) -> dict[str, Any]:
    """The salary percentiles (marts.salary_percentiles), a per-region summary, and when
    there are no rows, a note saying why."""
    params = {"region": region, "category": category, "seniority": seniority}
    where = _mart_where(params)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT region, category_normalised, seniority, listings::bigint AS listings, "
            "p25_usd::float8 AS p25_usd, p50_usd::float8 AS p50_usd, "
            "p75_usd::float8 AS p75_usd "
            f"FROM marts.salary_percentiles WHERE {where} "
            "ORDER BY region, category_normalised, seniority LIMIT 5000",
            params,
        ).fetchall()
        regions = cur.execute(
            "SELECT region, sum(listings)::bigint AS listings, "
            "(sum(p50_usd * listings) / nullif(sum(listings), 0))::float8 AS median_usd "
            f"FROM marts.salary_percentiles WHERE {where} AND p50_usd IS NOT NULL "
            "GROUP BY region ORDER BY region",
            params,
        ).fetchall()
        note = None
        if not rows:
            anything = cur.execute("SELECT EXISTS (SELECT 1 FROM marts.salary_percentiles)")
            note = NO_MATCHING_CELLS if anything.fetchone()["exists"] else NO_SALARY_CELLS
    return {"rows": rows, "regions": regions, "note": note}


_SALARY_BAND = (
    "CASE WHEN "
    + _ANNUAL_USD
    + " IS NULL THEN 'not_stated'"
    + "".join(
        f" WHEN {_ANNUAL_USD} < {bounds[1]} THEN '{band}'"
        for band, bounds in SALARY_BANDS.items()
        if bounds is not None and bounds[1] is not None
    )
    + f" ELSE '{next(b for b, v in SALARY_BANDS.items() if v and v[1] is None)}' END"
)

#: The facets GET /listings counts (`facets=`): name -> the SQL value counted (over `l`).
#: A facet's name is also the name of its filter (a field of ListingFilters), which its
#: own counts ignore. Blank and NULL values are not counted (no filter can pick them).
LISTING_FACETS: dict[str, str] = {
    "source": "l.source",
    "region": "l.region",
    "category": "l.category_normalised",
    "seniority": "l.seniority",
    "job_type": "l.job_type",
    "salary_band": _SALARY_BAND,
    "eligibility": "l.eligibility",
}
#: at most this many values per facet
FACET_VALUES_LIMIT = 500


#: The filters that are columns of public.jobs_listing_facet_counts (migration 0015):
#: facets under these filters alone are read from those counts, not from the listings.
#: `min_salary_usd` is counted too, in steps of SALARY_STEP: whole steps from the counts,
#: the step the bound falls inside from the listings (a narrow range of their index).
COUNTED_FILTERS = frozenset(
    {"status", "include_duplicates", "source", "region", "category", "seniority",
     "job_type", "eligibility", "salary_band", "min_salary_usd"}
)  # fmt: skip
#: public.jobs_salary_k: the annual USD figure in steps of this, the last step open
SALARY_STEP, SALARY_STEPS = 10_000, 100


def facet_counts(
    conn: psycopg.Connection,
    f: ListingFilters,
    names: list[str],
    as_of: datetime | None = None,
) -> dict[str, list[dict]]:
    """Listings per value of each facet in `names`, under the filters `f`, except that a
    facet's counts ignore its own filter (region=Europe still counts the other regions).

    Groups of listings by the facets' values: a few thousand at most, which the outer
    query adds up per facet, each over the groups whose values pass the other facets'
    own filters. A facet's own filter must therefore be a test of its value alone (true
    of every filter of LISTING_FACETS). When every filter is one of COUNTED_FILTERS and
    the page counts as of the newest snapshot (`as_of`: a later page's first page's),
    the groups are the counts the triggers of migration 0015 keep (a few thousand rows,
    whatever the number of listings); otherwise they are made from the listings that
    pass the other filters (an index-only scan of jobs_listings_data_facets_idx for the
    default view).
    """
    if as_of is not None and as_of >= (snapshot(conn) or as_of):
        as_of = None  # nothing was first seen since: the newest snapshot
    params: dict[str, Any] = {}
    clauses = _clauses(f, params)
    own = {name: clauses[name] for name in names if name in clauses}
    if as_of is None and set(clauses) <= COUNTED_FILTERS:
        parts = _counted_parts(f, clauses, params)
    else:
        if as_of is not None:
            clauses["snapshot"] = "l.first_seen_at <= %(snapshot)s"
            params["snapshot"] = as_of
        parts = [("public.jobs_listings_data", "count(*)", LISTING_FACETS, clauses)]
    selects = []
    for table, count, expressions, where in parts:
        kept = [clause for name, clause in where.items() if name not in own]
        values = [f"({expressions[name]})::text" for name in names]
        selects.append(
            f"SELECT {', '.join(values)}, {count} FROM {table} l "
            f"WHERE {' AND '.join(kept) or 'true'} "
            f"GROUP BY {', '.join(str(k + 1) for k in range(len(values)))}"
        )
    columns = ", ".join(f"v{i}" for i in range(len(names)))
    # each own filter as a test of its facet's value, on the groups (not on every row):
    # the filter's own SQL with the facet's value in place of its column; a salary band
    # is its value (the CASE gives each row the band whose range the filter tests)
    tests = {}
    for i, name in enumerate(names):
        if name not in own:
            continue
        expression = LISTING_FACETS[name]
        if expression in own[name]:
            tests[name] = own[name].replace(expression, f"c.v{i}")
        else:
            tests[name] = f"c.v{i} = %(facet_{name})s"
            params[f"facet_{name}"] = getattr(f, name)
    rows = []
    for i, name in enumerate(names):
        others = [test for other, test in tests.items() if other != name]
        rows.append(f"({i}, c.v{i}, {' AND '.join(others) or 'true'})")
    sql = f"""
        WITH c AS (
            SELECT {columns}, sum(n) AS n
            FROM ({" UNION ALL ".join(selects)}) u ({columns}, n)
            GROUP BY {columns}
        )
        SELECT v.facet, v.value, sum(c.n)::bigint AS listings
        FROM c CROSS JOIN LATERAL (VALUES {", ".join(rows)}) v(facet, value, ok)
        WHERE v.ok AND nullif(trim(v.value), '') IS NOT NULL
        GROUP BY v.facet, v.value
    """
    out: dict[str, list[dict]] = {name: [] for name in names}
    for facet, value, listings in conn.execute(sql, params).fetchall():
        out[names[facet]].append({"value": value, "listings": listings})
    bands = list(SALARY_BANDS)
    for name, values in out.items():
        if name == "salary_band":  # in order of pay
            values.sort(key=lambda v: bands.index(v["value"]))
        else:  # the most frequent first
            values.sort(key=lambda v: (-v["listings"], v["value"]))
        del values[FACET_VALUES_LIMIT:]
    return out


def _counted_parts(
    f: ListingFilters, clauses: dict[str, str], params: dict[str, Any]
) -> list[tuple[str, str, dict[str, str], dict[str, str]]]:
    """Where facet_counts reads its groups when every filter is counted: `(table, count,
    facet expressions, filters)` for the counts, and for the listings whose salary lies
    in the step `min_salary_usd` falls inside (the counts cannot split a step)."""
    counted = dict(clauses) | {"counted": "l.listings > 0"}
    if "include_duplicates" in counted:
        counted["include_duplicates"] = "l.shown"
    if f.salary_band is not None:
        counted["salary_band"] = "l.salary_band = %(salary_band)s"
        params["salary_band"] = f.salary_band
    expressions = LISTING_FACETS | {"salary_band": "l.salary_band"}
    parts = [("public.jobs_listing_facet_counts", "sum(l.listings)", expressions, counted)]
    if f.min_salary_usd is None:
        return parts
    step = min(f.min_salary_usd // SALARY_STEP, SALARY_STEPS)
    whole = f.min_salary_usd % SALARY_STEP == 0 and step < SALARY_STEPS
    # whole steps from the counts: from the bound's own step when it starts there
    counted["min_salary_usd"] = "l.salary_k >= %(salary_k)s"
    params["salary_k"] = step if whole else step + 1
    if not whole:  # the listings of the step the bound falls inside, at or above it
        inside = f"{_ANNUAL_USD} >= %(min_salary_usd)s"
        if step < SALARY_STEPS:
            inside += f" AND {_ANNUAL_USD} < %(salary_k_end)s"
            params["salary_k_end"] = (step + 1) * SALARY_STEP
        parts.append(
            ("public.jobs_listings_data", "count(*)", LISTING_FACETS,
             clauses | {"min_salary_usd": inside})
        )  # fmt: skip
    return parts


#: GET /facets: its keys, and the facets of GET /listings they count (active listings,
#: duplicates included)
FACETS = {
    "regions": "region",
    "categories": "category",
    "seniorities": "seniority",
    "job_types": "job_type",
}


def facets(conn: psycopg.Connection) -> dict[str, list[dict]]:
    """The labels active listings carry, with their counts: what the filters can match."""
    counts = facet_counts(conn, ListingFilters(include_duplicates=True), list(FACETS.values()))
    return {key: counts[name] for key, name in FACETS.items()}


def latest_window(conn: psycopg.Connection) -> dict:
    """The data version and the latest window loaded, with its age."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            "SELECT version, partition_key, loaded_at, "
            "extract(epoch FROM now() - loaded_at)::float8 AS age_seconds "
            "FROM public.jobs_data_version"
        ).fetchone()
        if row is None or row["partition_key"] is None:
            fallback = cur.execute(
                "SELECT max(last_partition_key) AS partition_key FROM public.jobs_listings_data"
            ).fetchone()
            row = (row or {"version": 0, "loaded_at": None, "age_seconds": None}) | fallback
    return {
        "version": row["version"],
        "latest_window": row["partition_key"],
        "loaded_at": _iso(row["loaded_at"]),
        "age_seconds": row["age_seconds"],
    }


def data_version(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT version FROM public.jobs_data_version").fetchone()
    return row[0] if row else 0


# The marts' build version: dbt's post-hook on every mart stamps its row in
# analytics_intermediate.refresh_marks (macros/refresh_marks.sql). The catalog says
# whether the table exists and this role may read it, without an error either way.
_MARKS_STATE = """
SELECT n.oid IS NOT NULL,
       c.oid IS NOT NULL AND has_schema_privilege(n.oid, 'USAGE')
           AND has_table_privilege(c.oid, 'SELECT')
FROM (SELECT 1) one
LEFT JOIN pg_namespace n ON n.nspname = 'analytics_intermediate'
LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = 'refresh_marks'
"""
MARTS_NEVER_BUILT = "none"


def marts_version(conn: psycopg.Connection) -> str | None:
    """When the marts were last built ("none" before dbt's first build), or None when
    this role cannot read the stamp: then no answer from the marts may be cached."""
    schema_exists, readable = conn.execute(_MARKS_STATE).fetchone()
    if not schema_exists:
        return MARTS_NEVER_BUILT
    if not readable:
        return None
    stamp = conn.execute(
        "SELECT max(marked_at) FROM analytics_intermediate.refresh_marks"
    ).fetchone()[0]
    return stamp.isoformat() if stamp is not None else MARTS_NEVER_BUILT


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _num(value: Any) -> float | None:
    return float(value) if value is not None else None
