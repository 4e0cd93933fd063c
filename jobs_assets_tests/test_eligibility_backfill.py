"""Migration 0012: a database of the release before gets who-may-apply filled.

The staged payloads are real listings of the recorded responses (Himalayas' time-zone
list, Arbeitnow's remote flag); the other listings have only their stored text.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb

from jobs_assets.lib.identity.history import HISTORY_COLUMNS, row_hash_sql
from jobs_assets.lib.schema.migrate import migrate
from jobs_assets_tests.conftest import Database
from jobs_assets_tests.test_schema import created_database

ELIGIBILITY_COLUMNS = ("eligibility", "eligible_countries", "utc_offset_min", "utc_offset_max")
FIXTURES = Path(__file__).parent.parent / "jobs_assets" / "replay_fixtures"


@pytest.fixture
def scratch(database: Database) -> Iterator[str]:
    with created_database(database, f"jobs_elig_{uuid.uuid4().hex[:10]}") as conninfo:
        yield conninfo


def _recorded(name: str, key: str, match: dict) -> dict:
    document = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return next(j for j in document[key] if all(j.get(k) == v for k, v in match.items()))


def test_upgrade_fills_eligibility_from_text_and_staged_fields(scratch: str) -> None:
    himalayas = _recorded("himalayas.json", "jobs", {"locationRestrictions": []})
    office = _recorded("arbeitnow.json", "data", {"remote": False, "location": "Berlin"})
    remote = _recorded("arbeitnow.json", "data", {"remote": True, "location": "Berlin"})
    listings = [  # (source, id, location_raw as the release before stored it)
        ("himalayas", himalayas["guid"], ""),
        ("arbeitnow", office["slug"], "Berlin"),
        ("arbeitnow", remote["slug"], "Berlin"),
        ("arbeitnow", "no-payload", "Berlin"),
        ("remotive", "r1", "CET +/- 3 HOURS"),
        ("remotive", "r2", "Worldwide"),
        ("remoteok", "o1", "Remote, United States"),
        ("remoteok", "o2", None),
        ("jobicy", "j1", "LATAM,  Canada,  USA"),
    ]
    migrate(scratch, "0011")
    with psycopg.connect(scratch) as conn:
        for source, job_id, payload in (
            ("himalayas", himalayas["guid"], himalayas),
            ("arbeitnow", office["slug"], office),
            ("arbeitnow", remote["slug"], remote),
        ):
            conn.execute(
                "INSERT INTO staging.staging_jobs_listings_data VALUES (%s, %s, %s, %s, now())",
                (source, "2026-12-01-00:00", job_id, Jsonb(payload)),
            )
        for source, job_id, raw in listings:
            conn.execute(
                "INSERT INTO public.jobs_listings_data (source, source_job_id, title, job_url,"
                " location_raw, region, retrieved_at, first_seen_at, last_seen_at,"
                " last_partition_key) VALUES (%s, %s, 't', 'https://x', %s, 'Unknown', now(),"
                " now(), now(), 'k')",
                (source, job_id, raw),
            )
        before = ", ".join(c for c in HISTORY_COLUMNS if c not in ELIGIBILITY_COLUMNS)
        conn.execute(  # each listing's current version, as the release before wrote it
            f"INSERT INTO public.jobs_listings_history ({before}, valid_from, valid_to, "
            f"row_hash) SELECT {before}, now(), NULL, 'hash of 0011' "
            "FROM public.jobs_listings_data"
        )
    migrate(scratch)
    with psycopg.connect(scratch) as conn:
        rows = {
            (source, job_id): (kind, countries if len(countries) < 5 else len(countries),
                               low, high)
            for source, job_id, kind, countries, low, high in conn.execute(
                "SELECT source, source_job_id, eligibility, eligible_countries,"
                " utc_offset_min::float, utc_offset_max::float FROM public.jobs_listings_data"
            )
        }  # fmt: skip
        versions = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE h.row_hash = "
            f"{row_hash_sql('l')} AND h.eligibility = l.eligibility) "
            "FROM public.jobs_listings_history AS h JOIN public.jobs_listings_data AS l "
            "USING (source, source_job_id) WHERE h.valid_to IS NULL"
        ).fetchone()
    assert len(rows) == len(listings)  # every row kept
    assert rows[("himalayas", himalayas["guid"])] == ("timezones", [], -8.0, -3.0)
    assert rows[("arbeitnow", office["slug"])] == ("onsite_or_hybrid", ["DE"], None, None)
    assert rows[("arbeitnow", remote["slug"])] == ("countries", ["DE"], None, None)
    # no payload left: a place named alone on a board of office jobs is an office job
    assert rows[("arbeitnow", "no-payload")] == ("onsite_or_hybrid", ["DE"], None, None)
    assert rows[("remotive", "r1")] == ("timezones", [], -2.0, 5.0)
    assert rows[("remotive", "r2")] == ("worldwide", [], None, None)
    assert rows[("remoteok", "o1")] == ("countries", ["US"], None, None)
    assert rows[("remoteok", "o2")] == ("unknown", [], None, None)
    kind, latam_and_more, *_ = rows[("jobicy", "j1")]
    assert kind == "regions" and latam_and_more > 30  # LATAM expanded, with CA and US
    assert versions == (len(listings), len(listings))  # versions follow, hashes match
