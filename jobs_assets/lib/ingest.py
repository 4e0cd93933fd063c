"""Fetch one source's window into the raw store, following SPEC §4's rules.

- A window that ended less than `LIVE_WINDOW` ago (or is still open) is fetched live,
  unless the source's minimum interval between live fetches has not passed: then the
  fetch is skipped (reported, not failed) and any stored copy is reused.
- An older window reuses its stored raw files; with none, it fails with a clear error.
- A fetch with any unusable page keeps its bodies under `failed/` and fails, so a
  good stored window is never replaced by a broken one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from jobs_assets.lib.http import FetchError, HttpClient, HttpStats
from jobs_assets.lib.raw_store import RawStore
from jobs_assets.lib.sources import Source, WindowRecords, parse_window
from jobs_assets.settings import SourceSettings

LIVE_WINDOW = timedelta(hours=8)


class WindowUnavailable(RuntimeError):
    """The window is too old to fetch and nothing was stored for it."""


class BadResponse(RuntimeError):
    """The source answered, but not with usable listings (bodies kept under `failed/`)."""


def is_live(window_end: datetime, now: datetime, max_age: timedelta = LIVE_WINDOW) -> bool:
    """True for a window in progress or one that ended less than `max_age` ago."""
    return now - window_end < max_age


@dataclass
class RawOutcome:
    mode: str  # "live", "stored" or "skipped"
    path: Path | None
    window: WindowRecords = field(default_factory=WindowRecords)
    http: HttpStats = field(default_factory=HttpStats)
    note: str = ""


def fetch_raw_window(
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
        window = parse_window(source, store.read_pages(source.name, partition_key))
        return RawOutcome(mode, path if stored else None, window, note=note)

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

    writer = store.writer(source.name, partition_key, origin="live")
    client = HttpClient(
        timeout_seconds=settings.timeout_seconds,
        max_retries=settings.max_retries,
        backoff_seconds=settings.backoff_seconds,
        max_rps=settings.max_rps,
        workers=settings.workers,
    )
    try:
        with client:
            source.fetch(client, settings, writer.keep)
    except FetchError as err:
        kept = writer.abandon(str(err))
        raise FetchError(f"{err}" + (f" (bodies kept at {kept})" if kept else "")) from err
    except BaseException as err:
        writer.abandon(f"{type(err).__name__}: {err}")
        raise

    window = parse_window(source, writer.read_back())
    if window.page_errors:
        kept = writer.abandon("\n".join(window.page_errors))
        raise BadResponse(
            f"{source.name} window {partition_key}: {len(window.page_errors)} unusable "
            f"response(s): {window.page_errors[0]}. Bodies kept at {kept}; the stored window "
            "was left as it was. Retry later; if it persists, the API may have changed."
        )
    final = writer.commit({"http": client.stats.as_metadata()})
    return RawOutcome("live", final, window, client.stats)
