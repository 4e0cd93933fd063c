"""The data version the pipeline bumps, through the real jobs_listings asset."""

from __future__ import annotations

from fastapi.testclient import TestClient

from jobs_assets.api.app import create_app
from jobs_assets.lib.listings.data_version import bump_data_version, read_data_version
from jobs_assets_tests.api.conftest import WINDOWS, ApiData
from jobs_assets_tests.conftest import Database


def test_a_load_bumps_the_version_and_records_its_window(data: ApiData) -> None:
    with data.database.connect() as conn:
        before = read_data_version(conn).version
    data.load_again()
    with data.database.connect() as conn:
        after = read_data_version(conn)
    assert after.version == before + 1
    assert after.partition_key == WINDOWS[1]
    # the recorded listings, as the API serves them: searchable, each credited to its source
    with TestClient(create_app(conninfo=data.conninfo)) as client:
        page = client.get("/listings", params={"limit": 100, "include_duplicates": True}).json()
        assert page["data_version"] == after.version and page["items"]
        for item in page["items"]:
            assert item["attribution"]["url"] == item["job_url"] and item["job_url"]
            names = ("Remotive", "Jobicy", "Himalayas", "Remote OK", "Arbeitnow")
            assert item["attribution"]["source_name"] in names
        found = client.get("/listings", params={"q": "engineer", "sort": "relevance"}).json()
        assert "engin" in found["items"][0]["title"].lower()  # a title match ranks first


def test_bumping_without_the_table_is_a_no_op(database: Database) -> None:
    with database.connect() as conn, conn.transaction(force_rollback=True):
        exists = conn.execute("SELECT to_regclass('public.jobs_data_version')").fetchone()[0]
        assert exists is not None  # migration 0003 creates it
        conn.execute("DROP TABLE public.jobs_data_version")  # a database restored from before
        assert bump_data_version(conn, "2026-11-30-00:00") is None
