"""Sending the deliveries `deliver.plan_window` wrote: at least once, never twice at once.

`send_due` claims due rows (`pending`, `next_attempt_at` passed) with `FOR UPDATE SKIP
LOCKED`, marking them `sending` in a statement of their own, so two pods never hold the
same message; a deliverer that died mid-send leaves a claim that lapses after
`stale_claim`. Messages go out outside any transaction, several at a time, then each
outcome is written back: `sent`; or `pending` again with `next_attempt_at` pushed back
exponentially (`backoff_seconds` doubling, at most `max_backoff_seconds`) and the
attempt's error; or `undeliverable` once the message is older than `give_up_after`.

A webhook is a POST of the message's JSON with an `Idempotency-Key` header (the same on
every attempt, so the receiver can drop a repeat). Its URL is checked again before each
attempt (`targets.check_target`: DNS can change), and the request goes to the address
that was checked, with the host name kept for the `Host` header and TLS; a refused
target is an attempt's error, never a request. Redirects are not followed. An e-mail
goes through `JOBS_SMTP_URL` (`smtp://user:pass@host:port`, STARTTLS when the server
offers it, or `smtps://` for TLS from the start), with a `Message-ID` made from the key;
a password goes unencrypted to no server but one on this machine's loopback address.

Every request has a timeout. Errors name the host at most: no webhook URL, address or
SMTP password reaches the table or a log (`redact` on top). urllib3 logs each request
line at DEBUG; its records made while a webhook is posted are dropped
(`QuietWebhookRequests`), as a webhook's path can be its secret.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import quote, unquote, urlsplit

import certifi
import psycopg
import urllib3

from jobs_assets import __version__
from jobs_assets.lib.redact import redact
from jobs_assets.lib.searches.deliver import DELIVERIES_TABLE, EMAIL, SEARCHES_TABLE, WEBHOOK
from jobs_assets.lib.searches.targets import TargetPolicy, UnsafeTarget, check_target

USER_AGENT = f"jobs_assets/{__version__} (saved search delivery)"
#: listings an e-mail spells out; the webhook's JSON always holds all of them
EMAIL_LISTINGS = 50


class DeliveryError(RuntimeError):
    """One attempt failed; the message is safe to store and log (no URL, no secret)."""


@dataclass(frozen=True)
class SendPolicy:
    """How hard to try: timeouts, retries, and how many messages go out at once."""

    target: TargetPolicy = field(default_factory=TargetPolicy)
    timeout_seconds: float = 10.0
    backoff_seconds: float = 30.0
    max_backoff_seconds: float = 3600.0
    give_up_after: timedelta = timedelta(days=2)
    stale_claim: timedelta = timedelta(minutes=10)
    workers: int = 16
    batch: int = 100

    def backoff(self, attempts: int) -> float:
        """Seconds before the next attempt after `attempts` failed ones."""
        return min(self.max_backoff_seconds, self.backoff_seconds * 2 ** max(0, attempts - 1))


@dataclass(frozen=True)
class Mailer:
    """An SMTP server (`smtp://` or `smtps://`, user and password optional) and the From."""

    url: str
    sender: str
    timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(
                "JOBS_SMTP_URL must look like smtp://user:password@host:port (or smtps:// "
                "for TLS from the start)"
            )

    def describe(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.hostname}:{self.port}"

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (465 if parts.scheme == "smtps" else 25)

    def send(self, to: str, subject: str, text: str, key: str) -> None:
        parts = urlsplit(self.url)
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = f"<{key}@jobs-assets>"
        message["Idempotency-Key"] = key
        message.set_content(text)
        context = ssl.create_default_context(cafile=certifi.where())
        try:
            if parts.scheme == "smtps":
                client = smtplib.SMTP_SSL(
                    parts.hostname, self.port, timeout=self.timeout_seconds, context=context
                )
            else:
                client = smtplib.SMTP(parts.hostname, self.port, timeout=self.timeout_seconds)
            with client:
                client.ehlo()
                secure = parts.scheme == "smtps"
                if parts.scheme == "smtp" and client.has_extn("starttls"):
                    client.starttls(context=context)
                    client.ehlo()
                    secure = True
                if parts.username:
                    if not secure and not password_in_clear_stays_here(client.sock):
                        raise DeliveryError(
                            f"mail server {self.describe()} offers no STARTTLS: the "
                            "password is not sent unencrypted; use smtps:// or a server "
                            "that offers STARTTLS"
                        )
                    client.login(unquote(parts.username), unquote(parts.password or ""))
                client.send_message(message)
        except (smtplib.SMTPException, OSError) as err:
            raise DeliveryError(
                f"mail server {self.describe()} refused or failed: {type(err).__name__}"
                f"{_smtp_detail(err)}"
            ) from None


def password_in_clear_stays_here(sock: socket.socket | None) -> bool:
    """Whether a connection without TLS is to this machine itself (a loopback address):
    the only place a password may go unencrypted (a local relay or test server)."""
    try:
        return sock is not None and is_loopback(sock.getpeername()[0])
    except OSError:
        return False


def is_loopback(address: str) -> bool:
    """127.0.0.0/8 and ::1, also written IPv4-mapped (`::ffff:127.0.0.1`)."""
    try:
        parsed = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(parsed, "ipv4_mapped", None)
    return (mapped or parsed).is_loopback


def _smtp_detail(err: Exception) -> str:
    code = getattr(err, "smtp_code", None)
    text = getattr(err, "smtp_error", b"")
    if code is None:
        return ""
    detail = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f" {code} {detail[:200]}"


def describe_target(url: str) -> str:
    """The webhook as it may be shown: scheme, host and port, never the path or query."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or '?'}{port}/…"


class QuietWebhookRequests(logging.Filter):
    """Drops urllib3's records while this thread posts a webhook (they hold the
    request's path and query); every other request is logged as urllib3 logs it."""

    posting = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(self.posting, "active", False)


#: every urllib3 module that logs (a logger's filter sees only its own records)
URLLIB3_LOGGERS = tuple(
    f"urllib3.{name}"
    for name in ("connectionpool", "connection", "response", "poolmanager", "util.retry")
) + ("urllib3",)
_QUIET = QuietWebhookRequests()
for _name in URLLIB3_LOGGERS:
    logging.getLogger(_name).addFilter(_QUIET)


def post_webhook(
    url: str, body: bytes, key: str, policy: TargetPolicy, timeout_seconds: float
) -> int:
    """POST `body` to the address `url`'s host resolves to, once checked; its HTTP
    status. `DeliveryError` when refused, unreachable, slow or not 2xx."""
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
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    default_port = port == (443 if parts.scheme.lower() == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    path = quote(path, safe="/?=&%:@!$'()*+,;~-._")  # a non-ASCII path, percent-encoded
    named = f"[{host}]" if ":" in host else host  # an IPv6 literal keeps its brackets
    headers = {
        "Host": named if default_port else f"{named}:{port}",
        "Content-Type": "application/json",
        "Idempotency-Key": key,
        "User-Agent": USER_AGENT,
    }
    timeout = urllib3.Timeout(connect=timeout_seconds, read=timeout_seconds, total=timeout_seconds)
    if parts.scheme.lower() == "https":
        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            addresses[0],
            port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            server_hostname=host,
            assert_hostname=host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
        )
    else:
        pool = urllib3.HTTPConnectionPool(
            addresses[0], port, timeout=timeout, retries=False, maxsize=1
        )
    _QUIET.posting.active = True
    try:
        response = pool.urlopen(
            "POST",
            path,
            body=body,
            headers=headers,
            redirect=False,
            retries=False,
            preload_content=False,
        )
        try:
            excerpt = response.read(200, decode_content=False)
        finally:
            response.release_conn()
    except urllib3.exceptions.HTTPError as err:
        raise DeliveryError(f"webhook {where} unreachable: {type(err).__name__}") from None
    finally:
        pool.close()
        _QUIET.posting.active = False
    if not 200 <= response.status < 300:
        text = excerpt.decode("utf-8", "replace").strip()
        raise DeliveryError(f"webhook {where} answered HTTP {response.status}: {text[:200]}")
    return response.status


def email_text(payload: dict) -> tuple[str, str]:
    """The subject and plain text of an e-mail listing the message's jobs."""
    listings = payload["listings"]
    count = len(listings)
    subject = f"{count} new job{'s' if count != 1 else ''} for your saved search"
    lines = [f"{subject} (window {payload['window']}):", ""]
    for number, job in enumerate(listings[:EMAIL_LISTINGS], 1):
        company = f" at {job['company']}" if job.get("company") else ""
        lines.append(f"{number}. {job['title'] or '(no title)'}{company}")
        facts = [job.get("place"), salary_text(job.get("salary") or {})]
        facts = [f for f in facts if f]
        if facts:
            lines.append("   " + " · ".join(facts))
        lines.append(f"   {job['url']} ({job['attribution']})")
        for other in job.get("other_boards") or []:
            lines.append(f"   also on {other['source_name']}: {other['url']}")
        lines.append("")
    if count > EMAIL_LISTINGS:
        lines.append(f"… and {count - EMAIL_LISTINGS} more in your search's feed.")
        lines.append("")
    lines.append("You get this because you saved a search on jobs_assets; delete the search")
    lines.append("to stop these messages.")
    return subject, "\n".join(lines)


def salary_text(salary: dict) -> str | None:
    low, high = salary.get("min_usd_annual"), salary.get("max_usd_annual")
    if low is None and high is None:
        return salary.get("as_written")
    if low is not None and high is not None and low != high:
        return f"USD {low:,.0f}–{high:,.0f} a year"
    return f"USD {(high if high is not None else low):,.0f} a year"


@dataclass(frozen=True)
class Outcome:
    search_id: str
    window_key: str
    channel: str
    key: str  # the message's idempotency key: which of the window's messages it is
    status: str  # sent, pending (to retry) or undeliverable
    error: str | None = None


@dataclass
class SendReport:
    sent: list[Outcome] = field(default_factory=list)
    retrying: list[Outcome] = field(default_factory=list)
    given_up: list[Outcome] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        {"sent": self.sent, "pending": self.retrying, "undeliverable": self.given_up}[
            outcome.status
        ].append(outcome)


_RELEASE_STALE = f"""
UPDATE {DELIVERIES_TABLE} SET status = 'pending', claimed_at = NULL
WHERE status = 'sending' AND claimed_at < now() - %s
"""
_CLAIM = f"""
UPDATE {DELIVERIES_TABLE} d SET status = 'sending', claimed_at = now()
FROM {SEARCHES_TABLE} s
WHERE d.idempotency_key IN (
        SELECT idempotency_key FROM {DELIVERIES_TABLE}
        WHERE status = 'pending' AND next_attempt_at <= now()
        ORDER BY next_attempt_at, search_id, window_key, channel, part
        LIMIT %(batch)s FOR UPDATE SKIP LOCKED)
  AND s.search_id = d.search_id
RETURNING d.search_id, d.window_key, d.channel, d.idempotency_key, d.payload, d.attempts,
          (now() - d.created_at) > %(give_up)s AS too_old, s.deliver
"""
_FINISH = f"""
UPDATE {DELIVERIES_TABLE} d SET
    status = o.status, claimed_at = NULL, attempts = d.attempts + 1,
    last_attempt_at = now(), last_error = coalesce(o.error, d.last_error),
    sent_at = CASE WHEN o.status = 'sent' THEN now() END,
    next_attempt_at = CASE WHEN o.status = 'pending'
        THEN now() + make_interval(secs => o.wait) ELSE d.next_attempt_at END
FROM unnest(%(keys)s::text[], %(statuses)s::text[], %(errors)s::text[], %(waits)s::float8[])
     AS o(key, status, error, wait)
WHERE d.idempotency_key = o.key
"""


def send_due(
    connect: Callable[[], psycopg.Connection],
    policy: SendPolicy,
    mailer: Mailer | None = None,
    budget_seconds: float | None = None,
) -> SendReport:
    """Send every due message, a batch at a time, until none is due; with
    `budget_seconds`, no batch starts after that long (a sensor tick stays short; what
    is left waits for the next one)."""
    report = SendReport()
    deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
    with connect() as conn:
        conn.autocommit = True
        conn.execute(_RELEASE_STALE, (policy.stale_claim,))
        with ThreadPoolExecutor(policy.workers, thread_name_prefix="search_send") as pool:
            while deadline is None or time.monotonic() < deadline:
                claimed = conn.execute(
                    _CLAIM, {"batch": policy.batch, "give_up": policy.give_up_after}
                ).fetchall()
                if not claimed:
                    break
                outcomes = list(pool.map(lambda row: _attempt(row, policy, mailer), claimed))
                _finish(conn, outcomes, claimed, policy)
                for outcome in outcomes:
                    report.add(outcome)
    return report


def _attempt(row: tuple, policy: SendPolicy, mailer: Mailer | None) -> Outcome:
    search_id, window_key, channel, key, payload, attempts, too_old, deliver = row
    try:
        if channel == WEBHOOK:
            url = (deliver or {}).get("webhook_url")
            if not url:
                raise DeliveryError("the search has no webhook URL any more")
            body = json.dumps(payload, separators=(",", ":")).encode()
            post_webhook(url, body, key, policy.target, policy.timeout_seconds)
        elif channel == EMAIL:
            address = (deliver or {}).get("email")
            if mailer is None:
                raise DeliveryError("no mail server set (JOBS_SMTP_URL)")
            if not address:
                raise DeliveryError("the search has no e-mail address any more")
            subject, text = email_text(payload)
            mailer.send(address, subject, text, key)
        else:
            raise DeliveryError(f"unknown channel {channel!r}")
    except DeliveryError as err:
        status = "undeliverable" if too_old else "pending"
        return Outcome(search_id, window_key, channel, key, status, redact(err))
    except Exception as err:  # noqa: BLE001 (one message's bug must not stop the others)
        status = "undeliverable" if too_old else "pending"
        failed = f"failed: {type(err).__name__}"
        return Outcome(search_id, window_key, channel, key, status, failed)
    return Outcome(search_id, window_key, channel, key, "sent")


def _finish(
    conn: psycopg.Connection, outcomes: list[Outcome], claimed: list[tuple], policy: SendPolicy
) -> None:
    attempts = {r[3]: r[5] for r in claimed}
    conn.execute(
        _FINISH,
        {
            "keys": [o.key for o in outcomes],
            "statuses": [o.status for o in outcomes],
            "errors": [o.error for o in outcomes],
            "waits": [policy.backoff(attempts[o.key] + 1) for o in outcomes],
        },
    )
