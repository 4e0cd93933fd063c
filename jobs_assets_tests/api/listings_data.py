"""Listings and marts rows for the read API's tests, written the way a load writes them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg

from jobs_assets.lib.data_version import bump_data_version

SOURCES = ("remotive", "jobicy", "himalayas")
REGIONS = ("Europe", "North America", "Worldwide", "Asia")
CATEGORIES = ("engineering", "data", "design", "marketing")
WINDOW = datetime(2026, 11, 30, 0, tzinfo=UTC)


def listing(i: int, **overrides: Any) -> dict[str, Any]:
    """A plausible normalised listing; `i` orders them (0 is the newest)."""
    source = SOURCES[i % len(SOURCES)]
    published = WINDOW - timedelta(hours=i)
    row = {
        "source": source,
        "source_job_id": f"job-{i:05d}",
        "title": f"{('Senior ', 'Junior ', '')[i % 3]}{('Python', 'Data', 'Go', 'UX')[i % 4]} "
        f"Engineer {i}",
        "company_name": f"Company {i % 7}",
        "job_url": f"https://{source}.example/jobs/{i}",
        "job_type": ("full_time", "contract")[i % 2],
        "seniority": ("senior", "junior", "mid")[i % 3],
        "category": "Software Development",
        "category_normalised": CATEGORIES[i % len(CATEGORIES)],
        "tags": ["python", "postgres"] if i % 2 == 0 else ["go", "kubernetes"],
        "location_raw": REGIONS[i % len(REGIONS)],
        "countries": ["DE", "FR"] if i % 4 == 0 else [],
        "regions": [REGIONS[i % len(REGIONS)]],
        "region": REGIONS[i % len(REGIONS)],
        "salary_min_usd": 50_000 + 1_000 * i if i % 5 else None,
        "salary_max_usd": 80_000 + 1_000 * i if i % 3 else None,
        "description_text": f"We build remote things. Listing number {i}.",
        "published_at": published,
        "retrieved_at": WINDOW,
        "first_seen_at": WINDOW - timedelta(hours=1),
        "last_seen_at": WINDOW,
        "last_partition_key": "2026-11-30-00:00",
        "status": "active",
    }
    return row | overrides


def insert_listings(conn: psycopg.Connection, rows: list[dict[str, Any]]) -> None:
    columns = list(dict.fromkeys(c for row in rows for c in row))
    with (
        conn.cursor() as cur,
        cur.copy(f"COPY public.jobs_listings_data ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row([row.get(c) for c in columns])


def load(conninfo: str, rows: list[dict[str, Any]], partition_key: str) -> int:
    """What a successful pipeline load does, as far as the API can tell: rows, then a bump."""
    with psycopg.connect(conninfo) as conn:
        with conn.transaction():
            insert_listings(conn, rows)
        return bump_data_version(conn, partition_key)


def fill_marts(conninfo: str) -> None:
    with psycopg.connect(conninfo) as conn, conn.transaction():
        conn.execute("TRUNCATE marts.daily_postings, marts.salary_percentiles")
        with conn.cursor().copy(
            "COPY marts.daily_postings (day, source, region, category_normalised, "
            "new_listings, active_listings, expired_listings) FROM STDIN"
        ) as copy:
            for d in range(10):
                for s, source in enumerate(SOURCES):
                    for region in REGIONS[:2]:
                        day = date(2026, 11, 21) + timedelta(days=d)
                        copy.write_row((day, source, region, "engineering", d + s, 100 + d, s))
        with conn.cursor().copy(
            "COPY marts.salary_percentiles (region, category_normalised, seniority, listings, "
            "p25, p50, p75) FROM STDIN"
        ) as copy:
            for r, region in enumerate(REGIONS):
                for c, category in enumerate(CATEGORIES[:2]):
                    base = 60_000 + 10_000 * r + 5_000 * c
                    copy.write_row(
                        (region, category, "senior", 10 + c, base, base + 15_000, base + 30_000)
                    )


def reset(conninfo: str) -> None:
    with psycopg.connect(conninfo) as conn:
        conn.execute("TRUNCATE public.jobs_listings_data, public.jobs_listings_history")
