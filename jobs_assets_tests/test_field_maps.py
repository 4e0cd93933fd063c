"""One field map per source, proved across the seam: the SQL projection the pipeline
runs in PostgreSQL over staged listings and the Python extraction the salary corpus
runs (`Source.item_fields`) give the same value for every field of every listing of
every recorded response and of the whole salary corpus."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from jobs_assets.lib.listings.extract import read_staged
from jobs_assets.lib.listings.staging import stage_window
from jobs_assets.lib.salary_model.corpus import corpus_available, read_records
from jobs_assets.lib.schema import EXTRACTED
from jobs_assets.lib.sources import SOURCES, Page, WindowRecords, parse_window, records
from jobs_assets.lib.sources.fields import jsonb_text
from jobs_assets.testing import salary_corpus_dir
from jobs_assets_tests.conftest import FIXTURE_DIR, Database
from jobs_assets_tests.salary_data import corpus_missing_reason

SHARED_FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
SEEN = datetime(2026, 12, 1, tzinfo=UTC)


def _source_of(path: Path) -> str | None:
    """The source a recording belongs to (`remoteok_b.json` -> remoteok)."""
    matches = [name for name in SOURCES if path.stem == name or path.stem.startswith(name + "_")]
    return matches[0] if matches else None


def recordings() -> list[object]:
    """Every recorded response: the shared recordings and the project's copies."""
    found = []
    for folder in (SHARED_FIXTURES, FIXTURE_DIR):
        for path in sorted(folder.glob("*.json")):
            source = _source_of(path)
            if source is not None:
                found.append(pytest.param(source, path, id=f"{folder.name}/{path.name}"))
    return found


def corpus_windows() -> dict[str, WindowRecords]:
    """Every listing of the salary corpus, cleaned as parsing cleans a listing before
    staging it (the raw items carry what PostgreSQL's jsonb refuses, such as NULs)."""
    windows: dict[str, WindowRecords] = {}
    for record in read_records(salary_corpus_dir()):
        item = records.clean(record["item"], records.Cleaning())
        window = windows.setdefault(record["source"], WindowRecords())
        window.records.append((record["id"], item, SEEN))
    return windows


def _python_value(value: object) -> str | None:
    return None if pd.isna(value) else str(value)


def mismatches(database: Database, key: str, windows: dict[str, WindowRecords]) -> list[str]:
    """Stage `windows`, read them back through the pipeline's SQL projection and compare
    each row with the Python extraction of the same payload, field by field."""
    differences = []
    compared = 0
    with database.connect() as conn:
        stage_window(conn, key, windows)
        staged = {source: [] for source in windows}
        for source, frame in read_staged(conn, key):
            staged[source].append(frame)
    for source, window in windows.items():
        payloads = {job_id: payload for job_id, payload, _ in window.records}
        frame = pd.concat(staged[source]) if staged[source] else pd.DataFrame()
        assert len(frame) == len(payloads), (key, source)
        for row in frame.to_dict("records"):
            python = SOURCES[source].item_fields(payloads[row["source_job_id"]])
            compared += 1
            for name in EXTRACTED:
                sql_value, py_value = _python_value(row[name]), python[name]
                if sql_value != py_value:
                    differences.append(
                        f"{key} {source} {row['source_job_id']} {name}: "
                        f"SQL {sql_value!r} != Python {py_value!r}"
                    )
    assert compared == sum(len(w.records) for w in windows.values())
    return differences


def _page(body: bytes) -> Page:
    return Page(0, "http://recorded/0", 200, "application/json", body, SEEN)


@pytest.mark.parametrize(("source", "path"), recordings())
def test_sql_and_python_field_maps_agree_on_recordings(
    clean_db: Database, source: str, path: Path
) -> None:
    window = parse_window(SOURCES[source], [_page(path.read_bytes())])
    assert window.records, f"{path} holds no listing of {source}"
    differences = mismatches(clean_db, f"recording-{path.stem}", {source: window})
    assert not differences, "\n".join(differences[:30])


def test_sql_and_python_field_maps_agree_on_the_salary_corpus(clean_db: Database) -> None:
    if not corpus_available(
        salary_corpus_dir()
    ):  # other projects' data, kept beside the repository
        pytest.skip(corpus_missing_reason())
    windows = corpus_windows()
    assert sum(len(w.records) for w in windows.values()) > 2000  # the whole corpus
    differences = mismatches(clean_db, "salary-corpus", windows)
    assert not differences, "\n".join(differences[:30])


def test_odd_values_read_the_same_and_never_fail_the_window(clean_db: Database) -> None:
    """Values of the wrong type or shape: a salary that is not a number (RemoteOK's
    hourly rule reads numbers only, instead of failing the whole window's extraction),
    nulls, objects where lists belong, padded and empty text."""
    odd = [
        {"id": "1", "position": "A", "company": "C", "url": "https://x/1", "slug": "  ",
         "salary_min": "about 50k", "salary_max": 90000, "tags": None, "epoch": 1.7e9},
        {"id": "2", "position": "B", "company": "C", "url": "https://x/2", "slug": "b-2",
         "salary_min": " 40 ", "salary_max": "0", "tags": {"a": 1}, "location": " "},
        {"id": "3", "position": "C", "company": "C", "url": "https://x/3", "salary_min": 0,
         "salary_max": 0, "tags": ["Senior", None, 3, ["x"]], "description": "x<br/>"
         "Please mention the word **TEST** and tag RMTg="},
    ]  # fmt: skip
    window = WindowRecords(records=[(job["id"], job, SEEN) for job in odd])
    assert not mismatches(clean_db, "odd-values", {"remoteok": window})
    python = [SOURCES["remoteok"].item_fields(job) for job in odd]
    assert [p["salary_period"] for p in python] == ["year", "hour", None]
    assert python[0]["job_url"] == "https://x/1" and python[0]["published"] == "1700000000.0"


def test_every_source_maps_every_extracted_field() -> None:
    for source in SOURCES.values():
        assert list(source.fields) == list(EXTRACTED), source.name
        assert set(source.item_fields({})) == set(EXTRACTED), source.name


@pytest.mark.parametrize(("source", "path"), recordings())
def test_payload_keys_are_the_fields_a_common_field_reads(source: str, path: Path) -> None:
    """`payload_keys` (what the synthetic listings and the benchmarks change a listing's
    description, company, salary and location by) on what the source sends: a listing
    cut down to a common field's keys reads the same, and the description and company
    are one field each whose every change shows in what is read."""
    registered = SOURCES[source]
    items = [item for _, item, _ in parse_window(registered, [_page(path.read_bytes())]).records]
    for name, expr in registered.fields.items():
        keys = registered.payload_keys(name)
        for item in items:
            kept = {k: item[k] for k in keys if k in item}
            assert expr.read(kept) == expr.read(item), (path.name, name)
    for name in ("description_html", "company_name"):
        (key,) = registered.payload_keys(name)
        given = [item for item in items if isinstance(item.get(key), str)]
        assert given, (path.name, name, key)
        read = registered.fields[name].read
        assert all(read({**item, key: "Extra " + item[key]}) != read(item) for item in given)


@pytest.mark.parametrize(
    "value",
    [
        {"b": 1, "aa": [1.0, 2.5e-3, True, None], "a": 'Zürich "quoted"\n\t\x01'},
        [1e20, -0.0, 12, "x"],
        {},
        [],
    ],
)
def test_jsonb_text_is_what_postgresql_prints(database: Database, value: object) -> None:
    """The Python twin of `::text` of a jsonb value, checked against PostgreSQL itself."""
    [(printed,)] = database.query("SELECT (%s::jsonb)::text", (json.dumps(value),))
    assert jsonb_text(value) == printed
