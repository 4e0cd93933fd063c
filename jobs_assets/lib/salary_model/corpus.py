"""Real listings with stated salaries, turned into rows shaped like `jobs_listings_data`.

The corpus holds raw API items (gzip JSON Lines per source, see PROVENANCE.md beside
the data). Each item is mapped onto the columns every source extracts (the same field
choices as the source modules' SQL) and then run through the project's own
`normalise`, so the model trains on exactly what production rows will contain.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pandas as pd

from jobs_assets.lib.normalise import EXTRACTED, normalise

#: the corpus is not committed with the code (it is other projects' data); it sits in the
#: shared data folder beside the repository unless the environment says otherwise
CORPUS_FOLDER = "salary_corpus"
REPO_SHARED_DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"


def corpus_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """`JOBS_SALARY_CORPUS_DIR`, else `JOBS_SHARED_DATA_DIR/salary_corpus`, else
    `<repo>/../shared/data/salary_corpus`."""
    if environ.get("JOBS_SALARY_CORPUS_DIR"):
        return Path(environ["JOBS_SALARY_CORPUS_DIR"]).resolve()
    shared = environ.get("JOBS_SHARED_DATA_DIR")
    return (Path(shared) if shared else REPO_SHARED_DATA).joinpath(CORPUS_FOLDER).resolve()


def corpus_available(directory: Path | None = None) -> bool:
    return any((directory or corpus_dir()).glob("*.jsonl.gz"))


def _first(value: object) -> object:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _as_json(value: object) -> str | None:
    return None if value is None else json.dumps(value)


def _remoteok(item: dict) -> dict:
    return {
        "title": item.get("position"),
        "company_name": item.get("company"),
        "job_url": item.get("url"),
        "tags_json": _as_json(item.get("tags")),
        "location_text": item.get("location"),
        "salary_min": item.get("salary_min"),
        "salary_max": item.get("salary_max"),
        "salary_period": "year",
        "salary_currency": "USD",
        "description_html": item.get("description"),
        "published": item.get("date"),
    }


def _remotive(item: dict) -> dict:
    return {
        "title": item.get("title"),
        "company_name": item.get("company_name"),
        "job_url": item.get("url"),
        "job_type": item.get("job_type"),
        "category": item.get("category"),
        "tags_json": _as_json(item.get("tags")),
        "location_text": item.get("candidate_required_location"),
        "salary_text": item.get("salary"),
        "description_html": item.get("description"),
        "published": item.get("publication_date"),
    }


def _himalayas(item: dict) -> dict:
    return {
        "title": item.get("title"),
        "company_name": item.get("companyName"),
        "job_url": item.get("applicationLink"),
        "job_type": item.get("employmentType"),
        "seniority": _first(item.get("seniority")),
        "category": _first(item.get("parentCategories")) or _first(item.get("categories")),
        "tags_json": _as_json(item.get("categories")),
        "location_json": _as_json(item.get("locationRestrictions")),
        "salary_min": item.get("minSalary"),
        "salary_max": item.get("maxSalary"),
        "salary_period": item.get("salaryPeriod") or "year",
        "salary_currency": item.get("currency"),
        "description_html": item.get("description"),
    }


def _jobicy(item: dict) -> dict:
    new = item.get("salaryMin") is not None or item.get("salaryMax") is not None
    return {
        "title": item.get("jobTitle"),
        "company_name": item.get("companyName"),
        "job_url": item.get("url"),
        "job_type": _first(item.get("jobType")),
        "seniority": item.get("jobLevel"),
        "category": _first(item.get("jobIndustry")),
        "location_text": item.get("jobGeo"),
        "salary_min": item.get("salaryMin") if new else item.get("annualSalaryMin"),
        "salary_max": item.get("salaryMax") if new else item.get("annualSalaryMax"),
        "salary_period": item.get("salaryPeriod") if new else "year",
        "salary_currency": item.get("salaryCurrency"),
        "description_html": item.get("jobDescription"),
        "published": item.get("pubDate"),
    }


EXTRACTORS: dict[str, Callable[[dict], dict]] = {
    "remoteok": _remoteok,
    "remotive": _remotive,
    "himalayas": _himalayas,
    "jobicy": _jobicy,
}


#: each source's id field, and its own publication date (the corpus's `first_seen_at`)
ID_FIELDS = {"remoteok": "id", "remotive": "id", "himalayas": "guid", "jobicy": "id"}
EPOCH_DATES = {"remoteok": "epoch", "himalayas": "pubDate"}
TEXT_DATES = ("publication_date", "pubDate", "date")


def _published(source: str, item: dict) -> str | None:
    epoch = item.get(EPOCH_DATES.get(source, ""))
    if isinstance(epoch, (int, float)) or (isinstance(epoch, str) and epoch.isdigit()):
        seconds = int(epoch) / 1000 if int(epoch) > 10**11 else int(epoch)  # some send ms
        return pd.Timestamp(seconds, unit="s", tz="UTC").isoformat()
    for name in TEXT_DATES:
        value = item.get(name)
        if isinstance(value, str) and value[:4].isdigit():
            stamp = pd.Timestamp(value)
            utc = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
            return utc.isoformat()
    return None


def response_records(source: str, document: object, seen: str) -> list[dict]:
    """Corpus records from one recorded API response (a list, or `jobs`/`data` inside a
    dict): items with an id, dated by their own publication date, else by `seen`."""
    if isinstance(document, dict):
        document = document.get("jobs") or document.get("data") or []
    id_field = ID_FIELDS[source]
    records = []
    for item in document if isinstance(document, list) else []:
        if isinstance(item, dict) and item.get(id_field) not in (None, ""):
            published = _published(source, item) or seen
            records.append(
                {
                    "source": source,
                    "id": str(item[id_field]),
                    "first_seen_at": published,
                    "item": item,
                }
            )
    return records


def read_records(directory: Path | None = None) -> Iterable[dict]:
    """Every corpus record (`source`, `id`, `first_seen_at`, `item`), file by file."""
    directory = directory or corpus_dir()
    files = sorted(directory.glob("*.jsonl.gz"))
    if not files:
        raise FileNotFoundError(
            f"no salary corpus (*.jsonl.gz) in {directory}: set JOBS_SALARY_CORPUS_DIR "
            "to the folder holding it (see PROVENANCE.md)"
        )
    for path in files:
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                yield json.loads(line)


def listings_frame(records: Iterable[dict]) -> pd.DataFrame:
    """Rows with the columns of `jobs_listings_data` the model reads, plus
    `first_seen_at` and an empty `duplicate_cluster_id`."""
    by_source: dict[str, list[dict]] = {}
    for record in records:
        by_source.setdefault(record["source"], []).append(record)
    frames = []
    for source, rows in sorted(by_source.items()):
        extract = EXTRACTORS[source]
        extracted = pd.DataFrame(
            [{**dict.fromkeys(EXTRACTED), **extract(row["item"])} for row in rows],
            columns=list(EXTRACTED),
            dtype=object,
        )
        extracted["source_job_id"] = [row["id"] for row in rows]
        seen = pd.to_datetime([row["first_seen_at"] for row in rows], utc=True, format="ISO8601")
        extracted["retrieved_at"] = seen
        normalised, _ = normalise(extracted, source)
        normalised["first_seen_at"] = seen
        frames.append(normalised)
    frame = pd.concat(frames, ignore_index=True)
    frame["category_normalised"] = frame["category"].map(_category_key)
    frame["duplicate_cluster_id"] = _same_posting(frame)
    return frame


def _same_posting(frame: pd.DataFrame) -> pd.Series:
    """A stand-in for the dedup tables: one cluster per company, title and place.

    Boards repost one opening under new ids on every refresh; letting the copies fall
    on both sides of the time split would let the model look answers up.
    """

    def key(column: str) -> pd.Series:
        return frame[column].fillna("").astype(str).str.lower().str.split().str.join(" ")

    return "posting:" + key("company_name") + "|" + key("title") + "|" + key("location_raw")


def _category_key(value: object) -> str | None:
    """A stand-in until the category vocabulary lands: the source's label, folded."""
    if not isinstance(value, str) or not value.strip():
        return None
    return " ".join(value.lower().replace("&amp;", "&").split())


def load_corpus(directory: Path | None = None) -> pd.DataFrame:
    return listings_frame(read_records(directory))
