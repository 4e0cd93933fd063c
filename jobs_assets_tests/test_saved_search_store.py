"""Saved searches' store and webhook targets (lib/searches), on a real PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from jobs_assets.lib.ops.targets import TargetPolicy, UnsafeTarget, check_target
from jobs_assets.lib.searches import store


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
