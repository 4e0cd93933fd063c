"""Migration 0013: `search_vector` kept by a trigger instead of a generated column.

A database of the previous release keeps every row and every stored vector; afterwards
the vector follows the text exactly as the generated column did, whatever writes it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from jobs_assets.lib.schema.columns import SEARCH_VECTOR_SQL
from jobs_assets.lib.schema.migrate import migrate
from jobs_assets_tests.conftest import Database
from jobs_assets_tests.test_schema import created_database

_ROWS = (
    "INSERT INTO public.jobs_listings_data (source, source_job_id, title, company_name, tags, "
    "job_url, region, description_text, retrieved_at, first_seen_at, last_seen_at, "
    "last_partition_key) VALUES "
    "('remotive', 'a', 'Data Engineer', 'Acme', '{python,sql}', 'https://x/a', 'Europe', "
    " 'Pipelines and warehouses.', now(), now(), now(), 'k'),"
    "('jobicy', 'b', 'Tutor', NULL, '{}', 'https://x/b', 'Unknown', NULL, now(), now(), now(), 'k')"
)
# what the generated column of 0003 held, computed afresh from each row's text
_STALE = (
    f"SELECT source_job_id FROM public.jobs_listings_data "
    f"WHERE search_vector IS DISTINCT FROM ({SEARCH_VECTOR_SQL}) ORDER BY 1"
)


@pytest.fixture
def scratch(database: Database) -> Iterator[str]:
    with created_database(database, f"jobs_vector_{uuid.uuid4().hex[:10]}") as conninfo:
        yield conninfo


def _vectors(conn: psycopg.Connection) -> list[tuple[str, str]]:
    return conn.execute(
        "SELECT source_job_id, search_vector::text FROM public.jobs_listings_data ORDER BY 1"
    ).fetchall()


def test_upgrade_keeps_rows_and_vectors_then_follows_the_text(scratch: str) -> None:
    migrate(scratch, "0011")
    with psycopg.connect(scratch) as conn:
        conn.execute(_ROWS)
        before = _vectors(conn)
        rows_before = conn.execute(
            "SELECT count(*), count(search_vector) FROM public.jobs_listings_data"
        ).fetchone()
    assert rows_before == (2, 2)
    assert "'pipelin':" in before[0][1]  # the generated column's stemmed description
    migrate(scratch)
    with psycopg.connect(scratch) as conn:
        assert _vectors(conn) == before  # every row and vector kept
        generated = conn.execute(
            "SELECT attgenerated FROM pg_attribute WHERE attrelid = "
            "'public.jobs_listings_data'::regclass AND attname = 'search_vector'"
        ).fetchone()[0]
        assert generated == ""  # an ordinary column now
        # a new listing: the trigger computes it, replacing whatever the writer sent
        conn.execute(
            "INSERT INTO public.jobs_listings_data (source, source_job_id, title, job_url, "
            "region, description_text, search_vector, retrieved_at, first_seen_at, "
            "last_seen_at, last_partition_key) VALUES ('remoteok', 'c', 'Nurse', "
            "'https://x/c', 'Unknown', 'Night shifts in Leeds.', 'bogus', now(), now(), "
            "now(), 'k')"
        )
        # the text changes: the vector follows
        conn.execute(
            "UPDATE public.jobs_listings_data SET description_text = 'Streaming with Kafka.' "
            "WHERE source_job_id = 'a'"
        )
        conn.execute(
            "UPDATE public.jobs_listings_data SET tags = '{rust}' WHERE source_job_id = 'b'"
        )
        assert conn.execute(_STALE).fetchall() == []
        # a hand-written vector does not stick
        conn.execute(
            "UPDATE public.jobs_listings_data SET search_vector = 'x' WHERE source_job_id = 'b'"
        )
        assert conn.execute(_STALE).fetchall() == []
        vectors = dict(_vectors(conn))
        assert "'kafka':" in vectors["a"] and "pipelin" not in vectors["a"]
        assert "'rust':" in vectors["b"] and "'leed':" in vectors["c"]
        # what changes no text (a cluster, a status) leaves the vector as it was
        conn.execute(
            "UPDATE public.jobs_listings_data SET duplicate_cluster_id = 'remotive:a', "
            "is_canonical = true, status = 'expired', expired_at = now()"
        )
        assert dict(_vectors(conn)) == vectors
        assert conn.execute(_STALE).fetchall() == []
