"""POSTing to a URL someone gave us: a saved search's webhook, the alerts' webhook.

`post_webhook` checks the URL first (`targets.check_target`: scheme, and every address
the host resolves to, unless the policy allows private ones) and connects only to the
addresses checked, each in turn (the resolver's order) until one takes the connection,
with the host name kept for the `Host` header and TLS; a refused target is an error,
never a request. Redirects are not followed. One time limit covers the whole exchange
(`Deadline`): connecting, TLS, sending and the answer, so a server that sends a byte now
and then cannot hold the caller for ever. A failed answer is kept as its status, reason
and a short excerpt with every word of the URL's path and query masked (receivers echo
the path, "Cannot POST /hooks/<secret>"); errors name the host at most. The request is
made with the standard library's `http.client` on a socket this module opens, which logs
nothing.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from urllib.parse import quote, unquote, urlsplit

import certifi

from jobs_assets import __version__
from jobs_assets.lib.ops.targets import TargetPolicy, UnsafeTarget, check_target

USER_AGENT = f"jobs_assets/{__version__} (webhook)"


class DeliveryError(RuntimeError):
    """One attempt failed; the message is safe to store and log (no URL, no secret).
    `answered` is the HTTP status when a webhook answered (None: no answer)."""

    def __init__(self, message: str, answered: int | None = None) -> None:
        super().__init__(message)
        self.answered = answered


class Deadline:
    """A time limit on a whole exchange with a server. A socket's timeout bounds each
    read only, so a server sending a byte now and then keeps a read going for ever; when
    the limit passes, the connection is shut down and whatever read waits on it ends."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.expired = False
        self._connection: Callable[[], socket.socket | None] = lambda: None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def left(self) -> float:
        """Seconds left, as a socket timeout (which must be above 0)."""
        return max(0.001, self.ends - time.monotonic())

    def watch(self, connection: Callable[[], socket.socket | None]) -> None:
        """The socket to shut down when time is up, asked for then: the socket in use
        changes when TLS starts."""
        with self._lock:
            self._connection = connection
            if not self.expired:
                return
        self._shut()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
        self._shut()

    def _shut(self) -> None:
        sock = self._connection()
        if sock is not None:
            with contextlib.suppress(OSError):  # closed already, or not yet connected
                # socket.socket's own shutdown, also for TLS: SSLSocket.shutdown would drop
                # the TLS state under the thread still reading
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


def describe_target(url: str) -> str:
    """The webhook as it may be shown: scheme, host and port, never the path or query."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or '?'}{port}/…"


def post_webhook(
    url: str, body: bytes, key: str | None, policy: TargetPolicy, timeout_seconds: float
) -> int:
    """POST `body` to the addresses `url`'s host resolves to, once checked, each in turn
    until one takes the connection; its HTTP status. `DeliveryError` when refused,
    unreachable, not 2xx, or not answered within `timeout_seconds` for the whole request.
    `key` goes in the `Idempotency-Key` header."""
    try:
        addresses = check_target(url, policy)
    except UnsafeTarget as err:
        raise DeliveryError(f"target refused: {err}") from None
    where = describe_target(url)
    parts = urlsplit(url.strip())
    try:  # an internationalised name goes on the wire in its ASCII form (xn--)
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except UnicodeError as err:
        raise DeliveryError(f"target refused: the host name cannot be encoded ({err})") from None
    https = parts.scheme.lower() == "https"
    default_port = 443 if https else 80
    port = parts.port or default_port
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    path = quote(path, safe="/?=&%:@!$'()*+,;~-._")  # a non-ASCII path, percent-encoded
    named = f"[{host}]" if ":" in host else host  # an IPv6 literal keeps its brackets
    headers = {
        "Host": named if port == default_port else f"{named}:{port}",
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }
    if key:
        headers["Idempotency-Key"] = key
    with Deadline(timeout_seconds) as deadline:
        sock = _connect(addresses, port, deadline, where)
        deadline.watch(lambda: sock)  # `sock` as it is then: the TLS socket once wrapped
        connection = http.client.HTTPConnection(host, port)
        response = None
        try:
            if https:
                context = ssl.create_default_context(cafile=certifi.where())
                sock = context.wrap_socket(
                    sock, server_hostname=host, do_handshake_on_connect=False
                )
                sock.do_handshake()
            connection.sock = sock  # the connection checked above, never one of its own
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            if deadline.expired:  # headers cut short at the deadline read as complete
                raise TimeoutError
            excerpt = b""
            if not 200 <= response.status < 300:
                # the status is the answer; the text is what arrives in the time left
                with contextlib.suppress(OSError, http.client.HTTPException):
                    excerpt = response.read(200)
        except (OSError, http.client.HTTPException) as err:
            if deadline.expired or isinstance(err, TimeoutError):
                raise DeliveryError(
                    f"webhook {where} did not answer within {timeout_seconds:g} s"
                ) from None
            raise DeliveryError(
                f"webhook {where} failed before answering: {type(err).__name__}"
            ) from None
        finally:
            if response is not None:
                response.close()
            connection.close()
            sock.close()
    if not 200 <= response.status < 300:
        reason = without_the_url(" ".join(response.reason.split())[:60], url)
        text = without_the_url(" ".join(excerpt.decode("utf-8", "replace").split())[:100], url)
        raise DeliveryError(
            f"webhook {where} answered HTTP {response.status}"
            + (f" {reason}" if reason else "")
            + (f": {text}" if text else ""),
            answered=response.status,
        )
    return response.status


def _connect(addresses: list[str], port: int, deadline: Deadline, where: str) -> socket.socket:
    """A connection to the first of `addresses` (all checked) that takes one, in the
    resolver's order: a host without IPv6 fails at a dual-stack name's IPv6 address and
    goes on to its IPv4 one. Each address gets an equal share of the time left, so one
    that drops packets leaves time for the next."""
    failure = "no address"
    for index, address in enumerate(addresses):
        family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
        try:
            sock = socket.socket(family, socket.SOCK_STREAM)
        except OSError as err:  # no IPv6 on this host at all
            failure = type(err).__name__
            continue
        try:
            sock.settimeout(deadline.left() / (len(addresses) - index))
            sock.connect((address, port))
        except OSError as err:
            sock.close()
            failure = type(err).__name__
            continue
        sock.settimeout(deadline.left())
        return sock
    tried = f" at any of its {len(addresses)} addresses" if len(addresses) > 1 else ""
    raise DeliveryError(f"webhook {where} unreachable{tried}: {failure}")


#: a word of a receiver's answer, as split for `without_the_url`
_WORD = re.compile(r"[A-Za-z0-9_~-]{3,}")


def without_the_url(text: str, url: str) -> str:
    """`text` (a receiver's answer) with every word of 3 characters or more that is part
    of `url`'s path or query masked: receivers echo the path, whole, decoded or cut, and
    a webhook's path is often its secret."""
    parts = urlsplit(url.strip())
    secret = f"{parts.path}?{parts.query}"
    hidden = f"{secret} {unquote(secret)}".lower()
    return _WORD.sub(lambda m: "***" if m.group().lower() in hidden else m.group(), text)
