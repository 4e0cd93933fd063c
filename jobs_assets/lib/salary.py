"""Salary parsing and annualisation (SPEC §7).

Pure functions: Remotive gives free text, Jobicy and Himalayas give structured amounts;
both end up as one `Salary` with ANNUAL amounts so listings compare across sources.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pycountry

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
    """Annual amounts in `currency`; `period` records what the source figure was per."""

    min: float | None = None
    max: float | None = None
    currency: str | None = None
    period: str | None = None

    @property
    def parsed(self) -> bool:
        return self.min is not None or self.max is not None


EMPTY = Salary()

# --- periods -----------------------------------------------------------------------------

_PERIOD_WORDS: dict[str, str] = {
    **{w: "hour" for w in ("hour", "hours", "hourly", "hr", "hrs", "h", "ph", "per hour")},
    **{w: "day" for w in ("day", "days", "daily", "per day", "d", "diem", "per diem")},
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


# Markers inside free text; the first one found (by position) wins.
_PERIOD_MARKERS: list[tuple[str, str]] = [
    (
        "hour",
        r"/\s*(?:h|hr|hrs|hour|hours)\b|\bhourly\b|\b(?:per|an|a|each|every)\s+(?:hour|hr)\b|\bp/h\b",
    ),
    ("day", r"/\s*(?:d|day)\b|\bdaily\b|\b(?:per|a|each|every)\s+day\b|\bper\s+diem\b|\bp/d\b"),
    (
        "fortnight",
        r"/\s*fortnight\b|\bfortnightly\b|\bbi-?\s?weekly\b|\b(?:per|a|every)\s+fortnight\b|\bevery\s+(?:two|2)\s+weeks\b",
    ),
    ("week", r"/\s*(?:w|wk|week)\b|\bweekly\b|\b(?:per|a|each|every)\s+week\b"),
    ("month", r"/\s*(?:m|mo|mth|mon|month)\b|\bmonthly\b|\b(?:per|a|each|every)\s+month\b"),
    (
        "year",
        r"/\s*(?:y|yr|year|annum|a)\b|\b(?:annual|annually|yearly)\b|\bper\s+annum\b|\b(?:per|a|each|every)\s+(?:year|yr)\b|\bp\.\s?a\.?(?![a-z])|(?<=[\dkK])\s?pa\b|\blpa\b",
    ),
]
_PERIOD_RE = re.compile(
    "|".join(f"(?P<{name}>{pattern})" for name, pattern in _PERIOD_MARKERS), re.IGNORECASE
)


def _find_period(text: str) -> str | None:
    match = _PERIOD_RE.search(text)
    return match.lastgroup if match else None


def _period_by_size(largest: float) -> str:
    """SPEC §7 fallback when the text has no period marker."""
    if largest >= 20_000:
        return "year"
    if largest < 300:
        return "hour"
    if largest < 1_000:
        return "day"
    return "month"


# --- currencies --------------------------------------------------------------------------

# ISO 4217 codes recognised in free text (precious metals, funds and test codes left out).
# Codes that are also English words only count in capitals right next to an amount.
_ISO_CODES = frozenset(
    c.alpha_3
    for c in pycountry.currencies
    if not c.alpha_3.startswith("X") or c.alpha_3 in {"XOF", "XAF", "XCD", "XPF"}
)
_WORDLIKE_CODES = frozenset(
    {"ALL", "BAM", "BOB", "CUP", "GEL", "MAD", "MOP", "PEN", "SOS", "TOP", "TRY"}
)
_ISO_RE = re.compile(r"(?<![A-Za-z])([A-Za-z]{3})(?![A-Za-z])")

_SYMBOLS: dict[str, str] = {
    "US$": "USD",
    "USD$": "USD",
    "C$": "CAD",
    "CA$": "CAD",
    "CAD$": "CAD",
    "A$": "AUD",
    "AU$": "AUD",
    "AUD$": "AUD",
    "NZ$": "NZD",
    "R$": "BRL",
    "HK$": "HKD",
    "S$": "SGD",
    "SG$": "SGD",
    "MX$": "MXN",
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
    "₹": "INR",
    "₱": "PHP",
    "₦": "NGN",
    "₩": "KRW",
    "₺": "TRY",
    "₽": "RUB",
    "₴": "UAH",
    "₪": "ILS",
    "zł": "PLN",
}
_SYMBOL_RE = re.compile(
    r"(?<![A-Za-z])(?:USD|CAD|AUD|US|CA|AU|NZ|HK|SG|MX|[CARS])\$|[$€£₹₱₦₩₺₽₴₪]|zł", re.IGNORECASE
)


def _find_iso(text: str) -> str | None:
    for match in _ISO_RE.finditer(text):
        word = match.group(1)
        code = word.upper()
        if code not in _ISO_CODES:
            continue
        if code in _WORDLIKE_CODES and word != code:
            continue
        if (code in _WORDLIKE_CODES or word != code) and not _touches_amount(text, match):
            continue  # "try", "PEN", "usd" alone are words, "usd 50k" and "50k TRY" are not
        return code
    return None


def _touches_amount(text: str, match: re.Match[str]) -> bool:
    before = text[max(0, match.start() - 2) : match.start()]
    after = text[match.end() : match.end() + 2]
    return bool(re.search(r"\d\s?$", before) or re.match(r"\s?[\d$€£]", after))


def _find_symbol(text: str) -> str | None:
    match = _SYMBOL_RE.search(text)
    if not match:
        return None
    token = match.group(0)
    return _SYMBOLS.get(token.upper(), _SYMBOLS.get(token))


_CODE_NOTE_RE = re.compile(r"[(\[]\s*([A-Z]{3})\s*[)\]]")


def _find_currency(body: str, text: str) -> str | None:
    """SPEC §7: an ISO code wins over a symbol; a bare code in brackets, "(CAD)", counts as
    text, other bracketed notes ("approx. USD 55k") only when the figure itself has no marker.
    """
    code_notes = [m.group(1) for m in _CODE_NOTE_RE.finditer(text) if m.group(1) in _ISO_CODES]
    notes = " ".join(_BRACKETS_RE.findall(text))
    return (
        _find_iso(body)
        or (code_notes[0] if code_notes else None)
        or _find_symbol(body)
        or _find_iso(notes)
        or _find_symbol(notes)
    )


# --- amounts -----------------------------------------------------------------------------

_BRACKETS_RE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|\{[^{}]*\}")
_NOISE_RE = re.compile(r"\b401\s*\(?k\)?|\bOTE\b|\bon[- ]target[- ]earnings\b", re.IGNORECASE)
# 45,000 | 45.000 | 45 000 (groups of three) or plain digits, optional decimals, optional k/m.
_AMOUNT_RE = re.compile(
    r"(?<![\w.,])"
    r"(?P<int>\d{1,2}(?:,\d{2})+,\d{3}(?!\d)"  # Indian grouping: 12,00,000
    r"|\d{1,3}(?:(?P<sep>[,.\u00a0\u202f ])\d{3})(?:(?P=sep)\d{3})*(?!\d)"
    r"|\d+)"
    r"(?:[.,](?P<frac>\d{1,2})(?!\d))?"
    r"(?:\s?(?P<mult>k|m(?:il+ion)?|l|lpa|lakhs?|lacs?|cr|crores?)(?![a-z]))?"
    r"(?P<plus>\+)?",
    re.IGNORECASE,
)
_MULTIPLIERS = {"k": 1e3, "m": 1e6, "l": 1e5, "la": 1e5, "cr": 1e7}  # lakh, crore
_UNIT_AFTER_RE = re.compile(
    r"\s*(?:%|(?:hours|hrs|days|weeks|months|years|yrs|employees|people|mins?|minutes)\b)",
    re.IGNORECASE,
)
_MARK = r"(?:[A-Za-z]{0,3}\$|[€£₹₱₦₩₺₽₴₪]|zł|[A-Za-z]{3})?"
_RANGE_GAP_RE = re.compile(
    rf"^\s*{_MARK}\s*(?:(?:/|per\s)\s*[a-z]+\s*)?(?:[-–—~]|to|and|until|till)\s*{_MARK}\s*$",
    re.IGNORECASE,
)
_UP_TO_RE = re.compile(
    r"\b(?:up\s*to|upto|max(?:imum)?|at\s+most|no\s+more\s+than|below|under)\b[^\d]*$|[<≤]\s*[^\d]*$",
    re.IGNORECASE,
)
_FROM_RE = re.compile(
    r"\b(?:from|starting(?:\s+(?:at|from))?|starts?\s+at|min(?:imum)?|at\s+least|over|above|"
    r"more\s+than|north\s+of)\b[^\d]*$|[>≥]\s*[^\d]*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Amount:
    value: float
    multiplier: float
    start: int
    end: int
    plus: bool
    money: bool  # next to a currency marker or written with k/m: surely an amount


_MONEY_BEFORE_RE = re.compile(r"(?:\$|[€£₹₱₦₩₺₽₴₪]|zł|\b[A-Z]{3})\s*$")
_MONEY_AFTER_RE = re.compile(r"\s*(?:[$€£₹₱₦₩₺₽₴₪]|[A-Z]{3}\b)")


def _find_amounts(text: str) -> list[_Amount]:
    amounts: list[_Amount] = []
    for match in _AMOUNT_RE.finditer(text):
        if _UNIT_AFTER_RE.match(text, match.end()):
            continue
        digits = re.sub(r"\D", "", match.group("int"))
        frac = match.group("frac")
        value = float(f"{digits}.{frac}" if frac else digits)
        mult_word = (match.group("mult") or "").lower()
        multiplier = _MULTIPLIERS.get(mult_word[:2], _MULTIPLIERS.get(mult_word[:1], 1.0))
        money = multiplier > 1.0 or bool(
            _MONEY_BEFORE_RE.search(text, max(0, match.start() - 5), match.start())
            or _MONEY_AFTER_RE.match(text, match.end())
        )
        amounts.append(
            _Amount(
                value,
                multiplier,
                match.start(),
                match.end(),
                bool(match.group("plus")),
                money,
            )
        )
    return amounts


def _is_range(text: str, first: _Amount, second: _Amount) -> bool:
    return bool(_RANGE_GAP_RE.match(text[first.end : second.start]))


def _strip_notes(text: str) -> str:
    previous = None
    while previous != text:
        previous, text = text, _BRACKETS_RE.sub(" ", text)
    return _NOISE_RE.sub(" ", text)


def parse_salary_text(text: str | None) -> Salary:
    """Parse Remotive's free-text salary; anything unparseable gives an empty Salary."""
    if not isinstance(text, str):
        return EMPTY
    text = text.strip()[:500]
    if not text:
        return EMPTY
    body = _strip_notes(text)
    amounts = _find_amounts(body)
    if not amounts:
        # The whole figure may sit in brackets: "(USD 50k - 60k)".
        body = _NOISE_RE.sub(" ", text.replace("(", " ").replace(")", " "))
        amounts = _find_amounts(body)
        if not amounts:
            return EMPTY

    low: float | None
    high: float | None
    # Skip stray numbers ("Level 3, $100k") when some amount is clearly money.
    index = next((i for i, amount in enumerate(amounts) if amount.money), 0)
    if index > 0 and _is_range(body, amounts[index - 1], amounts[index]):
        index -= 1
    first = amounts[index]
    second = amounts[index + 1] if index + 1 < len(amounts) else None
    if second is not None and _is_range(body, first, second):
        a, b = first.value * first.multiplier, second.value * second.multiplier
        # A multiplier written once covers both ends: "$150-190k", "80k-110".
        if first.multiplier == 1.0 and second.multiplier > 1.0 and first.value < 1000:
            a = first.value * second.multiplier
        elif second.multiplier == 1.0 and first.multiplier > 1.0 and second.value < 1000:
            b = second.value * first.multiplier
        low, high = a, b
    else:
        value = first.value * first.multiplier
        lead = body[amounts[index - 1].end if index else 0 : first.start]
        if _UP_TO_RE.search(lead):
            low, high = None, value
        elif first.plus or _FROM_RE.search(lead):
            low, high = value, None
        else:
            low, high = value, value

    low = low if low else None  # a zero amount means "not given"
    high = high if high else None
    if low is None and high is None:
        return EMPTY
    if low is not None and high is not None and low > high:
        low, high = high, low

    currency = _find_currency(body, text)
    period = _find_period(body) or _find_period(" ".join(_BRACKETS_RE.findall(text)))
    if period is None:
        period = _period_by_size(max(v for v in (low, high) if v is not None))
    factor = PERIOD_FACTORS[period]
    return Salary(
        min=None if low is None else low * factor,
        max=None if high is None else high * factor,
        currency=currency,
        period=period,
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
    return _find_symbol(value.strip())


def structured_salary(
    min_amount: object, max_amount: object, period: object, currency: object
) -> Salary:
    """Annualise Jobicy/Himalayas structured amounts; a missing period means annual."""
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
    """Annual USD amounts outside 1,000-2,000,000 are data errors (SPEC §7); null/NaN pass."""
    for value in (min_usd, max_usd):
        if value is None or value != value:
            continue
        if not (PLAUSIBLE_USD_MIN <= value <= PLAUSIBLE_USD_MAX):
            return False
    return True
