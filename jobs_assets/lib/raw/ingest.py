"""Fetch one source's window into the raw store, following SPEC §4's rules.

- A window that ended less than `LIVE_WINDOW` ago (or is still open) is fetched live,
  unless the source's minimum interval between live fetches has not passed: then the
  fetch is skipped (reported, not failed) and any stored copy is reused.
- An older window reuses its stored raw files; with none, it fails with a clear error.
- A fetch with any unusable page keeps its bodies under `failed/` and fails, so a
  good stored window is never replaced by a broken one.
- One fetch of a window at a time, whichever process or pod runs it (a PostgreSQL
  advisory lock, `lib/ops/window_lock.py`); the whole fetch has a time budget.
- Paging that never ended is cut at the page limit and recorded in the manifest
  (`truncated`, `truncated_reason`), so the cut survives and a check reports it; so is
  a short answer, a page holding fewer listings than the source states it holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from jobs_assets.lib.errors import FetchError, PipelineError
from jobs_assets.lib.ops.window_lock import fetch_lock
from jobs_assets.lib.raw.parsed_windows import PARSE_KEY, stored_summary
from jobs_assets.lib.raw.store import RawStore
from jobs_assets.lib.redact import redact
from jobs_assets.lib.sources import ParseSummary, Source, SourceSettings, parse_window
from jobs_assets.lib.sources.http import HttpStats

LIVE_WINDOW = timedelta(hours=8)


class WindowUnavailable(PipelineError):
    """The window is too old to fetch and nothing was stored for it."""

    retryable = False


class BadResponse(PipelineError):
    """The source answered, but not with usable listings (bodies kept under `failed/`)."""


def is_live(window_end: datetime, now: datetime, max_age: timedelta = LIVE_WINDOW) -> bool:
    """True for a window in progress or one that ended less than `max_age` ago."""
    return now - window_end < max_age


@dataclass
class RawOutcome:
    mode: str  # "live", "replay" (from a replay server), "stored" or "skipped"
    path: Path | None
    summary: ParseSummary = field(default_factory=ParseSummary)
    http: HttpStats = field(default_factory=HttpStats)
    note: str = ""
    truncated_reason: str | None = None

    @property
    def truncated(self) -> bool:
        return self.truncated_reason is not None


def fetch_raw_window(
    source: Source,
    settings: SourceSettings,
    store: RawStore,
    partition_key: str,
    window_end: datetime,
    now: datetime,
    conninfo: str,
) -> RawOutcome:
    """The window's raw files, fetched or reused; `conninfo` is the database whose
    advisory lock keeps two fetches of the window apart."""
    with fetch_lock(conninfo, source.name, partition_key, settings.fetch_budget_seconds):
        return _fetch_raw_window(source, settings, store, partition_key, window_end, now)


def _fetch_raw_window(
    source: Source,
    settings: SourceSettings,
    store: RawStore,
    partition_key: str,
    window_end: datetime,
    now: datetime,
) -> RawOutcome:
    stored = store.has_window(source.name, partition_key)
    path = store.window_dir(source.name, partition_key)

    def reuse(mode: str, note: str) -> RawOutcome:
        summary = stored_summary(source, store, partition_key) or ParseSummary()
        manifest = store.manifest(source.name, partition_key) or {}
        reason = manifest.get("truncated_reason") if manifest.get("truncated") else None
        return RawOutcome(
            mode, path if stored else None, summary, note=note, truncated_reason=reason
        )

    if not is_live(window_end, now):
        if stored:
            return reuse("stored", "window too old to fetch live: reused its stored raw files")
        age = (now - window_end).total_seconds() / 3600
        raise WindowUnavailable(
            f"{source.name} window {partition_key} ended {age:.1f} h ago; the API serves only "
            f"current listings and nothing is stored at {path}. Materialise one of the latest "
            "two windows instead (or restore the raw files of this one from a backup)."
        )

    last = store.last_live_fetch(source.name)
    wait = timedelta(hours=settings.min_interval_hours)
    if last is not None and wait and now - last < wait:
        note = (
            f"skipped: last live fetch at {last:%Y-%m-%d %H:%M} UTC, less than "
            f"{settings.min_interval_hours:g} h ago (the source's terms)"
        )
        return reuse("stored", note) if stored else RawOutcome("skipped", None, note=note)

    writer = store.writer(source.name, partition_key, origin=settings.origin)
    client = settings.http_client()
    try:
        with client:
            truncated_reason = source.fetch(client, settings, writer.keep)
    except PipelineError as err:
        kept = writer.abandon(str(err))
        message = f"{err}" + (f" (bodies kept at {kept})" if kept else "")
        if isinstance(err, FetchError):
            raise FetchError(message, retryable=err.retryable) from None
        raise
    except Exception as err:  # a bug or a library surprise: still the operator's words
        what = redact(f"{type(err).__name__}: {err}")[:300]
        kept = writer.abandon(what)
        raise FetchError(
            f"{source.name} window {partition_key}: the fetch failed unexpectedly ({what})"
            + (f"; bodies kept at {kept}" if kept else "")
            + ". Retry the window; if it persists, report it with the run's log"
        ) from None
    except BaseException as err:  # interrupted: keep what arrived, let it through
        writer.abandon(redact(f"{type(err).__name__}: {err}"))
        raise

    window = parse_window(source, writer.read_back())
    if window.page_errors:
        kept = writer.abandon("\n".join(window.page_errors))
        raise BadResponse(
            f"{source.name} window {partition_key}: {len(window.page_errors)} unusable "
            f"response(s): {window.page_errors[0]}. Bodies kept at {kept}; the stored window "
            "was left as it was. Retry later; if it persists, the API may have changed."
        )
    summary = window.summary()
    if window.short_answers and not truncated_reason:
        # what arrived is less than what the source says it sent: a partial answer
        more = len(window.short_answers) - 1
        truncated_reason = f"short answer: {window.short_answers[0]}" + (
            f" (and {more} more page{'s' if more > 1 else ''})" if more else ""
        )
    # complete: every page answered and parsed (else abandoned above), paging reached
    # the source's own end, and every page holds what the source says it holds
    # (`Source.stated_size`); the evidence lib/identity/lifecycle.py needs to expire anything
    extra: dict[str, object] = {
        "http": client.stats.as_metadata(),
        PARSE_KEY: summary.as_manifest(),
        "complete": not truncated_reason,
    }
    if truncated_reason:
        extra |= {"truncated": True, "truncated_reason": truncated_reason}
    final = writer.commit(extra)
    mode = "live" if settings.origin == "live" else "replay"
    return RawOutcome(mode, final, summary, client.stats, truncated_reason=truncated_reason)
