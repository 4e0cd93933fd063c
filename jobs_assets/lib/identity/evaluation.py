"""Pairwise precision and recall of the matcher on a labelled set of real listing pairs,
and a timing of one window against a large synthetic table (for `make bench`)."""

from __future__ import annotations

import csv
import gzip
import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from jobs_assets.lib.identity.clusters import match_window, pair_is_same
from jobs_assets.lib.sources import SOURCES


@dataclass
class PairScore:
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0
    true_negative: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        found = self.true_positive + self.false_positive
        return self.true_positive / found if found else 1.0

    @property
    def recall(self) -> float:
        actual = self.true_positive + self.false_negative
        return self.true_positive / actual if actual else 1.0


#: the shared listing file of the labelled sets, under $JOBS_SHARED_DATA_DIR: the 500
#: listings of duplicate_pairs.csv (docs/duplicates.md says where they came from); the
#: cross-source pairs also refer to the shared salary corpus and the recorded responses
#: (jobs_assets_tests/labelled_listings.py)
LISTING_FILE = "duplicates/duplicate_listings.jsonl.gz"
#: the kinds a labelled pair may have: the four kinds of duplicate of official statistics
#: work on online job ads, then why a look-alike pair is not a duplicate
DUPLICATE_KINDS = ("exact", "different_fields", "repost", "partial")
DISTINCT_KINDS = ("different_job", "different_level", "different_location", "different_company")


def load_listings(*paths: Path) -> dict[tuple[str, str], dict]:
    """Listings of the labelled sets by (source, source_job_id), from one or more files.
    A key in two files must be the same listing, so a later file cannot silently replace
    an earlier one's row."""
    listings: dict[tuple[str, str], dict] = {}
    for path in paths:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle if line.strip()]
        for row in rows:
            key = (row["source"], row["source_job_id"])
            if key in listings and listings[key] != row:
                raise ValueError(f"{path}: {key} differs from the row an earlier file gave")
            listings[key] = row
    return listings


def load_pairs(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def score_by(
    pairs: list[dict[str, str]], listings: dict[tuple[str, str], dict], column: str = "kind"
) -> dict[str, PairScore]:
    """One score per value of `column` (kind, say), to see which kind of pair fails."""
    groups: dict[str, list[dict[str, str]]] = {}
    for pair in pairs:
        groups.setdefault(pair.get(column) or "", []).append(pair)
    return {value: score_pairs(group, listings) for value, group in sorted(groups.items())}


def score_pairs(pairs: list[dict[str, str]], listings: dict[tuple[str, str], dict]) -> PairScore:
    """The matcher's verdict on every labelled pair against the label."""
    score = PairScore()
    for pair in pairs:
        left = listings[(pair["left_source"], pair["left_id"])]
        right = listings[(pair["right_source"], pair["right_id"])]
        said, why = pair_is_same(left, right)
        truth = pair["same"] == "true"
        if said and truth:
            score.true_positive += 1
        elif said:
            score.false_positive += 1
            score.errors.append(f"merged ({why}): {left['title']!r} / {right['title']!r}")
        elif truth:
            score.false_negative += 1
            score.errors.append(f"missed ({why}): {left['title']!r} / {right['title']!r}")
        else:
            score.true_negative += 1
    return score


# --- synthetic shape for timing only -------------------------------------------------

_ROLES = (
    "Software Engineer",
    "Data Engineer",
    "Product Manager",
    "Account Executive",
    "Customer Success Manager",
    "DevOps Engineer",
    "Designer",
    "Data Analyst",
    "Recruiter",
    "Support Specialist",
    "Marketing Manager",
    "Sales Development Representative",
)
_AREAS = (
    *(
        [
            "Platform",
            "Payments",
            "Growth",
            "Mobile",
            "Security",
            "Infrastructure",
            "Billing",
            "Search",
            "Identity",
        ]
    ),
    *(
        [
            "Checkout",
            "Analytics",
            "Onboarding",
            "Risk",
            "Fraud",
            "Core",
            "Compliance",
            "Partnerships",
        ]
    ),
    *(
        [
            "EMEA",
            "APAC",
            "Enterprise",
            "SMB",
            "Retention",
            "Pricing",
            "Messaging",
            "Storage",
            "Networking",
        ]
    ),
    "",
)
_LEVELS = ("", "Senior ", "Staff ", "Junior ", "Lead ", "Principal ")
_PLACES = (
    ("United States", ["US"], ["North America"]),
    ("Germany", ["DE"], ["Europe"]),
    ("United Kingdom", ["GB"], ["Europe"]),
    ("Brazil", ["BR"], ["Latin America"]),
    ("Remote", [], []),
    ("India", ["IN"], ["Asia"]),
)
_SOURCES = tuple(SOURCES)
_WORDS = [
    "team",
    "build",
    "customers",
    "product",
    "data",
    "platform",
    "scale",
    "remote",
    "collaborate",
    "ownership",
    "impact",
    "experience",
    "python",
    "cloud",
    "growth",
    "mission",
    "benefits",
    "equity",
    "engineering",
    "design",
    "deliver",
]


def synthetic_listings(count: int, companies: int, seed: int, start: int = 0) -> pd.DataFrame:
    """Listing-shaped rows (company sizes skewed like the real boards), for timing only."""
    rng = random.Random(seed)
    rows = []
    for n in range(start, start + count):
        company = int(companies * rng.random() ** 2)  # the largest has ~0.4% of all rows
        role = rng.choice(_ROLES)
        title = f"{rng.choice(_LEVELS)}{role}"
        area = rng.choice(_AREAS)
        if area:
            title = f"{title}, {area}"
        place, countries, regions = rng.choice(_PLACES)
        body = " ".join(rng.choices(_WORDS, k=250))
        rows.append(
            {
                "source": _SOURCES[n % 5],
                "source_job_id": str(n),
                "title": title,
                "company_name": f"Company {company} Inc.",
                "location_raw": place,
                "countries": countries,
                "regions": regions,
                "seniority": None,
                "description_text": f"{company} {title}. {body}",
                "first_seen_at": pd.Timestamp("2026-01-01", tz="UTC") + pd.Timedelta(minutes=n),
            }
        )
    return pd.DataFrame(rows)


_SUBJECTS = (
    "Math", "Physics", "Chemistry", "Biology", "English", "Spanish", "French", "German",
    "History", "Economics", "Statistics", "Calculus", "Algebra", "Geometry", "SAT", "ACT",
    "GRE", "GMAT", "Latin", "MCAT", "NCLEX-RN", "Python", "Java", "Writing", "Reading",
    "Piano", "Guitar", "Accounting", "Finance", "Psychology",
)  # fmt: skip
_CITIES = (
    "Austin", "Boston", "Chicago", "Dallas", "Denver", "Detroit", "Houston", "Miami",
    "Phoenix", "Portland", "Seattle", "Atlanta", "Baltimore", "Charlotte", "Columbus",
    "Nashville", "Memphis", "Louisville", "Milwaukee", "Albuquerque", "Tucson", "Fresno",
    "Sacramento", "Omaha", "Raleigh", "Tampa", "Orlando", "Pittsburgh", "Cincinnati",
    "Cleveland", "Minneapolis", "Madison", "Richmond", "Spokane", "Boise", "Reno",
    "Buffalo", "Rochester", "Hartford", "Providence",
)  # fmt: skip


def one_company_listings(
    count: int, seed: int = 3, start: int = 0, company: str = "Tutorly Inc."
) -> pd.DataFrame:
    """`count` listings of one employer, shaped like a tutoring company of the recorded
    data: per-city titles ("Remote Math Tutor - Austin"), one description per
    subject shared by every city, and each city's posting repeated a few times (reposts).
    `company=None`: the same listings spread over many companies (the comparison)."""
    rng = random.Random(seed)
    texts = {
        s: f"Tutor {s} students online with {company or 'us'}. "
        + " ".join(rng.choices(_WORDS, k=180))
        for s in _SUBJECTS
    }
    rows = []
    for n in range(start, start + count):
        subject = _SUBJECTS[n % len(_SUBJECTS)]
        city = _CITIES[(n // len(_SUBJECTS)) % len(_CITIES)]
        rows.append(
            {
                "source": _SOURCES[n % 3],
                "source_job_id": f"t{n}",
                "title": f"Remote {subject} Tutor - {city}",
                "company_name": company or f"Company {n * 7919 % 50_000} Inc.",
                "location_raw": "United States",
                "countries": ["US"],
                "regions": ["North America"],
                "seniority": None,
                "description_text": texts[subject],
                "first_seen_at": pd.Timestamp("2026-01-01", tz="UTC") + pd.Timedelta(minutes=n),
            }
        )
    return pd.DataFrame(rows)


def cloned_listings(templates: list[dict], count: int, start: int = 0) -> pd.DataFrame:
    """`count` copies of `templates` (listing rows), each with a new id and its own last
    line in the description: the window that once took the matcher half an hour."""
    rows = []
    for n in range(start, start + count):
        row = dict(templates[n % len(templates)])
        row["source_job_id"] = f"clone-{n}"
        row["description_text"] = f"{row.get('description_text') or ''}\nReference CLONE-{n:09d}."
        rows.append(row)
    return pd.DataFrame(rows)


def benchmark_window(new: int = 1_500, existing: int = 500_000, seed: int = 14) -> dict:
    """Seconds to cluster `new` listings against `existing` active ones, and the work done."""
    companies = max(existing // 8, 100)
    stored = synthetic_listings(existing, companies, seed)
    stored["duplicate_cluster_id"] = stored["source"] + ":" + stored["source_job_id"]
    stored["is_canonical"] = True
    window = synthetic_listings(new, companies, seed + 1, start=existing)
    started = time.perf_counter()
    result = match_window(window, stored)
    seconds = time.perf_counter() - started
    return {
        "new": new,
        "existing": existing,
        "seconds": round(seconds, 3),
        "blocks": result.matches.blocks,
        "comparisons": result.matches.comparisons,
        "pairs_checked": result.matches.detailed,
        "pairs_matched": len(result.matches.pairs),
        "assignments": len(result.assignments),
    }


if __name__ == "__main__":  # python -m jobs_assets.lib.identity.evaluation
    print(benchmark_window())
