"""Per-source parsers on the real recorded responses, and on bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from jobs_assets.lib.sources import SOURCES, Page, parse_window
from jobs_assets_tests.conftest import FIXTURE_DIR


def fixture(name: str) -> bytes:
    return (FIXTURE_DIR / name).read_bytes()


def page(body: bytes, index: int = 0, status: int = 200) -> Page:
    return Page(index, f"http://test/{index}", status, "application/json", body, datetime.now(UTC))


@pytest.mark.parametrize(
    ("source", "file", "id_field"),
    [
        ("remotive", "remotive.json", "id"),
        ("jobicy", "jobicy.json", "id"),
        ("himalayas", "himalayas.json", "guid"),
    ],
)
def test_every_fixture_listing_parses_with_its_id(source: str, file: str, id_field: str) -> None:
    body = fixture(file)
    jobs = json.loads(body)["jobs"]
    parsed = SOURCES[source].parse(body)
    # Remotive's recording holds one listing whose company is the placeholder `N/A`.
    placeholder = [j for j in jobs if j.get("company_name") == "N/A"]
    kept = [j for j in jobs if j not in placeholder]
    assert parsed.error is None
    assert [r.reason for r in parsed.rejects] == [
        f"listing #{jobs.index(j)} ({j[id_field]}) has no company ('company_name' is the "
        "placeholder 'N/A')"
        for j in placeholder
    ]
    assert [job_id for job_id, _ in parsed.records] == [str(j[id_field]) for j in kept]
    assert [payload for _, payload in parsed.records] == kept


def test_remotive_numeric_ids_become_text() -> None:
    parsed = SOURCES["remotive"].parse(fixture("remotive.json"))
    assert all(isinstance(job_id, str) and job_id.isdigit() for job_id, _ in parsed.records)


def test_a_whole_number_id_written_with_a_point_is_that_number() -> None:
    """`123.0` is listing 123 (some serialisers write every number so); a fraction is no
    id, and says so."""
    body = json.dumps([{"legal": "notice"}, {"id": 123.0, "position": "Engineer",
                       "company": "Acme", "url": "https://remoteok.com/1"},
                       {"id": 12.5, "position": "Engineer", "company": "Acme",
                        "url": "https://remoteok.com/2"}]).encode()  # fmt: skip
    parsed = SOURCES["remoteok"].parse(body)
    assert [job_id for job_id, _ in parsed.records] == ["123"]
    assert parsed.identified == {"123"}
    assert any("no usable 'id' (it is a JSON number" in r.reason for r in parsed.rejects)


def test_himalayas_overlapping_pages_keep_one_row_per_guid() -> None:
    first, second = fixture("himalayas.json"), fixture("himalayas_page2_overlap.json")
    overlap = {j["guid"] for j in json.loads(first)["jobs"]} & {
        j["guid"] for j in json.loads(second)["jobs"]
    }
    assert overlap, "the fixture is meant to overlap"
    window = parse_window(SOURCES["himalayas"], [page(first, 0), page(second, 1)])
    guids = [job_id for job_id, _, _ in window.records]
    assert len(guids) == len(set(guids))
    assert window.duplicates == len(overlap)
    assert set(guids) == {j["guid"] for j in json.loads(first)["jobs"] + json.loads(second)["jobs"]}


def test_himalayas_documented_schema_objects_and_milliseconds_parse() -> None:
    parsed = SOURCES["himalayas"].parse(fixture("himalayas_documented_schema.json"))
    assert parsed.error is None and len(parsed.records) == 1
    _, payload = parsed.records[0]
    assert payload["locationRestrictions"][0] == {
        "alpha2": "PL",
        "name": "Poland",
        "slug": "poland",
    }


def test_himalayas_reports_total_for_paging() -> None:
    parsed = SOURCES["himalayas"].parse(fixture("himalayas.json"))
    assert parsed.document["totalCount"] == json.loads(fixture("himalayas.json"))["totalCount"]


def test_jobicy_2026_cursor_fields_are_read() -> None:
    body = json.dumps(
        {
            "jobs": [{"id": 1, "jobTitle": "A", "companyName": "B", "url": "https://j.test/1"}],
            "hasMore": True,
            "nextCursor": "abc",
        }
    ).encode()
    parsed = SOURCES["jobicy"].parse(body)
    assert parsed.document == {"hasMore": True, "nextCursor": "abc"}
    assert [job_id for job_id, _ in parsed.records] == ["1"]


def test_jobicy_404_with_json_body_means_no_jobs() -> None:
    body = json.dumps({"success": False, "message": "No jobs found"}).encode()
    parsed = SOURCES["jobicy"].parse(body, status=404)
    assert parsed.error is None and parsed.records == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<!DOCTYPE html><html><body>Cloudflare: 502</body></html>", "HTML page"),
        (fixture("remotive.json")[:5000], "truncated JSON"),
        (b"", "empty body"),
        (b"[1, 2, 3]", "JSON list"),
        (b'{"items": []}', "no 'jobs' list"),
    ],
)
def test_unusable_bodies_give_a_clear_error(body: bytes, expected: str) -> None:
    parsed = SOURCES["remotive"].parse(body)
    assert parsed.records == []
    assert expected in parsed.error


def test_bad_records_are_rejected_with_reasons_and_the_rest_kept() -> None:
    jobs = json.loads(fixture("remotive.json"))["jobs"]
    bad = [
        {"title": "no id at all"},
        {"id": None, "title": "null id"},
        {"id": "  ", "title": "blank id"},
        {"id": True, "title": "boolean id"},
        "a string, not an object",
        {"id": 99, "description": "x" * 2_100_000},
    ]
    jobs = [j for j in jobs if j["company_name"] != "N/A"]
    body = json.dumps({"jobs": jobs[:3] + bad + jobs[3:]}).encode()
    parsed = SOURCES["remotive"].parse(body)
    assert [job_id for job_id, _ in parsed.records] == [str(j["id"]) for j in jobs]
    assert len(parsed.rejects) == len(bad)
    reasons = " | ".join(r.reason for r in parsed.rejects)
    assert (
        "no usable 'id'" in reasons and "not an object" in reasons and "over the limit" in reasons
    )
    # each id problem says what was there, so the board's change can be recognised
    said = [r.reason for r in parsed.rejects if "no usable" in r.reason]
    assert [reason.split("(", 1)[1].split(";")[0] for reason in said] == [
        "it is missing",
        "it is null",
        'it is "  "',
        "it is true",
    ]


def test_unknown_extra_fields_are_kept_in_the_payload() -> None:
    jobs = json.loads(fixture("jobicy.json"))["jobs"]
    jobs[0]["brandNewField"] = {"nested": [1, 2]}
    parsed = SOURCES["jobicy"].parse(json.dumps({"jobs": jobs, "newTopLevel": 1}).encode())
    assert parsed.rejects == [] and len(parsed.records) == len(jobs)
    assert parsed.records[0][1]["brandNewField"] == {"nested": [1, 2]}


def test_nul_characters_are_removed_not_fatal() -> None:
    body = b'{"jobs": [{"id": 1, "title": "bad\\u0000title", "company_name": "C", "url": "u"}]}'
    parsed = SOURCES["remotive"].parse(body)
    assert parsed.records == [
        ("1", {"id": 1, "title": "badtitle", "company_name": "C", "url": "u"})
    ]
    assert "NUL" in parsed.rejects[0].reason


def test_sql_and_html_in_text_are_just_text() -> None:
    title = "'); DROP TABLE staging.staging_jobs_listings_data; -- <script>alert(1)</script>"
    job = {"id": 7, "title": title, "company_name": title, "url": "https://x.test/7"}
    parsed = SOURCES["remotive"].parse(json.dumps({"jobs": [job]}).encode())
    assert parsed.records == [("7", job)]


# --- RemoteOK and Arbeitnow, on every recorded response -----------------------------


@pytest.mark.parametrize("file", ["remoteok.json", "remoteok_b.json"])
def test_remoteok_skips_the_legal_notice_and_keeps_every_job(file: str) -> None:
    document = json.loads(fixture(file))
    assert "legal" in document[0] and "id" not in document[0]
    parsed = SOURCES["remoteok"].parse(fixture(file))
    untitled = [job["id"] for job in document[1:] if not job["position"].strip()]
    assert parsed.error is None and len(untitled) == 1
    assert [r.reason for r in parsed.rejects] == [
        f"listing #{i - 1} ({job['id']}) has no title ('position' is empty)"
        for i, job in enumerate(document)
        if i and job["id"] in untitled
    ]
    assert [job_id for job_id, _ in parsed.records] == [
        job["id"] for job in document[1:] if job["id"] not in untitled
    ]
    assert all(isinstance(job_id, str) and job_id.isdigit() for job_id, _ in parsed.records)
    print(file, len(parsed.records), "jobs")


def test_remoteok_repairs_double_encoded_text() -> None:
    parsed = SOURCES["remoteok"].parse(fixture("remoteok.json"))
    locations = {payload["location"] for _, payload in parsed.records}
    assert "Gdańsk" in locations and "GdaÅ\x84sk" not in locations
    broken = [j["description"] for j in json.loads(fixture("remoteok.json"))[1:]]
    descriptions = [payload["description"] for _, payload in parsed.records]
    before = sum("\u00e2\u0080\u0099" in d for d in broken)
    assert before > 50 and not any("\u00e2\u0080\u0099" in d for d in descriptions)
    assert sum("\u2019" in d for d in descriptions) >= before


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Florian\u00c3\u00b3polis", "Florianópolis"),
        ("Café", "Café"),  # real Latin-1 text does not round-trip: kept
        ("plain", "plain"),
        (["a\u00e2\u0080\u0099s", 3], ["a\u2019s", 3]),
    ],
)
def test_mojibake_repair(text: object, expected: object) -> None:
    from jobs_assets.lib.sources.mojibake import repair_record

    assert repair_record(text) == expected


def test_remoteok_array_without_notice_and_an_object_body() -> None:
    source = SOURCES["remoteok"]
    job = {"id": "7", "position": "A", "company": "C", "url": "https://remoteOK.com/x-7"}
    parsed = source.parse(json.dumps([job]).encode())
    assert [job_id for job_id, _ in parsed.records] == ["7"]
    assert source.parse(b'{"jobs": []}').error == (
        "a JSON dict, not the array of jobs Remote OK serves"
    )


@pytest.mark.parametrize("file", ["arbeitnow.json", "arbeitnow_b.json"])
def test_arbeitnow_parses_data_with_slug_ids(file: str) -> None:
    jobs = json.loads(fixture(file))["data"]
    parsed = SOURCES["arbeitnow"].parse(fixture(file))
    assert parsed.error is None and parsed.rejects == []
    assert [job_id for job_id, _ in parsed.records] == [job["slug"] for job in jobs]
    assert [payload for _, payload in parsed.records] == jobs
    assert all(payload["url"].endswith(job_id) for job_id, payload in parsed.records)


def test_arbeitnow_peek_reads_paging_without_records() -> None:
    peeked = SOURCES["arbeitnow"].peek(fixture("arbeitnow.json"))
    assert peeked["links"]["next"].endswith("page=2") and peeked["has_data"] is True
    assert "data" not in peeked
    assert SOURCES["arbeitnow"].peek(b"<html>") is None
