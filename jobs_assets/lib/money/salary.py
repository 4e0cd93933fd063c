"""Salary parsing and annualisation.

Pure functions: some sources give free text, others structured amounts; both end up as one `Salary` with ANNUAL amounts so listings compare across sources.
The lexical grammar of the free text (amounts, currency and period markers) lives in
`salary_text`; this module decides what the figures mean.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from jobs_assets.lib.money.salary_text import (
    BRACKETS_RE,
    ISO_CODES,
    Amount,
    canonical,
    connected,
    figure_period,
    find_amounts,
    find_iso,
    find_symbol,
    note_period,
    strip_noise,
    strip_notes,
)

PERIOD_FACTORS: dict[str, int] = {
    "hour": 2080,
    "day": 260,
    "week": 52,
    "fortnight": 26,
    "month": 12,
    "year": 1,
}

PLAUSIBLE_USD_MIN = 1_000.0
PLAUSIBLE_USD_MAX = 2_000_000.0


@dataclass(frozen=True)
class Salary:
    """Annual amounts in `currency`; `period` records what the source figure was per.

    The flags are for the parse report: `period_from_size` when no marker named the
    period (`_period_by_size` guessed it from the amount), `not_annualisable` when the
    figure is per piece of work (`$50 per article`) and so has no annual amount.
    """

    min: float | None = None
    max: float | None = None
    currency: str | None = None
    period: str | None = None
    period_from_size: bool = False
    not_annualisable: bool = False

    @property
    def parsed(self) -> bool:
        return self.min is not None or self.max is not None


EMPTY = Salary()
NOT_ANNUALISABLE = Salary(not_annualisable=True)

# --- periods -----------------------------------------------------------------------------

_PERIOD_WORDS: dict[str, str] = {
    **{w: "hour" for w in ("hour", "hours", "hourly", "hr", "hrs", "h", "ph", "per hour")},
    **{
        w: "day"
        for w in ("day", "days", "daily", "per day", "d", "diem", "per diem", "manday", "man-day")
    },
    **{w: "week" for w in ("week", "weeks", "weekly", "wk", "per week")},
    **{
        w: "fortnight"
        for w in ("fortnight", "fortnightly", "biweekly", "bi-weekly", "bi weekly", "per fortnight")
    },
    **{
        w: "month"
        for w in ("month", "months", "monthly", "mo", "mth", "per month", "pm", "per mensem")
    },
    **{
        w: "year"
        for w in (
            "year",
            "years",
            "yearly",
            "annual",
            "annually",
            "annum",
            "yr",
            "y",
            "pa",
            "p.a.",
            "per annum",
            "per year",
            "per yr",
        )
    },
}


def normalise_period(word: object) -> str | None:
    """Map a source period word ('hourly', 'per annum', 'Monthly') onto a PERIOD_FACTORS key."""
    if not isinstance(word, str):
        return None
    key = re.sub(r"\s+", " ", word.strip().lower()).strip(" ./")
    if key in PERIOD_FACTORS:
        return key
    if key in _PERIOD_WORDS:
        return _PERIOD_WORDS[key]
    key = key.replace(".", "")
    if key.startswith(("per ", "a ", "an ", "every ", "each ")):
        key = key.split(" ", 1)[1]
    return _PERIOD_WORDS.get(key)


def _period_by_size(largest: float) -> str:
    """The period a figure of this size most likely means, when the text names none:
    20,000 and over a year, under 300 an hour, under 1,000 a day, else a month."""
    if largest >= 20_000:
        return "year"
    if largest < 300:
        return "hour"
    if largest < 1_000:
        return "day"
    return "month"


_CODE_NOTE_RE = re.compile(r"[(\[]\s*([A-Z]{3})\s*[)\]]")
_CURRENCY_SCOPE_END_RE = re.compile(r"[/|;(]|\bor\b", re.IGNORECASE)


def _find_currency(body: str, text: str, start: int, end: int) -> str | None:
    """An ISO code wins over a symbol. The figure's own markers come first (from
    the previous figure to the next separator), so with two currencies the first range
    keeps its own; a bare code in brackets, "(CAD)", counts as text; other bracketed
    notes ("approx. USD 55k") only when nothing else names a currency.
    """
    tail = body[end:]
    stop = _CURRENCY_SCOPE_END_RE.search(tail)
    own = body[start:end] + (tail[: stop.start()] if stop else tail)
    code_notes = [m.group(1) for m in _CODE_NOTE_RE.finditer(text) if m.group(1) in ISO_CODES]
    notes = " ".join(BRACKETS_RE.findall(text))
    return (
        find_iso(own)
        or (code_notes[0] if code_notes else None)
        or find_symbol(own)
        or find_iso(body)
        or find_symbol(body)
        or find_iso(notes)
        or find_symbol(notes)
    )


def _figure(body: str, amounts: list[Amount]) -> tuple[int, int] | None:
    """Indices of the first and last amount of the salary figure: the first range (or
    single amount) around the first amount that is surely money and not a bonus or
    allowance (`$5,000 sign-on bonus, $90k`); `A - B - C` spans A to C.
    """
    index = next((i for i, a in enumerate(amounts) if a.money and not a.extra), None)
    if index is None:
        index = next((i for i, a in enumerate(amounts) if a.pay_like and not a.extra), None)
    if index is None:
        return None
    first = last = index
    while first > 0 and connected(body, amounts[first - 1], amounts[first]):
        first -= 1
    while last + 1 < len(amounts) and connected(body, amounts[last], amounts[last + 1]):
        last += 1
    return first, last


def _range_values(figure: list[Amount]) -> tuple[float, float]:
    low, high = figure[0], figure[-1]
    a, b = low.total, high.total
    # A multiplier written once covers both ends: "$150-190k", "80k-110", "1.5-1.9 m";
    # not where the end would pass the other ("$677-$1k" is 677 to 1,000).
    if low.multiplier == 1.0 and high.multiplier > 1.0 and low.value * high.multiplier <= b:
        a = low.value * high.multiplier
    elif high.multiplier == 1.0 and low.multiplier > 1.0 and high.value * low.multiplier >= a:
        b = high.value * low.multiplier
    # Thousands written on the upper figure only: "$115-140,000.00" is 115,000-140,000.
    elif low.plain and a < 1000 and b >= 10_000 and b / 10 <= a * 1000 <= b:
        a *= 1000
    return a, b


def parse_salary_text(text: str | None) -> Salary:
    """Parse a free-text salary; anything unparseable gives an empty Salary."""
    if not isinstance(text, str):
        return EMPTY
    text = canonical(text.strip()[:500])
    if not text:
        return EMPTY
    body = strip_notes(text)
    amounts = find_amounts(body)
    span = _figure(body, amounts)
    if span is None:
        # The whole figure may sit in brackets: "(USD 50k - 60k)".
        body = strip_noise(text.replace("(", " ; ").replace(")", " ; "))
        amounts = find_amounts(body)
        span = _figure(body, amounts)
    if span is None:
        return EMPTY
    figure = amounts[span[0] : span[1] + 1]
    first, last = figure[0], figure[-1]

    low: float | None
    high: float | None
    if len(figure) > 1:
        low, high = _range_values(figure)
    else:
        value = first.total
        lead = body[amounts[span[0] - 1].end if span[0] else 0 : first.start]
        after = body[first.end : amounts[span[1] + 1].start if span[1] + 1 < len(amounts) else None]
        if _UP_TO_RE.search(lead) or _UP_TO_AFTER_RE.match(after):
            low, high = None, value
        elif first.plus or _FROM_RE.search(lead) or _FROM_AFTER_RE.match(after):
            low, high = value, None
        else:
            low, high = value, value

    low = low if low else None  # a zero amount means "not given"
    high = high if high else None
    if low is None and high is None:
        return EMPTY
    if low is not None and high is not None and low > high:
        low, high = high, low

    previous_end = amounts[span[0] - 1].end if span[0] else 0
    next_start = amounts[span[1] + 1].start if span[1] + 1 < len(amounts) else len(body)
    period = figure_period(body, previous_end, first.start, last.end, next_start) or note_period(
        text
    )
    if period == "piece":
        return NOT_ANNUALISABLE
    currency = _find_currency(body, text, previous_end, last.end)
    if currency is None and any(a.multiplier in (1e5, 1e7) for a in figure):
        currency = "INR"  # lakh and crore (`12-18 LPA`) are Indian rupees
    from_size = period is None
    if period is None:
        period = _period_by_size(max(v for v in (low, high) if v is not None))
    factor = PERIOD_FACTORS[period]
    return Salary(
        min=None if low is None else low * factor,
        max=None if high is None else high * factor,
        currency=currency,
        period=period,
        period_from_size=from_size,
    )


# With the words of European boards: `tot € 4.623,-`, `bis zu`, `jusqu'à`, `hasta`,
# `até`, `do`, `Mindestbruttogehalt`, `ab`, `à partir de`, `desde`, `od`, `vanaf`.
# `Starting pay: $21.53` names the pay at the start, not a lower bound.
_UP_TO_RE = re.compile(
    r"(?:\b(?:up\s*to|upto|max(?:imum)?|at\s+most|no\s+more\s+than|less\s+than|below|"
    r"under|tot|bis(?:\s+zu)?|maximaal|h[oö]chstens|hasta|até)\b"
    r"|\bjusqu['’]\s*[aà])[^\d]*$|[<≤]\s*[^\d]*$"
    # Polish `do` only right before the figure: the English verb is everywhere
    r"|\bdo\s*(?:zł|pln)?\s*$",
    re.IGNORECASE,
)
# `working from home`, `the above compensation` bound nothing; `begins at` is `starts at`
_FROM_RE = re.compile(
    r"\b(?:from(?!\s+(?:home|anywhere)\b)|"
    r"starting(?:\s+(?:at|from)|(?!\s+(?:pay|salary|rate|wage|base|compensation)\b))|"
    r"starts?\s+at|begins?\s+at|beginning\s+at|min(?:imum)?|at\s+least|over|"
    r"(?<!\bthe\s)above|more\s+than|north\s+of|minimaal|"
    r"mindest\w*|ab|[aà]\s+partir\s+d[eu']|desde|vanaf)\b[^\d]*$|[>≥]\s*[^\d]*$"
    r"|\bod\s*(?:zł|pln)?\s*$",
    re.IGNORECASE,
)
# ... and after the figure: `$120k max`, `£65k maximum`, `$100k minimum`, `60.000 €+`
_UP_TO_AFTER_RE = re.compile(
    r"^\s*(?:[A-Za-z]{0,3}\$|[€£₹₱₦₩₺₽₴₪¥₫฿]|[A-Z]{3})?\s*(?:max(?:imum)?|at\s+most|or\s+less)\b",
    re.IGNORECASE,
)
_FROM_AFTER_RE = re.compile(
    r"^\s*(?:[A-Za-z]{0,3}\$|[€£₹₱₦₩₺₽₴₪¥₫฿]|[A-Z]{3})?\s*(?:min(?:imum)?\b|or\s+more\b)"
    # a `+` on the currency after the figure (`60.000 €+`), not `$60k + bonus`
    r"|^\s*(?:[€£₹₱₦₩₺₽₴₪¥₫฿]|[A-Z]{3})\+(?!\s*[A-Za-z])",
    re.IGNORECASE,
)


# --- structured sources ------------------------------------------------------------------


def _amount(value: object) -> float | None:
    """A positive finite number from an int, float, numpy scalar or numeric string; else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        value = re.sub(r"[\s,_$€£]", "", value)
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    if not math.isfinite(number) or number <= 0:
        return None
    return number


def _currency_code(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    code = value.strip().upper()
    if re.fullmatch(r"[A-Z]{3}", code):
        return code
    return find_symbol(value.strip())


def structured_salary(
    min_amount: object, max_amount: object, period: object, currency: object
) -> Salary:
    """Annualise structured amounts; a missing period means annual."""
    low, high = _amount(min_amount), _amount(max_amount)
    if low is None and high is None:
        return EMPTY
    if low is not None and high is not None and low > high:
        low, high = high, low
    unit = normalise_period(period) or "year"
    factor = PERIOD_FACTORS[unit]
    return Salary(
        min=None if low is None else low * factor,
        max=None if high is None else high * factor,
        currency=_currency_code(currency),
        period=unit,
    )


def _format_amount(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}".replace(",", "")
    return f"{value:.2f}".rstrip("0").rstrip(".")


def render_salary(
    min_amount: object, max_amount: object, currency: object, period: object
) -> str | None:
    """A readable salary_raw for structured sources, in the source's own figures and period."""
    low, high = _amount(min_amount), _amount(max_amount)
    if low is not None and high is not None and low > high:
        low, high = high, low
    if low is not None and high is not None:
        prefix = ""
        figure = (
            _format_amount(low) if low == high else f"{_format_amount(low)}-{_format_amount(high)}"
        )
    elif low is not None:
        prefix, figure = "from ", _format_amount(low)
    elif high is not None:
        prefix, figure = "up to ", _format_amount(high)
    else:
        return None
    code = _currency_code(currency)
    unit = normalise_period(period) or "year"
    money = f"{code} {figure}" if code else figure
    return f"{prefix}{money} per {unit}"


def is_plausible(min_usd: float | None, max_usd: float | None) -> bool:
    """Annual USD amounts outside 1,000-2,000,000 are data errors; null/NaN pass."""
    for value in (min_usd, max_usd):
        if value is None or value != value:
            continue
        if not (PLAUSIBLE_USD_MIN <= value <= PLAUSIBLE_USD_MAX):
            return False
    return True
