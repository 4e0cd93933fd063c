"""Alerts for a person: message text, a Slack-compatible webhook, and an outbox.

Pure (no Dagster), so every area can reuse it. An alert is added to the outbox once
(by its key, e.g. `run:<run_id>`) and delivered once: a webhook that is down or slow
leaves the alert pending, and the next `deliver()` (the next sensor tick) retries it.

Layout under `$JOBS_DATA_DIR/alerts/`: `pending/`, `sending/` (claimed by a delivery
in progress), `sent/` (kept 30 days so a repeated failure is recognised) and
`undeliverable/` (gave up after `GIVE_UP_AFTER`). One small JSON file per alert; each
move is an atomic rename, so two deliverers can never post the same alert.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import requests

from jobs_assets.lib.redact import redact

DEFAULT_UI_BASE_URL = "http://127.0.0.1:3000"
WEBHOOK_TIMEOUT_SECONDS = 5.0
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


def describe_webhook(url: str) -> str:
    """The webhook without its path: Slack puts the secret token in the path."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/***"


def post_webhook(url: str, text: str, timeout: float = WEBHOOK_TIMEOUT_SECONDS) -> None:
    """POST `{"text": text}`; raise `WebhookError` unless the webhook answers 2xx in time."""
    where = describe_webhook(url)
    try:
        response = requests.post(url, json={"text": text}, timeout=(timeout, timeout))
    except requests.RequestException as err:
        raise WebhookError(f"webhook {where} unreachable: {type(err).__name__}") from err
    if not 200 <= response.status_code < 300:
        raise WebhookError(
            f"webhook {where} answered HTTP {response.status_code}: {_cut(response.text, 200)}"
        )


@dataclass
class DeliveryReport:
    sent: list[Alert] = field(default_factory=list)
    failed: list[tuple[Alert, str]] = field(default_factory=list)
    given_up: list[Alert] = field(default_factory=list)
    pending: int = 0


class AlertOutbox:
    """Alerts waiting for the webhook, one file each; see the module docstring."""

    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir) / "alerts"
        self.pending = self.root / "pending"
        self.sending = self.root / "sending"
        self.sent = self.root / "sent"
        self.undeliverable = self.root / "undeliverable"

    @staticmethod
    def file_name(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()[:32] + ".json"

    def known(self, key: str) -> bool:
        name = self.file_name(key)
        folders = (self.pending, self.sending, self.sent, self.undeliverable)
        return any((folder / name).exists() for folder in folders)

    def add(self, alert: Alert) -> bool:
        """Queue the alert; False (and nothing queued) if this failure was seen before."""
        if self.known(alert.key):
            return False
        record = {"alert": alert.to_json(), "text": redact(alert.text())}
        self._write(self.pending / self.file_name(alert.key), record)
        return True

    def mark_logged_only(self, alert: Alert) -> bool:
        """Record an alert that went to the log only (no webhook set); False if seen before."""
        if self.known(alert.key):
            return False
        record = {
            "alert": alert.to_json(),
            "text": redact(alert.text()),
            "sent_at": _now().isoformat(),
            "via": "log",
        }
        self._write(self.sent / self.file_name(alert.key), record)
        return True

    def pending_count(self) -> int:
        return len(list(self.pending.glob("*.json"))) if self.pending.exists() else 0

    def deliver(self, post: Callable[[str], None], limit: int = 20) -> DeliveryReport:
        """Post pending alerts, oldest first; stop at the first failure (the webhook is down).

        A failed alert goes back to `pending/` with its attempt count and last error.
        """
        report = DeliveryReport()
        self._recover_stale_claims()
        for path in self._oldest_pending()[:limit]:
            claimed = self.sending / path.name
            try:
                self.sending.mkdir(parents=True, exist_ok=True)
                os.replace(path, claimed)  # only one deliverer gets it
            except FileNotFoundError:
                continue
            try:
                record = json.loads(claimed.read_text())
                alert = Alert.from_json(record["alert"])
            except (ValueError, KeyError, TypeError):  # damaged by hand: set it aside
                self.undeliverable.mkdir(parents=True, exist_ok=True)
                os.replace(claimed, self.undeliverable / claimed.name)
                continue
            try:
                # the text as it was when the failure happened, whatever came since
                post(record.get("text") or redact(alert.text()))
            except WebhookError as err:
                record["attempts"] = record.get("attempts", 0) + 1
                record["last_error"] = str(err)
                record["last_attempt_at"] = _now().isoformat()
                if _now() - datetime.fromisoformat(alert.created_at) > GIVE_UP_AFTER:
                    self._move(claimed, self.undeliverable, record)
                    report.given_up.append(alert)
                else:
                    self._move(claimed, self.pending, record)
                    report.failed.append((alert, str(err)))
                break
            record["sent_at"] = _now().isoformat()
            self._move(claimed, self.sent, record)
            report.sent.append(alert)
        report.pending = self.pending_count()
        self._prune_sent()
        return report

    # --- files ----------------------------------------------------------------------

    def _oldest_pending(self) -> list[Path]:
        """Pending files in the order their failures happened (retries keep their place)."""
        if not self.pending.exists():
            return []
        created = {}
        for path in self.pending.glob("*.json"):
            try:
                created[path] = json.loads(path.read_text())["alert"]["created_at"]
            except (OSError, ValueError, KeyError):
                created[path] = ""  # unreadable: try it first, it will fail loudly
        return sorted(created, key=created.__getitem__)

    def _write(self, path: Path, record: dict) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}-{uuid.uuid4().hex[:8]}")
        tmp.write_text(redact(json.dumps(record, indent=2)))
        os.replace(tmp, path)

    def _move(self, path: Path, folder: Path, record: dict) -> None:
        """Rewrite the record in place, then rename it into `folder` (atomic)."""
        self._write(path, record)
        folder.mkdir(parents=True, exist_ok=True)
        os.replace(path, folder / path.name)

    def _recover_stale_claims(self) -> None:
        if not self.sending.exists():
            return
        cutoff = (_now() - STALE_CLAIM).timestamp()
        for path in self.sending.glob("*.json"):
            if path.stat().st_mtime < cutoff:
                self.pending.mkdir(parents=True, exist_ok=True)
                os.replace(path, self.pending / path.name)

    def _prune_sent(self) -> None:
        if not self.sent.exists():
            return
        cutoff = (_now() - KEEP_SENT).timestamp()
        for path in self.sent.glob("*.json"):
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)


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
