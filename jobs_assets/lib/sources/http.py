"""One HTTP policy for every source: deadlines, retries, a shared rate limit, stats.

No request can hang a run:
- each attempt has a total deadline (`total_timeout_seconds`) covering the connection,
  the headers and the whole body; the body is read in small pieces with the deadline
  checked after each, so a body trickling one byte a second fails at the deadline;
- the whole fetch of a source shares a `FetchBudget`; no request starts (or waits)
  past it;
- 429 and 5xx, dropped connections, truncated or badly encoded bodies are retried with
  exponential backoff; `Retry-After` (seconds or an HTTP date) is honoured up to
  `max_retry_after_seconds`, and beyond it the fetch fails at once, saying so;
- redirects stop after `MAX_REDIRECTS`.

Every failure is a `FetchError` naming the source, the (masked) URL, what happened
and what to do; no library exception escapes. A limiter shared by all threads of a
source keeps it under `JOBS_MAX_RPS`.
"""

from __future__ import annotations

import email.utils
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode

import requests
import urllib3
from requests.adapters import HTTPAdapter

from jobs_assets import __version__
from jobs_assets.lib.errors import FetchError
from jobs_assets.lib.redact import install_log_filter, redact

USER_AGENT = (
    f"jobs_assets/{__version__} (remote-job listings ingestion; links back to every source)"
)
RETRY_STATUSES = (429, 500, 502, 503, 504)
MAX_REDIRECTS = 10
CHUNK_BYTES = 64 * 1024
BACKOFF_MAX_SECONDS = 120.0

__all__ = ["USER_AGENT", "FetchBudget", "FetchError", "HttpClient", "HttpStats", "RateLimiter"]

# Failures of one attempt worth another try (a flaky network or server).
_TRANSIENT = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    urllib3.exceptions.HTTPError,
    OSError,
    EOFError,
)


@dataclass(frozen=True)
class Answer:
    """What one GET brought back, its body read whole within the deadline."""

    status_code: int
    headers: Mapping[str, str]  # requests' case-insensitive headers
    url: str
    content: bytes


class _DeadlineExceeded(Exception):
    def __init__(self, received: int, body: bytes = b"") -> None:
        self.received = received
        self.body = body  # what arrived before the deadline, kept as evidence


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


class FetchBudget:
    """The time a source's whole fetch may take (0 or less: unlimited)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends_at = time.monotonic() + seconds if seconds > 0 else float("inf")

    def remaining(self) -> float:
        return self.ends_at - time.monotonic()


@dataclass
class HttpStats:
    """What the UI shows about a source's HTTP traffic in one materialisation."""

    requests: int = 0
    retries: int = 0
    bytes: int = 0
    seconds: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, status: int | None, size: int, seconds: float, retry: bool) -> None:
        with self._lock:
            self.requests += 1
            self.retries += int(retry)
            self.bytes += size
            self.seconds += seconds
            if status is not None:
                self.statuses[status] = self.statuses.get(status, 0) + 1

    def as_metadata(self) -> dict[str, object]:
        return {
            "http_requests": self.requests,
            "http_retries": self.retries,
            "http_bytes": self.bytes,
            "http_seconds": round(self.seconds, 3),
            "http_statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds from now: a number, or an HTTP date; None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class HttpClient:
    """A `requests.Session` with the project's deadline, retry and rate-limit policy.

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
        total_timeout_seconds: float = 120.0,
        max_retry_after_seconds: float = 300.0,
        budget: FetchBudget | None = None,
        source: str = "",
    ) -> None:
        install_log_filter()
        adapter = HTTPAdapter(max_retries=0, pool_connections=1, pool_maxsize=max(1, workers))
        self.session = requests.Session()
        self.session.max_redirects = MAX_REDIRECTS
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        self.timeout_seconds = timeout_seconds
        self.total_timeout = total_timeout_seconds if total_timeout_seconds > 0 else float("inf")
        self.max_retries = max(0, max_retries)
        self.backoff_seconds = backoff_seconds
        self.max_retry_after = max_retry_after_seconds
        self.budget = budget or FetchBudget(0)
        self.source = source
        self.limiter = RateLimiter(max_rps)
        self.stats = HttpStats()

    @property
    def timeout(self) -> tuple[float, float]:
        return (min(10.0, self.timeout_seconds), self.timeout_seconds)

    def get(self, url: str, params: dict[str, object] | None = None) -> Answer:
        """GET with retries; the final response (body read) whatever its status."""
        joiner = "&" if "?" in url else "?"
        shown = redact(url + (f"{joiner}{urlencode(params)}" if params else ""))
        who = f"{self.source}: " if self.source else ""
        last_problem = ""
        for attempt in range(self.max_retries + 1):
            retry = attempt > 0
            self._check_budget(who, shown)
            self.limiter.wait()
            started = time.monotonic()
            deadline = min(started + self.total_timeout, self.budget.ends_at)
            try:
                response = self._attempt(url, params, deadline)
            except requests.exceptions.TooManyRedirects:
                self.stats.record(None, 0, time.monotonic() - started, retry)
                raise FetchError(
                    f"{who}GET {shown} redirected more than {MAX_REDIRECTS} times (a redirect "
                    "loop); check the JOBS_*_URL setting against the API's documentation",
                    retryable=False,
                ) from None
            except _DeadlineExceeded as err:
                self.stats.record(None, err.received, time.monotonic() - started, retry)
                raise FetchError(
                    f"{who}GET {shown} did not finish within "
                    f"{self._deadline_reason(started, deadline)} ({err.received} bytes received); "
                    "the source is too slow right now: try again later, or raise "
                    "JOBS_HTTP_TOTAL_TIMEOUT_SECONDS / JOBS_FETCH_BUDGET_SECONDS",
                    partial=err.body or None,
                ) from None
            except _TRANSIENT as err:
                self.stats.record(None, 0, time.monotonic() - started, retry)
                last_problem = _describe(err)
                if name_not_resolved(err):  # offline, or a typo in the host: retrying won't help
                    raise FetchError(
                        f"{who}GET {shown}: the host name does not resolve ({last_problem}). "
                        "Are you offline? Check the network and the JOBS_*_URL setting "
                        "(`make demo` runs the same pipeline on recorded responses)",
                        retryable=False,
                    ) from None
                if attempt < self.max_retries:
                    self._sleep(self._backoff(attempt), who, shown, last_problem)
                    continue
                raise FetchError(
                    f"{who}GET {shown} failed after retries ({attempt + 1} attempts): {last_problem}. "
                    "Check the network and the JOBS_*_URL settings (offline? try `make demo`); "
                    "if only this source fails, it may be down: try again later",
                ) from None
            self.stats.record(
                response.status_code, len(response.content), time.monotonic() - started, retry
            )
            if response.status_code not in RETRY_STATUSES or attempt == self.max_retries:
                return response
            asked = response.headers.get("Retry-After")
            wait = retry_after_seconds(asked)
            if wait is not None and wait > self.max_retry_after:
                raise FetchError(
                    f"{who}GET {shown} answered HTTP {response.status_code} and asked us to wait "
                    f"{wait:.0f} s (Retry-After: {asked}), more than "
                    f"JOBS_HTTP_MAX_RETRY_AFTER_SECONDS={self.max_retry_after:g}; not waiting. "
                    "Try the window again after that time",
                    partial=response.content,
                    retryable=False,
                )
            last_problem = f"HTTP {response.status_code}"
            self._sleep(wait if wait is not None else self._backoff(attempt), who, shown, asked)
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(self, url: str, params: dict[str, object] | None, deadline: float) -> Answer:
        """One request, its body read in pieces so the deadline holds for all of it."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _DeadlineExceeded(0)
        connect = min(self.timeout[0], remaining)
        read = min(self.timeout[1], remaining)
        response = self.session.get(url, params=params, timeout=(connect, read), stream=True)
        try:
            chunks: list[bytes] = []
            received = 0
            while True:
                if time.monotonic() > deadline:
                    raise _DeadlineExceeded(received, b"".join(chunks))
                chunk = response.raw.read1(CHUNK_BYTES, decode_content=True)
                if not chunk:
                    break
                chunks.append(chunk)
                received += len(chunk)
            if time.monotonic() > deadline:
                raise _DeadlineExceeded(received, b"".join(chunks))
            answer = Answer(response.status_code, response.headers, response.url, b"".join(chunks))
            _check_length(answer, received)
            return answer
        except urllib3.exceptions.ReadTimeoutError as err:
            if time.monotonic() >= deadline - 0.05:
                raise _DeadlineExceeded(received, b"".join(chunks)) from err
            raise
        finally:
            response.close()

    def _deadline_reason(self, started: float, deadline: float) -> str:
        if deadline >= self.budget.ends_at:
            return f"the fetch budget (JOBS_FETCH_BUDGET_SECONDS={self.budget.seconds:g})"
        return f"{self.total_timeout:g} s (JOBS_HTTP_TOTAL_TIMEOUT_SECONDS)"

    def _check_budget(self, who: str, shown: str) -> None:
        if self.budget.remaining() <= 0:
            raise FetchError(
                f"{who}the fetch used up its budget (JOBS_FETCH_BUDGET_SECONDS="
                f"{self.budget.seconds:g}) before GET {shown}; the source is slow or paging "
                "endlessly: try again later, or raise the budget",
            )

    def _backoff(self, attempt: int) -> float:
        return min(BACKOFF_MAX_SECONDS, self.backoff_seconds * (2**attempt))

    def _sleep(self, seconds: float, who: str, shown: str, why: str | None) -> None:
        if seconds >= self.budget.remaining():
            raise FetchError(
                f"{who}GET {shown}: waiting {seconds:.0f} s before retrying ({why}) would pass "
                f"the fetch budget (JOBS_FETCH_BUDGET_SECONDS={self.budget.seconds:g}); "
                "try the window again later",
            )
        time.sleep(seconds)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_length(response: Answer, received: int) -> None:
    """A body shorter than its `Content-Length` is truncated (urllib3 may not notice)."""
    declared = response.headers.get("Content-Length")
    if declared is None or response.headers.get("Content-Encoding"):
        return
    try:
        expected = int(declared)
    except ValueError:
        return
    if received < expected:
        raise urllib3.exceptions.ProtocolError(
            f"body cut short: {received} of {expected} bytes (Content-Length)"
        )


def name_not_resolved(err: BaseException) -> bool:
    """Whether a connection failed on DNS (no network, no such host): a retry minutes
    later rarely helps, so the fetch fails at once instead of backing off 20 times."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [err]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, socket.gaierror | urllib3.exceptions.NameResolutionError):
            return True
        todo += [
            current.__cause__,
            current.__context__,
            *(a for a in current.args if isinstance(a, BaseException)),
        ]
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)
    return False


def _describe(err: BaseException) -> str:
    """A library exception in the operator's words (and without secrets)."""
    text = redact(str(err))
    if isinstance(err, urllib3.exceptions.DecodeError | requests.exceptions.ContentDecodingError):
        return f"the body's compression is corrupt ({_short(text)})"
    if (
        isinstance(err, requests.exceptions.ChunkedEncodingError | urllib3.exceptions.ProtocolError)
        or "IncompleteRead" in text
    ):
        return f"the body was cut short ({_short(text)})"
    if isinstance(err, requests.exceptions.Timeout | urllib3.exceptions.TimeoutError):
        return f"no answer in time ({type(err).__name__})"
    if isinstance(err, requests.exceptions.ConnectionError | ConnectionError):
        return f"could not connect ({_short(text)})"
    return f"{type(err).__name__}: {_short(text)}"


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
