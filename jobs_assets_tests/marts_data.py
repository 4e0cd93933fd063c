"""A realistic data set for the marts tests, and the pandas recomputation of every mart.

The listings go through the real pipeline: synthetic windows built from the recorded
responses (jobs_assets.testing.synth: real listings with new ids and shuffled salaries and
locations) are staged and upserted by `upsert_window`, several windows over three weeks
with overlapping listings. The listing-identity fields (category_normalised, expiry,
duplicate clusters, history) are then set deterministically, as that step would.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import psycopg

from jobs_assets.lib.identity.history import HISTORY_COLUMNS
from jobs_assets.lib.listings import upsert_window
from jobs_assets.testing.synth import ListingFactory, stage_synthetic, window_key

ORIGIN = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday: weeks 2026-W10 to W12
# (days after ORIGIN, hour) of each window and how many listings it carries
WINDOWS = [(0, 0), (1, 8), (3, 12), (6, 4), (8, 16), (11, 0), (14, 20), (17, 8), (19, 12)]
PER_WINDOW = 90
OVERLAP = 30  # listings a window shares with the one before (seen again)


def load_window(
    conn: psycopg.Connection,
    read_conn: psycopg.Connection,
    start: datetime,
    numbers: range,
    factory: ListingFactory,
) -> None:
    """Stage and upsert the listings `numbers` as the window starting at `start`, through
    the pipeline's own code."""
    stage_synthetic(conn, [(start, numbers)], factory)
    upsert_window(conn, read_conn, window_key(start), start)


def load_listings(conn: psycopg.Connection, read_conn: psycopg.Connection) -> int:
    """Every window in order."""
    factory = ListingFactory(seed=15)
    first = 0
    for days, hour in WINDOWS:
        start = ORIGIN + timedelta(days=days, hours=hour)
        load_window(conn, read_conn, start, range(first, first + PER_WINDOW), factory)
        first += PER_WINDOW - OVERLAP
    return conn.execute("SELECT count(*) FROM public.jobs_listings_data").fetchone()[0]


IDENTITY_SQL = """
UPDATE public.jobs_listings_data SET
    category_normalised = (ARRAY['Software Development', 'Data & Analytics', 'Design', 'Marketing', NULL])[1 + abs(hashtext(source_job_id || 'c')) % 5],
    -- some labels blank rather than missing: both must read 'Unknown'
    seniority = CASE WHEN abs(hashtext(source_job_id || 's')) % 9 = 0 THEN ' ' ELSE seniority END;
-- A quarter of the listings expired between 1 hour and 12 days after their first sighting,
-- one of them with an expiry stamped before it (clock skew).
UPDATE public.jobs_listings_data SET
    status = 'expired',
    expired_at = first_seen_at + make_interval(hours => 1 + abs(hashtext(source_job_id || 'e')) % 288)
WHERE abs(hashtext(source_job_id || 'x')) % 4 = 0;
UPDATE public.jobs_listings_data SET expired_at = first_seen_at - interval '2 hours'
WHERE (source, source_job_id) = (
    SELECT source, source_job_id FROM public.jobs_listings_data
    WHERE status = 'expired' ORDER BY source, source_job_id LIMIT 1);
-- A few listings came back after expiring: active again, counted once.
UPDATE public.jobs_listings_data SET reactivated_count = 1
WHERE status = 'active' AND abs(hashtext(source_job_id || 'r')) % 10 = 0;
-- Duplicate clusters: one listing in eight belongs to one of 15 clusters (the same job on
-- several sources or twice on one); the earliest sighting is canonical.
WITH clustered AS (
    SELECT source, source_job_id,
           'cluster-' || abs(hashtext(source_job_id || 'k')) % 15 AS cluster
    FROM public.jobs_listings_data
    WHERE abs(hashtext(source_job_id || 'd')) % 8 = 0
), ranked AS (
    SELECT c.*, row_number() OVER (
               PARTITION BY c.cluster ORDER BY d.first_seen_at, c.source, c.source_job_id) AS n
    FROM clustered c JOIN public.jobs_listings_data d USING (source, source_job_id)
)
UPDATE public.jobs_listings_data d SET duplicate_cluster_id = r.cluster, is_canonical = r.n = 1
FROM ranked r
WHERE d.source = r.source AND d.source_job_id = r.source_job_id;
UPDATE public.jobs_listings_data SET is_canonical = true WHERE duplicate_cluster_id IS NULL;
-- History: the first version of each listing and, for expired ones, the expiry version.
INSERT INTO public.jobs_listings_history (HISTORY_COLUMNS, valid_from, valid_to, row_hash)
SELECT D_HISTORY_COLUMNS, d.first_seen_at, d.expired_at, md5(d.source_job_id)
FROM public.jobs_listings_data d;
INSERT INTO public.jobs_listings_history (HISTORY_COLUMNS, valid_from, valid_to, row_hash)
SELECT D_HISTORY_COLUMNS, d.expired_at + interval '1 second', NULL,
    md5(d.source_job_id || 'expired')
FROM public.jobs_listings_data d WHERE d.status = 'expired';
""".replace("D_HISTORY_COLUMNS", ", ".join(f"d.{c}" for c in HISTORY_COLUMNS)).replace(
    "HISTORY_COLUMNS", ", ".join(HISTORY_COLUMNS)
)


def set_identity(conn: psycopg.Connection) -> None:
    with conn.transaction():
        conn.execute(IDENTITY_SQL)


def build_dataset(conn: psycopg.Connection, read_conn: psycopg.Connection) -> int:
    conn.execute("TRUNCATE staging.staging_jobs_listings_data, public.jobs_listings_data")
    conn.execute("TRUNCATE public.jobs_listings_history")
    conn.commit()
    listings = load_listings(conn, read_conn)
    set_identity(conn)
    return listings


# --- The marts recomputed with pandas, straight from the base table --------------------

BASE_COLUMNS = [
    "source", "source_job_id", "company_name", "seniority", "region", "category_normalised",
    "tags", "salary_min_usd", "salary_max_usd", "first_seen_at", "last_seen_at", "status",
    "expired_at", "is_canonical", "eligibility",
]  # fmt: skip


def build_as_of(conn: psycopg.Connection) -> datetime:
    """The instant the last build of the marts described (jobs_assets/dbt/macros/as_of.sql)."""
    return conn.execute(
        "SELECT as_of FROM analytics_intermediate.refresh_marks WHERE name = 'int_listing_state'"
    ).fetchone()[0]


def read_base(conn: psycopg.Connection, as_of: datetime | None = None) -> pd.DataFrame:
    """The listings table, as a build at `as_of` sees it when one is given: nothing first
    seen after it, an expiry after it still pending (the listing active), a sighting
    after it taken as one at it."""
    cur = conn.execute(f"SELECT {', '.join(BASE_COLUMNS)} FROM public.jobs_listings_data")
    frame = pd.DataFrame(cur.fetchall(), columns=BASE_COLUMNS)
    for column in ("salary_min_usd", "salary_max_usd"):
        frame[column] = pd.to_numeric(frame[column].astype(float))
    for column in ("first_seen_at", "last_seen_at", "expired_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    for column in ("company_name", "seniority", "category_normalised"):
        frame[column] = frame[column].map(
            lambda v: v.strip() if isinstance(v, str) and v.strip() else "Unknown"
        )
    frame["is_canonical"] = frame["is_canonical"].map(lambda v: True if v is None else bool(v))
    if as_of is not None:
        frame = frame[frame["first_seen_at"] <= as_of].copy()
        pending = (frame["status"] == "expired") & (frame["expired_at"] > as_of)
        frame.loc[pending, "status"] = "active"
        frame.loc[pending, "expired_at"] = pd.NaT
        frame["last_seen_at"] = frame["last_seen_at"].clip(upper=pd.Timestamp(as_of))
    frame["first_date"] = frame["first_seen_at"].dt.date
    return frame


def _iso_week(stamps: pd.Series) -> pd.Series:
    iso = stamps.dt.isocalendar()
    return iso["year"].astype(str) + "-W" + iso["week"].astype(int).map("{:02d}".format)


def expected_daily_postings(base: pd.DataFrame) -> pd.DataFrame:
    """Straight from the definition: a listing is active at the end of every day from its
    first sighting until the day before its expiry (or the last day of data)."""
    keys = ["source", "region", "category_normalised"]
    frame = base.copy()
    expired = (frame["status"] == "expired") & frame["expired_at"].notna()
    frame["expired_date"] = None
    frame.loc[expired, "expired_date"] = [
        max(e.date(), f) for e, f in zip(frame.loc[expired, "expired_at"], frame.loc[expired, "first_date"], strict=True)
    ]  # fmt: skip
    last_day = max(
        frame["first_date"].max(),
        frame["last_seen_at"].dt.date.max(),
        frame["expired_date"].dropna().max(),
    )
    active_rows = []
    for row in frame.itertuples():
        end = row.expired_date or (last_day + timedelta(days=1))
        day = row.first_date
        while day < end:
            active_rows.append((day, row.source, row.region, row.category_normalised))
            day += timedelta(days=1)
    active = (
        pd.DataFrame(active_rows, columns=["day", *keys]).value_counts().rename("active_listings")
    )
    new = (
        frame.rename(columns={"first_date": "day"})[["day", *keys]]
        .value_counts()
        .rename("new_listings")
    )
    gone = frame.loc[expired].rename(columns={"expired_date": "day"})[["day", *keys]].value_counts()
    out = pd.concat([new, active, gone.rename("expired_listings")], axis=1).fillna(0).astype(int)
    return out.reset_index()[["day", *keys, "new_listings", "active_listings", "expired_listings"]]


def expected_salary_percentiles(base: pd.DataFrame) -> pd.DataFrame:
    frame = base[(base["status"] == "active") & base["is_canonical"]].copy()
    frame["mid"] = frame[["salary_min_usd", "salary_max_usd"]].mean(axis=1, skipna=True)
    frame = frame[frame["mid"].notna()]
    groups = frame.groupby(["region", "category_normalised", "seniority"])["mid"]
    out = pd.DataFrame(
        {
            "listings": groups.size(),
            "p25_usd": groups.quantile(0.25, interpolation="linear"),
            "p50_usd": groups.quantile(0.50, interpolation="linear"),
            "p75_usd": groups.quantile(0.75, interpolation="linear"),
        }
    ).reset_index()
    return out[out["listings"] >= 5]


def expected_top_companies(base: pd.DataFrame) -> pd.DataFrame:
    frame = base[base["is_canonical"]].copy()
    frame["iso_week"] = _iso_week(frame["first_seen_at"])
    out = frame.groupby(["iso_week", "company_name"]).size().rename("new_listings").reset_index()
    out["share_of_week"] = out["new_listings"] / out.groupby("iso_week")["new_listings"].transform(
        "sum"
    )
    out["rank_in_week"] = (
        out.groupby("iso_week")["new_listings"].rank(method="min", ascending=False).astype(int)
    )
    return out


def expected_tag_trends(base: pd.DataFrame) -> pd.DataFrame:
    frame = base[base["is_canonical"]].copy()
    frame["iso_week"] = _iso_week(frame["first_seen_at"])
    week_totals = frame.groupby("iso_week").size()
    tags = frame[["iso_week", "source", "source_job_id", "tags"]].explode("tags")
    tags["tag"] = tags["tags"].map(lambda t: t.strip().lower() if isinstance(t, str) else "")
    tags = tags[tags["tag"] != ""].drop_duplicates(["iso_week", "source", "source_job_id", "tag"])
    out = tags.groupby(["iso_week", "tag"]).size().rename("listings").reset_index()
    out["share_of_week"] = out["listings"] / out["iso_week"].map(week_totals)
    return out


def expected_listing_durations(base: pd.DataFrame) -> pd.DataFrame:
    frame = base[(base["status"] == "expired") & base["expired_at"].notna()].copy()
    seconds = (frame["expired_at"] - frame["first_seen_at"]).dt.total_seconds().clip(lower=0)
    frame["days"] = seconds / 86400.0
    groups = frame.groupby(["source", "category_normalised"])["days"]
    return pd.DataFrame(
        {
            "listings_expired": groups.size(),
            "median_days": groups.quantile(0.5, interpolation="linear"),
            "p90_days": groups.quantile(0.9, interpolation="linear"),
        }
    ).reset_index()


def expected_worldwide_share(base: pd.DataFrame) -> pd.DataFrame:
    frame = base[(base["status"] == "active") & base["is_canonical"]].copy()
    frame["worldwide"] = frame["eligibility"] == "worldwide"
    groups = frame.groupby("category_normalised")["worldwide"]
    out = pd.DataFrame({"listings": groups.size(), "worldwide_listings": groups.sum()})
    out["worldwide_share"] = out["worldwide_listings"] / out["listings"]
    return out.reset_index()


def read_mart(conn: psycopg.Connection, name: str, columns: list[str]) -> pd.DataFrame:
    cur = conn.execute(f"SELECT {', '.join(columns)} FROM marts.{name}")
    return pd.DataFrame(cur.fetchall(), columns=columns)
