"""Saved searches' store and webhook targets (lib/searches), and the upgrade that dates
each listing's arrival for them (migration 0025), on a real PostgreSQL."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from jobs_assets.lib.identity.history import HISTORY_COLUMNS
from jobs_assets.lib.ops.targets import TargetPolicy, UnsafeTarget, check_target
from jobs_assets.lib.schema.migrate import migrate
from jobs_assets.lib.searches import store
from jobs_assets_tests.conftest import Database
from jobs_assets_tests.test_schema import created_database


def test_a_search_is_kept_with_its_token_hashed_and_found_only_with_it(clean_db):
    with clean_db.connect() as conn:
        created = store.create_search(
            conn, {"q": "python", "region": "Europe"}, {"webhook_url": "https://example.org/h"}
        )
        found = store.get_search(conn, created.search.search_id, created.token)
        assert found is not None and found.query == {"q": "python", "region": "Europe"}
        assert found.deliver == {"webhook_url": "https://example.org/h"}
        (stored,) = conn.execute(
            "SELECT token_sha256 FROM public.jobs_saved_searches WHERE search_id = %s",
            (created.search.search_id,),
        ).fetchone()
        assert created.token not in stored and stored == store.token_hash(created.token)
        # a wrong token, no token and an unknown id answer alike
        assert store.get_search(conn, created.search.search_id, created.token + "x") is None
        assert store.get_search(conn, created.search.search_id, None) is None
        assert store.get_search(conn, "0" * 32, created.token) is None
        assert not store.delete_search(conn, created.search.search_id, "wrong")
        assert [s.search_id for s in store.all_searches(conn)] == [created.search.search_id]
        assert store.delete_search(conn, created.search.search_id, created.token)
        assert store.get_search(conn, created.search.search_id, created.token) is None
        assert list(store.all_searches(conn)) == []


def test_creation_is_limited_per_client_and_says_when_to_retry(clean_db):
    limit = store.RateLimit(count=3, window=timedelta(hours=1))
    alice = store.client_hash("198.51.100.7", key="k")
    bob = store.client_hash("198.51.100.8", key="k")
    assert "198.51.100.7" not in alice
    with clean_db.connect() as conn:
        for _ in range(3):
            store.create_search(conn, {}, {}, client=alice, rate_limit=limit)
        with pytest.raises(store.RateLimited) as refused:
            store.create_search(conn, {}, {}, client=alice, rate_limit=limit)
        assert 3500 <= refused.value.retry_after_seconds <= 3600
        assert "at most 3 saved searches per 60 minutes" in str(refused.value)
        store.create_search(conn, {}, {}, client=bob, rate_limit=limit)  # another client
        store.create_search(conn, {}, {})  # no client (CLI, MCP): not limited
        (count,) = conn.execute("SELECT count(*) FROM public.jobs_saved_searches").fetchone()
    assert count == 5


def test_deleting_searches_gives_no_new_allowance(clean_db):
    """Every creation counts for the whole window, whether the search is kept or not."""
    limit = store.RateLimit(count=2, window=timedelta(hours=1))
    alice = store.client_hash("198.51.100.7", key="k")
    with clean_db.connect() as conn:
        for _ in range(2):
            made = store.create_search(conn, {}, {}, client=alice, rate_limit=limit)
            assert store.delete_search(conn, made.search.search_id, made.token)
        with pytest.raises(store.RateLimited) as refused:
            store.create_search(conn, {}, {}, client=alice, rate_limit=limit)
        assert 3500 <= refused.value.retry_after_seconds <= 3600
        # an hour later the creations no longer count (and are dropped)
        conn.execute(
            "UPDATE public.jobs_search_creations SET created_at = created_at - interval '61 min'"
        )
        store.create_search(conn, {}, {}, client=alice, rate_limit=limit)
        (kept,) = conn.execute("SELECT count(*) FROM public.jobs_search_creations").fetchone()
    assert kept == 1


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost:8443/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[fe80::1]/hook",
        "https://0.0.0.0/hook",
        # private IPv4 inside IPv6: NAT64 (well-known and local-use), 6to4, IPv4-compatible
        "https://[64:ff9b::a00:1]/hook",
        "https://[64:ff9b::7f00:1]/hook",
        "https://[64:ff9b:1::a00:1]/hook",
        "https://[2002:a00:1::1]/hook",
        "https://[2002:7f00:1::]/hook",
        "https://[::10.0.0.1]/hook",
    ],
)
def test_private_loopback_and_link_local_targets_are_refused(url):
    with pytest.raises(UnsafeTarget, match="JOBS_ALERT_ALLOW_PRIVATE=on"):
        check_target(url, TargetPolicy())
    assert check_target(url, TargetPolicy(allow_private=True))


def test_public_ipv4_inside_ipv6_is_allowed():
    for url in ("https://[64:ff9b::808:808]/hook", "https://[2002:808:808::1]/hook"):
        assert check_target(url, TargetPolicy())


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("https://[::1/hook", "not a valid URL"),
        ("https://[::1/", "not a valid URL"),
        ("https://93.184.215.14:0/hook", "port"),
        ("https://93.184.215.14:65536/hook", "port"),
        ("https://93.184.215.14:x/hook", "port"),
    ],
)
def test_a_malformed_url_or_port_is_refused_without_repeating_it(url, says):
    with pytest.raises(UnsafeTarget, match=says) as refused:
        check_target(url, TargetPolicy(allow_private=True))
    assert url not in str(refused.value) and "/hook" not in str(refused.value)


def test_only_https_unless_http_is_allowed_and_never_credentials_in_the_url():
    with pytest.raises(UnsafeTarget, match="JOBS_ALERT_ALLOW_HTTP=on"):
        check_target("http://127.0.0.1/h", TargetPolicy(allow_private=True))
    assert check_target("http://127.0.0.1/h", TargetPolicy(allow_http=True, allow_private=True))
    for bad in ("ftp://example.org/x", "file:///etc/passwd", "javascript:alert(1)", "https:///x"):
        with pytest.raises(UnsafeTarget):
            check_target(bad, TargetPolicy(allow_http=True, allow_private=True))
    with pytest.raises(UnsafeTarget, match="user name or password") as refused:
        check_target("https://me:s3cret@8.8.8.8/h", TargetPolicy())
    assert "s3cret" not in str(refused.value)


def test_a_public_address_is_allowed_and_an_unresolvable_host_is_refused():
    assert check_target("https://8.8.8.8/hook", TargetPolicy()) == ["8.8.8.8"]
    with pytest.raises(UnsafeTarget, match="does not resolve"):
        check_target("https://no-such-host.invalid/hook", TargetPolicy())


def test_a_host_whose_lookup_hangs_is_refused_after_the_time_limit_not_the_resolvers():
    """A name server that never answers: the check gives up after `resolve_seconds`
    (here 0.2 s) and says so, while the lookup itself would go on for a minute."""
    release = threading.Event()

    def never_answers(host, port, **kwargs):
        release.wait(60)
        raise OSError("no answer")

    policy = TargetPolicy(resolve_seconds=0.2, lookup=never_answers)
    started = time.monotonic()
    try:
        for _ in range(10):  # more than the lookup threads: later ones wait their turn
            with pytest.raises(UnsafeTarget, match=r"did not resolve within 0\.2 s") as refused:
                check_target("https://hooks.slow-dns.example/h?key=s3cret", policy)
            assert "s3cret" not in str(refused.value)
    finally:
        release.set()
    assert time.monotonic() - started < 30  # ten limits of 0.2 s, not ten minutes


# --- migration 0025: when each listing arrived ------------------------------------------


@pytest.fixture
def scratch(database: Database) -> Iterator[str]:
    with created_database(database, f"jobs_arrivals_{uuid.uuid4().hex[:10]}") as conninfo:
        yield conninfo


def version(
    conn: psycopg.Connection, job_id: str, start: str, end: str | None, status: str, fetched: str
) -> None:
    """A version of listing `job_id` in the history, as the previous release wrote it."""
    columns = ", ".join(HISTORY_COLUMNS)
    conn.execute(
        f"INSERT INTO public.jobs_listings_history ({columns}, valid_from, valid_to, row_hash) "
        f"SELECT {columns}, %s, %s, 'hash' FROM public.jobs_listings_data "
        "WHERE source_job_id = %s",
        (start, end, job_id),
    )
    conn.execute(
        "UPDATE public.jobs_listings_history SET status = %s, retrieved_at = %s "
        "WHERE source_job_id = %s AND valid_from = %s",
        (status, fetched, job_id, start),
    )


UPGRADED_TABLES = (
    "public.jobs_listings_data",
    "public.jobs_listings_history",
    "public.jobs_saved_searches",
    "public.jobs_search_deliveries",
    "public.jobs_search_announced",
)


def every_row(conn: psycopg.Connection) -> dict[str, list[str]]:
    return {
        table: [r[0] for r in conn.execute(f"SELECT to_jsonb(t)::text FROM {table} t ORDER BY 1")]
        for table in UPGRADED_TABLES
    }


def test_upgrade_to_0025_keeps_every_row_and_dates_each_listing_s_arrival(scratch: str) -> None:
    """A database of the previous release (0024) upgrades in place: every row kept, a saved
    `job_type` spelled "Full-Time" stored as the listings spell it; each listing's arrival
    is the first fetch its history recorded (else its own), its return after an expiry
    the fetch of the version that brought it back. From then on the triggers stamp both."""
    migrate(scratch, "0024")
    with psycopg.connect(scratch) as conn:
        conn.execute(
            "INSERT INTO public.jobs_listings_data (source, source_job_id, title, job_url, "
            "region, retrieved_at, first_seen_at, last_seen_at, last_partition_key, status, "
            "reactivated_count) VALUES "
            "('jobicy', 'a', 'A', 'https://x/a', 'Unknown', '2026-12-03 12:07+00', "
            " '2026-12-01 08:00+00', '2026-12-03 12:00+00', 'k', 'active', 0),"
            "('jobicy', 'b', 'B', 'https://x/b', 'Unknown', '2026-12-03 12:07+00', "
            " '2026-12-01 08:00+00', '2026-12-03 12:00+00', 'k', 'active', 1),"
            "('jobicy', 'c', 'C', 'https://x/c', 'Unknown', '2026-12-02 16:01+00', "
            " '2026-12-02 12:00+00', '2026-12-02 12:00+00', 'k', 'active', 0)"
        )
        version(conn, "a", "2026-12-01 08:00+00", None, "active", "2026-12-01 12:05+00")
        version(conn, "b", "2026-12-01 08:00+00", "2026-12-02 08:00+00", "active",
                "2026-12-01 12:06+00")  # fmt: skip
        version(conn, "b", "2026-12-02 08:00+00", "2026-12-03 08:00+00", "expired",
                "2026-12-02 12:04+00")  # fmt: skip
        version(conn, "b", "2026-12-03 08:00+00", None, "active", "2026-12-03 12:07+00")
        conn.execute(
            "INSERT INTO public.jobs_saved_searches (search_id, token_sha256, query, deliver) "
            "VALUES ('s1', 'ab', '{\"job_type\": \"Full-Time\", \"q\": \"rust\"}', '{}'), "
            "('s2', 'cd', '{\"job_type\": \"full time job\"}', '{}'), "
            "('s3', 'ef', '{\"job_type\": \"contract\"}', '{}')"
        )
        conn.execute(
            "INSERT INTO public.jobs_search_deliveries (search_id, window_key, channel, "
            "idempotency_key, payload, listing_count) VALUES ('s1', 'w', 'webhook', 'k1', "
            "'{\"listings\": []}', 1)"
        )
        conn.execute(
            "INSERT INTO public.jobs_search_announced (search_id, job_key, source, "
            "source_job_id, window_key) VALUES ('s1', 'jobicy:a', 'jobicy', 'a', 'w')"
        )
        before = every_row(conn)

    migrate(scratch, "0025")

    with psycopg.connect(scratch) as conn:
        after = every_row(conn)
        searches = before.pop("public.jobs_saved_searches")
        assert after.pop("public.jobs_saved_searches") == [
            row.replace('"Full-Time"', '"full_time"') for row in searches
        ]
        assert after == before
        assert conn.execute(
            "SELECT source_job_id, arrived_at, returned_at FROM public.jobs_listing_arrivals "
            "ORDER BY 1"
        ).fetchall() == [
            ("a", stamp("2026-12-01 12:05"), None),
            ("b", stamp("2026-12-01 12:06"), stamp("2026-12-03 12:07")),
            ("c", stamp("2026-12-02 16:01"), None),  # no history: its own fetch
        ]
        (now,) = conn.execute("SELECT statement_timestamp()").fetchone()
        conn.execute(
            "INSERT INTO public.jobs_listings_data (source, source_job_id, title, job_url, "
            "region, retrieved_at, first_seen_at, last_seen_at, last_partition_key) "
            "VALUES ('remotive', 'd', 'D', 'https://x/d', 'Unknown', now(), now(), now(), 'k')"
        )
        conn.execute(  # b back again; a edited (no arrival, no return)
            "UPDATE public.jobs_listings_data SET reactivated_count = reactivated_count + 1 "
            "WHERE source_job_id = 'b'"
        )
        conn.execute("UPDATE public.jobs_listings_data SET title = 'A2' WHERE source_job_id = 'a'")
        stamped = conn.execute(
            "SELECT source_job_id, arrived_at >= %s, returned_at >= %s "
            "FROM public.jobs_listing_arrivals ORDER BY 1",
            (now, now),
        ).fetchall()
        assert stamped == [("a", False, None), ("b", False, True), ("c", False, None),
                           ("d", True, None)]  # fmt: skip
        assert conn.execute(
            "SELECT indexdef LIKE '%%(valid_from) WHERE (valid_to IS NULL)' FROM pg_indexes "
            "WHERE indexname = 'jobs_listings_history_current_from_idx'"
        ).fetchall() == [(True,)]


def stamp(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- migration 0027: arrivals in commit order -------------------------------------------


def test_upgrade_to_0027_keeps_every_row_and_stamps_transactions_from_then_on(
    scratch: str,
) -> None:
    """A database of the previous release (0026) upgrades in place: every row kept, the
    rows stored before it without a transaction id or snapshot (they are compared by time,
    as before); from then on each arrival and return keeps its transaction's id, and each
    new search the snapshot of the statement that stored it."""
    migrate(scratch, "0026")
    with psycopg.connect(scratch) as conn:
        conn.execute(
            "INSERT INTO public.jobs_listings_data (source, source_job_id, title, job_url, "
            "region, retrieved_at, first_seen_at, last_seen_at, last_partition_key, status, "
            "reactivated_count) VALUES ('jobicy', 'a', 'A', 'https://x/a', 'Unknown', "
            "now(), now(), now(), 'k', 'active', 0)"
        )
        conn.execute(
            "INSERT INTO public.jobs_saved_searches (search_id, token_sha256, query, deliver) "
            "VALUES ('s1', 'ab', '{\"q\": \"rust\"}', '{}')"
        )
        tables = (*UPGRADED_TABLES, "public.jobs_listing_arrivals")
        before = {
            t: conn.execute(f"SELECT to_jsonb(t)::text FROM {t} t").fetchall() for t in tables
        }

    migrate(scratch, "0027")

    with psycopg.connect(scratch) as conn:
        new_columns = "'created_snapshot' - 'arrived_xid' - 'returned_xid'"
        after = {
            t: conn.execute(f"SELECT (to_jsonb(t) - {new_columns})::text FROM {t} t").fetchall()
            for t in tables
        }
        assert after == before
        assert conn.execute(
            "SELECT arrived_xid, returned_xid FROM public.jobs_listing_arrivals"
        ).fetchall() == [(None, None)]
        assert conn.execute(
            "SELECT created_snapshot FROM public.jobs_saved_searches"
        ).fetchall() == [(None,)]
        conn.commit()
        with conn.transaction():
            (xid,) = conn.execute("SELECT pg_current_xact_id()::text").fetchone()
            conn.execute(
                "INSERT INTO public.jobs_listings_data (source, source_job_id, title, job_url, "
                "region, retrieved_at, first_seen_at, last_seen_at, last_partition_key) "
                "VALUES ('remotive', 'd', 'D', 'https://x/d', 'Unknown', now(), now(), now(), 'k')"
            )
            conn.execute(
                "UPDATE public.jobs_listings_data SET reactivated_count = 1 "
                "WHERE source_job_id = 'a'"
            )
        assert conn.execute(
            "SELECT source_job_id, arrived_xid::text, returned_xid::text "
            "FROM public.jobs_listing_arrivals ORDER BY 1"
        ).fetchall() == [("a", None, xid), ("d", xid, None)]
        created = store.create_search(conn, {"q": "go"}, {})
        (seen,) = conn.execute(
            "SELECT pg_visible_in_snapshot(%s::xid8, created_snapshot) "
            "FROM public.jobs_saved_searches WHERE search_id = %s",
            (xid, created.search.search_id),
        ).fetchone()
        assert seen is True  # committed before the search was stored
