"""Hide every money figure in a description before the model reads it.

A listing that states its salary usually repeats it in the description ("$120,000 -
$150,000 USD", "up to 80k EUR"); a model that can read those numbers learns to copy
the label instead of estimating it. Every number next to a currency mark or code,
every "80k"-style figure and every number of five or more digits (or written with
thousands separators) becomes one token, so the text keeps its shape ("a range is
stated") without the values.

The passes are RE2 patterns run by pyarrow over a whole column at once (no Python
call per row), which keeps masking far above 10,000 descriptions a second.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

MASK = "__money__"

_SYMBOL = "[$€£¥₹₱₦₩₺₽₴₪฿₫]"
_CODE = (
    "(?:USD|EUR|GBP|CAD|AUD|NZD|CHF|SEK|NOK|DKK|PLN|CZK|HUF|RON|BGN|INR|PKR|BRL|MXN|ARS|"
    "COP|CLP|PEN|ZAR|NGN|KES|EGP|AED|SAR|ILS|TRY|RUB|UAH|JPY|CNY|RMB|HKD|SGD|MYR|IDR|PHP|"
    "THB|VND|KRW|TWD)"
)
_WORD = r"(?i:dollars?|euros?|pounds?|rupees?|pesos?|reais|zloty|francs?)\b"
# 120,000 / 120.000 / 120 000 / 120000.50 / 1.5 / 85
_NUMBER = r"(?:\d{1,3}(?:[,.\x{a0}\x{202f} ]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)"
_SCALE = r"(?:\s?(?i:k|m|mm|thousand|million|lakhs?|lpa|crores?|cr)\b)"

_MONEY = "|".join(
    (
        # a mark or code before the amount: "$120,000", "USD 90k", "CA$ 80", "€45.000"
        rf"(?:{_SYMBOL}|\b{_CODE})\s?{_NUMBER}{_SCALE}?",
        # a mark, code or currency word after it: "90,000 EUR", "45k €", "50 dollars"
        rf"\b{_NUMBER}{_SCALE}?\s?(?:{_SYMBOL}|zł|{_CODE}\b|{_WORD})",
        # a figure with a scale and no currency: "120k", "1.2M", "12 LPA"
        rf"\b{_NUMBER}{_SCALE}",
        # any other long number: a bare 85000 or 85,000 is almost always pay, also
        # behind a mark written with letters ("R45,000", "RM1,850", "Php45,000")
        r"\d{1,3}(?:[,.\x{a0}\x{202f} ]\d{3})+\b|\d{5,}\b",
    )
)
#: (pattern, replacement) in order; one alternation is one scan of the text
_PASSES: tuple[tuple[str, str], ...] = (
    # "401(k)" is a pension plan, not a figure of pay
    (r"\b401\s*\(?[kK]\)?", " retirement_plan "),
    (_MONEY, f" {MASK} "),
    # a range of masks is one mask
    (rf"{MASK}(?:\s*(?:[-–—~/]|to|and)?\s*{MASK})+", MASK),
)


def mask_money_array(texts: pa.Array) -> pa.Array:
    """Arrow strings with every money figure replaced by `__money__` (nulls stay null)."""
    for pattern, replacement in _PASSES:
        texts = pc.replace_substring_regex(texts, pattern=pattern, replacement=replacement)
    return texts


def mask_money_many(texts: Sequence[str | None]) -> list[str]:
    """`mask_money` for a whole column; a missing text becomes ""."""
    array = pa.array(texts, type=pa.large_string())
    return mask_money_array(pc.fill_null(array, "")).to_pylist()


def mask_money(text: str | None) -> str:
    """`text` with every salary figure and currency amount replaced by `__money__`."""
    return mask_money_many([text])[0]
