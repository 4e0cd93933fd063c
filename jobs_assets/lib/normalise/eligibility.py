"""Who may apply: a listing's remote eligibility from its location and the source's fields.

`eligibility_of` reads what `lib/normalise/location.py` already parsed (a `Location`) plus the
location text, and a source's structured fields where it has them (a list of
UTC offsets, a `remote` flag: its field map's `timezones_json`, `remote_flag`), and says:

- `eligibility`: `worldwide` (anyone, anywhere), `regions` (region words such as
  Europe, LATAM, EMEA, perhaps with countries), `countries` (named countries, cities or
  states only), `timezones` (only a time-zone band), `onsite_or_hybrid` (an office, or
  a source's `remote: false`), or `unknown` (no location, or one we cannot read);
- `eligible_countries`: ISO alpha-2 codes, regions expanded to their member countries
  (UN M49 regions and sub-regions of `data/country_regions.csv`), "X only" kept as X and
  "except X" removed (from the whole world when nothing else is named); empty for
  worldwide, timezones and unknown;
- `utc_offset_min`/`utc_offset_max`: the time-zone band in hours when one is stated
  (`UTC+2 ±3h`, `CET`, `US time zones`, `GMT-5 to GMT+1`, a list of offsets).

A restriction anywhere wins over a "worldwide/anywhere/remote" word: no listing that
names a country, region, band or exclusion comes out `worldwide`, and text with a part
we cannot read is `unknown` rather than `worldwide`.

Pure: no Dagster, no settings, no database. Country time zones come from
`data/country_utc_offsets.csv` (IANA tz database 2025b: each country's zones of
zone.tab, their offsets on 15 January and 15 July).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jobs_assets.lib.normalise.gazetteer import fold
from jobs_assets.lib.normalise.location import (
    EXCLUSION_RE,
    MAX_TEXT,
    REGION_SYNONYMS,
    WORLDWIDE,
    Location,
    _vocab,
    exclusions_first,
    flags_as_names,
    locate_text,
    shared_nouns,
    split_exclusion,
    us_zone_codes,
)

WORLDWIDE_KIND = "worldwide"
REGIONS_KIND = "regions"
COUNTRIES_KIND = "countries"
TIMEZONES_KIND = "timezones"
ONSITE_KIND = "onsite_or_hybrid"
UNKNOWN_KIND = "unknown"
KINDS = (WORLDWIDE_KIND, REGIONS_KIND, COUNTRIES_KIND, TIMEZONES_KIND, ONSITE_KIND, UNKNOWN_KIND)

DATA_DIR = Path(__file__).parents[2] / "data"
COUNTRY_REGIONS_CSV = DATA_DIR / "country_regions.csv"
COUNTRY_OFFSETS_CSV = DATA_DIR / "country_utc_offsets.csv"


@dataclass(frozen=True)
class Eligibility:
    eligibility: str = UNKNOWN_KIND
    eligible_countries: tuple[str, ...] = ()
    utc_offset_min: float | None = None
    utc_offset_max: float | None = None


# --- regions as country sets ---------------------------------------------------------------

_EU27 = [
    "AT",
    "BE",
    "BG",
    "CY",
    "CZ",
    "DE",
    "DK",
    "EE",
    "ES",
    "FI",
    "FR",
    "GR",
    "HR",
    "HU",
    "IE",
    "IT",
    "LT",
    "LU",
    "LV",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SE",
    "SI",
    "SK",
]
_EEA = (*_EU27, "IS", "LI", "NO")

#: region words -> the M49 regions (`region` column) and sub-regions (`un_subregion`)
#: whose countries they cover, plus fixed lists; the same in other languages through
#: `location.REGION_SYNONYMS`
_REGION_PARTS: dict[str, tuple[str, ...]] = {
    "europe": ("Europe",),
    "european": ("Europe",),
    "western europe": ("Western Europe",),
    "eastern europe": ("Eastern Europe",),
    "northern europe": ("Northern Europe",),
    "southern europe": ("Southern Europe",),
    "north america": ("Northern America",),
    "northern america": ("Northern America",),
    "noram": ("Northern America",),
    "namer": ("Northern America",),
    "latam": ("Latin America",),
    "latin america": ("Latin America",),
    "south america": ("South America",),
    "central america": ("Central America",),
    "caribbean": ("Caribbean",),
    "americas": ("Northern America", "Latin America"),
    "amer": ("Northern America", "Latin America"),
    "emea": ("Europe", "Africa", "Western Asia"),
    "apac": ("Asia", "Oceania"),
    "asia pacific": ("Asia", "Oceania"),
    "apj": ("Asia", "Oceania"),
    "middle east": ("Western Asia",),
    "mena": ("Western Asia", "Northern Africa"),
    "asia": ("Asia",),
    "southeast asia": ("South-eastern Asia",),
    "south east asia": ("South-eastern Asia",),
    "south asia": ("Southern Asia",),
    "east asia": ("Eastern Asia",),
    "central asia": ("Central Asia",),
    "africa": ("Africa",),
    "sub saharan africa": ("Eastern Africa", "Middle Africa", "Southern Africa",
                           "Western Africa"),
    "north africa": ("Northern Africa",),
    "west africa": ("Western Africa",),
    "east africa": ("Eastern Africa",),
    "southern africa": ("Southern Africa",),
    "oceania": ("Oceania",),
    "australasia": ("Australia and New Zealand",),
    # Central Africa as the UN names it
    "central africa": ("Middle Africa",),
}  # fmt: skip
_REGION_LISTS: dict[str, tuple[str, ...]] = {
    "eu": _EU27,
    "european union": _EU27,
    "eea": _EEA,
    "european economic area": _EEA,
    "gcc": ("AE", "BH", "KW", "OM", "QA", "SA"),
    "scandinavia": ("DK", "NO", "SE"),
    "balkans": ("AL", "BA", "BG", "GR", "HR", "ME", "MK", "RO", "RS", "SI", "XK"),
    # Central Europe as its countries call themselves (the UN's Western Europe is France
    # and the Benelux too): the German-speaking countries and the Visegrad four, Slovenia
    "central europe": ("AT", "CH", "CZ", "DE", "HU", "LI", "PL", "SI", "SK"),
    # Central and Eastern Europe, as employers and the OECD use it: the former Eastern Bloc
    # members of the EU, the Western Balkans, and Ukraine, Moldova and Belarus
    "cee": ("AL", "BA", "BG", "BY", "CZ", "EE", "HR", "HU", "LT", "LV", "MD", "ME", "MK",
            "PL", "RO", "RS", "SI", "SK", "UA", "XK"),
}  # fmt: skip


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, frozenset[str]], frozenset[str], dict[str, tuple[float, float]]]:
    by_part: dict[str, set[str]] = {}
    everywhere: set[str] = set()
    with COUNTRY_REGIONS_CSV.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code = row["iso2"].strip().upper()
            everywhere.add(code)
            for part in (row["region"].strip(), row["un_subregion"].strip()):
                if part:
                    by_part.setdefault(part, set()).add(code)
    members = {
        word: frozenset(c for part in parts for c in by_part.get(part, ()))
        for word, parts in _REGION_PARTS.items()
    }
    members.update({word: frozenset(codes) for word, codes in _REGION_LISTS.items()})
    members.update({word: members[english] for word, english in REGION_SYNONYMS.items()})
    offsets: dict[str, tuple[float, float]] = {}
    with COUNTRY_OFFSETS_CSV.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            offsets[row["iso2"]] = (float(row["utc_offset_min"]), float(row["utc_offset_max"]))
    return members, frozenset(everywhere), offsets


@lru_cache(maxsize=1)
def _country_names_re() -> re.Pattern[str]:
    """Country names holding a region word ("south africa", "american samoa"): masked
    before region words are read."""
    names = [n for n in _vocab().names if _REGION_RE.search(n)]
    names.sort(key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(map(re.escape, names)) + r")\b")


def _region_words(folded: str) -> list[str]:
    """Region words of the text, leaving out bands ("European time zones", "Central
    European Time"): a band says when people work, not where they live."""
    text = _GROUP_RE.sub(" ", folded)
    if "time" in text:
        text = _ZONE_NAME_RE.sub(" ", text.replace("timezones", "time"))
    if _REGION_RE.search(text) is None:
        return []
    return _REGION_RE.findall(_country_names_re().sub(" ", text))


def region_members(word: str) -> frozenset[str]:
    """The countries a region word covers ("emea" -> Europe, Africa, Western Asia)."""
    return _tables()[0].get(fold(word), frozenset())


def known_countries() -> list[str]:
    """The ISO alpha-2 codes whose UTC offsets are known (those `eligible_in` accepts)."""
    return sorted(_tables()[2])


def country_offsets(code: str) -> tuple[float, float] | None:
    """The UTC offsets (hours) a country's clocks show over a year, or None if unknown."""
    return _tables()[2].get(code.upper())


_REGION_RE = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, {*_REGION_PARTS, *_REGION_LISTS, *REGION_SYNONYMS}),
                             key=len, reverse=True)) + r")\b"
)  # fmt: skip


# --- time-zone bands ---------------------------------------------------------------------

#: zone abbreviations and names -> (standard, summer) offsets; two-letter ones (ET, PT,
#: CT, MT) are left out: they are also country and state codes
_ZONES: dict[str, tuple[float, float]] = {
    "cet": (1, 2), "cest": (2, 2), "central european": (1, 2),
    "eet": (2, 3), "eest": (3, 3), "eastern european": (2, 3),
    "western european": (0, 1),
    "gmt": (0, 0), "utc": (0, 0), "bst": (1, 1), "uk time": (0, 1),
    "est": (-5, -4), "edt": (-4, -4), "eastern time": (-5, -4), "eastern standard": (-5, -4),
    "cst": (-6, -5), "cdt": (-5, -5), "central time": (-6, -5), "central standard": (-6, -5),
    "mst": (-7, -6), "mdt": (-6, -6), "mountain time": (-7, -6),
    "pst": (-8, -7), "pdt": (-7, -7), "pacific time": (-8, -7), "pacific standard": (-8, -7),
    "akst": (-9, -8), "hst": (-10, -10),
    "brt": (-3, -3), "ist": (5.5, 5.5), "india time": (5.5, 5.5),
    "sgt": (8, 8), "pht": (8, 8), "jst": (9, 9), "kst": (9, 9), "awst": (8, 8),
    "acst": (9.5, 10.5), "aest": (10, 11), "aedt": (11, 11), "nzst": (12, 13),
    "nzdt": (13, 13), "msk": (3, 3), "sast": (2, 2),
}  # fmt: skip
#: "<words> timezones" bands (after `fold`, which writes "time zones" as "timezones")
_ZONE_GROUPS: dict[str, tuple[float, float]] = {
    "us": (-8, -4), "usa": (-8, -4), "united states": (-8, -4), "american": (-8, -4),
    "canada": (-8, -2.5), "canadian": (-8, -2.5),
    "uk": (0, 1), "united kingdom": (0, 1), "british": (0, 1),
    "north american": (-8, -4), "north america": (-8, -4), "us and canada": (-8, -4),
    "americas": (-8, -3), "the americas": (-8, -3), "latam": (-6, -3),
    "latin american": (-6, -3), "south american": (-5, -3),
    "european": (0, 3), "europe": (0, 3), "eu": (0, 3), "emea": (0, 4),
    "apac": (5.5, 12), "asian": (5, 9), "australian": (8, 11),
}  # fmt: skip
_ZONE_RE = re.compile(
    r"\b("
    + "|".join(sorted(map(re.escape, _ZONES), key=len, reverse=True))
    + r")\b(?:\s*(?:time|timezones?))?"
    r"(?:\s*\(?\s*(?:utc|gmt)?\s*[+\-−–]\s*\d{1,2}(?:[:.]\d{2})?\s*\)?)?"
)
_ZONE_NAME_RE = re.compile(
    r"\b(?:" + "|".join(sorted(map(re.escape, _ZONES), key=len, reverse=True)) + r")\s+time\b"
)
_GROUP_RE = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, _ZONE_GROUPS), key=len, reverse=True))
    + r")\s+(?:timezones?|business hours|working hours|hours)\b"
)  # fmt: skip
_SIGN = r"[+\-−–]"
_NUMBER = r"(\d{1,2}(?::\d{2}|\.\d{1,2})?)"
_ANCHORED_RE = re.compile(rf"\b(?:utc|gmt)\s*({_SIGN})\s*{_NUMBER}")
# "UTC-5 to +1", "GMT-3 - GMT+1", "UTC+1 to UTC+3": the second end may drop its anchor
_RANGE_RE = re.compile(
    rf"\b(?:utc|gmt)\s*({_SIGN})\s*{_NUMBER}\s*(?:to|-|–|until|and)\s*(?:utc|gmt)?\s*"
    rf"({_SIGN})\s*{_NUMBER}"
)
# "GMT to GMT+3", "UTC-3 to UTC": one end is the anchor alone, UTC itself
_ZERO_END_RE = re.compile(
    rf"\b(?:utc|gmt)\s*(?:to|until|–|and)\s*(?:utc|gmt)\s*({_SIGN})\s*{_NUMBER}"
    rf"|\b(?:utc|gmt)\s*({_SIGN})\s*{_NUMBER}\s*(?:to|until|–|and)\s*(?:utc|gmt)\b(?!\s*[+\-−–])"
)
# "±3h", "+/- 3 hours", "within 4 hours"; after a sign the unit may be left out ("GMT+1 ±2")
_TOLERANCE_RE = re.compile(
    rf"(?:±|\+\s*/\s*-|\+-)\s*{_NUMBER}(?!\s*[:.]?\d)"
    rf"|(?:plus\s+or\s+minus|plus/minus|within)\s*{_NUMBER}\s*(?:h\b|hrs?\b|hours?\b)"
)
_SIGNS = {"+": 1, "-": -1, "−": -1, "–": -1}


def _hours(sign: str, number: str) -> float:
    """ "+", "5:30" -> 5.5; "5.30" is minutes too, "5.5" a fraction of an hour."""
    hours, separator, rest = number.replace(":", ";").partition(";")
    if not separator:
        hours, separator, rest = number.partition(".")
        if separator and len(rest) == 1:
            return _SIGNS[sign] * (int(hours) + int(rest) / 10)
    value = int(hours) + (int(rest) / 60 if rest else 0)
    return _SIGNS[sign] * value


def parse_band(text: str | None) -> tuple[float, float] | None:
    """The UTC band (hours) a location text states, or None ("CET +/- 3 hours" -> -2..5)."""
    if not text:
        return None
    text = shared_nouns(text)  # "US & EU time zones": both bands
    lowered = text.lower()
    if not _ZONE_HINT_RE.search(lowered):
        return None  # most texts: no number and no zone word
    points: list[float] = []
    for match in _RANGE_RE.finditer(lowered):
        points += [_hours(match[1], match[2]), _hours(match[3], match[4])]
    for match in _ZERO_END_RE.finditer(lowered):
        points += [0.0, _hours(match[1] or match[3], match[2] or match[4])]
    for match in _ANCHORED_RE.finditer(lowered):
        points.append(_hours(match[1], match[2]))
    folded = fold(text)
    for match in _GROUP_RE.finditer(folded):
        points += _ZONE_GROUPS[match[1]]
    # "Pacific Time Zone" folds to "pacific timezones": a zone's name, as "Pacific Time"
    for match in _ZONE_RE.finditer(folded.replace("timezones", "time")):
        if match[1] in ("utc", "gmt") and points:
            continue  # the anchor of an offset read above
        points += _ZONES[match[1]]
    if not points:
        return None
    low, high = min(points), max(points)
    tolerance = _TOLERANCE_RE.search(lowered)
    if tolerance:
        widen = abs(_hours("+", tolerance[1] or tolerance[2]))
        low, high = low - widen, high + widen
    return max(float(low), -12.0), min(float(high), 14.0)


_ZONE_HINT_RE = re.compile(r"\d|\b(?:utc|gmt|time|time ?zones?|hours|[a-z]{2,4}t|msk|ist|hst)\b")


def _band_of_list(values: Iterable[object]) -> tuple[float, float] | None:
    numbers = []
    for value in values:
        try:
            numbers.append(float(value))
        except (TypeError, ValueError):
            continue
    return (min(numbers), max(numbers)) if numbers else None  # floats


# --- the decision ------------------------------------------------------------------------

_ONSITE_STRONG_RE = re.compile(
    r"\b(?:hybrid|hybrides?|on ?site|in office|in the office|vor ort|presencial|presentiel|"
    r"onsite only|office based|office first|"
    # the same in the boards' other languages (folded: "híbrido" is "hibrido")
    r"hibrid[oa]s?|ibrid[oa]|semipresencial|hybrydow\w*|stacjonarn\w*|in sede|in ufficio|"
    r"sur site|sur place|op kantoor|op locatie|prasenz|praesenz|teilweise homeoffice|"
    r"en oficina|no escritorio)\b"
)
_ONSITE_WEAK_RE = re.compile(r"\b(?:office|hq|headquarters|buro)\b")
_REMOTE_RE = re.compile(
    r"\b(?:remote|remotely|anywhere|worldwide|fernarbeit|homeoffice|home office|remoto|"
    r"teletravail|teletrabajo|work from home|wfh)\b"
)

# Remote offered beside an office, joined by "or"/"and" (of the folded text, where "&" is
# "and"): "Remote or Hybrid (NYC)", "REMOTE (US) or HYBRID (Dublin)", "Paris (hybrid) and
# Remote in Europe" are remote jobs too. "Hybrid/Remote" (a slash, folded away) stays
# hybrid: it is as often a hybrid role's name.
_REMOTE_OPTION_RE = re.compile(
    rf"(?:{_REMOTE_RE.pattern}).{{0,60}}?\b(?:or|and)\s+(?:{_ONSITE_STRONG_RE.pattern})"
    rf"|(?:{_ONSITE_STRONG_RE.pattern}).{{0,60}}?\b(?:or|and)\s+(?:fully |100 )?"
    rf"(?:{_REMOTE_RE.pattern})"
)


def eligibility_of(
    text: str | None,
    place: Location,
    *,
    timezones: Iterable[object] | None = None,
    remote: bool | None = None,
    remote_only: bool = True,
    home_country: str | None = None,
) -> Eligibility:
    """Who may apply to a listing (see the module docstring).

    `text` is the location as the source wrote it (`location_raw`) and `place` its parse;
    `timezones` a source's list of UTC offsets; `remote` a source's remote flag (False:
    an office job); `remote_only` False for a board that is not remote-only (`Source.remote_only`),
    where a place named without a remote word is an office job.
    """
    raw = shared_nouns(us_zone_codes(flags_as_names((text or "")[:MAX_TEXT])))
    folded = fold(raw) if raw else ""
    band = parse_band(raw)
    listed = _band_of_list(timezones) if timezones is not None else None
    if listed is not None:
        band = listed if band is None else (min(band[0], listed[0]), max(band[1], listed[1]))

    members, everywhere, _ = _tables()
    excluded: set[str] = set()
    implied: set[str] = set()  # the country of a state left out when nothing else is named
    head, head_folded, head_place = raw, folded, place
    checked = exclusions_first(raw)
    exclusion = EXCLUSION_RE.search(checked)
    if exclusion:
        head, tail = split_exclusion(checked) or (checked, "")
        head_folded = fold(head)
        head_place = locate_text(head, home_country)
        left_out = locate_text(tail, home_country)
        # a state or province of a country the text names leaves the rest of it
        # ("US only, excluding Hawaii"): only the places it names are out
        states_of = {s[:2] for s in left_out.subdivisions}
        if (
            states_of
            and set(left_out.countries) <= states_of
            and not head_place.countries
            and not _region_words(head_folded)
        ):
            # "Remote (not available in California)": only states are left out, so the
            # job is in their country, never the whole world but it
            implied = states_of
        partly = states_of & (set(head_place.countries) | implied)
        excluded = set(left_out.countries) - partly
        for word in _region_words(fold(tail)):
            excluded |= members[word]
        if not excluded and not partly and _restricts_nothing(exclusion, head_place):
            exclusion, head, head_folded, head_place = None, raw, folded, place
        elif not excluded and not partly:  # "except" followed by nothing we can read
            return Eligibility(UNKNOWN_KIND, (), *(band or (None, None)))

    region_words = _region_words(head_folded)
    region_countries: set[str] = set()
    for word in region_words:
        region_countries |= members[word]
    named = set(head_place.countries) | implied
    countries = (region_countries | named) - excluded
    low, high = band or (None, None)

    onsite = remote is False or bool(
        _ONSITE_STRONG_RE.search(folded) and not _REMOTE_OPTION_RE.search(folded)
    )
    if not onsite and _ONSITE_WEAK_RE.search(folded) and not _REMOTE_RE.search(folded):
        onsite = True  # "Madrid HQ", "MD Chevy Chase (Office)"
    if (
        not onsite
        and remote is None
        and not remote_only
        and named
        and not _REMOTE_RE.search(folded)
    ):
        onsite = True  # a place named alone on a board of office jobs
    if onsite:
        return Eligibility(ONSITE_KIND, tuple(sorted(countries)), low, high)
    if exclusion and not region_countries and not named:
        # "Worldwide except US": the whole world but those
        return Eligibility(COUNTRIES_KIND, tuple(sorted(everywhere - excluded)), low, high)
    if region_countries:
        return Eligibility(REGIONS_KIND, tuple(sorted(countries)), low, high)
    if countries:
        return Eligibility(COUNTRIES_KIND, tuple(sorted(countries)), low, high)
    if band is not None:
        return Eligibility(TIMEZONES_KIND, (), low, high)
    if place.region == WORLDWIDE and not place.unknown_tokens and not place.regions:
        if _SOME_COUNTRIES_RE.search(folded):  # "Worldwide - select countries"
            return Eligibility(UNKNOWN_KIND)
        return Eligibility(WORLDWIDE_KIND)
    return Eligibility(UNKNOWN_KIND)


#: a worldwide word narrowed to places it does not name: who may apply is unknown
_SOME_COUNTRIES_RE = re.compile(
    r"\b(?:select(?:ed)?|certain|supported|approved|specific|limited to|some)\s+"
    r"(?:\w+\s+)?(?:countries|locations|regions|states|places)\b"
    r"|\bwhere\s+we\s+(?:have|are|operate|can\s+hire|employ)\b"
)
_WEAK_EXCLUSION_WORDS = frozenset({"no", "not", "non", "ex"})


def _restricts_nothing(exclusion: re.Match[str], head: Location) -> bool:
    """Whether an exclusion that names nothing readable may be ignored: a short word
    ("USA, no visa sponsorship") after a text that already names its places. After a
    worldwide word, or with "except", the listing stays `unknown`."""
    word = exclusion.string[exclusion.start() : exclusion.start(1)].strip().lower()
    return word in _WEAK_EXCLUSION_WORDS and bool(head.countries or head.regions)


def admits_country(found: Eligibility, code: str) -> bool:
    """Whether a person in country `code` may apply (the API's `eligible_in`): worldwide,
    the country among the eligible ones, or a time-zone-only listing whose band meets
    one of the country's UTC offsets."""
    if found.eligibility == WORLDWIDE_KIND:
        return True
    if code in found.eligible_countries:
        return True
    if found.eligibility == TIMEZONES_KIND and found.utc_offset_min is not None:
        offsets = country_offsets(code)
        return offsets is not None and (
            found.utc_offset_min <= offsets[1] and offsets[0] <= found.utc_offset_max
        )
    return False
