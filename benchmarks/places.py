"""B-places: `normalise` of a 100,000-listing window whose location text is real and varied.

Issue 28 allows the gazetteer parse to cost at most 20% more than the hand lists did.
The window's location strings are the 392 hard real strings of
`jobs_assets_tests/data/hard_locations.csv`, each also written with the qualifiers real
listings add (`(Remote)`, `Remote - `, `, Hybrid`, ...), about 3,100 distinct strings
spread over 100,000 rows. `cold` is a fresh process's first window (the lookup tables
are built in it); `warm` is the next window of the same process.

    python -m benchmarks.places [--rows 100000] [--csv PATH]

Run it with the previous release's code too (its own checkout and virtualenv) to
compare; the numbers are in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

HARD_CSV = Path(__file__).parent.parent / "jobs_assets_tests" / "data" / "hard_locations.csv"
VARIANTS = ("{}", "{} (Remote)", "Remote - {}", "{}, Hybrid", "{} only", "{} - Remote",
            "Remote ({})", "{}; Worldwide")  # fmt: skip


def window(rows: int, csv_path: Path, seed: int = 7) -> pd.DataFrame:
    """An extracted window (the columns `normalise` reads) with varied location text."""
    from jobs_assets.lib.normalise.rows import EXTRACTED

    with csv_path.open(newline="", encoding="utf-8") as handle:
        strings = [r["location"] for r in csv.DictReader(handle)]
    pool = [v.format(s) for s in strings for v in VARIANTS]
    rnd = random.Random(seed)
    data = {name: [None] * rows for name in EXTRACTED}
    data.update(
        source_job_id=[str(i) for i in range(rows)],
        title=["Data engineer"] * rows,
        company_name=[f"Company {i % 5000}" for i in range(rows)],
        job_url=[f"https://example.com/{i}" for i in range(rows)],
        description_html=["<p>Work with data.</p>"] * rows,
        location_text=[rnd.choice(pool) for _ in range(rows)],
        retrieved_at=[datetime(2026, 11, 22, tzinfo=UTC)] * rows,
    )
    return pd.DataFrame(data)


def accuracy() -> dict:
    """The hand-labelled hard set scored (jobs_assets_tests/test_hard_locations.py):
    countries and regions, cities, subdivisions, and who may apply."""
    from jobs_assets.testing.hard_locations import eligibility_score, score
    from jobs_assets.testing.hard_locations import rows as hard_rows

    rows = hard_rows()
    places = score(rows)
    who = eligibility_score(rows)
    return {
        "strings": len(rows),
        **{name: round(value, 4) for name, value in places.items()},
        "eligibility": round(who["eligibility"], 4),
        "eligibility_and_countries": round(who["eligibility_and_countries"], 4),
        "utc_band": round(who["utc_band"], 4),
        "wrongly_worldwide": len(who["wrongly_worldwide"]),
    }


def run(rows: int, csv_path: Path = HARD_CSV) -> dict:
    """`normalise` of a window of `rows` listings, cold and warm, and the hard set's
    accuracy (for `python -m benchmarks`, B9)."""
    from jobs_assets.lib.normalise.rows import normalise

    frame = window(rows, csv_path)
    started = time.perf_counter()
    out, _ = normalise(frame, "remoteok")
    cold = time.perf_counter() - started
    started = time.perf_counter()
    normalise(frame, "remoteok")
    warm = time.perf_counter() - started
    return {
        "rows": rows,
        "distinct_locations": int(frame["location_text"].nunique()),
        "cold_s": round(cold, 2),
        "warm_s": round(warm, 2),
        "unknown_share": round(float((out["region"] == "Unknown").mean()), 4),
        "worldwide_share": round(float((out["eligibility"] == "worldwide").mean()), 4),
        "accuracy": accuracy(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--csv", type=Path, default=HARD_CSV)
    args = parser.parse_args()
    from jobs_assets.lib.normalise.rows import normalise

    frame = window(args.rows, args.csv)
    distinct = frame["location_text"].nunique()
    started = time.perf_counter()
    rows, _ = normalise(frame, "remoteok")
    cold = time.perf_counter() - started
    started = time.perf_counter()
    normalise(frame, "remoteok")
    warm = time.perf_counter() - started
    unknown = float((rows["region"] == "Unknown").mean())
    print(json.dumps({"rows": args.rows, "distinct_locations": distinct, "cold_s": round(cold, 2),
                      "warm_s": round(warm, 2), "unknown_share": round(unknown, 4),
                      "accuracy": accuracy()}))  # fmt: skip


if __name__ == "__main__":
    main()
