"""The API's SQL: every value is a bound parameter, every identifier is fixed text here.

Functions take a connection from the pool and return plain dicts, already shaped like
the JSON the endpoints send (the endpoints only cache and serialise them).
"""

from __future__ import annotations

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
_ANNUAL_USD = "coalesce(l.salary_max_usd, l.salary_min_usd)"
_SORT_AT = "coalesce(l.published_at, l.first_seen_at)"


def source_name(source: str) -> str:
    """The name a source asks to be credited by (its `display_name`, else its key)."""
    found = SOURCES.get(source)
    return getattr(found, "display_name", None) or source.capitalize()


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
    category: str | None = None
    seniority: str | None = None
    job_type: str | None = None
    min_salary_usd: int | None = None
    posted_since: date | None = None
    status: str = "active"
    include_duplicates: bool = False


@dataclass(frozen=True)
class Keyset:
    """Where a page starts: after (sort value, source, id), among rows first seen by `snapshot`."""

    snapshot: datetime | None
    after: tuple[Any, str, str] | None = None


def _where(f: ListingFilters, params: dict[str, Any]) -> list[str]:
    clauses = []
    if f.status != "all":
        clauses.append("l.status = %(status)s")
        params["status"] = f.status
    if not f.include_duplicates:
        clauses.append("(l.duplicate_cluster_id IS NULL OR l.is_canonical)")
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
            clauses.append(clause)
            params[name] = value
    if f.country is not None:
        clauses.append("l.countries @> ARRAY[%(country)s]::text[]")
        params["country"] = f.country
    if f.eligible_in is not None:
        # worldwide, named (regions expanded), or a time-zone band meeting its offsets
        clauses.append(
            "(l.eligibility = 'worldwide' OR l.eligible_countries @> ARRAY[%(eligible_in)s]"
            "::text[] OR (l.eligibility = 'timezones' AND l.utc_offset_min <= "
            "%(eligible_in_east)s AND l.utc_offset_max >= %(eligible_in_west)s))"
        )
        west, east = f.eligible_in_offsets or (0.0, 0.0)
        params.update(eligible_in=f.eligible_in, eligible_in_west=west, eligible_in_east=east)
    if f.utc_offset is not None:
        clauses.append(
            "(l.eligibility = 'worldwide' OR (l.utc_offset_min <= %(utc_offset)s"
            " AND l.utc_offset_max >= %(utc_offset)s))"
        )
        params["utc_offset"] = f.utc_offset
    if f.min_salary_usd is not None:
        clauses.append(f"{_ANNUAL_USD} >= %(min_salary_usd)s")
        params["min_salary_usd"] = f.min_salary_usd
    if f.posted_since is not None:
        clauses.append(f"{_SORT_AT} >= %(posted_since)s::timestamp AT TIME ZONE 'UTC'")
        params["posted_since"] = f.posted_since
    if f.q is not None:
        clauses.append("l.search_vector @@ websearch_to_tsquery('english', %(q)s)")
        params["q"] = f.q
    return clauses


def snapshot(conn: psycopg.Connection) -> datetime | None:
    """The newest first-seen time: a cursor only pages through listings seen by then."""
    return conn.execute("SELECT max(first_seen_at) FROM public.jobs_listings_data").fetchone()[0]


def search_listings(
    conn: psycopg.Connection, f: ListingFilters, sort: str, keyset: Keyset, limit: int
) -> tuple[list[dict], tuple[Any, str, str] | None]:
    """One page of listings and the keyset of its last row (None: no further page)."""
    params: dict[str, Any] = {"limit": limit + 1}
    where = _where(f, params)
    if keyset.snapshot is not None:
        where.append("l.first_seen_at <= %(snapshot)s")
        params["snapshot"] = keyset.snapshot
    if keyset.after is not None:
        params.update(k0=keyset.after[0], k1=keyset.after[1], k2=keyset.after[2])
    filters = " AND ".join(where) or "true"
    if sort == "relevance":
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
    else:  # the same expression as jobs_listings_data_newest_idx, so the planner can walk it
        after = f"({_SORT_AT}, l.source, l.source_job_id) < (%(k0)s::timestamptz, %(k1)s, %(k2)s)"
        sql = (
            f"SELECT {_LISTING_COLUMNS}, {_SORT_AT} AS order_value "
            f"FROM public.jobs_listings_data l WHERE {filters}"
            + (f" AND {after}" if keyset.after is not None else "")
            + f" ORDER BY {_SORT_AT} DESC, l.source DESC, l.source_job_id DESC LIMIT %(limit)s"
        )
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(sql, params).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more else None
    next_key = (last["order_value"], last["source"], last["source_job_id"]) if last else None
    return [listing_json(r) for r in rows], next_key


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


def facets(conn: psycopg.Connection) -> dict[str, list[dict]]:
    """The labels active listings carry, with their counts: what the filters can match."""
    out = {}
    with conn.cursor(row_factory=dict_row) as cur:
        for name, column in FACETS.items():
            out[name] = cur.execute(
                f"SELECT {column} AS value, count(*)::bigint AS listings "
                "FROM public.jobs_listings_data "
                f"WHERE status = 'active' AND nullif(trim({column}), '') IS NOT NULL "
                f"GROUP BY {column} ORDER BY count(*) DESC, {column} LIMIT 500"
            ).fetchall()
    return out


#: the filters GET /facets offers values for, and their columns
FACETS = {
    "regions": "region",
    "categories": "category_normalised",
    "seniorities": "seniority",
    "job_types": "job_type",
}


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
