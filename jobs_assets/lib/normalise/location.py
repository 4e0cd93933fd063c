"""Location text to countries and regions (`countries`, `regions`, `region`).

Pure and table-driven: lookup dictionaries are built once from pycountry (LGPL-2.1), the
shipped country_regions.csv and the GeoNames city table (`lib/normalise/gazetteer.py`), so each
distinct location string costs a few dict hits.

Countries, region words and aliases are read first; what is left is looked up as a city
or subdivision, decided by the countries the same text names, then by the source's home
market (`home_country`, e.g. DE for a German board), then by population. What cannot be decided
stays Unknown: a wrong country is worse than none.
"""

from __future__ import annotations

import csv
import html
import itertools
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pycountry

from jobs_assets.lib.normalise.gazetteer import CITY_MIN_POPULATION, City, Gazetteer, fold

REGIONS = ("North America", "Latin America", "Europe", "Africa", "Asia", "Oceania")
WORLDWIDE = "Worldwide"
MULTIPLE = "Multiple"
UNKNOWN = "Unknown"

DATA_DIR = Path(__file__).parents[2] / "data"
COUNTRY_REGIONS_CSV = DATA_DIR / "country_regions.csv"


@dataclass(frozen=True)
class Location:
    """What a location string names; `unknown_tokens` feed the parse report."""

    countries: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    region: str = UNKNOWN
    unknown_tokens: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()  # GeoNames names ("Munich", "Taipei")
    subdivisions: tuple[str, ...] = ()  # ISO 3166-2 codes ("DE-BY", "US-CA")


# --- vocabulary --------------------------------------------------------------------------

_NA, _LA, _EU, _AF, _AS, _OC = REGIONS

WORLDWIDE_WORDS = frozenset(
    {
        "worldwide",
        "anywhere",
        "global",
        "globally",
        "remote",
        "world",
        "anywhere in the world",
        "remote worldwide",
        "remoto",
        "remota",
        "teletrabajo",
        "teletravail",
        "100 teletravail",
        "home office",
        "homeoffice",
        "fernarbeit",
        "mobiles arbeiten",
        "zdalnie",
        "praca zdalna",
        "remote first",
        "remote only",
        "worldwide remote",
        "fully remote",
        "100 remote",
        "work from anywhere",
        "international",
        "all countries",
        "any location",
        "any country",
        "earth",
        "planet earth",
        "world wide",
        # every time zone is everywhere ("Remote, all timezones"; keys are folded, where
        # "time zone" is "timezones")
        "all timezones",
        "any timezones",
        # remote said otherwise, as the SPEC's "Remote" ("#LI-Remote": LinkedIn's tag)
        "work from home",
        "wfh",
        "virtual",
        "remote work",
        "li remote",
        # the same in the boards' other languages
        "weltweit",
        "mundial",
        "todo el mundo",
        "en todo el mundo",
        "monde entier",
        "partout",
        "wereldwijd",
        "ovunque",
        "in tutto il mondo",
    }
)

REGION_WORDS: dict[str, tuple[str, ...]] = {
    "europe": (_EU,),
    "eu weit": (_EU,),
    "eu": (_EU,),
    "european union": (_EU,),
    "eea": (_EU,),
    "european economic area": (_EU,),
    "european timezones": (_EU,),
    "europe timezones": (_EU,),
    "eu timezones": (_EU,),
    "cet": (_EU,),
    "cest": (_EU,),
    "eet": (_EU,),
    "eest": (_EU,),
    "western europe": (_EU,),
    "eastern europe": (_EU,),
    "central europe": (_EU,),
    "northern europe": (_EU,),
    "southern europe": (_EU,),
    "scandinavia": (_EU,),
    "balkans": (_EU,),
    "north america": (_NA,),
    "northern america": (_NA,),
    "noram": (_NA,),
    "namer": (_NA,),
    "us timezones": (_NA,),
    "usa timezones": (_NA,),
    "united states timezones": (_NA,),
    "canada timezones": (_NA,),
    "canadian timezones": (_NA,),
    "uk timezones": (_EU,),
    "united kingdom timezones": (_EU,),
    "british timezones": (_EU,),
    "north american timezones": (_NA,),
    "north america timezones": (_NA,),
    "est": (_NA,),
    "edt": (_NA,),
    "cst": (_NA,),
    "cdt": (_NA,),
    "mst": (_NA,),
    "mdt": (_NA,),
    "pst": (_NA,),
    "pdt": (_NA,),
    "eastern time": (_NA,),
    "central time": (_NA,),
    "mountain time": (_NA,),
    "pacific time": (_NA,),
    "latam": (_LA,),
    "latin america": (_LA,),
    "south america": (_LA,),
    "central america": (_LA,),
    "caribbean": (_LA,),
    "latin america and the caribbean": (_LA,),
    "americas": (_NA, _LA),
    "the americas": (_NA, _LA),
    "amer": (_NA, _LA),
    "emea": (_EU, _AS, _AF),
    "apac": (_AS, _OC),
    "asia pacific": (_AS, _OC),
    "apj": (_AS, _OC),
    "middle east": (_AS,),
    "mena": (_AS, _AF),
    "gcc": (_AS,),
    "asia": (_AS,),
    "southeast asia": (_AS,),
    "south east asia": (_AS,),
    "south asia": (_AS,),
    "east asia": (_AS,),
    "central asia": (_AS,),
    "africa": (_AF,),
    "sub saharan africa": (_AF,),
    "north africa": (_AF,),
    "west africa": (_AF,),
    "east africa": (_AF,),
    "southern africa": (_AF,),
    "oceania": (_OC,),
    "australasia": (_OC,),
    "aest": (_OC,),
    "aedt": (_OC,),
    "awst": (_OC,),
    "acst": (_OC,),
    "central africa": (_AF,),
    "cee": (_EU,),
}

#: the parts of the world as the boards' other languages (and other English) name them,
#: each read as the English words after it, here and in `eligibility.py` (folded: no
#: accents, "l'Est" is "lest")
REGION_SYNONYMS: dict[str, str] = {
    **dict.fromkeys(("europa", "europaweit", "europe entiere"), "europe"),
    **dict.fromkeys(
        ("nordamerika", "norteamerica", "amerique du nord", "america del norte",
         "norte america", "nordamerica", "america do norte"),
        "north america",
    ),
    **dict.fromkeys(
        ("america latina", "latinoamerica", "lateinamerika", "amerique latine"),
        "latin america",
    ),
    **dict.fromkeys(
        ("sudamerica", "suedamerika", "sudamerika", "america del sur", "suramerica",
         "america do sul", "amerique du sud"),
        "south america",
    ),
    **dict.fromkeys(
        ("centroamerica", "america central", "amerique centrale", "mittelamerika"),
        "central america",
    ),
    **dict.fromkeys(
        ("east europe", "europa del este", "europa oriental", "europa orientale",
         "europa dellest", "osteuropa", "europe de lest", "europe orientale", "oost europa",
         "europa wschodnia"),
        "eastern europe",
    ),
    **dict.fromkeys(
        ("west europe", "westeuropa", "europa occidental", "europa occidentale",
         "europe de louest", "europe occidentale", "west europa"),
        "western europe",
    ),
    **dict.fromkeys(
        ("mitteleuropa", "europa central", "europa centrale", "europe centrale"),
        "central europe",
    ),
    **dict.fromkeys(
        ("north europe", "nordeuropa", "europa del norte", "europe du nord"), "northern europe"
    ),
    **dict.fromkeys(
        ("south europe", "sudeuropa", "suedeuropa", "europa del sur", "europe du sud",
         "europa meridionale"),
        "southern europe",
    ),
    **dict.fromkeys(("asien", "asie"), "asia"),
    **dict.fromkeys(("afrika", "afrique"), "africa"),
    **dict.fromkeys(("ozeanien", "oceanie"), "oceania"),
    **dict.fromkeys(
        ("naher osten", "moyen orient", "oriente medio", "medio oriente", "western asia"),
        "middle east",
    ),
    "eastern asia": "east asia",
    "southern asia": "south asia",
    "south eastern asia": "southeast asia",
    # Central Africa is the UN's Middle Africa
    **dict.fromkeys(("middle africa", "afrique centrale", "zentralafrika"), "central africa"),
    **dict.fromkeys(("western africa", "afrique de louest", "westafrika"), "west africa"),
    **dict.fromkeys(("eastern africa", "afrique de lest", "ostafrika"), "east africa"),
    **dict.fromkeys(("northern africa", "afrique du nord", "nordafrika"), "north africa"),
}  # fmt: skip
REGION_WORDS.update({word: REGION_WORDS[english] for word, english in REGION_SYNONYMS.items()})

# Groups with an agreed membership name their countries.
COUNTRY_GROUPS: dict[str, tuple[str, ...]] = {
    "dach": ("AT", "CH", "DE"),
    "benelux": ("BE", "LU", "NL"),
    "nordics": ("DK", "FI", "IS", "NO", "SE"),
    "nordic countries": ("DK", "FI", "IS", "NO", "SE"),
    "baltics": ("EE", "LT", "LV"),
    "baltic states": ("EE", "LT", "LV"),
    "anz": ("AU", "NZ"),
    "uk and ireland": ("GB", "IE"),
    "uki": ("GB", "IE"),
    # parts of the US named by their own words: never the country or town a word inside
    # them names ("New England" is not England, "West Coast" not New Zealand's region)
    "new england": ("US",),
    "long island": ("US",),
    "west coast": ("US",),
    "east coast": ("US",),
    "us west coast": ("US",),
    "us east coast": ("US",),
    "midwest": ("US",),
    "pacific northwest": ("US",),
    "silicon valley": ("US",),
}

COUNTRY_ALIASES: dict[str, str] = {
    "usa": "US",
    "us": "US",
    "united states": "US",
    "united states of america": "US",
    "america": "US",
    "us only": "US",
    # initials written with spaces ("U. S.", "U. K.")
    "u s": "US",
    "u s a": "US",
    "u k": "GB",
    # own-language names shorter than the gazetteer keeps (it drops names under four
    # letters: in Latin script they are codes and words)
    "日本": "JP",
    "中国": "CN",
    "中國": "CN",
    "台湾": "TW",
    "台灣": "TW",
    "香港": "HK",
    "韓国": "KR",
    "한국": "KR",
    "印度": "IN",
    "美国": "US",
    "美國": "US",
    "英国": "GB",
    "德国": "DE",
    "法国": "FR",
    "россия": "RU",
    "ee uu": "US",  # Spanish "EE.UU."
    "eeuu": "US",
    "eua": "US",  # Portuguese
    "uk": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "uae": "AE",
    "emirates": "AE",
    "south korea": "KR",
    "korea": "KR",
    "republic of korea": "KR",
    "north korea": "KP",
    "russia": "RU",
    "vietnam": "VN",
    "turkey": "TR",
    "turkiye": "TR",
    "czech republic": "CZ",
    "czechia": "CZ",
    "holland": "NL",
    "the netherlands": "NL",
    "macedonia": "MK",
    "north macedonia": "MK",
    "moldova": "MD",
    "bolivia": "BO",
    "venezuela": "VE",
    "iran": "IR",
    "syria": "SY",
    "laos": "LA",
    "tanzania": "TZ",
    "taiwan": "TW",
    "palestine": "PS",
    "micronesia": "FM",
    "ivory coast": "CI",
    "cote divoire": "CI",
    "cape verde": "CV",
    "swaziland": "SZ",
    "burma": "MM",
    "east timor": "TL",
    "vatican": "VA",
    "vatican city": "VA",
    "dr congo": "CD",
    "drc": "CD",
    "democratic republic of the congo": "CD",
    "congo kinshasa": "CD",
    "republic of the congo": "CG",
    "congo brazzaville": "CG",
    "kosovo": "XK",
    "hong kong": "HK",
    "hong kong sar": "HK",
    "macau": "MO",
    "macao": "MO",
    "macau sar": "MO",
    "macao sar": "MO",
    "brunei": "BN",
    "puerto rico": "PR",
    "st lucia": "LC",
    "st kitts and nevis": "KN",
    "st vincent and the grenadines": "VC",
    "the bahamas": "BS",
    "the gambia": "GM",
    "deutschland": "DE",
    "deutschlandweit": "DE",
    "ganz deutschland": "DE",
    "espana": "ES",
    "brasil": "BR",
    "mexico": "MX",
    "phillipines": "PH",
    "us virgin islands": "VI",
    "u s virgin islands": "VI",
    "usvi": "VI",
    "british virgin islands": "VG",
    "bvi": "VG",
}

US_STATES = (
    "Alabama",
    "Alaska",
    "Arizona",
    "Arkansas",
    "California",
    "Colorado",
    "Connecticut",
    "Delaware",
    "Florida",
    "Hawaii",
    "Idaho",
    "Illinois",
    "Indiana",
    "Iowa",
    "Kansas",
    "Kentucky",
    "Louisiana",
    "Maine",
    "Maryland",
    "Massachusetts",
    "Michigan",
    "Minnesota",
    "Mississippi",
    "Missouri",
    "Montana",
    "Nebraska",
    "Nevada",
    "Ohio",
    "Oklahoma",
    "Oregon",
    "Pennsylvania",
    "Tennessee",
    "Texas",
    "Utah",
    "Vermont",
    "Virginia",
    "Washington",
    "Wisconsin",
    "Wyoming",
    "New Hampshire",
    "New Jersey",
    "New Mexico",
    "New York",
    "North Carolina",
    "North Dakota",
    "Rhode Island",
    "South Carolina",
    "South Dakota",
    "West Virginia",
    "District of Columbia",
)  # "Washington DC" is the city: the gazetteer gives it with US-DC
# Bare "Georgia" is the country (GE); the state only through "Georgia, USA" style context.
CA_PROVINCES = (
    "Ontario",
    "Quebec",
    "British Columbia",
    "Alberta",
    "Manitoba",
    "Saskatchewan",
    "Nova Scotia",
    "New Brunswick",
    "Newfoundland",
    "Newfoundland and Labrador",
    "Prince Edward Island",
    "Northwest Territories",
    "Nunavut",
    "Yukon",
)
# Postal codes are trusted only as the second half of "City, ST": alone, "CA" is Canada,
# "IN" India, "DE" Germany.
US_POSTAL = frozenset(
    (
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "DC",
    )
)
CA_POSTAL = frozenset(
    (
        "AB",
        "BC",
        "MB",
        "NB",
        "NL",
        "NS",
        "NT",
        "NU",
        "ON",
        "PE",
        "QC",
        "SK",
        "YT",
    )
)

# Bare alpha-2 codes that are more often something else in location text.
_AMBIGUOUS_CODES = frozenset({"NA"})
#: Canadian provinces whose code is a country's too (Newfoundland and Labrador and the
#: Netherlands, Prince Edward Island and Peru, Saskatchewan and Slovakia): after a town
#: the gazetteer lacks, the country, as more of the boards' listings mean
_COUNTRY_PROVINCE_CODES = frozenset({"NL", "PE", "SK"})

# --- normalisation -----------------------------------------------------------------------


def _key(text: str) -> str:
    """Case-, accent- and punctuation-insensitive lookup key ("U.S.A." -> "usa")."""
    return fold(text)


class _Vocabulary:
    """Lookup tables, built on first use."""

    def __init__(self) -> None:
        self.region_of: dict[str, str] = {}
        names: dict[str, str] = {}
        with COUNTRY_REGIONS_CSV.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                code = row["iso2"].strip().upper()
                self.region_of[code] = row["region"].strip()
                names[_key(row["name"])] = code
        self.alpha3: dict[str, str] = {}
        for country in pycountry.countries:
            code = country.alpha_2
            self.alpha3[country.alpha_3] = code
            for attr in ("name", "official_name", "common_name"):
                value = getattr(country, attr, None)
                if value:
                    names[_key(value)] = code
        for alias, code in COUNTRY_ALIASES.items():
            names[_key(alias)] = code
        for state in US_STATES:
            names.setdefault(_key(state), "US")
        for province in CA_PROVINCES:
            names.setdefault(_key(province), "CA")
        self.gazetteer = Gazetteer()
        # Own-language names ("Česko", "Polska", "Deutschland"): pycountry's translations,
        # except those that are also a big city's name ("Brasilia" is Brazil in some).
        for key, code in self.gazetteer.country_names.items():
            if key in REGION_WORDS or key in names:
                continue
            if any(c.population >= 100_000 for c in self.gazetteer.cities.get(key, ())):
                continue
            names[key] = code
        self.names = names
        self.codes = frozenset(self.region_of)
        # Phrases searched inside longer tokens ("Remote - USA only").
        phrases: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        for phrase, code in names.items():
            phrases[phrase] = ((code,), ())
        for phrase, codes in COUNTRY_GROUPS.items():
            phrases[phrase] = (codes, ())
        for phrase, regions in REGION_WORDS.items():
            phrases[phrase] = ((), regions)
        self.phrases = phrases
        self.max_phrase_words = max(len(p.split()) for p in phrases)
        # Names that themselves contain a separator ("Korea, Republic of").
        comma_names = sorted(
            (
                getattr(c, attr)
                for c in pycountry.countries
                for attr in ("name", "official_name")
                if re.search(r"[,/;]", getattr(c, attr, None) or "")
            ),
            key=len,
            reverse=True,
        )
        self.comma_names_re = re.compile(
            "|".join(re.escape(name) for name in comma_names), re.IGNORECASE
        )


_vocabulary: _Vocabulary | None = None
_lock = threading.Lock()


def _vocab() -> _Vocabulary:
    global _vocabulary
    if _vocabulary is None:
        with _lock:
            if _vocabulary is None:
                _vocabulary = _Vocabulary()
    return _vocabulary


# --- token classification ----------------------------------------------------------------

_SPLIT_RE = re.compile(r"\s*(?:[,;/|\n]|\bor\b)\s*", re.IGNORECASE)
#: in text with lower-case letters, "OR" in capitals is Oregon ("Portland, OR Metro")
_SPLIT_MIXED_CASE_RE = re.compile(r"\s*(?:[,;/|\n]|\b(?:or|Or)\b)\s*")
_BRACKET_RE = re.compile(r"\(([^()]*)\)|\[([^\[\]]*)\]")
_OFFSET_RE = re.compile(
    r"(?:\b(?:utc|gmt|z)\b\s*)?(?:[+\-±−–]|\+\s*/\s*-|\+-)\s*\d{1,2}(?:[:.]\d{2})?"
    r"(?:\s*(?:hours?|hrs?|h)\b)?"
    r"|\b(?:utc|gmt)\b",
    re.IGNORECASE,
)
# Words that carry no place: what is left of "UTC-5 to UTC+1" or "within 4 hours of CET".
_FILLER_RE = re.compile(
    r"\b(?:to|and|from|within|in|the|only|based|timezones?|time|zones?|tz|hours?|hrs?|"
    r"overlap|of|with|remote|preferred|plus|minus|\d+|"
    # how a team works, not where ("Global (async team)", "Anywhere (fully distributed)")
    r"async|asynchronous|distributed|fully|team|first|friendly)\b|[-+±~:.–−()\[\]]",
    re.IGNORECASE,
)
#: Words that leave out the places after them ("Worldwide except US", "Remote (ex-US)",
#: "Non-US", "no US", "Anywhere but US"). Location and eligibility read exclusions with
#: this one pattern, so a place one of them leaves out is never a place the other names.
#: "No" in capitals is Norway ("Oslo, NO"); a bare "but" only follows a worldwide word
#: ("Remote but US-based" excludes nothing).
EXCLUSION_RE = re.compile(
    r"(?:\b(?:except(?:\s+for)?|excluding|excludes?|excl|other\s+than|but\s+not|"
    r"not\s+available\s+in|not\s+open\s+to|not\s+in|outside(?:\s+of)?|not|non|ex|"
    r"(?:unable|cannot|can\s*not|can't|can’t)\s+(?:to\s+)?(?:hire|employ)(?:\s+(?:in|from))?|"
    # the boards' other languages: German, French, Spanish, Portuguese, Italian, Dutch
    r"au(?:ß|ss)er|ausgenommen|ausser|sauf|except[ée]|excepto|exceto|salvo|eccetto|tranne|"
    r"behalve|"
    r"(?-i:[Nn]o))\b"
    r"|(?:(?<=anywhere\s)|(?<=worldwide\s)|(?<=everywhere\s)|(?<=world\s))but\b)(.*)$",
    re.IGNORECASE | re.DOTALL,
)
# Places followed by the word that leaves them out ("(US not eligible)", "(sanctioned
# countries excluded)"): rewritten as "except US" before either module reads the text.
# The places are looked for in the 80 characters before the word: an unbounded look-back
# made a long text without commas take seconds.
_EXCLUDED_AFTER_RE = re.compile(
    r"([^()\[\],;]{0,80}?)\s*\b(?:excluded|not\s+eligible|ineligible|not\s+allowed)\b",
    re.IGNORECASE,
)
# "No" phrases that restrict nothing ("Worldwide (no timezone restrictions)").
_UNRESTRICTED_RE = re.compile(
    r"\bno\s+(?:(?:time\s*zones?|location|geographic(?:al)?|country)\s+)?restrictions?\b"
    r"|\bno\s+relocation(?:\s+required)?\b",
    re.IGNORECASE,
)


def exclusions_first(text: str) -> str:
    """Text whose exclusions all read "except X" ("Worldwide (US not eligible)" ->
    "Worldwide (except US)"), with "no restrictions" phrases taken out."""
    lowered = text.lower()
    if "no" in lowered:
        text = _UNRESTRICTED_RE.sub(" ", text)
    if "exclu" not in lowered and "eligible" not in lowered and "allowed" not in lowered:
        return text  # most texts: a quick test spares the backtracking pattern
    return _EXCLUDED_AFTER_RE.sub(lambda m: f"except {m[1]}", text)


def split_exclusion(text: str) -> tuple[str, str] | None:
    """`text` without its exclusion, and what the exclusion leaves out; None without one.

    "Worldwide except US and Canada" -> ("Worldwide ", "US and Canada"). An exclusion
    inside brackets ends with them: "Europe (except Germany), USA" -> ("Europe , USA",
    "Germany"). Location and eligibility both read the places of the first part only,
    so a place an exclusion names is never a place the listing is in.
    """
    match = EXCLUSION_RE.search(text)
    if match is None:
        return None
    depth = 0
    for ch in text[: match.start()]:
        if ch in "([":
            depth += 1
        elif ch in ")]" and depth:
            depth -= 1
    head, tail, rest = text[: match.start()], match[1], ""
    if depth:
        level = depth
        for index in range(match.start(1), len(text)):
            if text[index] in "([":
                level += 1
            elif text[index] in ")]":
                level -= 1
                if level < depth:
                    tail, rest = text[match.start(1) : index], text[index + 1 :]
                    break
        head = head[: max(head.rfind("("), head.rfind("["))]  # the bracket it opened
    return f"{head} {rest}" if rest else head, tail


_DC_RE = re.compile(r"\bD\.\s?C\.?(?!\w)")
#: a US ZIP code after a state's code ("Philadelphia, PA 19103"): the code alone, never
#: "Pa" with the number stripped (a town in Burkina Faso)
_ZIP_RE = re.compile(r"\b([A-Z]{2})\s+\d{5}(?:-\d{4})?\b")

#: what is left of a text this long is not read (no real location is; a long one only
#: costs time)
MAX_TEXT = 2000

# A flag (two regional indicator symbols) is its country's code: "Remote 🇺🇸" is US.
_FLAG_RE = re.compile("([\U0001f1e6-\U0001f1ff])([\U0001f1e6-\U0001f1ff])")


#: flags side by side ("🇺🇸🇨🇦", "🇩🇪 🇦🇹 🇨🇭"): a list of their countries
_FLAG_RUN_RE = re.compile("[\U0001f1e6-\U0001f1ff]{2}(?:\\s*[\U0001f1e6-\U0001f1ff]{2})*")


def flags_as_names(text: str) -> str:
    """Flags as their countries' names (a code beside another could be a state: "US, CA"
    is California), a run of them as a list: "Remote 🇩🇪🇦🇹" -> "Remote Germany, Austria";
    a flag of no country (🇪🇺) as its code."""
    if not _FLAG_RE.search(text):
        return text

    def name(pair: tuple[str, str]) -> str:
        code = "".join(chr(ord(c) - 0x1F1E6 + ord("A")) for c in pair)
        country = pycountry.countries.get(alpha_2=code)
        named = country and (getattr(country, "common_name", None) or country.name)
        return named if named and not set(named) & set(",()") else code

    def names(run: re.Match[str]) -> str:
        return " " + ", ".join(name(pair) for pair in _FLAG_RE.findall(run.group())) + " "

    return _FLAG_RUN_RE.sub(names, text)


# A qualifier before brackets defers to them: "Remote (Europe)" is Europe.
_QUALIFIERS = frozenset(
    {"remote", "fully remote", "100 remote", "remote only", "remote first", "anywhere",
     # the same in the boards' other languages ("Homeoffice (Deutschland)" is Germany)
     "homeoffice", "home office", "teletrabajo", "teletravail", "100 teletravail", "remoto",
     "remota", "fernarbeit", "mobiles arbeiten", "zdalnie", "praca zdalna",
     # an arrangement names no place: "Hybrid (Boston, MA)" is Boston's
     "hybrid", "onsite", "on site", "in office", "in person", "office"}
)  # fmt: skip


@dataclass
class _Found:
    """What one token names; empty means it named nothing (offset, filler or unknown)."""

    countries: set[str] = field(default_factory=set)
    regions: set[str] = field(default_factory=set)
    worldwide: bool = False
    cities: set[str] = field(default_factory=set)
    subdivisions: set[str] = field(default_factory=set)
    city_subdivisions: set[str] = field(default_factory=set)  # a city's own, from GeoNames
    unread: list[str] = field(default_factory=list)  # bracketed parts no word matched

    def __bool__(self) -> bool:
        return bool(self.countries or self.regions or self.worldwide)

    def add(self, countries: Iterable[str] = (), regions: Iterable[str] = ()) -> _Found:
        self.countries.update(countries)
        self.regions.update(regions)
        return self

    def merge(self, other: _Found) -> None:
        self.add(other.countries, other.regions)
        self.worldwide = self.worldwide or other.worldwide
        self.cities.update(other.cities)
        self.subdivisions.update(other.subdivisions)
        self.city_subdivisions.update(other.city_subdivisions)
        self.unread.extend(other.unread)


_LEADING_NUMBER_RE = re.compile(r"^\d+\s+")


def _lookup(key: str, raw: str, vocab: _Vocabulary) -> _Found | None:
    """Whole-token lookup of a name, alias, group, region word or bare ISO code."""
    if key in WORLDWIDE_WORDS or _LEADING_NUMBER_RE.sub("", key) in WORLDWIDE_WORDS:
        return _Found(worldwide=True)  # "Remote", "1 Remote"
    if key in vocab.names:
        found = _Found().add((vocab.names[key],))
        found.subdivisions.update(_state_of(key, vocab))
        return found
    if key in COUNTRY_GROUPS:
        return _Found().add(COUNTRY_GROUPS[key])
    if key in REGION_WORDS:
        return _Found().add(regions=REGION_WORDS[key])
    stripped = raw.strip()
    if len(stripped) == 2 and stripped.isalpha():
        code = stripped.upper()
        if code in vocab.codes and code not in _AMBIGUOUS_CODES:
            return _Found().add((code,))
    if len(stripped) == 3 and stripped.isupper() and stripped in vocab.alpha3:
        return _Found().add((vocab.alpha3[stripped],))
    return None


def _state_of(key: str, vocab: _Vocabulary) -> set[str]:
    """A US state's or Canadian province's subdivision code where `key` names one
    ("California", "Ontario"): the name is its country and its subdivision both."""
    code = vocab.names.get(key)
    if code not in ("US", "CA"):
        return set()
    return {s.code for s in vocab.gazetteer.subdivisions.get(key, ()) if s.country == code}


def _scan(key: str, vocab: _Vocabulary) -> _Found:
    """Find known phrases inside a longer token ("Remote - USA only"), longest first."""
    found = _Found()
    if _arranged(key) in _METRO_ALIASES:
        return found  # "Bay Area hybrid" is San Francisco's, not Somalia's Bay region
    words = key.split()
    i = 0
    while i < len(words):
        for size in range(min(vocab.max_phrase_words, len(words) - i), 0, -1):
            phrase = " ".join(words[i : i + size])
            hit = vocab.phrases.get(phrase)
            if hit is not None:
                found.add(*hit)
                longer = " ".join(words[i : i + size + 1]) if i + size < len(words) else ""
                if phrase != "washington" and longer not in vocab.gazetteer.cities:
                    # "Remote - Quebec" is the province; "Kansas City" is no state, and
                    # "Washington" in a longer text is as often the capital ("Remote -
                    # Washington, DC": the code comes in the next part)
                    found.subdivisions.update(_state_of(phrase, vocab))
                i += size
                break
        else:
            i += 1
    if not found and _WORLD_WORDS & set(words):
        rest = " ".join(w for w in words if w not in _WORLD_WORDS)
        if _is_filler(rest):  # "Anywhere in the world", "Global (async)"; never "Anywhere
            found.worldwide = True  # in the country" or "Global Technical Center"
    return found


_WORLD_WORDS = frozenset(
    {"anywhere", "world", "wide", "worldwide", "global", "globally", "earth", "probably"}
)


def _is_filler(text: str) -> bool:
    """True for '+/- 3 HOURS', 'UTC-6', 'GMT+1 to GMT+3' and other place-free text."""
    return not _FILLER_RE.sub(" ", _OFFSET_RE.sub(" ", text)).strip()


def _resolve(raw: str, vocab: _Vocabulary) -> _Found | None:
    """Classify one token; None when it is unknown (reported), empty when it is filler."""
    raw = raw.strip()
    key = _key(raw)
    if not key:
        return _Found()
    hit = _lookup(key, raw, vocab)
    if hit is not None:
        return hit
    if _is_filler(raw):
        return _Found()
    coded = _alpha3_with_noise(raw, vocab)
    if coded is not None:
        return _Found().add((coded,))  # "Remote - AUS", "Fully Remote CAN"

    # Bracketed parts are classified on their own: "Europe (CET)", "USA (Remote)".
    inner_parts = [a or b for a, b in _BRACKET_RE.findall(raw)]
    outer = _OFFSET_RE.sub(" ", EXCLUSION_RE.sub(" ", _BRACKET_RE.sub(" ", raw)))
    outer_key = _key(outer)
    outer_found = _Found()
    if outer_key:
        outer_found = _lookup(outer_key, outer, vocab) or _scan(outer_key, vocab)
    inner_found = _Found()
    for part in inner_parts:
        subs = [sub.strip() for sub in _SPLIT_RE.split(EXCLUSION_RE.sub(" ", part))]
        paired = -1  # "Hybrid (Boston, MA)": a city and its code, as outside brackets
        for index, sub in enumerate(subs):
            if index == paired:
                continue
            pair = _pair_at(subs, index, vocab)
            if pair is not None:
                paired = index + 1
                if pair:
                    inner_found.merge(pair)
                else:
                    inner_found.unread.extend(subs[index : index + 2])
                continue
            found = _resolve(sub, vocab)
            if found is None:
                # "Remote (Berlin)", "Worldwide (foo)": looked up as a place, else
                # reported, never dropped (an unread part may be a restriction)
                inner_found.unread.append(sub.strip())
            else:
                inner_found.merge(found)

    if inner_found and (not outer_found or outer_key in _QUALIFIERS):
        if outer_key and not outer_found and not _is_filler(outer) and outer_key not in _QUALIFIERS:
            # "Berlin (Remote)": the place outside stays to be looked up, as inside
            inner_found.unread.append(outer.strip())
        return inner_found
    if outer_found:
        outer_found.add(inner_found.countries, inner_found.regions)
        outer_found.unread.extend(inner_found.unread)
        return outer_found
    if outer_key in _QUALIFIERS and len(inner_found.unread) > 1:
        return inner_found  # "Hybrid (NYC/SF/London)": each place looked up on its own
    if _is_filler(outer):
        return None if inner_found.unread else _Found()
    return None


def _pair_at(subs: list[str], index: int, vocab: _Vocabulary) -> _Found | None:
    """A bracketed city and the code after it ("(Boston, MA)", "(Smallville, CA)"): the
    place, an empty `_Found` when the pair is undecided, None when it is no such pair."""
    if index + 1 >= len(subs) or not subs[index]:
        return None
    following = subs[index + 1]
    pair = _coded_city(subs[index], _code_with_noise(following) or following, None, vocab)
    if pair is not None:
        return pair
    postal = _postal_country(subs, index + 1, vocab)
    if postal is None or _resolve(subs[index], vocab) is not None:
        return None
    found = _Found().add((postal,))  # a city we do not know, in the state the code names
    found.subdivisions.add(f"{postal}-{following.strip()}")
    return found


# Words around a place that do not change it ("Madrid HQ", "Greater Sydney Area").
_PLACE_NOISE_RE = re.compile(
    r"\b(?:remote|hybrid|onsite|on site|office|hq|headquarters|based|only|preferred|required|"
    r"greater|metropolitan area|metro area|area|metro|region|and surroundings|"
    r"opportunities|anywhere in|in|near|or|\d+)\b"
)
# Metro names and short forms GeoNames does not list as cities ("LA" stays Laos).
_METRO_ALIASES = {
    "bay area": "san francisco",
    "sf bay area": "san francisco",
    "sf": "san francisco",
    "nyc": "new york city",
    "dc": "washington dc",
}
# How the work is done, around a place's name ("SF In-Person", "Bay Area (hybrid)").
_ARRANGEMENT_RE = re.compile(r"\b(?:remote|hybrid|on ?site|in ?person|in office|office)\b")


def _arranged(key: str) -> str:
    """`key` without the words of how the work is done."""
    return " ".join(_ARRANGEMENT_RE.sub(" ", key).split())


#: a city this big beats a subdivision of the same name elsewhere ("Portland")
_BIG_CITY = 500_000
#: the biggest candidate must be this many times the next country's to decide; a city
#: of millions needs less ("Barcelona": Spain's 1.7M, not Venezuela's 0.8M), unless a
#: subdivision elsewhere has the name too ("Victoria": Hong Kong, Canada, Australia)
_DOMINANCE = ((1_000_000, 2), (_BIG_CITY, 3), (0, 5))
_STRICT_DOMINANCE = 5
#: the home market's place yields to a foreign city this many times bigger and at least
#: this big ("Salzburg" is Austria's 157,000 people, not a German hamlet of 238, even on a
#: German board); a foreign town is not enough: a German board's "Penzing" is the
#: Bavarian village, not a Vienna district of 90,000
_HOME_YIELDS_TO = 10
_HOME_YIELDS_MIN_POPULATION = 100_000
#: how much bigger a city known by an alternate name must be to compete with the
#: cities whose own name it is
_ALTERNATE_DWARFS = 10
#: multi-word text is searched for cities at least this big
_SCAN_MIN_POPULATION = 100_000


def _narrow(
    cities: list[City], subdivisions: list, context: set[str], home: str | None
) -> tuple[list[City], list]:
    """The candidates left once the countries the text names, then the source's home
    market, have spoken; then a city's own name over another city's alternate one."""
    if context:
        cities = [c for c in cities if c.country in context]
        subdivisions = [s for s in subdivisions if s.country in context]
    else:
        home_cities = [c for c in cities if c.country == home]
        home_subs = [s for s in subdivisions if s.country == home]
        if home_subs or (home_cities and not _foreign_much_bigger(cities, home_cities)):
            cities, subdivisions = home_cities, home_subs
        else:
            cities = [c for c in cities if c.population >= CITY_MIN_POPULATION]
    return _own_names_first(cities), subdivisions


def _own_names_first(cities: list[City]) -> list[City]:
    """The cities bearing the name as their own, when there are any: "Cancún" is Cancún,
    though Changchun (five times bigger) is also called so. An alternate name stays in
    the running only for a city `_ALTERNATE_DWARFS` times bigger than every city whose
    own name it is ("St. Petersburg": Russia's 5.3M, not Florida's 0.26M)."""
    own = [c for c in cities if not c.alternate]
    if not own:
        return cities
    floor = _ALTERNATE_DWARFS * max(c.population for c in own)
    if any(c.alternate and c.population >= floor for c in cities):
        return cities
    return own


def _foreign_much_bigger(cities: list[City], home_cities: list[City]) -> bool:
    """Whether a foreign namesake dwarfs the home market's ("Linz": Austria's city, not
    Linz am Rhein), so the home-market rule must not decide."""
    home = home_cities[0].country
    biggest = max(c.population for c in home_cities)
    floor = max(_HOME_YIELDS_MIN_POPULATION, _HOME_YIELDS_TO * biggest)
    return any(c.country != home and c.population >= floor for c in cities)


def _dominates(top: City, runner_up: City, subdivisions: list) -> bool:
    """Whether `top` is big enough beside the next country's city to be the one meant."""
    if any(s.country != top.country for s in subdivisions):
        return top.population >= _STRICT_DOMINANCE * runner_up.population
    ratio = next(r for size, r in _DOMINANCE if top.population >= size)
    return top.population >= ratio * runner_up.population


def _decide(
    cities: Iterable[City],
    subdivisions: Iterable,
    context: set[str],
    home: str | None,
    state_named: bool = False,
) -> _Found | None:
    """One place from the cities and subdivisions a name may mean, or None if undecided.

    The countries the text names decide first ("London, Ontario, Canada"), then the
    source's home market ("Halle" on a German board), then population: the biggest city
    must dwarf the biggest of any other country (`_DOMINANCE`: "London" is GB).
    """
    cities, subdivisions = list(cities), list(subdivisions)
    if not state_named:  # the small US places answer only to their state's code
        cities = [c for c in cities if c.country != "US" or c.population >= CITY_MIN_POPULATION]
    cities, subdivisions = _narrow(cities, subdivisions, context, home)
    if not cities and not subdivisions:
        return None
    best_by_country: dict[str, City] = {}
    for city in cities:
        held = best_by_country.get(city.country)
        if held is None or city.population > held.population:
            best_by_country[city.country] = city
    ranked = sorted(best_by_country.values(), key=lambda c: -c.population)
    sub_countries = {s.country for s in subdivisions}
    if subdivisions and (not ranked or ranked[0].population < _BIG_CITY):
        if len(sub_countries) != 1:
            return None
        country = next(iter(sub_countries))
        if any(c.country != country and c.population >= _BIG_CITY for c in ranked):
            return None
        found = _Found().add((country,))
        if len(subdivisions) == 1:
            found.subdivisions.add(subdivisions[0].code)
        if country in best_by_country:
            found.cities.add(best_by_country[country].name)
        return found
    top = ranked[0]
    if len(ranked) > 1 and not _dominates(top, ranked[1], subdivisions):
        return None
    found = _Found().add((top.country,))
    found.cities.add(top.name)
    same = [s.code for s in subdivisions if s.country == top.country]
    if len(same) == 1:
        found.subdivisions.add(same[0])
    elif top.subdivision:
        found.city_subdivisions.add(top.subdivision)
    return found


def _place(raw: str, context: set[str], home: str | None, vocab: _Vocabulary) -> _Found | None:
    """A token no country or region word matched, as a city or subdivision."""
    gazetteer = vocab.gazetteer
    key = _key(raw)
    if key in COMPASS_WORDS:
        return None  # "South", "WEST": a direction, not a place
    keys = [key, _arranged(key)]
    cleaned = " ".join(_PLACE_NOISE_RE.sub(" ", key).split())
    if cleaned and cleaned != key:
        keys.append(cleaned)
    for candidate in list(keys):
        if candidate.endswith(" bay"):
            keys.append(candidate[: -len(" bay")])
    words = raw.split()
    trailing = None
    if len(words) > 1 and _STATE_CODE_RE.match(words[-1]) and key not in gazetteer.cities:
        pair = _coded_city(" ".join(words[:-1]), words[-1], home, vocab)
        if pair is not None:
            return pair or None  # "Adelaide SA", "Melbourne VIC"
    if len(words) > 1 and len(words[-1]) == 2 and words[-1].isupper():
        trailing = words[-1]  # "Krakow PL", "Austin TX"
        keys.append(_key(" ".join(words[:-1])))
    for candidate in keys:
        candidate = _METRO_ALIASES.get(candidate, candidate)
        cities = gazetteer.cities.get(candidate, ())
        subdivisions = gazetteer.subdivisions.get(candidate, ())
        if not cities and not subdivisions:
            continue
        local = set(context)
        if trailing and trailing in vocab.codes:
            local = {trailing}
        elif trailing and trailing in US_POSTAL:
            local = {"US"}
        found = _decide(cities, subdivisions, local, home)
        if found is not None:
            return found
    # A US state's code before the place ("MD Chevy Chase (Office)"): a place of that
    # state, however small, else nothing (MD is Moldova too)
    state = words[0] if len(words) > 1 and words[0] in US_POSTAL else None
    # Multi-word text: the longest run of words naming a big city ("CA ON Toronto").
    words = key.split()
    if state is not None:
        for size in range(min(len(words) - 1, 4), 0, -1):
            for start in range(1, len(words) - size + 1):
                phrase = " ".join(words[start : start + size])
                in_state = [
                    c for c in gazetteer.cities.get(phrase, ()) if c.subdivision == f"US-{state}"
                ]
                if in_state:
                    return _decide(in_state, (), {"US"}, home, state_named=True)
    if 1 < len(words) <= 6:
        for size in range(len(words) - 1, 0, -1):
            for start in range(len(words) - size + 1):
                phrase = " ".join(words[start : start + size])
                if len(phrase) < 4:
                    continue
                cities = [
                    c
                    for c in gazetteer.cities.get(phrase, ())
                    if c.population >= _SCAN_MIN_POPULATION or c.country == home
                ]
                if cities:
                    return _decide(cities, (), context, home)
    return None


_STATE_CODE_RE = re.compile(r"^[A-Z]{2,3}$")
_TITLE_CODE_RE = re.compile(r"^[A-Z][a-z]$")


def _again_in(unknown: list[str], total: _Found, home: str | None, vocab: _Vocabulary) -> list[str]:
    """The tokens still unknown once each was looked for in `total`'s one country; the
    places found are merged into `total`."""
    left = []
    for token in unknown:
        found = _place(token, set(total.countries), home, vocab)
        if found is None:
            left.append(token)
        else:
            total.merge(found)
    return left


def _region_after(following: str, context: set[str], vocab: _Vocabulary) -> set[str]:
    """The countries a place is looked for in when the part after it names a state or
    province of one country ("Valencia, Carabobo" is Venezuela's Valencia, not Spain's):
    that country, unless the text names other countries or the part is a big city too."""
    key = _key(following)
    countries = {s.country for s in vocab.gazetteer.subdivisions.get(key, ())}
    if len(countries) != 1 or not countries >= context:
        return context
    if any(c.population >= _BIG_CITY for c in vocab.gazetteer.cities.get(key, ())):
        return context  # "Santiago, Lima": a list of two cities
    return countries


def _coded_city(city: str, code: str, home: str | None, vocab: _Vocabulary) -> _Found | None:
    """A city and the code after it ("Porto Alegre, RS", "Lebanon, PA", "Melbourne VIC").

    The code is read first as a subdivision of a country the city is in (BR-RS, AU-VIC;
    a US state only where the gazetteer has the city in that state), then as the city's
    own country ("Berlin, DE"). Read alone, such codes are wrong countries (RS Serbia,
    PA Panama), so a code that is neither leaves the pair Unknown: an empty `_Found`.
    None when the gazetteer does not know the city, or the city is a country's name:
    the caller's postal and country rules apply ("Austin, TX" of a place it lacks).
    """
    candidates = vocab.gazetteer.cities.get(_key(city), ())
    if not candidates or not _STATE_CODE_RE.match(code) or _key(code) in vocab.names:
        return None
    codes = vocab.gazetteer.subdivision_codes
    inside = [c for c in candidates if _in_subdivision(c, code, codes)]
    if inside:
        found = _decide(inside, (), {c.country for c in inside}, home, state_named=True)
        if found is None:
            return _Found()
        found.subdivisions.update(f"{c}-{code}" for c in found.countries)
        return found
    if _lookup(_key(city), city, vocab) is not None:
        return None  # "Mexico, MX": a country named with its code
    country = code if code in vocab.codes else vocab.alpha3.get(code)
    if country is None and code not in US_POSTAL and code not in CA_POSTAL:
        return None  # "Madrid HQ": not a code of a place
    own = [c for c in candidates if c.country == country]
    return (_decide(own, (), {country}, home) if own else None) or _Found()


def _town_named_like_a_country(
    name: str, following: str, home: str | None, vocab: _Vocabulary
) -> _Found | None:
    """A country's or province's name that a state holding a city of that name follows:
    the city ("Ontario, California" and "Jersey, New Jersey" are towns, as are "Lebanon,
    Pennsylvania" and "Peru, Indiana"); else None."""
    key = _key(name)
    if key not in vocab.names:
        return None
    states = {s.code for s in vocab.gazetteer.subdivisions.get(_key(following), ())}
    inside = [c for c in vocab.gazetteer.cities.get(key, ()) if c.subdivision in states]
    if not inside:
        return None
    return _decide(inside, (), {c.country for c in inside}, home, state_named=True)


def _in_subdivision(city: City, code: str, subdivision_codes: frozenset[str]) -> bool:
    """Whether `code` may be the subdivision of `city`'s country it lies in; GeoNames gives
    the state of US places only, so elsewhere any subdivision of the country will do."""
    subdivision = f"{city.country}-{code}"
    if subdivision not in subdivision_codes:
        return False
    return city.subdivision is None or city.subdivision == subdivision


def _postal_country(tokens: list[str], index: int, vocab: _Vocabulary) -> str | None:
    """'Austin, TX' and 'New York, NY, USA' -> US; 'Toronto, ON' -> CA.

    A postal code counts only after an unrecognised city or next to a place of the same
    country: alone, "CA" is Canada, "IN" India and "DE" Germany.
    """
    token = tokens[index].strip()
    if index == 0 or len(token) != 2 or not token.isupper():
        return None
    country = "US" if token in US_POSTAL else "CA" if token in CA_POSTAL else None
    if country is None:
        return None
    previous = tokens[index - 1]
    if previous.strip() in US_POSTAL | CA_POSTAL:
        return None  # "Toronto, ON, CA": after a state or province, the country's code
    if country == "CA" and token in _COUNTRY_PROVINCE_CODES and not index + 1 < len(tokens):
        return None  # "Ede-Wageningen, NL": a town we lack in the Netherlands, not Labrador
    found = _resolve(previous, vocab)
    if found is None:
        return country  # "Austin, TX": the city is unknown to us
    neighbours = found.countries.copy()
    if index + 1 < len(tokens):
        following = _resolve(tokens[index + 1], vocab)
        if following is not None:
            neighbours |= following.countries
    return country if country in neighbours else None


def _subdivisions(found: _Found) -> set[str]:
    """Named subdivisions, and a city's own where the text names none of its country
    ("Middletown, Delaware" is US-DE, not the bigger Middletown's US-NJ)."""
    named = {s for s in found.subdivisions if s[:2] in found.countries}
    named_countries = {s[:2] for s in named}
    return named | {
        s
        for s in found.city_subdivisions
        if s[:2] in found.countries and s[:2] not in named_countries
    }


def _finish(found: _Found, unknown: Iterable[str], vocab: _Vocabulary) -> Location:
    regions = set(found.regions)
    for code in found.countries:
        region = vocab.region_of.get(code)
        if region in REGIONS:
            regions.add(region)
    if found.worldwide:
        region = WORLDWIDE
    elif len(regions) == 1:
        region = next(iter(regions))
    elif regions:
        region = MULTIPLE
    else:
        region = UNKNOWN
    return Location(
        countries=tuple(sorted(found.countries)),
        regions=tuple(sorted(regions)),
        region=region,
        unknown_tokens=tuple(dict.fromkeys(unknown)),
        cities=tuple(sorted(found.cities)),
        subdivisions=tuple(sorted(_subdivisions(found))),
    )


def _tokens(text: str, vocab: _Vocabulary) -> list[str]:
    """Split on commas, semicolons, slashes, bars, newlines and "or", keeping
    'Korea, Republic of' and brackets whole."""
    protected: list[str] = []

    def protect(match: re.Match[str]) -> str:
        protected.append(match.group(0))
        return f"\x00{len(protected) - 1}\x00"

    text = vocab.comma_names_re.sub(protect, text)
    depth = 0
    chars = []
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]" and depth:
            depth -= 1
        chars.append("\x01" if depth and ch in ",;/|" else ch)
    tokens = []
    split = _SPLIT_MIXED_CASE_RE if any(ch.islower() for ch in text) else _SPLIT_RE
    for token in split.split("".join(chars)):
        if _DOTTED_RE.match(token.strip()):
            tokens.extend(token.strip().split("."))  # "IN.Bangalore.Remote"
            continue
        token = token.replace("\x01", ",")
        token = re.sub("\x00(\\d+)\x00", lambda m: protected[int(m.group(1))], token)
        if token.strip():
            tokens.append(token.strip())
    return tokens


_DOTTED_RE = re.compile(r"^(?=.*\w{4})\w{2,}(?:\.\w{2,})+$")
_AND_RE = re.compile(r"\s+(?:and|&)\s+", re.IGNORECASE)

#: words of a direction, which alone name no place ("South" is not Cameroon's region
#: Sud); before "and" they share the noun after it (`shared_nouns`)
COMPASS_WORDS = frozenset(
    {"north", "south", "east", "west", "central", "northern", "southern", "eastern",
     "western", "northeast", "northwest", "southeast", "southwest", "middle"}
)  # fmt: skip


_COMPASS = "|".join(sorted(COMPASS_WORDS))
_COMPASS_JOIN = r"\s*(?:,|/|&|\band\b|\bor\b)\s*"
_SHARED_NOUN_RE = re.compile(
    rf"\b((?:{_COMPASS})(?:{_COMPASS_JOIN}(?:{_COMPASS}))+)\s+(?!(?:and|or)\b)([^\W\d_]+)",
    re.IGNORECASE,
)


#: words that name a time-zone band with "time zones" after them ("US & EU time zones")
_ZONE_GROUP_WORDS = (
    "us|usa|eu|europe|european|uk|emea|apac|latam|americas|american|north american|"
    "asian|australian|cet|est|pst|canada|canadian|british"
)
# joined by "&", "/", "and" or "or" ("US & EU time zones"); a comma lists places, so in
# "Canada, USA timezones" Canada is the country and only the US names a band
_SHARED_ZONES_RE = re.compile(
    rf"\b({_ZONE_GROUP_WORDS})\s*(?:&|/|\band\b|\bor\b)\s*({_ZONE_GROUP_WORDS})\s+"
    r"(time\s*zones?|timezones?)\b",
    re.IGNORECASE,
)


def shared_nouns(text: str) -> str:
    """Direction words that share one noun, written out: "North and South America" ->
    "North America and South America", "North, Central and South America" -> "North
    America, Central America and South America"."""

    def write_out(match: re.Match[str]) -> str:
        parts = re.split(f"({_COMPASS_JOIN})", match[1], flags=re.IGNORECASE)
        return "".join(p if i % 2 else f"{p} {match[2]}" for i, p in enumerate(parts))

    if _SHARED_ZONES_RE.search(text):  # "US & EU time zones": each one's band
        text = _SHARED_ZONES_RE.sub(lambda m: f"{m[1]} {m[3]} & {m[2]} {m[3]}", text)
    return _SHARED_NOUN_RE.sub(write_out, text) if _SHARED_NOUN_RE.search(text) else text


_MOJIBAKE_RE = re.compile("[\u00c2\u00c3\u00c5][\u0080-\u00bf]")


def _repair(text: str) -> str:
    """UTF-8 read as Latin-1 ("FlorianÃ³polis" -> "Florianópolis"), as one board serves it."""
    if not _MOJIBAKE_RE.search(text):
        return text
    for codec in ("cp1252", "latin-1"):
        try:
            return text.encode(codec).decode("utf-8")
        except UnicodeError:
            continue
    return text


def _postal_after(tokens: list[str], index: int, vocab: _Vocabulary) -> str | None:
    """The postal code right after token `index` ("Austin" of "Austin, TX"), else None."""
    if index + 1 < len(tokens) and _postal_country(tokens, index + 1, vocab):
        return tokens[index + 1]
    return None


def _bare_code(token: str) -> str | None:
    """The upper-case two-letter code of 'BH' or 'HK preferred', else None."""
    if not _CODE_RE.search(token):
        return None
    words = [w for w in token.split() if _key(w) not in _CODE_FILLER]
    if len(words) == 1 and len(words[0]) == 2 and words[0].isalpha() and words[0].isupper():
        return words[0]
    return None


def _code_among_noise(words: list[str], is_code: Callable[[str], object]) -> str | None:
    """The one word `is_code` accepts, when every other word leaves a place unchanged
    (`_PLACE_NOISE_RE`); else None."""
    codes = [w for w in words if is_code(w)]
    if len(codes) != 1:
        return None
    rest = " ".join(_key(w) for w in words if w != codes[0])
    return codes[0] if not _PLACE_NOISE_RE.sub(" ", rest).strip() else None


def _alpha3_with_noise(token: str, vocab: _Vocabulary) -> str | None:
    """The country of "Remote - AUS", "Fully Remote CAN": one ISO alpha-3 code in capitals
    among words that do not change a place ("fully" too); else None. EST is Estonia's
    code and Eastern Standard Time: beside "Remote", the zone."""
    words = re.split(r"[\s\-–—]+", _BRACKET_RE.sub(" ", token))
    code = _code_among_noise(
        [w for w in words if w and w.lower() != "fully"],
        lambda w: len(w) == 3 and w.isupper() and w in vocab.alpha3 and w != "EST",
    )
    return vocab.alpha3[code] if code else None


def _code_with_noise(token: str) -> str | None:
    """The code of "MA Preferred", "OR Metro", "MA (Hybrid)": a two- or three-letter
    upper-case code and words that do not change a place (`_PLACE_NOISE_RE`, a bracketed
    qualifier), so the city before it is read with it ("Boston, MA Preferred" is
    Massachusetts, never Morocco); else None."""
    return _code_among_noise(_BRACKET_RE.sub(" ", token).split(), _STATE_CODE_RE.match)


def _state_code(token: str) -> str | None:
    """A three-letter subdivision code named alone ("NSW, Australia"), else None."""
    token = token.strip()
    return token if len(token) == 3 and _STATE_CODE_RE.match(token) else None


_CODE_RE = re.compile(r"\b[A-Z]{2}\b")
_US_NAMED_RE = re.compile(r"\b(?:US|USA|U\.S\.A?\.?|United States)(?!\w)", re.IGNORECASE)


_US_ZONE_CODES = {"ET": "Eastern Time", "CT": "Central Time", "MT": "Mountain Time",
                  "PT": "Pacific Time"}  # fmt: skip
_US_ZONE_CODE_RE = re.compile(r"\b(ET|CT|MT|PT)\b")
_ZONE_CONTEXT_RE = re.compile(
    r"\b(?:time|times|hours|zones?|timezones?|overlap|[ECMP][SD]T)\b", re.IGNORECASE
)


def us_zone_codes(text: str) -> str:
    """The US zones' short forms written out where the text is about zones or the US
    ("Remote - US (ET)", "PT/ET", "Pacific Time (PT)"): never Ethiopia, Portugal, Malta
    or Connecticut there. Alone ("Lisbon, PT") a code stays a country."""
    found = _US_ZONE_CODE_RE.findall(text)
    if not found:
        return text
    rest = _US_ZONE_CODE_RE.sub(" ", text)
    if len(found) < 2 and not (_ZONE_CONTEXT_RE.search(rest) or _US_NAMED_RE.search(rest)):
        return text
    return _US_ZONE_CODE_RE.sub(lambda m: _US_ZONE_CODES[m[1]], text)


def _state_codes_as_names(text: str, vocab: _Vocabulary) -> str:
    """US states' postal codes written out when the text's codes are all states and it
    says so: one is no country's code ("AZ, CO, TX", "Remote, TX"), the US is named ("US
    (CA, NY only)"), or three or more side by side ("CO / MA / IL"). Otherwise a code
    stays what the rest of the parser makes of it: "CA" is Canada, "DE" Germany, "Perth,
    WA" Western Australia."""
    codes = [c for c in _CODE_RE.findall(text) if c not in ("US", "DC")]  # DC: the city
    if not codes or not all(c in US_POSTAL for c in codes):
        return text
    alone = not _PLACE_NOISE_RE.sub(" ", _key(_CODE_RE.sub(" ", text))).strip()
    if not (
        # "Perth, WA" is Western Australia: one code beside a place is left to the city
        any(c not in vocab.codes for c in codes)
        and (len(codes) > 1 or alone)
        or _US_NAMED_RE.search(text)
        or len(set(codes)) >= 3
    ):
        return text

    def name(match: re.Match[str]) -> str:
        code = match.group()
        state = pycountry.subdivisions.get(code=f"US-{code}") if code in codes else None
        return state.name if state is not None else code

    return _CODE_RE.sub(name, text)


_CODE_FILLER = frozenset({"preferred", "only", "remote", "based", "hq", "office", "plus"})


def locate_text(text: str | None, home_country: str | None = None) -> Location:
    """A free-text location restriction to countries, regions, cities and subdivisions.

    `home_country` is the source's home market (ISO alpha-2): a place it has is taken to
    be there ("Halle" on a German board).
    """
    if not isinstance(text, str):
        return Location()
    # some send escaped text
    text = _repair(html.unescape(text)).strip()[:MAX_TEXT]
    text = _DC_RE.sub("DC", text)  # "Washington, D.C." is the district, not the state
    text = _ZIP_RE.sub(r"\1", text)
    text = exclusions_first(shared_nouns(us_zone_codes(flags_as_names(text))))
    excluding = split_exclusion(text)
    if excluding is not None:
        text = excluding[0]  # "Worldwide except US": the excluded places are not named
    if not text.strip():
        return Location()
    vocab = _vocab()
    text = _state_codes_as_names(text, vocab)
    total = _Found()
    unknown: list[str] = []
    places: list[tuple[str, str | None]] = []  # (token, the postal code after it)
    codes: list[str] = []  # bare two-letter codes, read once the named countries are known
    tokens = _tokens(text, vocab)
    coded = -1  # the index of a code read with the city before it
    for index, token in enumerate(tokens):
        if index == coded:
            continue
        if index + 1 < len(tokens):
            code_after = _code_with_noise(tokens[index + 1]) or tokens[index + 1]
            pair = _coded_city(token, code_after, home_country, vocab)
            if pair is None and _TITLE_CODE_RE.match(code_after):  # "Redmond, Wa"
                pair = _coded_city(token, code_after.upper(), home_country, vocab) or None
            if pair is not None:
                coded = index + 1
                total.merge(pair)
                if not pair:
                    unknown.extend((token, tokens[index + 1]))
                continue
            town = _town_named_like_a_country(token, tokens[index + 1], home_country, vocab)
            if town is not None:
                total.merge(town)  # the state after it is read as a state next
                continue
        postal = _postal_country(tokens, index, vocab)
        if postal is not None:
            total.add((postal,))
            total.subdivisions.add(f"{postal}-{token.strip()}")
            continue
        code = _bare_code(token)
        if (
            code is not None
            and code in vocab.codes
            and _key(code) not in vocab.names  # "US", "UK" are names in their own right
            and index + 1 < len(tokens)
        ):
            following = _resolve(tokens[index + 1], vocab)
            if (
                following
                and code not in following.countries
                and _key(tokens[index + 1]) in (vocab.names)
            ):
                codes.append(code)  # "BH, Brazil": decided once all countries are known
                continue
        found = None
        if _AND_RE.search(token) and _key(token) not in vocab.names:
            # "US and Canada", "Singapore & HK preferred"; "Bosnia and Herzegovina" is a name.
            texts = _AND_RE.split(token)
            parts = [_resolve(part, vocab) for part in texts]
            part_codes = [_bare_code(part) for part in texts]
            if any(part for part in parts):
                found = _Found()
                for text_part, part, part_code in zip(texts, parts, part_codes, strict=True):
                    if part is not None:
                        found.merge(part)
                    elif part_code in vocab.codes and part_code not in _AMBIGUOUS_CODES:
                        found.add((part_code,))
                    else:
                        places.append((text_part, None))
            elif all(_cities_named(text_part, vocab) for text_part in texts):
                # "San Francisco & London": two cities, each looked up on its own
                places.extend((text_part, None) for text_part in texts)
                continue
        if found is None:
            key = _key(token)
            gazetteer = vocab.gazetteer
            if (key in gazetteer.cities or key in gazetteer.subdivisions) and _lookup(
                key, token, vocab
            ) is None:
                # "New York City", "North Holland": a place, not the state or country
                # a phrase inside it names
                places.append((token, _postal_after(tokens, index, vocab)))
                continue
            found = _resolve(token, vocab)
        if found is None:
            if code is not None and code in vocab.codes and code not in _AMBIGUOUS_CODES:
                found = _Found().add((code,))
            else:
                places.append((token, _postal_after(tokens, index, vocab)))
                continue
        total.merge(found)
    if "GE" in total.countries and "georgia" in _key(text):
        in_georgia = [
            city
            for token, _ in places
            for city in vocab.gazetteer.cities.get(_key(token), ())
            if city.subdivision == "US-GA"
        ]
        if "US" in total.countries or in_georgia:
            # "Atlanta, Georgia (USA)" is the state: one of its cities, or the US, named
            total.countries.discard("GE")
            total.add(("US",))
            total.subdivisions.add("US-GA")
    named = set(total.countries)
    qualified = {  # places a country's name follows: "Edinburgh, United States"
        token for token, following in itertools.pairwise(tokens) if _key(following) in vocab.names
    }
    places += [(part, None) for part in total.unread]
    for index, (token, postal) in enumerate(places):
        context = {"US" if postal.strip() in US_POSTAL else "CA"} if postal else named
        if not postal and index + 1 < len(places):
            context = _region_after(places[index + 1][0], context, vocab)
        found = _place(token, context, home_country, vocab)
        if (
            found is None
            and context
            and not postal
            and token not in qualified
            and _is_big_city(token, vocab)
        ):
            # "London, Zurich, Munich": a big city none of the named countries has is
            # its own country's; "Edinburgh, United States" stays the country's
            found = _place(token, set(), home_country, vocab)
        if found is None:
            if postal:
                continue  # "Austin, TX": the city is unknown to us, the state said enough
            code = _bare_code(token) or _state_code(token)
            subdivision = next(
                (f"{c}-{code}" for c in sorted(total.countries)
                 if code and f"{c}-{code}" in vocab.gazetteer.subdivision_codes),
                None,
            )  # fmt: skip
            if subdivision:
                total.subdivisions.add(subdivision)  # "Campinas, SP": São Paulo state
            elif code in vocab.codes and code not in _AMBIGUOUS_CODES:
                total.add((code,))  # "Singapore & HK preferred"
            else:
                unknown.append(token)
            continue
        total.merge(found)
    if len(total.countries) == 1 and not named and unknown:
        # "Valencia, Barcelona": a name undecided alone is looked for again in the one
        # country the other places are in
        unknown = _again_in(unknown, total, home_country, vocab)
    for code in codes:
        # "BH, Brazil": next to a country named in full, a code of another country is
        # an abbreviation (Belo Horizonte), or that country's subdivision ("SP, Brazil").
        subdivision = next(
            (f"{c}-{code}" for c in sorted(total.countries)
             if f"{c}-{code}" in vocab.gazetteer.subdivision_codes),
            None,
        )  # fmt: skip
        if subdivision:
            total.subdivisions.add(subdivision)
        else:
            unknown.append(code)
    nationwide = [t for t in unknown if _key(t) in _NATIONWIDE_WORDS]
    if home_country and nationwide:
        total.add((home_country,))  # "Bundesweit": the whole home market, not a place
        unknown = [t for t in unknown if t not in nationwide]
    if home_country and unknown and not total and _home_places(unknown, vocab):
        # "Fernwald", "Auetal", "Lietzow" on a German board: a municipality or village
        # the gazetteer lacks, named alone, is in the board's home market
        total.add((home_country,))
        total.cities.update(token.strip() for token in unknown)
        unknown = []
    return _finish(total, unknown, vocab)


# "The whole country" in the home market's words; the country itself when it is named
# ("Deutschlandweit" is in COUNTRY_ALIASES).
_NATIONWIDE_WORDS = frozenset({"bundesweit", "landesweit", "nationwide", "countrywide"})

# A place name as people write one: capitalised words (hyphens, "am Main", "an der"),
# at most a bracketed qualifier ("Halle (Saale)"); no digits, no other punctuation.
_PLACE_NAME_RE = re.compile(
    r"^[^\W\d_][^\W\d_'.-]*(?:[- ][^\W\d_][^\W\d_'.-]*){0,3}(?: \([^\W\d_][^()\d]*\))?$"
)


def _cities_named(text: str, vocab: _Vocabulary) -> tuple[City, ...]:
    """The cities `text` names as a whole: a city's name or a metro's short one ("London",
    "SF"), beside how the work is done ("SF In-Person")."""
    key = _arranged(_key(text))
    return tuple(vocab.gazetteer.cities.get(_METRO_ALIASES.get(key, key), ()))


def _is_big_city(text: str, vocab: _Vocabulary) -> bool:
    return any(c.population >= _BIG_CITY for c in _cities_named(text, vocab))


def _home_places(tokens: list[str], vocab: _Vocabulary) -> bool:
    """Whether every unknown token reads as a proper place name that the gazetteer does
    not know elsewhere either (a small place of the home market, not a foreign city)."""
    for token in tokens:
        text = token.strip()
        if not _PLACE_NAME_RE.match(text) or not text[0].isupper():
            return False
        key = _key(text)
        if key in vocab.gazetteer.cities or key in vocab.gazetteer.subdivisions:
            return False
    return len(tokens) <= 2


def locate_names(items: object, home_country: str | None = None) -> Location:
    """A list of country names or {alpha2, name, slug} objects; [] = anywhere."""
    if items is None:
        return Location()
    if isinstance(items, str):
        return locate_text(items, home_country)
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, (list, tuple)):
        return Location()
    vocab = _vocab()
    total = _Found(worldwide=not items)
    unknown: list[str] = []
    for item in items:
        if isinstance(item, dict):
            code = item.get("alpha2")
            if isinstance(code, str) and code.strip().upper() in vocab.codes:
                total.add((code.strip().upper(),))
                continue
            item = item.get("name") or item.get("slug")
        if not isinstance(item, str) or not item.strip():
            continue
        # A listed name is one country even when it holds a comma.
        found = _resolve(item, vocab)
        if found is None:
            nested = locate_text(item, home_country)
            total.add(nested.countries, nested.regions)
            total.cities.update(nested.cities)
            total.subdivisions.update(nested.subdivisions)
            total.worldwide = total.worldwide or nested.region == WORLDWIDE
            unknown.extend(nested.unknown_tokens)
        else:
            total.merge(found)
    return _finish(total, [*unknown, *total.unread], vocab)
