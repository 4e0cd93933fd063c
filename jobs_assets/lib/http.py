"""One HTTP policy for every source: retries, timeouts, a shared rate limit, stats.

Retries are urllib3's `Retry`: 429 and 5xx (and connection or read errors) are
retried with exponential backoff, honouring `Retry-After`. A limiter shared by all
threads of a source keeps it under `JOBS_MAX_RPS`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from jobs_assets import __version__

USER_AGENT = (
    f"jobs_assets/{__version__} (remote-job listings ingestion; links back to every source)"
)
RETRY_STATUSES = (429, 500, 502, 503, 504)


class FetchError(RuntimeError):
    """A request that failed for good (after retries); the message says what to do."""


class RateLimiter:
    """Spaces requests at least 1/rps apart across all threads (0 = unlimited)."""

    def __init__(self, max_rps: float) -> None:
        self._interval = 1.0 / max_rps if max_rps > 0 else 0.0
        self._lock = threading.Lock()
        self._next_slot = 0.0

    def wait(self) -> None:
        if not self._interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self._interval
        if slot > now:
            time.sleep(slot - now)


@dataclass
class HttpStats:
    """What the UI shows about a source's HTTP traffic in one materialisation."""

    requests: int = 0
    retries: int = 0
    bytes: int = 0
    seconds: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, response: requests.Response, seconds: float) -> None:
        history = getattr(getattr(response.raw, "retries", None), "history", ()) or ()
        with self._lock:
            self.requests += 1 + len(history)
            self.retries += len(history)
            self.bytes += len(response.content)
            self.seconds += seconds
            self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1

    def as_metadata(self) -> dict[str, object]:
        return {
            "http_requests": self.requests,
            "http_retries": self.retries,
            "http_bytes": self.bytes,
            "http_seconds": round(self.seconds, 3),
            "http_statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


class HttpClient:
    """A `requests.Session` with the project's retry, timeout and rate-limit policy.

    Thread-safe for GETs: the connection pool is sized for `workers` threads.
    """

    def __init__(
        self,
        *,
        timeout_seconds: float = 30.0,
        max_retries: int = 5,
        backoff_seconds: float = 1.0,
        max_rps: float = 0.0,
        workers: int = 1,
    ) -> None:
        retry = Retry(
            total=max_retries,
            connect=max_retries,
            read=max_retries,
            status=max_retries,
            backoff_factor=backoff_seconds,
            backoff_max=120,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET"}),
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        adapter = HTTPAdapter(max_retries=retry, pool_connections=1, pool_maxsize=max(1, workers))
        self.session = requests.Session()
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        self.timeout = (min(10.0, timeout_seconds), timeout_seconds)
        self.limiter = RateLimiter(max_rps)
        self.stats = HttpStats()

    def get(self, url: str, params: dict[str, object] | None = None) -> requests.Response:
        """GET with retries; returns the final response whatever its status."""
        self.limiter.wait()
        started = time.perf_counter()
        try:
            response = self.session.get(url, params=params, timeout=self.timeout)
        except requests.exceptions.RetryError as err:
            raise FetchError(
                f"GET {url} params={params} kept failing after retries ({err}); "
                "the source may be down or rate-limiting us: try again later"
            ) from err
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as err:
            raise FetchError(
                f"GET {url} params={params} failed after retries: {type(err).__name__}: {err}. "
                "Check the network and the JOBS_*_URL settings (offline? try `make demo`)"
            ) from err
        self.stats.record(response, time.perf_counter() - started)
        return response

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
