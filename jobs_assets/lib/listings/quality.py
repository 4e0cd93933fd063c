"""Data-quality rules for a window of listings, as SQL over the two tables.

Pure (psycopg, no Dagster): the asset checks in `defs/ingestion/checks.py` call these
and turn a `Finding` into a check result. Each rule counts its violations and keeps
a few offending rows, so the operator sees what is wrong without writing a query.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psycopg

from jobs_assets.lib.findings import SAMPLE_ROWS, Finding
from jobs_assets.lib.money.ecb_rates import STALE_AFTER
from jobs_assets.lib.money.salary import PLAUSIBLE_USD_MAX, PLAUSIBLE_USD_MIN
from jobs_assets.lib.normalise.location import MULTIPLE, REGIONS, UNKNOWN, WORLDWIDE
from jobs_assets.lib.normalise.rows import JOB_TYPES, SENIORITIES
from jobs_assets.lib.schema import (
    LISTINGS_TABLE,
    REQUIRED_COLUMNS,
    STAGING_TABLE,
    WINDOW_KEY_FORMAT,
)
from jobs_assets.lib.sources import SOURCES

REGION_VALUES = (*REGIONS, WORLDWIDE, MULTIPLE, UNKNOWN)
#: clocks differ a little; a listing published further ahead than this is a data error
FUTURE_TOLERANCE = timedelta(minutes=15)


def _rules(
    conn: psycopg.Connection, partition_key: str, rules: dict[str, str], params: dict
) -> Finding:
    """Count each rule's violations among the window's listings, and sample them."""
    scope = f"FROM {LISTINGS_TABLE} WHERE last_partition_key = %(key)s"
    params = {"key": partition_key, **params}
    counts = ", ".join(f"count(*) FILTER (WHERE {cond})" for cond in rules.values())
    row = conn.execute(f"SELECT count(*), {counts} {scope}", params).fetchone()
    finding = Finding(dict(zip(rules, row[1:], strict=True)), checked=row[0])
    for rule, cond in rules.items():
        if not finding.violations[rule] or len(finding.samples) >= SAMPLE_ROWS:
            continue
        cur = conn.execute(
            f"SELECT source, source_job_id, title {scope} AND ({cond}) "
            f"ORDER BY source, source_job_id LIMIT {SAMPLE_ROWS}",
            params,
        )
        for source, job_id, title in cur.fetchall():
            finding.samples.append(
                {"rule": rule, "source": source, "source_job_id": job_id, "title": title}
            )
    finding.samples = finding.samples[:SAMPLE_ROWS]
    return finding


def keys_and_required(conn: psycopg.Connection, partition_key: str) -> Finding:
    """Unique keys, known sources, required columns present, every staged listing loaded.

    The required columns are those the column contract marks `required`.
    """
    rules = {f"null {c}": f"{c} IS NULL" for c in REQUIRED_COLUMNS}
    rules["null or blank source_job_id"] = "coalesce(btrim(source_job_id), '') = ''"
    rules["unknown source"] = "NOT (source = ANY(%(sources)s))"
    finding = _rules(conn, partition_key, rules, {"sources": list(SOURCES)})
    # The primary key makes duplicates impossible today; this guards a dropped constraint.
    duplicates = conn.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM {LISTINGS_TABLE} WHERE last_partition_key = %s "
        "GROUP BY source, source_job_id HAVING count(*) > 1) AS d",
        (partition_key,),
    ).fetchone()[0]
    missing = conn.execute(
        f"SELECT count(*) FROM {STAGING_TABLE} AS s WHERE s.partition_key = %s AND NOT EXISTS "
        f"(SELECT 1 FROM {LISTINGS_TABLE} AS l "
        "WHERE l.source = s.source AND l.source_job_id = s.source_job_id)",
        (partition_key,),
    ).fetchone()[0]
    finding.violations["duplicate keys"] = duplicates
    finding.violations["staged listings missing from the table"] = missing
    return finding


def vocabularies(conn: psycopg.Connection, partition_key: str) -> Finding:
    """region, regions, job_type and seniority hold only their documented values."""
    rules = {
        "region outside the vocabulary": "NOT (region = ANY(%(region_values)s))",
        "regions outside the vocabulary": "NOT (regions <@ %(regions)s::text[])",
        "job_type outside the vocabulary": "job_type IS NOT NULL "
        "AND NOT (job_type = ANY(%(job_types)s))",
        "seniority outside the vocabulary": "seniority IS NOT NULL "
        "AND NOT (seniority = ANY(%(seniorities)s))",
    }
    params = {
        "region_values": list(REGION_VALUES),
        "regions": list(REGIONS),
        "job_types": list(JOB_TYPES),
        "seniorities": list(SENIORITIES),
    }
    return _rules(conn, partition_key, rules, params)


def salaries(conn: psycopg.Connection, partition_key: str) -> Finding:
    """min <= max, amounts positive, annual USD amounts within the plausible range."""
    plausible = "BETWEEN %(usd_min)s AND %(usd_max)s"
    rules = {
        "salary_min above salary_max": "salary_min > salary_max",
        "salary_min_usd above salary_max_usd": "salary_min_usd > salary_max_usd",
        "salary not positive": "salary_min <= 0 OR salary_max <= 0",
        "implausible USD salary": f"NOT (coalesce(salary_min_usd, %(usd_min)s) {plausible}) "
        f"OR NOT (coalesce(salary_max_usd, %(usd_min)s) {plausible})",
        "USD amount without a currency": "salary_currency IS NULL "
        "AND (salary_min_usd IS NOT NULL OR salary_max_usd IS NOT NULL)",
    }
    params = {"usd_min": PLAUSIBLE_USD_MIN, "usd_max": PLAUSIBLE_USD_MAX}
    return _rules(conn, partition_key, rules, params)


def published_in_future(
    conn: psycopg.Connection, partition_key: str, now: datetime | None = None
) -> Finding:
    """No listing published after now (plus a little clock skew)."""
    rules = {"published_at in the future": "published_at > %(limit)s"}
    limit = (now or datetime.now().astimezone()) + FUTURE_TOLERANCE
    return _rules(conn, partition_key, rules, {"limit": limit})


def usd_rates_fresh(conn: psycopg.Connection, partition_key: str) -> Finding:
    """The rate date of every USD amount is at most 14 days before its listing's retrieval
    (`ecb_rates.is_stale` in SQL)."""
    rules = {
        "USD rate more than 14 days older than the retrieval": "salary_usd_rate_date < "
        "(retrieved_at AT TIME ZONE 'UTC')::date - %(days)s"
    }
    return _rules(conn, partition_key, rules, {"days": STALE_AFTER.days})


EXPIRED_RULE = "expires_at before retrieved_at"


def expired_before_retrieval(conn: psycopg.Connection, partition_key: str) -> Finding:
    """Listings the source served after the expiry date it gave them (loaded anyway)."""
    return _rules(conn, partition_key, {EXPIRED_RULE: "expires_at < retrieved_at"}, {})


def staged_counts(conn: psycopg.Connection, partition_key: str) -> dict[str, int]:
    rows = conn.execute(
        f"SELECT source, count(*) FROM {STAGING_TABLE} WHERE partition_key = %s GROUP BY source",
        (partition_key,),
    ).fetchall()
    return {source: count for source, count in rows}


@dataclass
class VolumeReport:
    """Per source: this window's listings against the trailing median of earlier windows."""

    rows: list[dict] = field(default_factory=list)

    @property
    def low(self) -> list[dict]:
        return [r for r in self.rows if r["status"] == "low"]


def volume_vs_trailing_median(
    conn: psycopg.Connection,
    partition_key: str,
    window_start: datetime,
    loaded_sources: list[str],
    history: timedelta = timedelta(days=7),
    min_ratio: float = 0.3,
    min_history_windows: int = 3,
) -> VolumeReport:
    """Compare each loaded source's staged count with the median of its earlier windows.

    Windows come from the staging table (it keeps every window), and only windows in
    which the source had listings count: a source skipped for politeness in some
    windows must not drag its median down. Sources not loaded in this window (skipped,
    nothing stored) are reported, not judged.
    """
    current = staged_counts(conn, partition_key)
    earlier = conn.execute(
        f"SELECT source, partition_key, count(*) FROM {STAGING_TABLE} "
        "WHERE partition_key < %s AND partition_key >= %s GROUP BY source, partition_key",
        (partition_key, (window_start - history).strftime(WINDOW_KEY_FORMAT)),
    ).fetchall()
    per_source: dict[str, list[int]] = {}
    for source, _key, count in earlier:
        per_source.setdefault(source, []).append(count)
    report = VolumeReport()
    for source in SOURCES:
        counts = per_source.get(source, [])
        median = statistics.median(counts) if counts else None
        row = {
            "source": source,
            "window_listings": current.get(source, 0),
            "trailing_median": median,
            "windows_in_median": len(counts),
        }
        if source not in loaded_sources:
            row["status"] = "not fetched in this window"
        elif len(counts) < min_history_windows:
            row["status"] = "not enough history"
        elif row["window_listings"] < min_ratio * median:
            row["status"] = "low"
        else:
            row["status"] = "ok"
        report.rows.append(row)
    return report
