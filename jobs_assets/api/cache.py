"""Response cache: Redis when `JOBS_REDIS_URL` is set, else a TTL cache in this process;
and the clients' own caches, through ETags (`conditional`).

Keys carry the data version, so an answer cached before a load is never read after it
(old keys simply expire). Redis is an optimisation, never a dependency: with short
socket timeouts and a back-off after a failure, a dead or slow Redis costs a request at
most one timeout every `retry_seconds`, and the API answers from the database meanwhile.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from typing import Protocol

from fastapi import Request
from fastapi.responses import Response

log = logging.getLogger(__name__)

KEY_PREFIX = "jobs-api:"


def conditional(request: Request, body: bytes, media_type: str, cache_control: str) -> Response:
    """200 with a strong ETag of `body`, or 304 when the client already holds these bytes:
    `If-None-Match` lists one of its tags (weak or strong: a GET compares them weakly,
    RFC 9110 13.1.2) or is `*` (any current representation)."""
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    headers = {"ETag": etag, "Cache-Control": cache_control}
    match = request.headers.get("if-none-match", "").strip()
    tags = {tag.strip().removeprefix("W/") for tag in match.split(",")}
    if match == "*" or etag in tags:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


class Cache(Protocol):
    backend: str

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, ttl_seconds: int) -> None: ...

    def status(self) -> str:
        """ "ok", or "degraded" when answers bypass the cache."""
        ...


class MemoryCache:
    """A bounded LRU with per-entry expiry, shared by the worker's threads."""

    backend = "memory"

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] < time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + ttl_seconds, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def status(self) -> str:
        return "ok"


class RedisCache:
    """Redis with a circuit breaker: after an error, skip Redis for `retry_seconds`."""

    backend = "redis"

    def __init__(self, url: str, timeout_seconds: float = 0.05, retry_seconds: float = 5.0):
        import redis

        self._errors = (redis.RedisError, OSError)
        self.client = redis.Redis.from_url(
            url,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
            retry_on_timeout=False,
            health_check_interval=0,
        )
        self.retry_seconds = retry_seconds
        self._down_until = 0.0
        self._lock = threading.Lock()

    def _available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, err: Exception) -> None:
        with self._lock:
            if self._available():
                log.warning(
                    "Redis cache unavailable (%s); answering from the database for %.0f s",
                    type(err).__name__,
                    self.retry_seconds,
                )
            self._down_until = time.monotonic() + self.retry_seconds

    def get(self, key: str) -> bytes | None:
        if not self._available():
            return None
        try:
            return self.client.get(KEY_PREFIX + key)
        except self._errors as err:
            self._failed(err)
            return None

    def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        if not self._available():
            return
        try:
            self.client.set(KEY_PREFIX + key, value, ex=ttl_seconds)
        except self._errors as err:
            self._failed(err)

    def status(self) -> str:
        try:
            self.client.ping()
        except self._errors as err:
            self._failed(err)
            return "degraded"
        self._down_until = 0.0
        return "ok"


class NoCache:
    """Caching switched off (JOBS_API_CACHE_TTL_SECONDS=0): every answer from the database."""

    backend = "none"

    def get(self, key: str) -> bytes | None:
        return None

    def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        return None

    def status(self) -> str:
        return "ok"


def make_cache(url: str | None, ttl_seconds: int) -> Cache:
    if ttl_seconds <= 0:
        return NoCache()
    return RedisCache(url) if url else MemoryCache()
