"""The free-text salary grammar: amounts, currency markers and period markers.

Pure lexical helpers used by `salary.parse_salary_text`; they know nothing about
annualising. Text from the wild glues letters to figures (`R480k`, `RM2,250`), writes
codes in lower case (`90-110k usd`) and mixes in numbers that are not pay (`50/50`,
`3+ years`, `2025`), so each of those is a rule here rather than an example.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pycountry

from jobs_assets.lib.sources.mojibake import repair_mojibake

# --- currencies --------------------------------------------------------------------------

# ISO 4217 codes recognised in free text (precious metals, funds and test codes left out).
# Codes that are also English words only count in capitals right next to an amount.
ISO_CODES = frozenset(
    c.alpha_3
    for c in pycountry.currencies
    if not c.alpha_3.startswith("X") or c.alpha_3 in {"XOF", "XAF", "XCD", "XPF"}
)
_WORDLIKE_CODES = frozenset(
    {"ALL", "BAM", "BOB", "CUP", "GEL", "MAD", "MOP", "PEN", "SOS", "TOP", "TRY"}
)
_ISO_RE = re.compile(r"(?<![A-Za-z])([A-Za-z]{3})(?![A-Za-z])")

SYMBOLS: dict[str, str] = {
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
    "¥": "JPY",
    "CN¥": "CNY",
    "₫": "VND",
    "฿": "THB",
}
_SYMBOL_RE = re.compile(
    r"(?<![A-Za-z])(?:(?:USD|CAD|AUD|US|CA|AU|NZ|HK|SG|MX|[CARS])\$|CN¥)|[$€£₹₱₦₩₺₽₴₪¥₫฿]|zł",
    re.IGNORECASE,
)

# Letters written straight onto a figure, in any case: `R480k` (rand), `RM2,250` (ringgit),
# `P50,000` (peso), `Rs.50,000` (rupee), `Rp5.000.000` (rupiah), `KSh80,000` (shilling).
# They only count before a figure that looks like money and not inside a word (`top500`,
# `IR35`, `P3` stay words); the multi-letter ones and capital R/P may stand one space off.
# Glued ISO codes (`USD75000`) are spaced off too.
GLUED_PREFIXES: dict[str, str] = {
    "r": "ZAR",
    "rm": "MYR",
    "p": "PHP",
    "rs": "INR",
    "rp": "IDR",
    "ksh": "KES",
}
# The figure must look like money (grouped, with k/m, or 3+ digits): `P3` is a level.
_MONEY_SHAPE = r"(?=\d{1,3}[,. '’]\d{3}(?!\d)|\d+(?:[.,]\d+)?\s?[km](?![a-z])|\d{3})"
_GLUED_RE = re.compile(
    rf"(?<![A-Za-z0-9$])(?:(ksh|rm|rs|rp)\.?\s?(?=\d)|(?:(r|p)|(?-i:(R|P))\s){_MONEY_SHAPE})",
    re.IGNORECASE,
)
# `USD75000`: an ISO code glued to the figure.
_GLUED_ISO_RE = re.compile(r"(?<![A-Za-z])([A-Za-z]{3})(?=\d)")
_GLUABLE_CODES = ISO_CODES - _WORDLIKE_CODES
# `US $160,000`, `CA $90k`: a country code spaced off its dollar sign.
_SPACED_DOLLAR_RE = re.compile(r"\b(US|USD|CA|CAD|AU|AUD|NZ|HK|SG|MX)\s+\$", re.IGNORECASE)


# Words run together where markup was stripped (`/hourYUPRO Placement`, `$204kannually`):
# a lower-case run followed by a capital, or a `k` figure followed by a period word.
_GLUED_WORDS_RE = re.compile(
    r"(?<=[a-z]{2})(?=[A-Z])"
    r"|(?<=\d[kK])(?=(?i:annual(?:ly)?|yearly|per|monthly|hourly|weekly|base|ote)\b)"
)


# `PHP 7 & 8`, `PHP 8.2`: the language and its version, not an amount of pesos.
_PHP_VERSION_RE = re.compile(r"\bPHP\s?[5-8](?:\.\d{1,2})?(?![\d,.'’kK]|\s?(?:/|per\b|an?\s+hour))")


def canonical(text: str) -> str:
    """Rewrite glued prefixes and spaced dollar codes as plain markers: `R480k` -> `ZAR 480k`;
    split words run together (`/hourYUPRO` -> `/hour YUPRO`)."""
    # UTF-8 read as Latin-1 where a board did not repair it: its dashes (`â\x80\x93`)
    # would cut a range in two
    text = repair_mojibake(text)
    text = _PHP_VERSION_RE.sub("language", _GLUED_WORDS_RE.sub(" ", text))
    text = _SPACED_DOLLAR_RE.sub(lambda m: f"{m.group(1).upper()}$", text)
    text = _GLUED_ISO_RE.sub(
        lambda m: m.group(0) + " " if m.group(1).upper() in _GLUABLE_CODES else m.group(0), text
    )
    return _GLUED_RE.sub(
        lambda m: GLUED_PREFIXES[(m.group(1) or m.group(2) or m.group(3)).lower()] + " ", text
    )


_AMOUNT_BEFORE_RE = re.compile(r"\d\s?(?:k|m|mn|mln|mio\.?|mil+ions?|bn)?\s?$", re.IGNORECASE)


def _touches_amount(text: str, match: re.Match[str]) -> bool:
    before = text[max(0, match.start() - 12) : match.start()]
    after = text[match.end() : match.end() + 4]  # `usd: $160k` labels the figure too
    return bool(_AMOUNT_BEFORE_RE.search(before) or re.match(r"\s?:?\s?[\d$€£]", after))


def find_iso(text: str) -> str | None:
    """The first ISO code; lower-case ones (`usd`) and word-like ones (`TRY`) only next to
    a figure (`90-110k usd`, `1.5-1.9 m huf`), so `try` and `all` stay words."""
    for match in _ISO_RE.finditer(text):
        word = match.group(1)
        code = word.upper()
        if code not in ISO_CODES:
            continue
        if code in _WORDLIKE_CODES and word != code:
            continue
        if (code in _WORDLIKE_CODES or word != code) and not _touches_amount(text, match):
            continue
        return code
    return None


def find_symbol(text: str) -> str | None:
    """The first currency symbol; a bare `$` gives way to a named dollar after it
    (`$150,000/yr - A$160,000/yr` is in Australian dollars)."""
    tokens = [m.group(0) for m in _SYMBOL_RE.finditer(text)]
    if not tokens:
        return None
    named = [t for t in tokens if len(t) > 1 and t.endswith("$")]
    token = named[0] if tokens[0] == "$" and named else tokens[0]
    return SYMBOLS.get(token.upper(), SYMBOLS.get(token))


# --- periods -----------------------------------------------------------------------------

# Markers inside free text; the first one found (by position) wins.
_PERIOD_MARKERS: list[tuple[str, str]] = [
    (
        "hour",
        r"/\s*(?:h|hr|hrs|hour|hours)\b|\bhourly\b|\b(?:per|an|a|each|every)\s+(?:hour|hr)\b|\bp/h\b|(?<=[\dkK])\s?ph\b",
    ),
    (
        "day",
        r"/\s*(?:man[- ]?)?(?:d|day)\b|\bdaily\b|\b(?:per|a|each|every)\s+(?:man[- ]?)?day\b|\bper\s+diem\b|\bp/d\b|(?<=[\dkK])\s?pd\b",
    ),
    (
        "fortnight",
        r"/\s*fortnight\b|\bfortnightly\b|\bbi-?\s?weekly\b|\b(?:per|a|every)\s+fortnight\b|\bevery\s+(?:two|2)\s+weeks\b",
    ),
    ("week", r"/\s*(?:w|wk|week)\b|\bweekly\b|\b(?:per|a|each|every)\s+week\b|(?<=[\dkK])\s?pw\b"),
    (
        "month",
        r"/\s*(?:m|mo|mth|mon|month)\b|\bmonthly\b|\b(?:per|a|each|every)\s+month\b|(?<=[\dkK])\s?pm\b|\bp\.\s?m\.",
    ),
    (
        "year",
        r"/\s*(?:y|yr|year|annum|a)\b|\b(?:annual|annually|annuali[sz]ed|yearly)\b|\bper\s+annum\b|\b(?:per|a|each|every)\s+(?:year|yr)\b|\bp\.\s?a\.?(?![a-z])|(?<=[\dkK])\s?pa\b|\blpa\b",
    ),
]
# The same in the languages seen on European boards (German, French, Spanish, Portuguese,
# Polish, Dutch): `brutto/Monat`, `par mois`, `al año`, `zł/mies.`, `monatlich`,
# `bruto per maand`, `mensuales`.
_FOREIGN_PERIODS: dict[str, tuple[str, str]] = {  # period: (unit words, adverbs)
    "hour": (r"stunde|std|heure|hora|godz(?:in[eę])?|uur", r"st[uü]ndlich"),
    "day": (r"tag|jour|d[ií]a|dzie[nń]|dag", r"t[aä]glich|dagelijks"),
    "week": (r"woche|semaine|semana|tydzie[nń]", r"w[oö]chentlich|hebdomadaire|semanal(?:es)?"),
    "month": (
        r"monat|mois|m[eê]s|mies(?:i[aą]c)?|maand",
        r"monatlich|mensuel(?:le)?|mensual(?:es)?|mensa(?:l|is)|maandelijkse?|maandsalaris",
    ),
    "year": (
        r"jahr|an|a[nñ]o|rok|jaar",
        r"j[aä]hrlich|annuel(?:le)?|anual(?:es)?|rocznie|jaarlijkse?",
    ),
}


def _foreign(period: str) -> str:
    if period not in _FOREIGN_PERIODS:
        return ""
    words, adverbs = _FOREIGN_PERIODS[period]
    return rf"|/\s*(?:{words})\b|\b(?:pro|par|al|por|na|im|per)\s+(?:{words})\b|\b(?:{adverbs})\b"


# Units a figure can be "per" that are not pay periods: such a salary cannot be annualised.
_PIECE_UNITS = (
    r"courses?|articles?|words?|lessons?|projects?|calls?|tasks?|posts?|pieces?|videos?|"
    r"pages?|sessions?|class(?:es)?|students?|sales?|leads?|appointments?|images?|items?|"
    r"assignments?|reviews?|episodes?|modules?|chapters?|scripts?|submissions?|questions?|"
    r"transcripts?|minutes?|mins?|shifts?|visits?|cases?|tickets?|bookings?|orders?|deals?|"
    r"hires?|placements?|referrals?|tests?|surveys?|interviews?|meetings?|books?|songs?|"
    r"deliverables?|units?|blogs?|blog\s+posts?|gigs?|jobs?|events?|reports?|translations?"
)
_PERIOD_RE = re.compile(
    "|".join(f"(?P<{name}>{pattern}{_foreign(name)})" for name, pattern in _PERIOD_MARKERS)
    + rf"|(?P<piece>(?:/|\b(?:per|a|an|each|every|for\s+each)\b)\s*(?:\d[\d,.]*\s?k?\s+|[a-z]+\s+)?(?:{_PIECE_UNITS})\b)",
    re.IGNORECASE,
)
# A period word that qualifies something other than the salary: `monthly bonus`,
# `annual allowance`; and what follows `plus`, `+`, `bonus`, `commission`... is about extras.
_EXTRA_PERIOD_RE = re.compile(
    r"\b(?:hourly|daily|weekly|monthly|yearly|annual|quarterly)\s+"
    r"(?:performance\s+|cash\s+|sales\s+)?"
    r"(?:bonus(?:es)?|allowances?|stipends?|commissions?|incentives?|leave|budget|reviews?)\b",
    re.IGNORECASE,
)
_EXTRAS_RE = re.compile(
    r"\+|&|\b(?:plus|bonus(?:es)?|allowances?|stipends?|commissions?|incentives?|equity|"
    r"benefits?|stock|RSUs?|sign[- ]on|tips?)\b",
    re.IGNORECASE,
)


# How often pay is paid, not what the figure is per: `paid bi-weekly`, `paid monthly`,
# `on a bi-weekly basis`, `payments bi-weekly`.
_PAYMENT_FREQUENCY_RE = re.compile(
    r"\b(?:paid|payments?|paychecks?|payroll|payouts?)\s+(?:\w+\s+){0,2}?"
    r"(?:bi-?\s?weekly|weekly|monthly|fortnightly|semi-?monthly|twice\s+a\s+(?:week|month))\b"
    r"|\bon\s+an?\s+(?:bi-?\s?weekly|weekly|monthly|semi-?monthly)\s+basis\b",
    re.IGNORECASE,
)
# A period word in the label right before the figure: `Monthly Stipend: KES 20,000`,
# `Average weekly pay: $1,040` (the figure is what the label names, even an allowance).
_LABEL_PERIOD_RE = re.compile(
    r"\b(hourly|daily|weekly|monthly|yearly|annual)\b[\w\s-]{0,30}:\s*"
    r"(?:[A-Za-z]{0,3}\$|[€£₹₱₦₩₺₽₴₪¥₫฿]|[A-Za-z]{3})?\s*$",
    re.IGNORECASE,
)

# How far before a figure a period word still speaks of it (`Hourly rate: $30`, `monthly
# income ... $1.6k`), not of pay in general a sentence earlier (`hourly or salary pay
# ranges must be posted ... the range is $90,000 - $130,000`).
_LEAD_REACH = 80
_PIECE_LABEL_END_RE = re.compile(
    r"\s*[:=-]?\s*(?:[A-Za-z]{0,3}\$|[€£₹₱₦₩₺₽₴₪¥₫฿]|[A-Za-z]{3})?\s*$"
)
_LABEL_PERIODS = {"hourly": "hour", "daily": "day", "weekly": "week", "monthly": "month",
                  "yearly": "year", "annual": "year"}  # fmt: skip

# Working time, not pay: `40h/week`, `20 hrs per week`, `8 hours a day` (a scope may
# start right after the count, which was read as a figure: `h/week`).
_WORKTIME_RE = re.compile(
    r"(?:\d+(?:\s*[-–]\s*\d+)?|^)\s*(?:h|hrs?|hours?|uur|stunden?)\s*"
    r"(?:/|per\b|a\b|each\b|every\b|pro\b)\s*"
    r"(?:d|day|w|wk|week|woche|mo|month)\b"
    # days of work, not pay: `hybrid 2 days/week`, `3 days a week in office`, `4-day week`
    r"|(?:\d+(?:\s*[-–]\s*\d+)?|^)[\s-]*(?:days?|tage?)[\s-]*"
    r"(?:/|per\b|a\b|each\b|every\b|pro\b|in\s+the\b)?\s*(?:w|wk|week|woche)\b",
    re.IGNORECASE,
)


def find_period(scope: str, before_figure: bool = False) -> str | None:
    """`hour` ... `year`, or `piece` for a non-period unit (`per article`), or None.

    In the figure's own words the first marker wins. In the words `before_figure` the
    nearest period marker wins (`hourly rate (monthly income $1.6k-$2.6k)`), and a piece
    unit counts only as the figure's label (`Per article: $50`), not in prose (`a job
    posting`)."""
    cleaned = _EXTRA_PERIOD_RE.sub(
        " ", _PAYMENT_FREQUENCY_RE.sub(" ", _WORKTIME_RE.sub(" ", scope))
    )
    if not before_figure:
        match = _PERIOD_RE.search(cleaned)
        return match.lastgroup if match else None
    found = None
    for match in _PERIOD_RE.finditer(cleaned):
        if match.lastgroup != "piece":
            found = match.lastgroup
        elif _PIECE_LABEL_END_RE.match(cleaned, match.end()):
            found = "piece"
    return found


def note_period(text: str) -> str | None:
    """The period a bracketed note without figures names (`50,000 - 70,000 (monthly gross
    package)`): a pay period only, since prose in brackets names units (`a job`) too."""
    for note in BRACKETS_RE.findall(text):
        if not any(c.isdigit() for c in note):
            period = find_period(note)
            if period and period != "piece":
                return period
    return None


def figure_period(
    body: str, previous_end: int, start: int, end: int, next_start: int
) -> str | None:
    """The period of the figure at body[start:end]: its own words first (up to the next
    figure, stopping where extras begin: `£26,800 plus monthly bonus` has none), then the
    words just before it (`Hourly: $30-$40`), never another figure's."""
    tail = body[end:next_start]
    extras = _EXTRAS_RE.search(tail)
    own = body[start:end] + (tail[: extras.start()] if extras else tail)
    lead = body[previous_end:start]
    label = _LABEL_PERIOD_RE.search(lead)
    if label:  # `Monthly stipend: KES 20,000`: the figure's own label names the period
        return _LABEL_PERIODS[label.group(1).lower()]
    return find_period(own) or find_period(lead[-_LEAD_REACH:], before_figure=True)


# --- amounts -----------------------------------------------------------------------------

BRACKETS_RE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|\{[^{}]*\}")
_NOISE_RE = re.compile(r"\b401\s*\(?k\)?", re.IGNORECASE)
# 45,000 | 45.000 | 45 000 | 100'000 (groups of three) or plain digits, decimals, k/m/lakh.
_AMOUNT_RE = re.compile(
    r"(?<![\w.,/])"
    r"(?P<int>\d{1,2}(?:,\d{2})+,\d{3}(?!\d)"  # Indian grouping: 12,00,000
    r"|\d{1,3}(?:(?P<sep>[,.\u00a0\u202f '’])\d{3})(?:(?P=sep)\d{3})*(?!\d)"
    r"|\d+)"
    r"(?:[.,](?P<frac>\d{1,2})(?!\d))?"
    r"(?:\s?(?P<mult>k|m(?:il+ion(?:s|en)?|illones)?|mn|mln|mio\.?|l|lpa|lakhs?|lacs?|cr|crores?)(?![a-z]))?"
    r"(?P<plus>\+)?",
    re.IGNORECASE,
)
_MULTIPLIERS = {"k": 1e3, "m": 1e6, "l": 1e5, "la": 1e5, "cr": 1e7}  # lakh, crore
# Counts, durations, shares and piece counts (`per 1000 words`) next to a number are not pay.
_UNIT_AFTER_RE = re.compile(
    r"[\s-]*days?[\s-]*(?:/|per\s+|a\s+|in\s+the\s+)?\s*(?:week|wk)\b"  # `4-day week`
    r"|\s*(?:%|/\s*\d|(?:hours|hrs|uur|stunden|heures|horas|days|weeks|months|years|yrs|"
    r"employees|people|persons|staff|"
    r"members|users|customers|clients|seats|positions|openings|roles|engineers|"
    rf"developers|countries|languages|locations|offices|x\b|times|{_PIECE_UNITS})\b)",
    re.IGNORECASE,
)
_EXTRA_AFTER_RE = re.compile(
    r"\s*(?:(?!(?:plus|and|with|or|per|a|an)\b)[a-z-]+\s+){0,2}?"
    r"(?:bonus(?:es)?|allowances?|stipends?|commissions?)\b",
    re.IGNORECASE,
)
_RATIO_BEFORE_RE = re.compile(r"\d\s*/\s*$")
MARK = r"(?:[A-Za-z]{0,3}\$|[€£₹₱₦₩₺₽₴₪¥₫฿]|zł|[A-Za-z]{3})?"
# Range connectors, with those of European boards: `R$ 8.000 a R$ 12.000`, `50k bis 60k`,
# `entre 3000 y 4000`, `de 40k à 50k`, `od 10 000 do 15 000`.
# Dutch too (`tussen €3.000 en €3.700`, `minimaal €5.038,- en maximaal €7.575,-`), and a
# dash doubled with a word (`€110,000 - to €143,000`).
# Words only whole: `/ cad $145k` holds no `a`.
_CONNECTOR = r"(?:[-–—~]\s*(?:to\b)?|(?<![a-z])(?:to|and|until|till|a|à|bis|do|hasta|y|e|und|et|en|tot)(?![a-z]))"
_RANGE_GAP_RE = re.compile(
    rf"^\s*(?:,-?)?\s*{MARK}\s*(?:(?:/|per\s|an?\s)\s*[a-z]+\s*)?{_CONNECTOR}\s*"
    rf"(?:maximaal|maximum|max\.?|h[oö]chstens|up\s+to)?\s*{MARK}\s*$",
    re.IGNORECASE,
)
# `$40,000 base, $70,000 OTE`: base and on-target earnings span one range.
_BASE_GAP_RE = re.compile(
    rf"^\s*base(?:\s+(?:salary|pay))?\s*[,;/+&]?\s*(?:and|with|plus)?\s*(?:up\s+to\s+)?{MARK}\s*$",
    re.IGNORECASE,
)
_OTE_AFTER_RE = re.compile(r"^\s*(?:OTE\b|on[- ]target)", re.IGNORECASE)
_MONEY_BEFORE_RE = re.compile(r"(?:\$|[€£₹₱₦₩₺₽₴₪¥₫฿]|zł|\b[A-Z]{3})\s*$")
_MONEY_AFTER_RE = re.compile(r"\s*(?:[$€£₹₱₦₩₺₽₴₪¥₫฿]|zł|[A-Z]{3}\b)")
# `17 usd/hour`, `25-30 eur/h`: a lower-case ISO code right after a figure marks money
# too (word-like codes such as `all`, `top`, `try` do not).
_CODE_AFTER_RE = re.compile(r"\s?([a-z]{3})(?![a-z])")
_CODE_BEFORE_RE = re.compile(r"(?<![a-z])([a-z]{3})\s?$")
_PERIOD_AFTER_RE = re.compile(
    r"\s*(?:/|per\b|an?\s+(?:hour|day|week|month|year)|hourly|daily|weekly|monthly|yearly|"
    r"annually|p\.?a\b|p/h|ph\b)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Amount:
    value: float
    multiplier: float
    start: int
    end: int
    plus: bool
    money: bool  # next to a currency marker or written with k/m: surely an amount
    plain: bool  # bare digits: no separator, decimals or multiplier
    pay_like: bool  # money, or grouped/large, or followed by a period marker
    extra: bool  # a bonus, allowance, stipend or commission, not the salary

    @property
    def total(self) -> float:
        return self.value * self.multiplier


def find_amounts(text: str) -> list[Amount]:
    amounts: list[Amount] = []
    for match in _AMOUNT_RE.finditer(text):
        if _UNIT_AFTER_RE.match(text, match.end()) or _RATIO_BEFORE_RE.search(
            text, max(0, match.start() - 3), match.start()
        ):
            continue
        digits = re.sub(r"\D", "", match.group("int"))
        frac = match.group("frac")
        value = float(f"{digits}.{frac}" if frac else digits)
        mult_word = (match.group("mult") or "").lower()
        multiplier = _MULTIPLIERS.get(mult_word[:2], _MULTIPLIERS.get(mult_word[:1], 1.0))
        if multiplier == 1e3 and value >= 1000 and digits != match.group("int"):
            multiplier = 1.0  # a `k` written onto a grouped figure repeats it: `$92,000K`
        code_after = _CODE_AFTER_RE.match(text, match.end())
        code_before = _CODE_BEFORE_RE.search(text, max(0, match.start() - 5), match.start())
        money = multiplier > 1.0 or bool(
            _MONEY_BEFORE_RE.search(text, max(0, match.start() - 5), match.start())
            or _MONEY_AFTER_RE.match(text, match.end())
            or any(c and c.group(1).upper() in _GLUABLE_CODES for c in (code_after, code_before))
        )
        plain = digits == match.group("int") and not frac and multiplier == 1.0
        periodic = bool(_PERIOD_AFTER_RE.match(text, match.end()))
        year_like = plain and 1950 <= value <= 2099 and not money and not periodic
        if year_like:
            continue
        pay_like = money or periodic or not plain or value >= 1000
        amounts.append(
            Amount(
                value,
                multiplier,
                match.start(),
                match.end(),
                bool(match.group("plus")),
                money,
                plain,
                pay_like,
                bool(_EXTRA_AFTER_RE.match(text, match.end())),
            )
        )
    return amounts


_SYMBOL_GAP_RE = re.compile(r"^\s+(?:[A-Za-z]{0,3}\$|[€£₹₱₦₩₺₽₴₪¥₫฿])\s*$")


def connected(text: str, first: Amount, second: Amount) -> bool:
    """Two figures of one range: `A - B`, `A to B`, `between A and B`, `A base, B OTE`."""
    gap = text[first.end : second.start]
    if _RANGE_GAP_RE.match(gap):
        return True
    if _SYMBOL_GAP_RE.match(gap) and first.money and first.total < second.total:
        return True  # a range that lost its dash: `$112,000 $177,000`
    return bool(_BASE_GAP_RE.match(gap) and _OTE_AFTER_RE.match(text[second.end :]))


def strip_notes(text: str) -> str:
    previous = None
    while previous != text:
        previous, text = text, BRACKETS_RE.sub(" ", text)
    return strip_noise(text)


def strip_noise(text: str) -> str:
    return _NOISE_RE.sub(" ", text)
