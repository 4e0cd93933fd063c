"""The hand-labelled hard location set (issue 28) and how it is scored: shared by
`jobs_assets_tests/test_hard_locations.py` and `make bench` (benchmarks/places.py).

`jobs_assets_tests/data/hard_locations.csv` holds location strings real listings carried,
with the countries, regions, cities, subdivisions and who may apply that a person reads
in them, each with a one-line reason.
"""

from __future__ import annotations

import csv
from pathlib import Path

from jobs_assets.lib.normalise.eligibility import Eligibility, eligibility_of, region_members
from jobs_assets.lib.normalise.location import Location, locate_names, locate_text
from jobs_assets.lib.sources import SOURCES

HARD = Path(__file__).resolve().parents[2] / "jobs_assets_tests" / "data" / "hard_locations.csv"


def rows() -> list[dict[str, str]]:
    with HARD.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def parse(row: dict[str, str]) -> Location:
    home = getattr(SOURCES[row["source"]], "home_country", None)
    if row["kind"] == "names":
        return locate_names([row["location"]], home)
    return locate_text(row["location"], home)


def labels(row: dict[str, str], name: str, sep: str) -> tuple[str, ...]:
    return tuple(sorted(v.strip() for v in row[name].split(sep) if v.strip()))


def score(rows: list[dict[str, str]]) -> dict[str, float]:
    hits = {"countries_and_regions": 0, "cities": 0, "subdivisions": 0}
    for row in rows:
        place = parse(row)
        countries = labels(row, "countries", " ")
        regions = labels(row, "regions", ";")
        hits["countries_and_regions"] += (place.countries, place.regions) == (countries, regions)
        hits["cities"] += place.cities == labels(row, "cities", ";")
        hits["subdivisions"] += place.subdivisions == labels(row, "subdivisions", " ")
    return {name: count / len(rows) for name, count in hits.items()}


def eligible_label(row: dict[str, str]) -> tuple[str, ...]:
    codes: set[str] = set()
    for token in row["eligible_countries"].split():
        if token.startswith("@"):
            members = region_members(token[1:].replace("_", " "))
            assert members, f"no region {token!r} in {row['location']!r}"
            codes |= members
        else:
            codes.add(token)
    return tuple(sorted(codes))


def band_label(row: dict[str, str]) -> tuple[float, float] | None:
    if not row["utc_band"]:
        return None
    west, east = row["utc_band"].split("..")
    return float(west), float(east)


def who(row: dict[str, str]) -> Eligibility:
    source = SOURCES[row["source"]]
    home = getattr(source, "home_country", None)
    return eligibility_of(
        row["location"], parse(row), remote_only=source.remote_only, home_country=home
    )


def eligibility_score(rows: list[dict[str, str]]) -> dict[str, object]:
    """Share of rows whose kind, countries and band are exactly the labels, and the rows
    that came out `worldwide` although labelled otherwise (must be none)."""
    kind = countries = band = 0
    wrongly_worldwide = []
    for row in rows:
        found = who(row)
        kind += found.eligibility == row["eligibility"]
        countries += (found.eligibility == row["eligibility"]
                      and found.eligible_countries == eligible_label(row))  # fmt: skip
        stated = (
            None
            if found.utc_offset_min is None
            else (float(found.utc_offset_min), float(found.utc_offset_max))
        )
        band += stated == band_label(row)
        if found.eligibility == "worldwide" and row["eligibility"] != "worldwide":
            wrongly_worldwide.append(row["location"])
    return {
        "eligibility": kind / len(rows),
        "eligibility_and_countries": countries / len(rows),
        "utc_band": band / len(rows),
        "wrongly_worldwide": wrongly_worldwide,
    }
