"""Accuracy on hard real location strings (issue 28), labelled by hand.

`data/hard_locations.csv` holds location strings real listings carried, read from other
public projects' saved API responses (the salary corpus, the duplicate sets, and one
scraper's snapshots; not this project's recorded fixtures), with the countries, regions,
cities and subdivisions a person reads in them and a one-line reason. `kind` says how the
source sends it: `text` (one string) or `names` (one Himalayas list item).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from jobs_assets.lib.normalise.eligibility import KINDS, Eligibility, eligibility_of, region_members
from jobs_assets.lib.normalise.location import Location, locate_names, locate_text
from jobs_assets.lib.sources import SOURCES

HARD = Path(__file__).parent / "data" / "hard_locations.csv"
HOME = {"arbeitnow": "DE"}  # the sources' declared home markets (lib/sources)


def _rows() -> list[dict[str, str]]:
    with HARD.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _parse(row: dict[str, str]) -> Location:
    home = HOME.get(row["source"])
    if row["kind"] == "names":
        return locate_names([row["location"]], home)
    return locate_text(row["location"], home)


def _labels(row: dict[str, str], name: str, sep: str) -> tuple[str, ...]:
    return tuple(sorted(v.strip() for v in row[name].split(sep) if v.strip()))


def _score(rows: list[dict[str, str]]) -> dict[str, float]:
    hits = {"countries_and_regions": 0, "cities": 0, "subdivisions": 0}
    for row in rows:
        place = _parse(row)
        countries = _labels(row, "countries", " ")
        regions = _labels(row, "regions", ";")
        hits["countries_and_regions"] += (place.countries, place.regions) == (countries, regions)
        hits["cities"] += place.cities == _labels(row, "cities", ";")
        hits["subdivisions"] += place.subdivisions == _labels(row, "subdivisions", " ")
    return {name: count / len(rows) for name, count in hits.items()}


def test_the_hard_set_is_real_and_covers_every_source() -> None:
    rows = _rows()
    assert len(rows) >= 300
    assert {r["source"] for r in rows} == {"arbeitnow", "himalayas", "jobicy", "remoteok",
                                             "remotive"}  # fmt: skip
    assert all(r["reason"].strip() for r in rows)


@pytest.mark.parametrize("subset", ["all", "beyond_iso_names"])
def test_countries_and_regions_are_right_for_97_percent(subset: str) -> None:
    rows = _rows()
    if subset == "beyond_iso_names":
        rows = [r for r in rows if r["class"] != "iso-name"]
    scores = _score(rows)
    print(subset, len(rows), scores)
    assert scores["countries_and_regions"] >= 0.97, scores
    assert scores["cities"] >= 0.95, scores
    assert scores["subdivisions"] >= 0.95, scores


# --- who may apply (lib/normalise/eligibility.py) -----------------------------------------------------
# `eligibility`, `eligible_countries` and `utc_band` are judged by hand like the places:
# codes, `@word` for a region word's countries (`region_members`: the M49 table), and a
# band as `west..east` hours.


def _eligible_label(row: dict[str, str]) -> tuple[str, ...]:
    codes: set[str] = set()
    for token in row["eligible_countries"].split():
        if token.startswith("@"):
            members = region_members(token[1:].replace("_", " "))
            assert members, f"no region {token!r} in {row['location']!r}"
            codes |= members
        else:
            codes.add(token)
    return tuple(sorted(codes))


def _band_label(row: dict[str, str]) -> tuple[float, float] | None:
    if not row["utc_band"]:
        return None
    west, east = row["utc_band"].split("..")
    return float(west), float(east)


def _who(row: dict[str, str]) -> Eligibility:
    source = SOURCES[row["source"]]
    home = getattr(source, "home_country", None)
    return eligibility_of(
        row["location"], _parse(row), remote_only=source.remote_only, home_country=home
    )


def eligibility_score(rows: list[dict[str, str]]) -> dict[str, object]:
    """Share of rows whose kind, countries and band are exactly the labels, and the rows
    that came out `worldwide` although labelled otherwise (must be none)."""
    kind = countries = band = 0
    wrongly_worldwide = []
    for row in rows:
        found = _who(row)
        kind += found.eligibility == row["eligibility"]
        countries += (found.eligibility == row["eligibility"]
                      and found.eligible_countries == _eligible_label(row))  # fmt: skip
        stated = (
            None
            if found.utc_offset_min is None
            else (float(found.utc_offset_min), float(found.utc_offset_max))
        )
        band += stated == _band_label(row)
        if found.eligibility == "worldwide" and row["eligibility"] != "worldwide":
            wrongly_worldwide.append(row["location"])
    return {
        "eligibility": kind / len(rows),
        "eligibility_and_countries": countries / len(rows),
        "utc_band": band / len(rows),
        "wrongly_worldwide": wrongly_worldwide,
    }


def test_every_row_has_an_eligibility_judgement_with_a_reason() -> None:
    for row in _rows():
        assert row["eligibility"] in KINDS, row
        assert row["eligibility_reason"].strip(), row
        _eligible_label(row)  # every region word is known


def test_who_may_apply_is_right_and_nothing_restricted_is_worldwide() -> None:
    scores = eligibility_score(_rows())
    print("eligibility", len(_rows()), scores)
    assert scores["wrongly_worldwide"] == [], scores
    assert scores["eligibility"] >= 0.97, scores
    assert scores["eligibility_and_countries"] >= 0.97, scores
    assert scores["utc_band"] >= 0.97, scores
