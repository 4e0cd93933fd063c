"""The listings writes: a window larger than one chunk (the threaded pipeline) gives
exactly the rows and counts of the single-thread path, and the COPY rendering follows
the column contract."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from jobs_assets.lib.listings import copy_lines, upsert_window
from jobs_assets.lib.schema import LISTINGS, OUTPUT_COLUMNS, Render
from jobs_assets_tests.conftest import (
    Database,
    fixture_listing_count,
    latest_windows,
    materialize_window,
)


def listing_rows(database: Database) -> list[str]:
    """Every listing as JSON, without the transaction that wrote it (each run's own)."""
    return [
        row[0]
        for row in database.query(
            "SELECT (to_jsonb(t) - 'changed_xid')::text FROM public.jobs_listings_data AS t "
            "ORDER BY source, source_job_id"
        )
    ]


def test_pipelined_large_window_equals_the_single_thread_path(
    resources: dict, clean_db: Database
) -> None:
    key = latest_windows(1)[0]
    assert materialize_window(resources, key, selection="*staged_listings").success
    start = datetime(2026, 11, 30, 8, tzinfo=UTC)
    outcomes, tables = [], []
    # one chunk: the caller's thread; 40-row chunks: the reading, normalising and writing threads
    for chunk_rows in (100_000, 40):
        with clean_db.connect() as conn:
            conn.execute("TRUNCATE public.jobs_listings_data")
        with clean_db.connect() as conn, clean_db.connect() as read_conn:
            result = upsert_window(conn, read_conn, key, start, chunk_rows=chunk_rows)
        outcomes.append((result.staged, result.inserted, result.updated, result.older))
        tables.append(listing_rows(clean_db))
        assert result.report.listings == fixture_listing_count()
    assert outcomes[0] == outcomes[1] == (fixture_listing_count(), fixture_listing_count(), 0, 0)
    assert tables[0] == tables[1] and len(tables[0]) == fixture_listing_count()


def test_copy_lines_render_each_column_as_the_contract_says() -> None:
    row = {name: None for name in OUTPUT_COLUMNS}
    row.update(
        source="remotive",
        source_job_id="7",
        title="Tab\there\\",
        tags=["a", 'b"c'],
        countries=[],
        regions=["europe"],
        region="europe",
        salary_min=50000.5,
        salary_max=60000,
        retrieved_at=pd.Timestamp("2026-11-30 08:00:01", tz="UTC"),
    )
    line = copy_lines(pd.DataFrame([row], dtype=object))[0].as_py()
    fields = dict(zip(OUTPUT_COLUMNS, line.split("\t"), strict=True))
    assert fields["title"] == "Tab\\there\\\\"
    assert fields["tags"] == '{"a","b\\\\"c"}'
    assert fields["countries"] == "{}"
    assert fields["salary_min"] == "50000.5" and fields["salary_max"] == "60000"
    assert fields["retrieved_at"] == "2026-11-30 08:00:01.000000Z"
    assert fields["published_at"] == fields["company_name"] == "\\N"
    not_copied = {Render.WINDOW, Render.LIFECYCLE, Render.GENERATED, Render.STAMPED}
    assert {LISTINGS.column(n).render for n in OUTPUT_COLUMNS} == set(Render) - not_copied
