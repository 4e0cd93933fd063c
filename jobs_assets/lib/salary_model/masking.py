"""Hide every money figure in a description before the model reads it.

A listing that states its salary usually repeats it in the description ("$120,000 -
$150,000 USD", "up to 80k EUR"); a model that can read those numbers learns to copy
the label instead of estimating it. Every amount next to a currency mark, every
"80k"-style figure and every bare number of five or more digits becomes one token,
so the text keeps its shape ("a range is stated") without the values.
"""

from __future__ import annotations

import re

MASK = " __money__ "

_SYMBOLS = r"[$€£¥₹₱₦₩₺₽₴₪฿₫]"
_CODES = (
    r"(?:USD|EUR|GBP|CAD|AUD|NZD|CHF|SEK|NOK|DKK|PLN|CZK|HUF|RON|BGN|INR|PKR|BRL|MXN|ARS|"
    r"COP|CLP|PEN|ZAR|NGN|KES|EGP|AED|SAR|ILS|TRY|RUB|UAH|JPY|CNY|RMB|HKD|SGD|MYR|IDR|PHP|"
    r"THB|VND|KRW|TWD)"
)
# 120,000 / 120.000 / 120 000 / 120000.50 / 1.5 / 85
_NUMBER = r"\d{1,3}(?:[,.\u00a0\u202f ]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
_SCALE = r"(?:\s?(?:[kKmM](?![a-zA-Z])|thousand|million|lakhs?|LPA|crores?))"
_CURRENCY_WORDS = r"(?:dollars?|euros?|pounds?|rupees?|pesos?|reais|zloty|francs?)"

_PATTERNS = (
    # a mark or code before the amount: "$120,000", "USD 90k", "CA$ 80", "€45.000"
    rf"(?:[A-Z]{{0,3}}{_SYMBOLS}|\b{_CODES})\s?(?:{_NUMBER}){_SCALE}?",
    # a mark or code after the amount: "90,000 EUR", "45k €", "100 000 zł", "50 dollars"
    rf"(?<![\w.,])(?:{_NUMBER}){_SCALE}?\s?(?:{_SYMBOLS}|{_CODES}\b|zł|{_CURRENCY_WORDS}\b)",
    # a figure with a scale and no currency: "120k", "1.2M", "12 LPA"
    rf"(?<![\w.,])(?:{_NUMBER}){_SCALE}(?![\w])",
    # any other long number: a bare 85000 or 85,000 is almost always pay
    r"(?<![\w.,])\d{1,3}(?:[,.\u00a0\u202f ]\d{3})+(?![\d])|(?<![\w.,])\d{5,}(?![\d])",
)
_MONEY_RE = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE)
_RUNS_RE = re.compile(r"(?:\s*__money__\s*(?:[-–—~]|to|and|/)?)+\s*__money__")
# "401(k)" is a pension plan, not a figure of pay
_NOT_MONEY_RE = re.compile(r"\b401\s*\(?k\)?", re.IGNORECASE)


def mask_money(text: str | None) -> str:
    """`text` with every salary figure and currency amount replaced by `__money__`."""
    if not text:
        return ""
    masked = _MONEY_RE.sub(MASK, _NOT_MONEY_RE.sub(" 401k_plan ", text))
    return _RUNS_RE.sub(MASK, masked)
