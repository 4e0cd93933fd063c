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

from jobs_assets.lib.location import Location, locate_names, locate_text

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
