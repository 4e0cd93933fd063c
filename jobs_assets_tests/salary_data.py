"""Real listings for the salary model's tests: the recorded API responses the project
ships (`jobs_assets/replay_fixtures/`), run through the corpus adapter and `normalise`.

About 220 listings, 115 with a stated salary: enough for every test of the machinery;
far too few to judge the model's quality, which needs the salary corpus (not committed:
it is other projects' data; see `lib/salary_model/corpus.py` for where it is looked up).
"""

from __future__ import annotations

import json
from functools import cache

import pandas as pd

from jobs_assets.lib.salary_model.corpus import listings_frame, response_records
from jobs_assets.replay import FIXTURES
from jobs_assets.testing import salary_corpus_dir

#: recorded responses of the sources whose items the corpus adapter reads
RECORDED = {
    "himalayas.json": "himalayas",
    "himalayas_page2_overlap.json": "himalayas",
    "himalayas_documented_schema.json": "himalayas",
    "jobicy.json": "jobicy",
    "remotive.json": "remotive",
    "remoteok.json": "remoteok",
    "remoteok_b.json": "remoteok",
}
#: the listings without a publication date of their own are dated by the recording
RECORDED_AT = "2026-01-01T00:00:00+00:00"


@cache
def _recorded() -> pd.DataFrame:
    records = []
    for name, source in RECORDED.items():
        records += response_records(source, json.loads((FIXTURES / name).read_bytes()), RECORDED_AT)
    frame = listings_frame(records).drop_duplicates(["source", "source_job_id"])
    return frame.reset_index(drop=True)


def recorded_listings() -> pd.DataFrame:
    """Every recorded listing as `normalise` makes it, dated by its own publication date."""
    return _recorded().copy()


def corpus_missing_reason() -> str:
    return (
        f"the salary corpus is not at {salary_corpus_dir()} (it is not committed): set "
        "JOBS_SALARY_CORPUS_DIR or JOBS_SHARED_DATA_DIR to run the model-quality tests"
    )
