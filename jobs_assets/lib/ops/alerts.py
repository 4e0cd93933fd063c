"""Alerts for a person: message text, a Slack-compatible webhook, and an outbox.

Pure (no Dagster), so every area can reuse it. An alert is added to the outbox once
(by its key, e.g. `run:<run_id>`) and delivered once: a webhook that is down or slow
leaves the alert pending, and the next `deliver()` (the next sensor tick) retries it.

The outbox is the table `public.jobs_alert_outbox` (migration 0008) in the pipeline's
database, so an alert that waits survives the pod that saw the failure: one row per
alert, `pending`, `sending` (claimed by a delivery in progress), `sent` (kept 30 days
so a repeated failure is recognised; also alerts that went to the log only) or
`undeliverable` (gave up after `GIVE_UP_AFTER`), with its delivery attempts and last
error. A claim is a row lock taken with SKIP LOCKED, so two deliverers (two pods) can
never post the same alert.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

from jobs_assets.lib.ops import webhook
from jobs_assets.lib.ops.targets import TargetPolicy
from jobs_assets.lib.redact import redact

DEFAULT_UI_BASE_URL = "http://127.0.0.1:3000"
WEBHOOK_TIMEOUT_SECONDS = 5.0
#: the alerts' webhook is the operator's own setting: an internal relay may be plain http
#: on a private address
OPERATORS_WEBHOOK = TargetPolicy(allow_http=True, allow_private=True)
GIVE_UP_AFTER = timedelta(days=3)
KEEP_SENT = timedelta(days=30)
STALE_CLAIM = timedelta(minutes=10)  # a deliverer that died mid-post
MAX_DETAIL_CHARS = 600
MAX_ITEMS = 15


class WebhookError(RuntimeError):
    """The webhook did not accept the message (unreachable, slow, or not 2xx)."""


@dataclass(frozen=True)
class Problem:
    """One thing that failed: an asset's step, or an asset check."""

    what: str  # e.g. "asset <source>_raw" or "check jobs_listings:listings_salaries_plausible"
    detail: str  # the error or the check's description of what it found
    severity: str = "ERROR"


@dataclass
class Alert:
    """One message about one failure (a failed run, or a run whose checks failed)."""

    key: str  # what makes it the same failure: "run:<run_id>"
    title: str
    problems: list[Problem] = field(default_factory=list)
    window: str | None = None
    link: str | None = None
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def text(self) -> str:
        """The message: Slack mrkdwn that still reads well as plain text."""
        icon = (
            ":rotating_light:" if any(p.severity == "ERROR" for p in self.problems) else ":warning:"
        )
        window = f", window {self.window}" if self.window else ""
        lines = [f"{icon} *jobs_assets: {self.title}*{window}"]
        for problem in self.problems[:MAX_ITEMS]:
            lines.append(f"• {problem.what} [{problem.severity}]: {_cut(problem.detail)}")
        if len(self.problems) > MAX_ITEMS:
            lines.append(f"• … and {len(self.problems) - MAX_ITEMS} more (see the run)")
        if self.link:
            lines.append(f"Run: {self.link}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Alert:
        """The alert from its stored form; `data` is left as it was (it is written back)."""
        problems = [Problem(**p) for p in data.get("problems", [])]
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "problems"}
        return cls(problems=problems, **known)


def _cut(text: str, limit: int = MAX_DETAIL_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run_url(base_url: str, run_id: str) -> str:
    return f"{base_url.rstrip('/')}/runs/{run_id}"


def post_webhook(url: str, text: str, timeout: float = WEBHOOK_TIMEOUT_SECONDS) -> None:
    """POST `{"text": text}` through the one webhook client (`lib/ops/webhook.py`: no
    redirect, one time limit for the whole exchange, nothing of the path kept from the
    answer); raise `WebhookError` unless the webhook answers 2xx in time. The operator
    set the URL, so a private or `http` one is allowed (an internal relay)."""
    body = json.dumps({"text": text}).encode()
    try:
        webhook.post_webhook(url, body, None, OPERATORS_WEBHOOK, timeout_seconds=timeout)
    except webhook.DeliveryError as err:
        raise WebhookError(str(err)) from None


@dataclass
class DeliveryReport:
    sent: list[Alert] = field(default_factory=list)
    failed: list[tuple[Alert, str]] = field(default_factory=list)
    given_up: list[Alert] = field(default_factory=list)
    pending: int = 0


OUTBOX_TABLE = "public.jobs_alert_outbox"  # migration 0008


class AlertOutbox:
    """Alerts waiting for the webhook, one row each; see the module docstring.

    `connect()` opens a connection to the pipeline's database (the `postgres` resource's).
    """

    def __init__(self, connect: Callable[[], psycopg.Connection]) -> None:
        self.connect = connect

    def add(self, alert: Alert) -> bool:
        """Queue the alert; False (and nothing queued) if this failure was seen before."""
        return self._insert(alert, "pending", "webhook")

    def mark_logged_only(self, alert: Alert) -> bool:
        """Record an alert that went to the log only (no webhook set); False if seen before."""
        return self._insert(alert, "sent", "log")

    def _insert(self, alert: Alert, status: str, via: str) -> bool:
        with self.connect() as conn:
            added = conn.execute(
                f"INSERT INTO {OUTBOX_TABLE} (alert_key, status, via, alert, message, "
                "created_at, sent_at) VALUES (%s, %s, %s, %s, %s, %s, "
                "CASE WHEN %s = 'sent' THEN now() END) ON CONFLICT (alert_key) DO NOTHING",
                (
                    alert.key,
                    status,
                    via,
                    Jsonb(json.loads(redact(json.dumps(alert.to_json())))),
                    redact(alert.text()),
                    alert.created_at,
                    status,
                ),
            ).rowcount
        return added == 1

    def pending_count(self) -> int:
        with self.connect() as conn:
            return conn.execute(
                f"SELECT count(*) FROM {OUTBOX_TABLE} WHERE status = 'pending'"
            ).fetchone()[0]

    def deliver(self, post: Callable[[str], None], limit: int = 20) -> DeliveryReport:
        """Post pending alerts, oldest first; stop at the first failure (the webhook is down).

        Each alert is claimed (`sending`) in a transaction of its own, so two deliverers
        (two pods) never post the same one; the post itself runs outside any transaction.
        A failed alert goes back to `pending` with its attempt count and last error, and
        keeps its place (the order is the failures' own).
        """
        report = DeliveryReport()
        with self.connect() as conn:
            conn.autocommit = True
            conn.execute(  # a deliverer that died mid-post: its claim lapses
                f"UPDATE {OUTBOX_TABLE} SET status = 'pending', claimed_at = NULL "
                "WHERE status = 'sending' AND claimed_at < now() - %s",
                (STALE_CLAIM,),
            )
            for _ in range(limit):
                row = conn.execute(
                    f"UPDATE {OUTBOX_TABLE} SET status = 'sending', claimed_at = now() "
                    f"WHERE alert_key = (SELECT alert_key FROM {OUTBOX_TABLE} "
                    "WHERE status = 'pending' ORDER BY created_at, alert_key LIMIT 1 "
                    "FOR UPDATE SKIP LOCKED) RETURNING alert_key, alert, message, created_at"
                ).fetchone()
                if row is None:
                    break
                key, stored, message, created_at = row
                try:
                    alert = Alert.from_json(stored)
                except (ValueError, KeyError, TypeError):  # damaged by hand: set it aside
                    self._finish(conn, key, "undeliverable", "its stored alert is damaged")
                    continue
                try:
                    post(message)  # the text as it was when the failure happened
                except WebhookError as err:
                    give_up = _now() - created_at > GIVE_UP_AFTER
                    self._finish(conn, key, "undeliverable" if give_up else "pending", str(err))
                    if give_up:
                        report.given_up.append(alert)
                    else:
                        report.failed.append((alert, str(err)))
                    break
                self._finish(conn, key, "sent", None)
                report.sent.append(alert)
            conn.execute(
                f"DELETE FROM {OUTBOX_TABLE} WHERE status = 'sent' AND sent_at < now() - %s",
                (KEEP_SENT,),
            )
            report.pending = conn.execute(
                f"SELECT count(*) FROM {OUTBOX_TABLE} WHERE status = 'pending'"
            ).fetchone()[0]
        return report

    @staticmethod
    def _finish(conn: psycopg.Connection, key: str, status: str, error: str | None) -> None:
        """One delivery attempt's outcome: counted, with its error (None: delivered)."""
        conn.execute(
            f"UPDATE {OUTBOX_TABLE} SET status = %s, claimed_at = NULL, "
            "attempts = attempts + 1, last_attempt_at = now(), "
            "last_error = coalesce(%s, last_error), "
            "sent_at = CASE WHEN %s = 'sent' THEN now() END WHERE alert_key = %s",
            (status, redact(error) if error else None, status, key),
        )

    def import_files(self, data_dir: Path) -> int:
        """Alerts the previous release kept as files under `data_dir/alerts/`: each added
        once (with its status, attempts and text), then the folder is renamed
        `alerts.imported`, so this runs once. Returns how many were new."""
        folder = Path(data_dir) / "alerts"
        if not folder.is_dir():
            return 0
        added = 0
        with self.connect() as conn:
            for status in ("pending", "sending", "sent", "undeliverable"):
                for path in sorted((folder / status).glob("*.json")):
                    try:
                        record = json.loads(path.read_text())
                        alert = Alert.from_json(record["alert"])
                    except (OSError, ValueError, KeyError, TypeError):
                        continue  # unreadable: it stays in the renamed folder for a person
                    added += conn.execute(
                        f"INSERT INTO {OUTBOX_TABLE} (alert_key, status, via, alert, message, "
                        "created_at, attempts, last_attempt_at, last_error, sent_at) VALUES "
                        "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                        "ON CONFLICT (alert_key) DO NOTHING",
                        (
                            alert.key,
                            "pending" if status == "sending" else status,
                            record.get("via", "webhook"),
                            Jsonb(record["alert"]),
                            record.get("text") or redact(alert.text()),
                            alert.created_at,
                            record.get("attempts", 0),
                            record.get("last_attempt_at"),
                            record.get("last_error"),
                            record.get("sent_at"),
                        ),
                    ).rowcount
        # a read-only folder stays: importing it again adds nothing (same keys)
        with contextlib.suppress(OSError):
            folder.rename(folder.with_name(f"alerts.imported-{uuid.uuid4().hex[:8]}"))
        return added


def _now() -> datetime:
    return datetime.now(UTC)


def summarise(problems: Iterable[Problem]) -> str:
    """`2 checks failed (WARN), 1 asset failed`-style count for a title."""
    problems = list(problems)
    checks = [p for p in problems if p.what.startswith("check ")]
    others = len(problems) - len(checks)
    parts = []
    if others:
        parts.append(f"{others} step{'s' if others != 1 else ''} failed")
    if checks:
        parts.append(f"{len(checks)} asset check{'s' if len(checks) != 1 else ''} failed")
    return ", ".join(parts) or "failed"
