"""Accuracy on hard real location strings (issue 28), labelled by hand.

`data/hard_locations.csv` holds location strings real listings carried, read from other
public projects' saved API responses (the salary corpus, the duplicate sets, and one
scraper's snapshots; not this project's recorded fixtures), with the countries, regions,
cities and subdivisions a person reads in them and a one-line reason. `kind` says how the
source sends it: `text` (one string) or `names` (one Himalayas list item).
"""

from __future__ import annotations

import pytest

from jobs_assets.lib.normalise.eligibility import KINDS
from jobs_assets.testing import hard_locations as hard


def test_the_hard_set_is_real_and_covers_every_source() -> None:
    rows = hard.rows()
    assert len(rows) >= 300
    assert {r["source"] for r in rows} == {"arbeitnow", "himalayas", "jobicy", "remoteok",
                                             "remotive"}  # fmt: skip
    assert all(r["reason"].strip() for r in rows)


@pytest.mark.parametrize("subset", ["all", "beyond_iso_names"])
def test_countries_and_regions_are_right_for_97_percent(subset: str) -> None:
    rows = hard.rows()
    if subset == "beyond_iso_names":
        rows = [r for r in rows if r["class"] != "iso-name"]
    scores = hard.score(rows)
    print(subset, len(rows), scores)
    assert scores["countries_and_regions"] >= 0.97, scores
    assert scores["cities"] >= 0.95, scores
    assert scores["subdivisions"] >= 0.95, scores


# --- who may apply (lib/normalise/eligibility.py) -----------------------------------------------------
# `eligibility`, `eligible_countries` and `utc_band` are judged by hand like the places:
# codes, `@word` for a region word's countries (`region_members`: the M49 table), and a
# band as `west..east` hours.


def test_every_row_has_an_eligibility_judgement_with_a_reason() -> None:
    for row in hard.rows():
        assert row["eligibility"] in KINDS, row
        assert row["eligibility_reason"].strip(), row
        hard.eligible_label(row)  # every region word is known


def test_who_may_apply_is_right_and_nothing_restricted_is_worldwide() -> None:
    scores = hard.eligibility_score(hard.rows())
    print("eligibility", len(hard.rows()), scores)
    assert scores["wrongly_worldwide"] == [], scores
    assert scores["eligibility"] >= 0.97, scores
    assert scores["eligibility_and_countries"] >= 0.97, scores
    assert scores["utc_band"] >= 0.97, scores
