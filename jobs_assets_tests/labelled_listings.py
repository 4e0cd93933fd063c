"""The listings the labelled duplicate pairs refer to, as the shared data holds them.

`duplicate_pairs.csv` refers to the 500 listings of the shared
`duplicates/duplicate_listings.jsonl.gz`. `cross_source_pairs.csv` also refers to listings
of the shared salary corpus (`salary_corpus/<source>.jsonl.gz`: raw API items that public
repositories committed) and of the recorded responses the project ships
(`jobs_assets/replay_fixtures/`, copies of `shared/fixtures`). Those raw items are turned
into rows here, with the rules of `duplicate_listings.jsonl.gz`
(`shared/data/duplicates/README.md`): the source module's field map for Remotive, Jobicy
and Himalayas, the documented fields for RemoteOK and Arbeitnow, then
`jobs_assets.lib.normalise.rows.normalise()`; text as served.

So every labelled pair can be scored wherever the shared data is, with nothing fetched.
docs/duplicates.md describes the sets and how their pairs were labelled.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd

from jobs_assets.lib.identity.clusters import INPUT_COLUMNS
from jobs_assets.lib.identity.evaluation import LISTING_FILE, load_listings
from jobs_assets.lib.normalise.rows import EXTRACTED, normalise
from jobs_assets.lib.sources import SOURCES
from jobs_assets.replay import FIXTURES

SOURCES_ORDER = tuple(SOURCES)
#: a listing row: the columns the matcher reads, as public.jobs_listings_data holds them,
#: then the listing's link and where it was first seen
COLUMNS = (*INPUT_COLUMNS, "job_url", "provenance")
ID_FIELDS = {
    "remotive": "id",
    "jobicy": "id",
    "himalayas": "guid",
    "remoteok": "id",
    "arbeitnow": "slug",
}
#: the recorded responses and their source (the Himalayas schema sample is no response)
RECORDED = {
    "remotive.json": "remotive",
    "jobicy.json": "jobicy",
    "himalayas.json": "himalayas",
    "himalayas_page2_overlap.json": "himalayas",
    "remoteok.json": "remoteok",
    "remoteok_b.json": "remoteok",
    "arbeitnow.json": "arbeitnow",
    "arbeitnow_b.json": "arbeitnow",
}
#: a recording has no commit: it is dated as the salary corpus dates it
#: (shared/data/salary_corpus/README.md, "Fixtures"); the matcher's verdict on a pair
#: does not read the date
RECORDED_AT = "2026-01-01T00:00:00+00:00"


#: the fields RemoteOK and Arbeitnow document, by the column each fills; the other
#: sources are read with their module's field map
DOCUMENTED_FIELDS = {
    "remoteok": {
        "title": "position",
        "company_name": "company",
        "location_text": "location",
        "description_html": "description",
        "published": "date",
    },
    "arbeitnow": {
        "title": "title",
        "company_name": "company_name",
        "location_text": "location",
        "description_html": "description",
        "published": "created_at",
    },
}


def documented_fields(source: str, item: dict) -> dict:
    """The columns read from one raw item: the documented fields of RemoteOK and
    Arbeitnow (`DOCUMENTED_FIELDS`), the source module's field map for the others."""
    if source in DOCUMENTED_FIELDS:
        return {column: item.get(field) for column, field in DOCUMENTED_FIELDS[source].items()}
    return SOURCES[source].item_fields(item) or {}


def normalised_rows(source: str, found: list[tuple[str, dict, str, str]]) -> list[dict]:
    """`found`: (id, raw item, first_seen_at, provenance) -> rows of COLUMNS."""
    frame = pd.DataFrame(
        [
            {**dict.fromkeys(EXTRACTED), **documented_fields(source, item)}
            for _, item, _, _ in found
        ],
        columns=list(EXTRACTED),
        dtype=object,
    )
    frame["source_job_id"] = [job_id for job_id, _, _, _ in found]
    frame["retrieved_at"] = pd.to_datetime([seen for _, _, seen, _ in found], utc=True)
    normalised, _ = normalise(frame, source)
    rows = []
    for (job_id, _, seen, provenance), row in zip(
        found, normalised.to_dict("records"), strict=True
    ):
        fixed = {"source_job_id": job_id, "first_seen_at": seen, "provenance": provenance}
        rows.append({c: fixed[c] if c in fixed else _plain(row.get(c)) for c in COLUMNS})
    return rows


def _plain(value: object) -> object:
    """JSON-ready: lists as lists, missing values as None."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def response_items(source: str, document: object) -> list[dict]:
    """The listings of one API response, as served: RemoteOK's array without its legal
    notice, `jobs` for Remotive/Jobicy/Himalayas, `data` for Arbeitnow."""
    if isinstance(document, list):
        items = document
    elif isinstance(document, dict):
        items = document.get("data" if source == "arbeitnow" else "jobs") or []
    else:
        items = []
    return [i for i in items if isinstance(i, dict) and "legal" not in i]


def _corpus_items(shared_data: Path) -> list[tuple[str, str, dict, str, str]]:
    """(source, id, item, first_seen_at, provenance) of the salary corpus, file by file."""
    found = []
    for source in SOURCES_ORDER:
        path = shared_data / "salary_corpus" / f"{source}.jsonl.gz"
        if not path.exists():
            continue
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                row = json.loads(line)
                origin = row["origin"]
                where = f"{origin['repo']}:{origin['path']}"
                provenance = f"{where}@{origin['commit']}" if origin.get("commit") else where
                found.append(
                    (source, str(row["id"]), row["item"], row["first_seen_at"], provenance)
                )
    return found


def _recorded_items() -> list[tuple[str, str, dict, str, str]]:
    found = []
    for name, source in RECORDED.items():
        document = json.loads((FIXTURES / name).read_bytes())
        for item in response_items(source, document):
            job_id = item.get(ID_FIELDS[source])
            if job_id not in (None, ""):
                found.append((source, str(job_id), item, RECORDED_AT, f"shared/fixtures/{name}"))
    return found


def labelled_listings(shared_data: Path) -> dict[tuple[str, str], dict]:
    """Every listing a labelled pair may refer to, by (source, source_job_id): the shared
    duplicates file's rows as they are, then the salary corpus's items, then the recorded
    responses' items, normalised here. A listing keeps the first of these that holds it."""
    listings = load_listings(shared_data / LISTING_FILE)
    first: dict[tuple[str, str], tuple[dict, str, str]] = {}
    for source, job_id, item, seen, provenance in _corpus_items(shared_data) + _recorded_items():
        key = (source, job_id)
        if key not in listings and key not in first:
            first[key] = (item, seen, provenance)
    for source in SOURCES_ORDER:
        found = [(k[1], *first[k]) for k in sorted(first) if k[0] == source]
        if found:
            for row in normalised_rows(source, found):
                listings[(source, row["source_job_id"])] = row
    return listings
