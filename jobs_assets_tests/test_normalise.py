"""Column rules of `public.jobs_listings_data` (see the contract in lib/schema/columns.py),
on tables of examples."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from jobs_assets.lib.normalise.rows import (
    EXTRACTED,
    JOB_TYPES,
    OUTPUT_COLUMNS,
    SENIORITIES,
    clean_text,
    html_to_text,
    job_type_of,
    normalise,
    parse_timestamps,
    seniority_of,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("full_time", "full_time"),
        ("full-time", "full_time"),
        ("Full Time", "full_time"),
        ("Part Time", "part_time"),
        ("part-time", "part_time"),
        ("contract", "contract"),
        ("Contractor", "contract"),
        ("freelance", "freelance"),
        ("internship", "internship"),
        ("Intern", "internship"),
        ("Temporary", "temporary"),
        ("volunteer", "volunteer"),
        ("other", "other"),
        ("Something new", "other"),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_job_type_vocabulary(raw: str | None, expected: str | None) -> None:
    assert job_type_of(raw) == expected
    assert expected is None or expected in JOB_TYPES


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Senior", "senior"),
        ("Entry-level", "entry"),
        ("Junior", "entry"),
        ("Mid-level", "mid"),
        ("Midweight", "mid"),
        ("Manager", "manager"),
        ("Director", "director"),
        ("Executive", "executive"),
        ("Any", None),
        ("", None),
        ("Wizard", None),
        (None, None),
    ],
)
def test_seniority_vocabulary(raw: str | None, expected: str | None) -> None:
    assert seniority_of(raw) == expected
    assert expected is None or expected in SENIORITIES


def test_text_is_trimmed_and_entities_decoded_even_when_escaped_twice() -> None:
    values = pd.Series(["  Senior Engineer ", "R&amp;D Lead", "to&amp;#8230;", "AT&T", None, "  "])
    assert clean_text(values).tolist() == ["Senior Engineer", "R&D Lead", "to…", "AT&T", None, None]


def test_html_descriptions_become_plain_text_without_scripts_or_pixels() -> None:
    html = (
        "<p>We build <strong>data</strong> tools &amp; more.</p><ul><li>SQL</li><li>Python</li></ul>"
        "<script>track()</script><style>p{color:red}</style>"
        '<img src="https://t.example/pixel.gif" width="1" height="1"><!-- note -->'
        "<p>Salary: $113,000 &#8211; $155,000</p>"
    )
    text = html_to_text(pd.Series([html, None, ""])).tolist()
    assert text[0] == "We build data tools & more.\nSQL\nPython\nSalary: $113,000 – $155,000"
    assert text[1] is None and text[2] is None


def test_dates_from_every_source_format() -> None:
    values = pd.Series(
        [
            "2025-12-14T20:41:03",  # Remotive: naive ISO, UTC
            "2025-05-09 20:31:36",  # Jobicy (older)
            "2026-03-01T10:00:00+02:00",  # Jobicy 2026: ISO with offset
            "1789383447",  # Himalayas: unix seconds
            "1781459465000",  # Himalayas documented: milliseconds
            None,
            "not a date",
        ]
    )
    parsed = parse_timestamps(values).tolist()
    utc = UTC
    assert parsed[:5] == [
        datetime(2025, 12, 14, 20, 41, 3, tzinfo=utc),
        datetime(2025, 5, 9, 20, 31, 36, tzinfo=utc),
        datetime(2026, 3, 1, 8, 0, tzinfo=utc),
        datetime.fromtimestamp(1789383447, utc),
        datetime.fromtimestamp(1781459465, utc),
    ]
    assert pd.isna(parsed[5]) and pd.isna(parsed[6])


def extracted(**values: object) -> pd.DataFrame:
    row = {name: None for name in EXTRACTED}
    row.update(source_job_id="1", retrieved_at=datetime(2026, 11, 22, tzinfo=UTC))
    row.update(values)
    return pd.DataFrame([row])


def test_a_remotive_row_end_to_end() -> None:
    frame = extracted(
        title=" Senior Data Engineer &amp; Analyst ",
        company_name="Acme",
        job_url="https://remotive.com/remote-jobs/x",
        company_logo_url="false",
        job_type="full_time",
        category="Software Development",
        tags_json='[" sql ", "", "python", "sql"]',
        location_text="USA, CST (UTC-6)",
        salary_text="$150-190k",
        description_html="<p>Hi</p>",
        published="2025-12-14T20:41:03",
    )
    rows, report = normalise(frame, "remotive")
    row = rows.iloc[0].to_dict()
    assert list(rows.columns) == list(OUTPUT_COLUMNS)
    assert row["title"] == "Senior Data Engineer & Analyst"
    assert row["company_logo_url"] is None  # `false` and non-URLs are null
    assert row["tags"] == ["sql", "python"]
    assert row["countries"] == ["US"] and row["region"] == "North America"
    assert row["location_raw"] == "USA, CST (UTC-6)"
    assert (row["salary_min"], row["salary_max"]) == (150000, 190000)
    assert row["salary_currency"] == "USD" and row["salary_period"] == "year"
    assert (row["salary_min_usd"], row["salary_max_usd"]) == (150000, 190000)
    assert row["salary_raw"] == "$150-190k"
    assert row["description_text"] == "Hi"
    assert report.with_salary == 1 and report.salary_parsed == 1
    assert report.regions["North America"] == 1


def test_a_himalayas_row_with_location_objects_and_hourly_salary() -> None:
    frame = extracted(
        title="QA",
        location_json='[{"alpha2": "PL", "name": "Poland"}, "Ukraine"]',
        salary_min="83",
        salary_max="105",
        salary_period="hourly",
        salary_currency="USD",
        published="1781459465000",
        expires="1786643464",
        seniority="Entry-level",
        job_type="Full Time",
    )
    row = normalise(frame, "himalayas")[0].iloc[0].to_dict()
    assert row["location_raw"] == "Poland, Ukraine"
    assert row["countries"] == ["PL", "UA"] and row["region"] == "Europe"
    assert (row["salary_min"], row["salary_max"]) == (83 * 2080, 105 * 2080)
    assert row["salary_period"] == "hour" and row["salary_raw"]
    assert row["seniority"] == "entry" and row["job_type"] == "full_time"
    assert row["published_at"] == datetime.fromtimestamp(1781459465, UTC)


def test_an_empty_himalayas_location_list_is_worldwide() -> None:
    row = normalise(extracted(location_json="[]"), "himalayas")[0].iloc[0]
    assert row["region"] == "Worldwide" and row["countries"] == []


def test_implausible_salary_is_nulled_kept_raw_and_counted() -> None:
    frame = extracted(
        salary_min="4", salary_max="5500", salary_period="monthly", salary_currency="USD"
    )
    rows, report = normalise(frame, "himalayas")
    row = rows.iloc[0]
    assert row["salary_min"] is None and row["salary_min_usd"] is None
    assert row["salary_raw"] and report.salary_implausible == 1


def test_unparsed_salaries_and_unknown_locations_are_reported() -> None:
    frame = pd.concat(
        [
            extracted(salary_text="competitive", location_text="Xyzzyville"),
            extracted(salary_text="competitive", location_text="Xyzzyville, Germany"),
        ]
    )
    _, report = normalise(frame.reset_index(drop=True), "remotive")
    meta = report.as_metadata()
    assert meta["salaries_unparsed"] == 2
    assert meta["top_unparsed_salaries"] == {"competitive": 2}
    assert meta["top_unknown_location_tokens"] == {"Xyzzyville": 2}


def test_size_guessed_periods_and_piece_rates_are_counted() -> None:
    texts = ["$60k-$80k", "$60k-$80k", "$25/hr", "$50 per article", "£26,800 plus monthly bonus"]
    frame = pd.concat([extracted(salary_text=text) for text in texts])
    rows, report = normalise(frame.reset_index(drop=True), "remotive")
    meta = report.as_metadata()
    assert meta["salaries_period_from_size"] == 3
    assert meta["salaries_not_annualisable"] == 1
    piece = rows.iloc[3]
    assert piece["salary_raw"] == "$50 per article" and piece["salary_min"] is None


def test_unknown_categories_are_reported() -> None:
    values = ["Zookeeper", "Software Development", "Zookeeper", "Feedback-Specialist"]
    frame = pd.concat([extracted(category=value) for value in values])
    _, report = normalise(frame.reset_index(drop=True), "himalayas")
    assert report.as_metadata()["top_unknown_categories"] == {"Zookeeper": 2}


def test_cities_and_subdivisions_and_the_home_market() -> None:
    """Arbeitnow is a German board: a German place named alone is in Germany."""
    frame = pd.concat(
        [
            extracted(location_text="Höheinöd"),
            extracted(location_text="Bozeman, MT"),
        ]
    ).reset_index(drop=True)
    german = normalise(frame, "arbeitnow")[0]
    assert german["countries"].tolist() == [["DE"], ["US"]]
    assert german["cities"].tolist() == [["Höheinöd"], ["Bozeman"]]
    assert german["subdivisions"].tolist() == [[], ["US-MT"]]
    assert german["location_raw"].tolist() == ["Höheinöd", "Bozeman, MT"]
    elsewhere = normalise(frame, "remotive")[0]
    assert elsewhere["countries"].tolist()[0] == []  # a village of 1,253 off its home board
