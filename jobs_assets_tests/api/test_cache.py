"""The cache in Redis: a real redis-server of the test's own, then the same server killed.

Never the machine's Redis on 6379: each test starts one on a free port.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from jobs_assets.api.app import create_app
from jobs_assets.api.cache import KEY_PREFIX, MemoryCache
from jobs_assets_tests.api.conftest import ApiData


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    binary = shutil.which("redis-server")
    assert binary, "redis-server is required for the cache tests (apt-get install redis-server)"
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        + ["--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    try:
        yield url, process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


@pytest.fixture
def redis_client(data: ApiData, redis_server: tuple[str, subprocess.Popen]) -> Iterator[TestClient]:
    with TestClient(create_app(conninfo=data.conninfo, redis_url=redis_server[0])) as client:
        yield client


def test_answers_are_cached_in_redis_under_the_data_version(
    redis_client: TestClient, redis_server: tuple[str, subprocess.Popen], data: ApiData
) -> None:
    first = redis_client.get("/listings", params={"q": "python"})
    version = first.json()["data_version"]
    store = redis.Redis.from_url(redis_server[0])
    keys = [k.decode() for k in store.keys(f"{KEY_PREFIX}*")]
    assert len(keys) == 1 and keys[0].startswith(f"{KEY_PREFIX}v{version}:/listings:")
    assert 0 < store.ttl(keys[0]) <= 300
    assert store.get(keys[0]) == first.content
    # a second app (another worker) answers from the same entry
    with TestClient(create_app(conninfo=data.conninfo, redis_url=redis_server[0])) as other:
        assert other.get("/listings", params={"q": "python"}).content == first.content
    # after a load the next answer is new data, under a new key
    data.load_again()
    second = redis_client.get("/listings", params={"q": "python"})
    assert second.headers["x-cache"] == "miss"
    assert second.json()["data_version"] == version + 1
    assert redis_client.get("/healthz").json()["cache"] == {"backend": "redis", "status": "ok"}


def test_redis_down_answers_from_the_database_and_health_says_degraded(
    redis_client: TestClient, redis_server: tuple[str, subprocess.Popen], data: ApiData
) -> None:
    assert redis_client.get("/listings").status_code == 200
    redis_server[1].kill()
    redis_server[1].wait(timeout=10)

    started = time.monotonic()
    for _ in range(20):
        response = redis_client.get("/listings", params={"limit": 2})
        assert response.status_code == 200
        assert len(response.json()["items"]) == 2
    elapsed = time.monotonic() - started
    assert elapsed < 2.0, f"20 requests took {elapsed:.2f} s with Redis down"
    health = redis_client.get("/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "degraded"
    assert health.json()["cache"] == {"backend": "redis", "status": "degraded"}
    # still no stale read: with no cache at all, a load is seen at once
    version = redis_client.get("/listings").json()["data_version"]
    data.load_again()
    assert redis_client.get("/listings").json()["data_version"] == version + 1


def test_redis_that_hangs_costs_one_short_timeout(data: ApiData) -> None:
    """A server that accepts and never answers: the socket timeout, then the breaker."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        with TestClient(create_app(conninfo=data.conninfo, redis_url=url)) as client:
            started = time.monotonic()
            for _ in range(10):
                assert client.get("/listings").status_code == 200
            assert time.monotonic() - started < 1.5
            assert client.get("/healthz").json()["cache"]["status"] == "degraded"


def test_memory_cache_expires_and_stays_bounded() -> None:
    cache = MemoryCache(max_entries=2)
    cache.set("a", b"1", ttl_seconds=60)
    cache.set("b", b"2", ttl_seconds=60)
    assert cache.get("a") == b"1"  # now the most recently used
    cache.set("c", b"3", ttl_seconds=60)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"1", None, b"3")
    cache.set("d", b"4", ttl_seconds=0)
    time.sleep(0.01)
    assert cache.get("d") is None
