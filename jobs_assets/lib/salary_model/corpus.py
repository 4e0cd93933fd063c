"""Real listings with stated salaries, turned into rows shaped like `jobs_listings_data`.

The corpus holds raw API items (gzip JSON Lines per source, see docs/salary_corpus.md).
Each item is mapped onto the columns every source extracts by its source module
(`Source.item_fields`: what its SQL projection gives in PostgreSQL, from the same field
map, `lib/sources/fields.py`) and then run through
the project's own `normalise`, so the model trains on exactly what production rows will contain.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from jobs_assets.lib.normalise.rows import EXTRACTED, normalise
from jobs_assets.lib.sources import SOURCES

#: the corpus is not committed with the code (it is other projects' data); it sits in the
#: shared data folder beside the repository unless the environment says otherwise
CORPUS_FOLDER = "salary_corpus"
REPO_SHARED_DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"


def corpus_dir(environ: Mapping[str, str]) -> Path:
    """`JOBS_SALARY_CORPUS_DIR`, else `JOBS_SHARED_DATA_DIR/salary_corpus`, else
    `<repo>/../shared/data/salary_corpus`."""
    if environ.get("JOBS_SALARY_CORPUS_DIR"):
        return Path(environ["JOBS_SALARY_CORPUS_DIR"]).resolve()
    shared = environ.get("JOBS_SHARED_DATA_DIR")
    return (Path(shared) if shared else REPO_SHARED_DATA).joinpath(CORPUS_FOLDER).resolve()


def corpus_available(directory: Path) -> bool:
    return any(directory.glob("*.jsonl.gz"))


TEXT_DATES = ("publication_date", "pubDate", "date")


def _published(source: str, item: dict) -> str | None:
    epoch_field = SOURCES[source].published_epoch_field
    epoch = item.get(epoch_field) if epoch_field else None
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
    """Corpus records from one recorded API response (its listings as the source reads
    them): items with an id, dated by their own publication date, else by `seen`."""
    listings = SOURCES[source].records_in(document)
    id_field = SOURCES[source].id_field
    records = []
    for item in listings if isinstance(listings, list) else []:
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


def read_records(directory: Path) -> Iterable[dict]:
    """Every corpus record (`source`, `id`, `first_seen_at`, `item`), file by file."""
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
        fields = SOURCES[source].item_fields
        extracted = pd.DataFrame(
            [{**dict.fromkeys(EXTRACTED), **(fields(row["item"]) or {})} for row in rows],
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


def load_corpus(directory: Path) -> pd.DataFrame:
    return listings_frame(read_records(directory))
