"""Upgrades that derive stored values again: places (0010, 0018, 0020, 0021, 0028, 0030),
categories (0019, 0023, 0029) and free-text salaries (0031), each from a database of the
release before it, writing only the rows that change and no new history version."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from jobs_assets.lib.identity.history import HISTORY_COLUMNS, row_hash_sql
from jobs_assets.lib.schema.migrate import migrate
from jobs_assets_tests.conftest import Database
from jobs_assets_tests.test_eligibility_backfill import ELIGIBILITY_COLUMNS
from jobs_assets_tests.test_schema import created_database


@pytest.fixture
def scratch(database: Database) -> Iterator[str]:
    with created_database(database, f"jobs_places_{uuid.uuid4().hex[:10]}") as conninfo:
        yield conninfo


#: a listing as an earlier release stored it: (source, id, location_raw, tags, countries,
#: regions, region, cities, subdivisions, eligibility, eligible_countries, category)
Parsed = tuple[str, str, str, list, list, list, str, list, list, str, list, str]


def store_as_parsed(conn: psycopg.Connection, *listings: Parsed) -> None:
    """Store listings with the places, eligibility and category an earlier release gave."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO public.jobs_listings_data (source, source_job_id, title, job_url, "
            "location_raw, tags, countries, regions, region, cities, subdivisions, "
            "eligibility, eligible_countries, category_normalised, retrieved_at, "
            "first_seen_at, last_seen_at, last_partition_key) VALUES (%s, %s, 't', "
            "'https://x/' || %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now(), now(), "
            "now(), 'k')",
            [(src, job_id, job_id, *rest) for src, job_id, *rest in listings],
        )


def test_upgrade_fills_places_and_rederives_countries(scratch: str) -> None:
    migrate(scratch, "0007")
    with psycopg.connect(scratch) as conn:
        conn.execute(
            "INSERT INTO public.jobs_listings_data (source, source_job_id, title, job_url, "
            "location_raw, countries, regions, region, retrieved_at, first_seen_at, "
            "last_seen_at, last_partition_key) VALUES "
            "('arbeitnow', 'a', 't', 'https://x/a', 'Höheinöd', '{}', '{}', 'Unknown', "
            " now(), now(), now(), 'k'),"
            "('remotive', 'b', 't', 'https://x/b', 'Höheinöd', '{}', '{}', 'Unknown', "
            " now(), now(), now(), 'k'),"
            "('remoteok', 'c', 't', 'https://x/c', 'Bozeman, MT', '{US}', "
            " '{North America}', 'North America', now(), now(), now(), 'k'),"
            "('remoteok', 'd', 't', 'https://x/d', NULL, '{}', '{}', 'Unknown', "
            " now(), now(), now(), 'k')"
        )
        later = ("cities", "subdivisions", *ELIGIBILITY_COLUMNS)  # 0010 and after
        before = ", ".join(c for c in HISTORY_COLUMNS if c not in later)
        conn.execute(  # each listing's current version, as the previous release wrote it
            f"INSERT INTO public.jobs_listings_history ({before}, valid_from, valid_to, "
            f"row_hash) SELECT {before}, now(), NULL, 'hash of 0007' "
            "FROM public.jobs_listings_data"
        )
    migrate(scratch)
    with psycopg.connect(scratch) as conn:
        rows = conn.execute(
            "SELECT source, source_job_id, location_raw, countries, region, cities, "
            "subdivisions FROM public.jobs_listings_data ORDER BY source, source_job_id"
        ).fetchall()
    assert rows == [
        ("arbeitnow", "a", "Höheinöd", ["DE"], "Europe", ["Höheinöd"], []),
        ("remoteok", "c", "Bozeman, MT", ["US"], "North America", ["Bozeman"], ["US-MT"]),
        ("remoteok", "d", None, [], "Unknown", [], []),
        ("remotive", "b", "Höheinöd", [], "Unknown", [], []),  # not its home board
    ]
    with psycopg.connect(scratch) as conn:  # versions follow, and their hashes match
        versions = conn.execute(
            "SELECT h.source_job_id, h.countries, h.cities, "
            f"h.row_hash = {row_hash_sql('l')} FROM public.jobs_listings_history AS h "
            "JOIN public.jobs_listings_data AS l USING (source, source_job_id) "
            "WHERE h.valid_to IS NULL ORDER BY 1"
        ).fetchall()
    assert versions == [
        ("a", ["DE"], ["Höheinöd"], True),
        ("b", [], [], True),
        ("c", ["US"], ["Bozeman"], True),
        ("d", [], [], True),
    ]


def current_versions(conn: psycopg.Connection, *columns: str) -> list[tuple]:
    """Each listing's current history version: its id, `columns`, and whether its
    `row_hash` is the listing's own (an upgrade that re-derives values writes none)."""
    shown = "".join(f"h.{c}, " for c in columns)
    return conn.execute(
        f"SELECT h.source_job_id, {shown}h.row_hash = {row_hash_sql('l')} "
        "FROM public.jobs_listings_history AS h "
        "JOIN public.jobs_listings_data AS l USING (source, source_job_id) ORDER BY 1"
    ).fetchall()


def stored_at(scratch: str, revision: str, listings_sql: str) -> dict[str, str]:
    """The database at `revision` holding the listings `listings_sql` inserts, with their
    current versions as that release wrote them; each listing's `ctid` (a listing an
    upgrade does not write keeps it)."""
    migrate(scratch, revision)
    with psycopg.connect(scratch) as conn:
        conn.execute(listings_sql)
        record_current_versions(conn)
        return dict(conn.execute("SELECT source_job_id, ctid::text FROM public.jobs_listings_data"))


def upgraded(scratch: str, column: str, to: str | None = None) -> tuple[list[tuple], list[tuple]]:
    """After the upgrade to revision `to` (the newest by default): each listing's id,
    `column` and `ctid`, and its current version (`current_versions` of `column`). A test
    of whether a revision writes a row stops at that revision: a later one that decides
    another column again may write it."""
    migrate(scratch, to or "head")
    with psycopg.connect(scratch) as conn:
        rows = conn.execute(
            f"SELECT source_job_id, {column}, ctid::text FROM public.jobs_listings_data ORDER BY 1"
        ).fetchall()
        return rows, current_versions(conn, column)


def record_current_versions(conn: psycopg.Connection) -> None:
    """Each listing's current version in the history, as the previous release wrote it."""
    conn.execute(
        f"INSERT INTO public.jobs_listings_history ({', '.join(HISTORY_COLUMNS)}, "
        f"valid_from, valid_to, row_hash) SELECT {', '.join(HISTORY_COLUMNS)}, now(), "
        f"NULL, {row_hash_sql('l')} FROM public.jobs_listings_data AS l"
    )


def test_upgrade_parses_places_and_eligibility_again_with_this_release_s_parser(
    scratch: str,
) -> None:
    """Migration 0018: what the previous release parsed wrongly (a state code read as a
    country, an exclusion read as the only country) is parsed again; no new version."""
    migrate(scratch, "0017")
    with psycopg.connect(scratch) as conn:
        conn.execute(
            "INSERT INTO public.jobs_listings_data (source, source_job_id, title, job_url, "
            "location_raw, countries, regions, region, cities, subdivisions, eligibility, "
            "eligible_countries, retrieved_at, first_seen_at, last_seen_at, "
            "last_partition_key) VALUES "
            "('remoteok', 'rs', 't', 'https://x/rs', 'Porto Alegre, RS', '{RS}', '{Europe}', "
            " 'Europe', '{}', '{}', 'countries', '{RS}', now(), now(), now(), 'k'),"
            "('remoteok', 'nonus', 't', 'https://x/n', 'Remote (Non-US)', '{US}', "
            " '{North America}', 'North America', '{}', '{}', 'countries', '{US}', "
            " now(), now(), now(), 'k')"
        )
        record_current_versions(conn)
    migrate(scratch)
    with psycopg.connect(scratch) as conn:
        rows = conn.execute(
            "SELECT source_job_id, countries, subdivisions, region, eligibility, "
            "'US' = ANY(eligible_countries), 'DE' = ANY(eligible_countries) "
            "FROM public.jobs_listings_data ORDER BY 1"
        ).fetchall()
        versions = current_versions(conn, "countries")
    (nonus, rs) = rows
    assert rs == ("rs", ["BR"], ["BR-RS"], "Latin America", "countries", False, False)
    assert nonus[0] == "nonus" and nonus[5:] == (False, True)  # everyone but the US
    assert versions == [("nonus", nonus[1], True), ("rs", ["BR"], True)]  # one version each


def test_upgrade_decides_categories_again_with_this_release_s_vocabulary(scratch: str) -> None:
    """Migration 0019: a category the previous release decided from the first row in
    file order ('Curriculum Developer' = Software Development) or left `Other`
    ('Veterinarian') is decided again; no new version."""
    migrate(scratch, "0018")
    with psycopg.connect(scratch) as conn:
        conn.execute(
            "INSERT INTO public.jobs_listings_data (source, source_job_id, title, job_url, "
            "tags, category_normalised, region, retrieved_at, first_seen_at, last_seen_at, "
            "last_partition_key) VALUES "
            "('remoteok', 'a', 'Curriculum Developer', 'https://x/a', '{}', "
            " 'Software Development', 'Unknown', now(), now(), now(), 'k'),"
            "('remoteok', 'b', 'Veterinarian', 'https://x/b', '{}', 'Other', 'Unknown', "
            " now(), now(), now(), 'k'),"
            "('remoteok', 'c', 'Senior Backend Engineer', 'https://x/c', '{python}', "
            " 'Software Development', 'Unknown', now(), now(), now(), 'k')"
        )
        record_current_versions(conn)
    migrate(scratch)
    with psycopg.connect(scratch) as conn:
        rows = conn.execute(
            "SELECT l.source_job_id, l.category_normalised, h.category_normalised, "
            f"h.row_hash = {row_hash_sql('l')} FROM public.jobs_listings_data AS l "
            "JOIN public.jobs_listings_history AS h USING (source, source_job_id) ORDER BY 1"
        ).fetchall()
    assert rows == [
        ("a", "Education", "Education", True),
        ("b", "Healthcare", "Healthcare", True),
        ("c", "Software Development", "Software Development", True),
    ]


def test_upgrade_decides_places_eligibility_and_categories_again_once_more(
    scratch: str,
) -> None:
    """Migration 0020: what release 0019 read wrongly (Georgia the country beside
    Atlanta; Canada named by "Worldwide except US and Canada"; a tool tag left `Other`)
    is decided again; no new version."""
    migrate(scratch, "0019")
    with psycopg.connect(scratch) as conn:
        store_as_parsed(
            conn,
            ("remoteok", "ga", "Atlanta, Georgia", [], ["GE"], ["Asia"], "Asia", [], [],
             "countries", ["GE"], "Other"),
            ("remoteok", "ww", "Worldwide except US and Canada", ["figma"], ["CA"],
             ["North America"], "Worldwide", [], [], "countries", ["DE"], "Other"),
        )  # fmt: skip
        record_current_versions(conn)
    migrate(scratch)
    with psycopg.connect(scratch) as conn:
        rows = conn.execute(
            "SELECT source_job_id, countries, subdivisions, region, "
            "'US' = ANY(eligible_countries), 'CA' = ANY(eligible_countries), "
            "category_normalised FROM public.jobs_listings_data ORDER BY 1"
        ).fetchall()
        versions = current_versions(conn, "countries")
    assert rows == [
        ("ga", ["US"], ["US-GA"], "North America", True, False, "Other"),
        ("ww", [], [], "Worldwide", False, False, "Design"),
    ]
    assert versions == [("ga", ["US"], True), ("ww", [], True)]  # one version each


def test_upgrade_decides_places_and_eligibility_again_with_this_releases_rules(
    scratch: str,
) -> None:
    """Migration 0021: what release 0020 read wrongly (a province left out with words
    around it made the listing `unknown`; an async team was no worldwide; Venezuela's
    Valencia was undecided) is decided again; no new version."""
    migrate(scratch, "0020")
    with psycopg.connect(scratch) as conn:
        store_as_parsed(
            conn,
            ("remotive", "qc", "Canada (Remote - Quebec excluded)", [], ["CA"],
             ["North America"], "North America", [], [], "unknown", [], "Other"),
            ("remotive", "async", "Global (async team)", [], [], [], "Worldwide", [], [],
             "unknown", [], "Other"),
            ("remotive", "ve", "Valencia, Carabobo", [], ["VE"], ["Latin America"],
             "Latin America", [], ["VE-G"], "countries", ["VE"], "Other"),
        )  # fmt: skip
        record_current_versions(conn)
    migrate(scratch)
    with psycopg.connect(scratch) as conn:
        rows = conn.execute(
            "SELECT source_job_id, countries, cities, eligibility, eligible_countries "
            "FROM public.jobs_listings_data ORDER BY 1"
        ).fetchall()
        versions = current_versions(conn, "eligibility")
    assert rows == [
        ("async", [], [], "worldwide", []),
        ("qc", ["CA"], [], "countries", ["CA"]),
        ("ve", ["VE"], ["Valencia"], "countries", ["VE"]),
    ]
    assert versions == [("async", "worldwide", True), ("qc", "countries", True),
                        ("ve", "countries", True)]  # fmt: skip


def test_upgrade_decides_places_again_after_the_review_on_new_real_listings(
    scratch: str,
) -> None:
    """Migration 0028: what release 0027 read wrongly (a state code with "Preferred" after
    it was Morocco; "Anywhere in Country" was worldwide) is decided again; no new version."""
    migrate(scratch, "0027")
    with psycopg.connect(scratch) as conn:
        store_as_parsed(
            conn,
            ("remoteok", "ma", "Remote, Boston, MA Preferred", [], ["MA"], ["Africa"],
             "Worldwide", [], [], "countries", ["MA"], "Other"),
            ("remoteok", "any", "Anywhere in Country", [], [], [], "Worldwide", [], [],
             "worldwide", [], "Other"),
        )  # fmt: skip
        record_current_versions(conn)
    migrate(scratch)
    with psycopg.connect(scratch) as conn:
        rows = conn.execute(
            "SELECT source_job_id, countries, region, subdivisions, eligibility "
            "FROM public.jobs_listings_data ORDER BY 1"
        ).fetchall()
        versions = current_versions(conn, "eligibility")
    assert rows == [
        ("any", [], "Unknown", [], "unknown"),
        ("ma", ["US"], "Worldwide", ["US-MA"], "countries"),
    ]
    assert versions == [("any", "unknown", True), ("ma", "countries", True)]


def test_upgrade_decides_places_again_after_the_second_review(scratch: str) -> None:
    """Migration 0030: what release 0029 read wrongly (a city and its state's code in
    brackets was Morocco; "CA" after a province also the US) is decided again; no new
    version."""
    migrate(scratch, "0029")
    with psycopg.connect(scratch) as conn:
        store_as_parsed(
            conn,
            ("remoteok", "ma", "Hybrid (Boston, MA)", [], ["MA"], ["Africa"], "Africa", [],
             [], "onsite_or_hybrid", ["MA"], "Other"),
            ("remotive", "on", "Toronto, ON, CA", [], ["CA", "US"], ["North America"],
             "North America", ["Toronto"], ["CA-ON", "US-CA"], "countries", ["CA", "US"],
             "Other"),
        )  # fmt: skip
        record_current_versions(conn)
    migrate(scratch, "0030")
    with psycopg.connect(scratch) as conn:
        rows = conn.execute(
            "SELECT source_job_id, countries, region, subdivisions, eligibility, "
            "eligible_countries FROM public.jobs_listings_data ORDER BY 1"
        ).fetchall()
        versions = current_versions(conn, "eligibility")
    assert rows == [
        ("ma", ["US"], "North America", ["US-MA"], "onsite_or_hybrid", ["US"]),
        ("on", ["CA"], "North America", ["CA-ON"], "countries", ["CA"]),
    ]
    assert versions == [("ma", "onsite_or_hybrid", True), ("on", "countries", True)]


def test_an_upgrade_reads_a_list_of_places_as_the_pipeline_does_and_writes_only_changes(
    scratch: str,
) -> None:
    """A Himalayas listing sends its places as a list, and an empty one is anywhere: the
    upgrade reads the staged list as the pipeline does (it read the joined text, an empty
    string, and wrote Unknown). Listings whose places and eligibility do not change are
    not written at all: the same row versions, so the marts see no change."""
    migrate(scratch, "0020")
    with psycopg.connect(scratch) as conn:
        conn.execute(
            "INSERT INTO public.jobs_listings_data (source, source_job_id, title, job_url, "
            "location_raw, tags, countries, regions, region, cities, subdivisions, "
            "eligibility, eligible_countries, utc_offset_min, utc_offset_max, "
            "category_normalised, retrieved_at, first_seen_at, last_seen_at, "
            "last_partition_key) VALUES "
            "('himalayas', 'h', 't', 'https://x/h', '', '{}', '{}', '{}', 'Worldwide', "
            " '{}', '{}', 'timezones', '{}', -8.0, -3.0, 'Other', now(), now(), now(), 'k'),"
            "('remoteok', 'same', 't', 'https://x/s', 'Berlin, Germany', '{}', '{DE}', "
            " '{Europe}', 'Europe', '{Berlin}', '{DE-BE}', 'countries', '{DE}', NULL, NULL, "
            " 'Other', now(), now(), now(), 'k')"
        )
        conn.execute(
            "INSERT INTO staging.staging_jobs_listings_data VALUES "
            "('himalayas', 'k', 'h', %s, now())",
            ('{"guid": "h", "locationRestrictions": [], "timezoneRestrictions": [-8, -3]}',),
        )
        record_current_versions(conn)
        before = dict(conn.execute(
            "SELECT source_job_id, ctid::text FROM public.jobs_listings_data").fetchall())  # fmt: skip
    migrate(scratch)
    with psycopg.connect(scratch) as conn:
        rows = conn.execute(
            "SELECT source_job_id, region, countries, ctid::text FROM public.jobs_listings_data "
            "ORDER BY 1"
        ).fetchall()
        versions = current_versions(conn)
    assert [r[:3] for r in rows] == [("h", "Worldwide", []), ("same", "Europe", ["DE"])]
    assert {r[0]: r[3] for r in rows} == before  # neither row was written again
    assert versions == [("h", True), ("same", True)]


@pytest.mark.parametrize(
    ("revision", "title", "stored", "decided"),
    [
        # 0023: this release's vocabulary
        ("0023", "Sr. Marketing Designer", "Marketing", "Design"),
        # 0029: after the review of listings never seen (a topic is not the job)
        ("0029", "Finance Event Volunteer", "Finance & Legal", "Operations"),
        # 0032: after the second review (role phrases the table lacked)
        ("0032", "Paid Media Manager", "Other", "Marketing"),
    ],
)
def test_upgrade_decides_categories_again(
    scratch: str, revision: str, title: str, stored: str, decided: str
) -> None:
    """Migrations 0023, 0029 and 0032: a listing the release before called `stored` is
    `decided`; a listing whose category does not change is not written; no new version."""
    before = stored_at(
        scratch,
        f"{int(revision) - 1:04d}",
        "INSERT INTO public.jobs_listings_data (source, source_job_id, title, job_url, "
        "tags, region, category_normalised, retrieved_at, first_seen_at, last_seen_at, "
        "last_partition_key) VALUES "
        f"('himalayas', 'c', '{title}', 'https://x/c', '{{}}', 'Unknown', '{stored}', now(), "
        " now(), now(), 'k'),"
        "('himalayas', 's', 'Senior Software Engineer', 'https://x/s', '{}', 'Unknown', "
        " 'Software Development', now(), now(), now(), 'k')",
    )
    rows, versions = upgraded(scratch, "category_normalised", to=revision)
    assert [r[:2] for r in rows] == [("c", decided), ("s", "Software Development")]
    assert rows[1][2] == before["s"]  # unchanged: not written again
    assert versions == [("c", decided, True), ("s", "Software Development", True)]


def test_upgrade_computes_company_keys_again(scratch: str) -> None:
    """Migration 0024: "Open AI" stored as `open` (its "ai" read as a domain's ending)
    blocks with "OpenAI" again; a key that does not change is not written; no new
    version."""
    before = stored_at(
        scratch,
        "0023",
        "INSERT INTO public.jobs_listings_data (source, source_job_id, title, job_url, "
        "tags, region, company_name, company_key, retrieved_at, first_seen_at, "
        "last_seen_at, last_partition_key) VALUES "
        "('himalayas', 'a', 'Engineer', 'https://x/a', '{}', 'Unknown', 'Open AI', "
        " 'open', now(), now(), now(), 'k'),"
        "('remotive', 'b', 'Engineer', 'https://x/b', '{}', 'Unknown', 'OpenAI', "
        " 'openai', now(), now(), now(), 'k'),"
        "('jobicy', 'c', 'Engineer', 'https://x/c', '{}', 'Unknown', NULL, NULL, "
        " now(), now(), now(), 'k')",
    )
    rows, versions = upgraded(scratch, "company_key", to="0024")
    assert [r[:2] for r in rows] == [("a", "openai"), ("b", "openai"), ("c", None)]
    assert rows[1][2] == before["b"] and rows[2][2] == before["c"]  # not written again
    assert versions == [("a", "openai", True), ("b", "openai", True), ("c", None, True)]


def test_upgrade_parses_free_text_salaries_again(scratch: str) -> None:
    """Migration 0031: a Remotive salary release 0030 read as 75,700 alone (a comma after
    the first figure) is 75,700 to 87,500 at the row's own rate; a salary whose parse does not change and a
    structured one are not written; the current version gets the values, no new one."""
    before = stored_at(
        scratch,
        "0030",
        "INSERT INTO public.jobs_listings_data (source, source_job_id, title, job_url, "
        "tags, region, salary_raw, salary_min, salary_max, salary_currency, salary_period, "
        "salary_min_usd, salary_max_usd, salary_usd_rate_date, retrieved_at, first_seen_at, "
        "last_seen_at, last_partition_key) VALUES "
        "('remotive', 'k', 't', 'https://x/k', '{}', 'Unknown', '€75,700, - €87,500', 75700, "
        " 75700, 'EUR', 'year', 83270, 83270, '2026-11-02', now(), now(), now(), 'k'),"
        "('remotive', 'same', 't', 'https://x/s', '{}', 'Unknown', '$100,000 - $120,000', "
        " 100000, 120000, 'USD', 'year', 100000, 120000, '2026-11-02', now(), now(), now(), "
        " 'k'),"
        "('himalayas', 'h', 't', 'https://x/h', '{}', 'Unknown', '677 - 1k EUR / year', "
        " 1000, 677000, 'EUR', 'year', 1100, 744700, '2026-11-02', now(), now(), now(), 'k')",
    )
    migrate(scratch, "0031")
    with psycopg.connect(scratch) as conn:
        rows = conn.execute(
            "SELECT source_job_id, salary_min::float8, salary_max::float8, salary_currency, "
            "salary_min_usd::float8, salary_max_usd::float8, salary_usd_rate_date::text, "
            "ctid::text FROM public.jobs_listings_data ORDER BY 1"
        ).fetchall()
        versions = current_versions(conn, "salary_min::float8", "salary_max::float8")
    assert [r[:7] for r in rows] == [
        ("h", 1000.0, 677000.0, "EUR", 1100.0, 744700.0, "2026-11-02"),  # structured
        ("k", 75700.0, 87500.0, "EUR", 83270.0, 96250.0, "2026-11-02"),  # the row's rate
        ("same", 100000.0, 120000.0, "USD", 100000.0, 120000.0, "2026-11-02"),
    ]
    assert {r[0]: r[7] for r in rows if r[0] != "k"} == {
        key: before[key] for key in ("h", "same")
    }  # not written again
    assert versions == [("h", 1000.0, 677000.0, True), ("k", 75700.0, 87500.0, True),
                        ("same", 100000.0, 120000.0, True)]  # fmt: skip
