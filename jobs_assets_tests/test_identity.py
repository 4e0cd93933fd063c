"""Duplicate matching and clusters (jobs_assets.lib.identity), on real labelled pairs."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from jobs_assets.lib.identity import Override, match_window, pair_is_same
from jobs_assets.lib.identity.evaluation import (
    DISTINCT_KINDS,
    DUPLICATE_KINDS,
    LISTING_FILE,
    benchmark_window,
    cloned_listings,
    load_listings,
    load_pairs,
    one_company_listings,
    score_by,
    score_pairs,
    synthetic_listings,
)
from jobs_assets.lib.identity.match import TITLE_NEIGHBOURS
from jobs_assets.lib.identity.text import (
    company_key,
    place_key,
    repair_mojibake,
    requisition_ids,
    title_parts,
)
from jobs_assets_tests.labelled_listings import labelled_listings

DATA = Path(__file__).parent / "data"
PAIRS = DATA / "duplicate_pairs.csv"
CROSS_PAIRS = DATA / "cross_source_pairs.csv"
# The 500 listings the pairs refer to are records other people's repositories committed;
# they are shared data, not part of this repository (docs/duplicates.md says where from).
SHARED_DATA = Path(
    os.environ.get("JOBS_SHARED_DATA_DIR")
    or Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
)
LISTINGS = SHARED_DATA / LISTING_FILE


@pytest.fixture(scope="module")
def labelled() -> tuple[list[dict], dict]:
    if not LISTINGS.exists():
        pytest.skip(
            f"the labelled pairs' listings are shared data, absent here ({LISTINGS}); set "
            "JOBS_SHARED_DATA_DIR to the folder holding duplicates/duplicate_listings.jsonl.gz"
        )
    return load_pairs(PAIRS), load_listings(LISTINGS)


@pytest.fixture(scope="module")
def enlarged() -> tuple[list[dict], list[dict], dict]:
    """The old pairs, the cross-source pairs, and every listing they may refer to: the
    shared duplicates file, the shared salary corpus and the recorded responses."""
    for path in (LISTINGS, SHARED_DATA / "salary_corpus"):
        if not path.exists():
            pytest.skip(
                f"the enlarged pair set's listings are shared data, absent here ({path}); "
                "set JOBS_SHARED_DATA_DIR to the shared data folder (docs/duplicates.md)"
            )
    return load_pairs(PAIRS), load_pairs(CROSS_PAIRS), labelled_listings(SHARED_DATA)


def listing(source: str, job_id: str, **fields: object) -> dict:
    row = {
        "source": source,
        "source_job_id": job_id,
        "title": "Senior Data Engineer",
        "company_name": "Acme Inc.",
        "location_raw": "Germany",
        "countries": ["DE"],
        "regions": ["Europe"],
        "seniority": "senior",
        "description_text": "We build pipelines for payments data. " * 20,
        "first_seen_at": pd.Timestamp("2026-01-10", tz="UTC"),
    }
    row.update(fields)
    return row


def frame(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def clusters_of(result) -> dict[str, str]:
    return {
        f"{r.source}:{r.source_job_id}": r.duplicate_cluster_id
        for r in result.assignments.itertuples()
    }


# --- the labelled set --------------------------------------------------------------


def test_labelled_set_is_real_and_large_enough(labelled):
    pairs, listings = labelled
    assert len(pairs) >= 300
    assert sum(p["same"] == "true" for p in pairs) >= 100
    hard = [
        p
        for p in pairs
        if p["same"] == "false"
        and company_key(listings[(p["left_source"], p["left_id"])]["company_name"])
        == company_key(listings[(p["right_source"], p["right_id"])]["company_name"])
    ]
    assert len(hard) >= 100, "hard negatives: same company, similar title"
    for p in pairs:
        assert p["reason"].strip(), p
        for side in ("left", "right"):
            row = listings[(p[f"{side}_source"], p[f"{side}_id"])]
            assert row["provenance"] and row["title"], row
    assert {p["left_source"] for p in pairs} | {p["right_source"] for p in pairs} >= {
        "remotive",
        "jobicy",
        "himalayas",
        "remoteok",
        "arbeitnow",
    }


def test_pairwise_precision_and_recall(labelled):
    pairs, listings = labelled
    score = score_pairs(pairs, listings)
    print(
        f"\nlabelled pairs: {len(pairs)}  precision {score.precision:.3f}  "
        f"recall {score.recall:.3f}  (tp {score.true_positive}, fp {score.false_positive}, "
        f"fn {score.false_negative}, tn {score.true_negative})"
    )
    for error in score.errors:
        print("  ", error)
    assert score.precision >= 0.98
    assert score.recall >= 0.92


def test_window_clusters_agree_with_labels_and_never_span_companies(labelled):
    """All labelled listings as one window: transitive clusters keep the targets, and no
    cluster holds two companies."""
    pairs, listings = labelled
    result = match_window(pd.DataFrame(list(listings.values())), pd.DataFrame())
    cluster = clusters_of(result)
    assert len(cluster) == len(listings)
    companies: dict[str, set[str]] = {}
    for (source, job_id), row in listings.items():
        companies.setdefault(cluster[f"{source}:{job_id}"], set()).add(
            company_key(row["company_name"])
        )
    assert all(len(keys) == 1 for keys in companies.values())
    tp = fp = fn = 0
    for p in pairs:
        together = (
            cluster[f"{p['left_source']}:{p['left_id']}"]
            == cluster[f"{p['right_source']}:{p['right_id']}"]
        )
        truth = p["same"] == "true"
        tp += together and truth
        fp += together and not truth
        fn += truth and not together
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    print(f"\nclusters: precision {precision:.3f} recall {recall:.3f}")
    assert precision >= 0.98 and recall >= 0.92
    canonical = result.assignments[result.assignments.is_canonical]
    assert canonical.duplicate_cluster_id.is_unique
    assert set(canonical.duplicate_cluster_id) == set(result.assignments.duplicate_cluster_id)


def test_assignments_do_not_depend_on_row_order(labelled):
    _, listings = labelled
    rows = pd.DataFrame(list(listings.values()))
    verdicts = [Override("himalayas:a", "himalayas:b", False)]
    first = match_window(rows, pd.DataFrame(), verdicts).assignments
    shuffled = match_window(rows.sample(frac=1, random_state=3), pd.DataFrame(), verdicts)
    pd.testing.assert_frame_equal(first, shuffled.assignments)


def test_every_pair_has_a_kind_that_agrees_with_its_label():
    """Both CSVs: same=true pairs carry one of the four kinds of duplicate, same=false pairs
    say why they are distinct; no listing files needed."""
    for path in (PAIRS, CROSS_PAIRS):
        for p in load_pairs(path):
            allowed = DUPLICATE_KINDS if p["same"] == "true" else DISTINCT_KINDS
            assert p["same"] in ("true", "false") and p["kind"] in allowed, (path.name, p)
            assert p["reason"].strip(), p


def test_cross_source_pairs_are_real_and_across_boards(enlarged):
    _, cross, listings = enlarged
    assert len(cross) >= 100
    keys = set()
    for p in cross:
        assert p["left_source"] != p["right_source"], p
        key = frozenset([(p["left_source"], p["left_id"]), (p["right_source"], p["right_id"])])
        assert key not in keys, p
        keys.add(key)
        for side in ("left", "right"):
            row = listings[(p[f"{side}_source"], p[f"{side}_id"])]
            assert row["provenance"] and row["title"], row
    hard = [
        p
        for p in cross
        if company_key(listings[(p["left_source"], p["left_id"])]["company_name"])
        == company_key(listings[(p["right_source"], p["right_id"])]["company_name"])
    ]
    assert len(hard) >= 60, "hard negatives: same company on two boards"


def test_enlarged_set_precision_and_recall(enlarged):
    """The targets of issue 25 on the old pairs and the cross-source pairs together."""
    old, cross, listings = enlarged
    pairs = old + cross
    parts = {
        "old set": old,
        "cross-source pairs alone": cross,
        "all pairs across boards": [p for p in pairs if p["left_source"] != p["right_source"]],
        "whole set": pairs,
    }
    for name, group in parts.items():
        score = score_pairs(group, listings)
        print(
            f"\n{name}: {len(group)} pairs  precision {score.precision:.3f}  recall "
            f"{score.recall:.3f}  (tp {score.true_positive}, fp {score.false_positive}, "
            f"fn {score.false_negative}, tn {score.true_negative})"
        )
        for error in score.errors:
            print("   ", error)
    for kind, score in score_by(pairs, listings).items():
        print(
            f"  {kind}: tp {score.true_positive} fp {score.false_positive} "
            f"fn {score.false_negative} tn {score.true_negative}"
        )
    score = score_pairs(pairs, listings)
    assert score.precision >= 0.99
    assert score.recall >= 0.95


# --- normalisation -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Phaidra, Inc.", "phaidra"),
        ("PHAIDRA", "phaidra"),
        ("CI&amp;T", "ciandt"),
        ("CI and T", "ciandt"),
        ("Inkuplay UG (haftungsbeschränkt)", "inkuplay"),
        ("Mondelēz International", "mondelezinternational"),
        ("ZÃ³calo Health", "zocalohealth"),
        ("Dental21.de", "dental21"),
        ("SYNAOS GmbH", "synaos"),
        # boards split and join names differently
        ("Open AI", "openai"),
        ("OpenAI", "openai"),
        ("Data Dog, Inc.", "datadog"),
        # a domain's ending goes; a word that only looks like one stays
        ("Zafran.io", "zafran"),
        ("acme.co.uk", "acme"),
        ("Scale AI", "scaleai"),
        ("Scale", "scale"),
    ],
)
def test_company_key(raw, key):
    assert company_key(raw) == key


@pytest.mark.parametrize(
    ("title", "core", "levels"),
    [
        ("Senior Key Account Manager*in (m/w/d)", ("key", "account", "manager"), {"senior"}),
        ("Product Manager (w/m/d)", ("product", "manager"), set()),
        ("Legal Counsel (all genders)", ("legal", "counsel"), set()),
        ("Remote NCLEX-RN Tutor (23)", ("nclex", "rn", "tutor"), set()),
        (
            "Austin TX Gig Workers Wanted (78634)",
            ("austin", "tx", "gig", "workers", "78634"),
            set(),
        ),
        ("Sr/Staff AI Engineer", ("ai", "engineer"), {"senior", "staff"}),
        ("(Canada) Regional Account Executive", ("regional", "account", "executive"), set()),
        ("Tech Business Analyst II (Remote, US)", ("tech", "business", "analyst"), {"level2"}),
    ],
)
def test_title_parts(title, core, levels):
    assert title_parts(title) == (core, frozenset(levels))


def test_mojibake_and_places():
    assert repair_mojibake("worldâ\x80\x99s") == "world’s"
    assert repair_mojibake("Gda\u00c5\u0084sk") == "Gdańsk"
    assert place_key("Essen, North Rhine-Westphalia, Germany") == "essen"
    assert place_key("Barranquilla, AtlÃ¡ntico") == "barranquilla"
    assert place_key("United States (Remote)") == ""
    assert place_key("Remote, USA") == ""


def test_requisition_ids():
    assert requisition_ids("Job Requisition ID # 26WD94865 Position Overview") == {"26WD94865"}
    assert requisition_ids("Engineer (Req #12345)") == {"12345"}
    assert requisition_ids("Data Analyst JR-1234") == {"JR1234"}
    assert requisition_ids("Junior Test Engineer - OP01992") == {"OP01992"}
    assert requisition_ids("Backend Engineer 2026, team of 40") == frozenset()


# --- rules -------------------------------------------------------------------------


def test_same_job_on_two_sources_is_one():
    a = listing("jobicy", "1", title="Senior Data Engineer – Payments (m/w/d)")
    b = listing("himalayas", "h1", title="Senior Data Engineer - Payments", company_name="ACME")
    assert pair_is_same(a, b)[0]


def test_one_city_written_in_two_languages_is_one_place():
    """Arbeitnow's "München, Bayern" and another posting's "Munich, Bavaria": the gazetteer
    read one city in both (`cities`), so the place does not tell them apart; two cities
    still do, and so do the spellings when no city was read."""
    munich = {"location_raw": "Munich, Bavaria", "cities": ["Munich"]}
    a = listing("arbeitnow", "a", **munich)
    b = listing("arbeitnow", "b", location_raw="München, Bayern", cities=["Munich"])
    assert pair_is_same(a, b)[0]
    berlin = listing("arbeitnow", "c", location_raw="Berlin", cities=["Berlin"])
    assert pair_is_same(a, berlin) == (False, "different places")
    unread = listing("arbeitnow", "d", location_raw="München, Bayern")
    assert pair_is_same(listing("arbeitnow", "e", location_raw="Munich"), unread) == (
        False,
        "different places",
    )


def test_different_companies_never_merged():
    a = listing("jobicy", "1")
    b = listing("himalayas", "h1", company_name="Acme Robotics")
    assert pair_is_same(a, b) == (False, "different companies")
    result = match_window(frame(a, b), pd.DataFrame())
    assert result.assignments.duplicate_cluster_id.nunique() == 2


def test_requisition_ids_decide():
    a = listing("jobicy", "1", title="Senior Data Engineer (Req #12345)")
    b = listing("himalayas", "h1", title="Senior Data Engineer (Req #12399)")
    c = listing("remoteok", "r1", title="Senior Data Engineer (Req #12345)")
    assert pair_is_same(a, b) == (False, "different requisition ids")
    assert pair_is_same(a, c) == (True, "same requisition id")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"title": "Data Engineer"}, "different seniority in the titles"),
        ({"title": "Staff Data Engineer"}, "different seniority in the titles"),
        ({"seniority": "entry"}, "clearly different seniority"),
        ({"countries": ["US"], "location_raw": "United States"}, "no country in common"),
        ({"location_raw": "Berlin, Germany"}, "different places"),
        ({"title": "Senior Data Engineer, Storage"}, "different titles"),
        (
            {"description_text": "Sell insurance to families in Ohio. " * 20},
            "different descriptions",
        ),
    ],
)
def test_negatives(change, reason):
    a = listing("jobicy", "1", location_raw="Essen, Germany")
    b = listing("jobicy", "2", **({"location_raw": "Essen, Germany"} | change))
    assert pair_is_same(a, b) == (False, reason)


def test_a_title_word_without_counterpart_is_a_veto():
    """ZIP codes, languages, cities: one word apart is another job; a typo is not."""
    a = listing("himalayas", "1", title="Austin TX Gig Workers Wanted (78634)")
    b = listing("himalayas", "2", title="Austin TX Gig Workers Wanted (78653)")
    assert pair_is_same(a, b) == (False, "title word '78634' has no counterpart")
    c = listing("himalayas", "3", title="Exploitation Specialist – Korean")
    d = listing("himalayas", "4", title="Exploitation Specialist - Khmer")
    assert pair_is_same(c, d)[0] is False
    e = listing("himalayas", "5", title="Scooters Mechanic")
    f = listing("himalayas", "6", title="Scooter Mechanic")
    assert pair_is_same(e, f)[0] is True


@pytest.mark.parametrize(
    ("left", "right", "kind"),
    [
        ("Senior Account Executive - EMEA", "Senior Account Executive - APAC", "regions"),
        ("Senior Data Engineer (Canada)", "Senior Data Engineer (India)", "countries"),
        ("Senior Data Engineer, Part-time", "Senior Data Engineer, Full-time", "job types"),
    ],
)
def test_titles_naming_different_territories_or_job_types_are_two_jobs(left, right, kind):
    """Boards add a country, a region or a job type to one job's title, so the words are
    dropped from the comparison; but two titles that both name one and name different
    ones are two jobs of the company, whatever else they share."""
    a = listing("jobicy", "1", title=left, location_raw="Anywhere")
    b = listing("jobicy", "2", title=right, location_raw="Anywhere")
    assert pair_is_same(a, b) == (False, f"the titles name different {kind}")


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Senior Data Engineer - USA", "Senior Data Engineer (United States)"),
        ("Senior Data Engineer - Europe", "Senior Data Engineer (EU)"),
        ("Senior Data Engineer (US/Canada)", "Senior Data Engineer - Canada"),
        ("Senior Data Engineer - EMEA", "Senior Data Engineer"),  # one title names none
    ],
)
def test_titles_naming_one_territory_two_ways_stay_one_job(left, right):
    a = listing("jobicy", "1", title=left, location_raw="Anywhere")
    b = listing("himalayas", "h1", title=right, location_raw="Anywhere")
    assert pair_is_same(a, b)[0]


def test_seniority_one_step_apart_is_not_a_veto():
    a = listing("jobicy", "1", seniority="mid")
    b = listing("himalayas", "h1", seniority="senior")
    assert pair_is_same(a, b)[0]


# --- clusters ----------------------------------------------------------------------


def test_canonical_is_earliest_then_source_order():
    day = pd.Timestamp("2026-02-01", tz="UTC")
    rows = frame(
        listing("himalayas", "h1", first_seen_at=day),
        listing("remotive", "9", first_seen_at=day),
        listing("remoteok", "r1", first_seen_at=day + pd.Timedelta(hours=1)),
    )
    result = match_window(rows, pd.DataFrame())
    assert set(result.assignments.duplicate_cluster_id) == {"remotive:9"}
    canonical = result.assignments[result.assignments.is_canonical]
    assert list(canonical.source_job_id) == ["9"]
    assert result.clusters_formed == 1 and result.cross_source == 1

    earlier = frame(listing("arbeitnow", "a1", first_seen_at=day - pd.Timedelta(days=1)))
    stored = rows.merge(result.assignments, on=["source", "source_job_id"])
    backfill = match_window(earlier, stored)
    changed = clusters_of(backfill)
    assert changed == dict.fromkeys(
        ["arbeitnow:a1", "himalayas:h1", "remotive:9", "remoteok:r1"], "arbeitnow:a1"
    )


def test_a_listing_alone_is_its_own_canonical_cluster():
    result = match_window(frame(listing("jobicy", "1")), pd.DataFrame())
    assert result.assignments.to_dict("records") == [
        {
            "source": "jobicy",
            "source_job_id": "1",
            "duplicate_cluster_id": "jobicy:1",
            "is_canonical": True,
        }
    ]


def test_cluster_ids_are_stable_across_reruns():
    day = pd.Timestamp("2026-03-01", tz="UTC")
    first_rows = frame(
        listing("jobicy", "1", first_seen_at=day),
        listing("remotive", "2", first_seen_at=day + pd.Timedelta(hours=2)),
        listing("jobicy", "3", title="Product Designer", first_seen_at=day),
    )
    first = match_window(first_rows, pd.DataFrame())
    again = match_window(first_rows, pd.DataFrame())
    pd.testing.assert_frame_equal(first.assignments, again.assignments)
    stored = first_rows.merge(first.assignments, on=["source", "source_job_id"])
    # the same window re-run against what it stored: same ids for its rows, nothing else moves
    rerun = match_window(first_rows, stored)
    pd.testing.assert_frame_equal(first.assignments, rerun.assignments)
    later = match_window(
        frame(listing("remoteok", "9", first_seen_at=day + pd.Timedelta(1, "D"))), stored
    )
    assert clusters_of(later) == {"remoteok:9": "jobicy:1"}


def test_overrides_win():
    a, b = listing("jobicy", "1"), listing("himalayas", "h1")
    other = listing("remoteok", "r1", company_name="Different Corp", title="Sales Lead")
    split = match_window(frame(a, b), pd.DataFrame(), [Override("jobicy:1", "himalayas:h1", False)])
    assert split.assignments.duplicate_cluster_id.nunique() == 2
    merged = match_window(frame(a, other), pd.DataFrame(), [("jobicy:1", "remoteok:r1", True)])
    assert merged.assignments.duplicate_cluster_id.nunique() == 1

    # an override added after the fact splits a stored cluster, and survives a re-run
    first = match_window(frame(a, b), pd.DataFrame())
    assert first.assignments.duplicate_cluster_id.nunique() == 1
    stored = frame(a, b).merge(first.assignments, on=["source", "source_job_id"])
    c = listing("remoteok", "r2", first_seen_at=pd.Timestamp("2026-01-11", tz="UTC"))
    verdict = [Override("jobicy:1", "himalayas:h1", False)]
    result = match_window(frame(c), stored, verdict)
    cluster = clusters_of(result)
    assert cluster.get("himalayas:h1", "jobicy:1") != cluster.get("jobicy:1", "jobicy:1")
    assert result.split_by_override == 1
    assert cluster["remoteok:r2"] in {"jobicy:1", "himalayas:h1"}
    # re-running the window on what it stored changes nothing: the split holds
    applied = frame(a, b, c).merge(
        pd.concat([stored[list(result.assignments.columns)], result.assignments]).drop_duplicates(
            ["source", "source_job_id"], keep="last"
        ),
        on=["source", "source_job_id"],
    )
    rerun = match_window(frame(c), applied, verdict)
    assert clusters_of(rerun) == {"remoteok:r2": cluster["remoteok:r2"]}
    assert rerun.split_by_override == 0


# --- cost ---------------------------------------------------------------------------


def test_blocking_keeps_comparisons_linear():
    """Twice the listings over twice the companies: about twice the work, not four times."""
    small_new = synthetic_listings(500, 2_000, seed=1, start=100_000)
    small_old = synthetic_listings(16_000, 2_000, seed=2)
    big_new = pd.concat(
        [small_new, synthetic_listings(500, 2_000, seed=1, start=200_000)], ignore_index=True
    )
    big_new.loc[big_new.index[500:], "company_name"] = "Twin " + big_new["company_name"][500:]
    twin_old = synthetic_listings(16_000, 2_000, seed=2, start=300_000)
    twin_old["company_name"] = "Twin " + twin_old["company_name"]
    big_old = pd.concat([small_old, twin_old])
    small = match_window(small_new, small_old).matches.comparisons
    big = match_window(big_new, big_old).matches.comparisons
    print(f"\ncomparisons: {small} for 500 vs 16,000; {big} for 1,000 vs 32,000")
    assert 0 < big <= 2.2 * small


def test_one_company_of_20000_listings_costs_a_bounded_number_of_pairs():
    """One employer posting 20,000 listings in a window (per-city titles, one description
    per subject, each posting repeated): candidate pairs follow the window, not its
    square, and the clusters are still right. (How long it takes: `make bench`.)"""
    n = 20_000
    rows = one_company_listings(n)
    result = match_window(rows, pd.DataFrame())
    found = result.matches
    print(f"\n{n} listings of one company: {found.detailed} candidate pairs, "
          f"{found.comparisons} title scores, {len(found.pairs)} matched")  # fmt: skip
    assert found.largest_block == n and found.blocks == 1
    assert found.detailed <= 3 * n  # all pairs would be 200 million
    assert found.comparisons <= 4 * TITLE_NEIGHBOURS * rows["title"].nunique()
    cluster = clusters_of(result)
    by_title: dict[str, set[str]] = {}
    for row in rows.itertuples():
        by_title.setdefault(row.title, set()).add(cluster[f"{row.source}:{row.source_job_id}"])
    # the reposts of one city's posting are one job; two cities never are
    assert all(len(ids) == 1 for ids in by_title.values())
    assert len({next(iter(ids)) for ids in by_title.values()}) == len(by_title)


def test_copies_of_one_job_form_one_cluster_at_linear_cost(labelled):
    """70 real listings copied 3,000 times with their own last line: each copy is compared
    about once (pairs already linked are not asked again), and the clusters follow the
    templates' own pairwise verdicts."""
    _, listings = labelled
    templates = sorted(listings.values(), key=lambda r: (r["source"], r["source_job_id"]))[:70]
    copies = cloned_listings(templates, 3_000)
    result = match_window(copies, pd.DataFrame())
    found = result.matches
    print(f"\n3,000 copies of 70 listings: {found.detailed} candidate pairs")
    assert found.detailed <= 3 * len(copies)
    cluster = clusters_of(result)
    template_of = {f"{r.source}:{r.source_job_id}": int(r.source_job_id.split("-")[1]) % 70
                   for r in copies.itertuples()}  # fmt: skip
    members: dict[int, set[str]] = {}
    for key, index in template_of.items():
        members.setdefault(index, set()).add(cluster[key])
    assert all(len(ids) == 1 for ids in members.values())  # every copy of a job together
    for i, a in enumerate(templates):  # two templates together only if the matcher says so
        for j in range(i + 1, len(templates)):
            if members[i] == members[j]:
                assert (
                    pair_is_same(a, templates[j])[0]
                    or a["company_name"] == templates[j]["company_name"]
                )


def test_benchmark_window_runs():
    result = benchmark_window(new=200, existing=5_000)
    print(f"\n{result}")
    assert result["assignments"] >= 200 and result["seconds"] < 10


def test_missing_fields_and_stored_rows_without_clusters():
    """Rows stored before clusters existed, and listings with no company, title or date."""
    stored = frame(listing("jobicy", "1"), listing("remotive", "2", title="Designer"))
    bare = listing(
        "remoteok",
        "3",
        company_name=None,
        title=None,
        countries=None,
        regions=None,
        location_raw=None,
        description_text=None,
        first_seen_at=None,
    )
    result = match_window(frame(listing("himalayas", "h1"), bare), stored)
    assert clusters_of(result) == {
        "himalayas:h1": "jobicy:1",
        "jobicy:1": "jobicy:1",
        "remotive:2": "remotive:2",
        "remoteok:3": "remoteok:3",
    }
