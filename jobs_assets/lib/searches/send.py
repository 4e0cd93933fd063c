"""Sending the deliveries `deliver.plan_window` wrote: at least once, never twice at once.

`send_due` claims due rows (`pending`, `next_attempt_at` passed) with `FOR UPDATE SKIP
LOCKED`, marking them `sending` in a statement of their own, so two pods never hold the
same message; a deliverer that died mid-send leaves a claim that lapses after
`stale_claim`. Messages go out outside any transaction, several at a time, claimed only
as a worker is free to send them, and each outcome is written back as soon as that
message is done: `sent`; or `pending` again with `next_attempt_at` pushed back
exponentially (`backoff_seconds` doubling, at most `max_backoff_seconds`) and the
attempt's error; or `undeliverable` once retrying is over. An outcome is written only
while its claim holds (the row still `sending` with the `claimed_at` this sender set): a
sender whose claim lapsed and was taken over never overwrites what the other recorded.

How long a message is retried depends on the answer, as most webhook platforms do
(GitLab disables a hook that keeps answering 4xx, Brevo drops an event at a 4xx other
than 429, Ironclad disables a hook at its first 410; Stripe, the exception, retries
every failure for 3 days): no answer, a timeout, a 5xx, 408, 425 or 429 are retried
until the message is `give_up_after` old (2 days); any other 3xx or 4xx (a moved or
deleted hook, a refused token: redirects are never followed) until it is
`give_up_refused_after` old (1 hour, as a receiver's redeploy may answer 404 a minute);
410 Gone ends it at once.

A webhook is a POST of the message's JSON with an `Idempotency-Key` header (the same on
every attempt, so the receiver can drop a repeat). Its URL is checked again before each
attempt (`targets.check_target`: DNS can change), and the request goes to the addresses
that were checked, each in turn (the resolver's order) until one accepts the
connection, with the host name kept for the `Host` header and TLS; a refused target is
an attempt's error, never a request. Redirects are not followed. An e-mail goes through
`JOBS_SMTP_URL` (`smtp://user:pass@host:port`, STARTTLS when the server offers it, or
`smtps://` for TLS from the start), with a `Message-ID` made from the key; a password
goes unencrypted to no server but one on this machine's loopback address.

Every exchange has a time limit for the whole of it (`Deadline`), not only for each
read: connecting, TLS, sending and the answer together, so a server that sends a byte
now and then cannot hold a worker (or a claim) for ever. For mail the limit covers the
whole conversation but a TLS handshake, which only the per-read timeout bounds.

Errors name the host at most: no webhook URL, address or SMTP password reaches the table
or a log (`redact` on top). A receiver's answer is kept as its status, reason and a short
excerpt with every word of the URL's path and query masked (receivers echo the path:
"Cannot POST /hooks/<secret>"). The request is made with the standard library's
`http.client` on a socket this module opens, which logs nothing.
"""

from __future__ import annotations

import ipaddress
import json
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import unquote, urlsplit

import certifi
import psycopg

from jobs_assets.lib.ops.targets import TargetPolicy
from jobs_assets.lib.ops.webhook import Deadline, DeliveryError, post_webhook
from jobs_assets.lib.redact import redact
from jobs_assets.lib.searches.deliver import DELIVERIES_TABLE, EMAIL, SEARCHES_TABLE, WEBHOOK

#: listings an e-mail spells out; the webhook's JSON always holds all of them
EMAIL_LISTINGS = 50


@dataclass(frozen=True)
class SendPolicy:
    """How hard to try: timeouts, retries, and how many messages go out at once."""

    target: TargetPolicy = field(default_factory=TargetPolicy)
    #: the whole of one attempt (connect, TLS, request, answer), after the DNS lookup
    timeout_seconds: float = 10.0
    backoff_seconds: float = 30.0
    max_backoff_seconds: float = 3600.0
    #: retrying ends when the message is this old (no answer, 5xx, 408, 425, 429)...
    give_up_after: timedelta = timedelta(days=2)
    #: ...or this old when the webhook refused it (another 3xx or 4xx; 410: at once)
    give_up_refused_after: timedelta = timedelta(hours=1)
    #: longer than an attempt can take (`target.resolve_seconds` + `timeout_seconds`)
    stale_claim: timedelta = timedelta(minutes=10)
    workers: int = 16
    batch: int = 100

    def backoff(self, attempts: int) -> float:
        """Seconds before the next attempt after `attempts` failed ones."""
        return min(self.max_backoff_seconds, self.backoff_seconds * 2 ** max(0, attempts - 1))

    def retried_for(self, answered: int | None) -> timedelta:
        """How old a message may get and still be retried, after a webhook answered
        `answered` (None: no answer, or an e-mail)."""
        if answered == 410:  # Gone: the receiver says this hook is no more
            return timedelta(0)
        if answered is not None and 300 <= answered < 500 and answered not in TRY_AGAIN:
            return self.give_up_refused_after
        return self.give_up_after


#: 4xx answers that ask for a later attempt: timeout, too early, too many requests
TRY_AGAIN = (408, 425, 429)


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
        if parts.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(timeout=self.timeout_seconds, context=context)
        else:
            client = smtplib.SMTP(timeout=self.timeout_seconds)
        with Deadline(self.timeout_seconds) as deadline:
            deadline.watch(lambda: client.sock)  # the greeting is read inside connect()
            try:
                client.connect(parts.hostname, self.port)
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
                if deadline.expired:
                    raise DeliveryError(
                        f"mail server {self.describe()} did not finish within "
                        f"{self.timeout_seconds:g} s"
                    ) from None
                raise DeliveryError(
                    f"mail server {self.describe()} refused or failed: {type(err).__name__}"
                    f"{_smtp_detail(err)}"
                ) from None
            finally:
                client.close()  # when connect() failed after opening the socket


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
    #: attempts whose claim lapsed and another sender took over: not recorded (the
    #: other sender's outcome stands)
    superseded: list[Outcome] = field(default_factory=list)

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
          now() - d.created_at AS age, s.deliver, d.claimed_at
"""
#: only while the claim holds: still `sending`, with the `claimed_at` this sender set
_FINISH = f"""
UPDATE {DELIVERIES_TABLE} SET
    status = %(status)s::text, claimed_at = NULL, attempts = attempts + 1,
    last_attempt_at = now(), last_error = coalesce(%(error)s::text, last_error),
    sent_at = CASE WHEN %(status)s::text = 'sent' THEN now() END,
    next_attempt_at = CASE WHEN %(status)s::text = 'pending'
        THEN now() + make_interval(secs => %(wait)s::float8) ELSE next_attempt_at END
WHERE idempotency_key = %(key)s AND status = 'sending' AND claimed_at = %(claimed_at)s
"""


def send_due(
    connect: Callable[[], psycopg.Connection],
    policy: SendPolicy,
    mailer: Mailer | None = None,
    budget_seconds: float | None = None,
) -> SendReport:
    """Send every due message until none is due, `policy.workers` at a time, each
    claimed when a worker is free for it and recorded when it is done; with
    `budget_seconds`, nothing is claimed after that long (a sensor tick stays short:
    what is left waits for the next one; what is under way ends within its timeout)."""
    report = SendReport()
    deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
    with connect() as conn:
        conn.autocommit = True
        conn.execute(_RELEASE_STALE, (policy.stale_claim,))
        with ThreadPoolExecutor(policy.workers, thread_name_prefix="search_send") as pool:
            under_way: dict[Future[Outcome], tuple] = {}
            drained = False
            while True:
                free = policy.workers - len(under_way)
                if free and not drained and (deadline is None or time.monotonic() < deadline):
                    wanted = min(policy.batch, free)
                    claimed = conn.execute(_CLAIM, {"batch": wanted}).fetchall()
                    drained = len(claimed) < wanted  # what is due later waits for a later call
                    for row in claimed:
                        under_way[pool.submit(_attempt, row, policy, mailer)] = row
                if not under_way:
                    break
                done, _ = wait(under_way, return_when=FIRST_COMPLETED)
                for future in done:
                    row = under_way.pop(future)
                    outcome = future.result()
                    if _finish(conn, outcome, row, policy):
                        report.add(outcome)
                    else:
                        report.superseded.append(outcome)
    return report


def _attempt(row: tuple, policy: SendPolicy, mailer: Mailer | None) -> Outcome:
    search_id, window_key, channel, key, payload, _attempts, age, deliver, _claimed = row
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
        status = "undeliverable" if age > policy.retried_for(err.answered) else "pending"
        return Outcome(search_id, window_key, channel, key, status, redact(err))
    except Exception as err:  # noqa: BLE001 (one message's bug must not stop the others)
        status = "undeliverable" if age > policy.give_up_after else "pending"
        failed = f"failed: {type(err).__name__}"
        return Outcome(search_id, window_key, channel, key, status, failed)
    return Outcome(search_id, window_key, channel, key, "sent")


def _finish(conn: psycopg.Connection, outcome: Outcome, row: tuple, policy: SendPolicy) -> bool:
    """Record one attempt's outcome; False when the claim had lapsed and was taken over."""
    attempts, claimed_at = row[5], row[8]
    return (
        conn.execute(
            _FINISH,
            {
                "key": outcome.key,
                "status": outcome.status,
                "error": outcome.error,
                "wait": policy.backoff(attempts + 1),
                "claimed_at": claimed_at,
            },
        ).rowcount
        == 1
    )
