"""Facet counts of GET /listings (`facets=`) on what the pipeline loaded (conftest.py).

Each count is checked against the listings GET /listings itself returns for that value
(every page, through the cursor), never against a number written here; a facet's own
filter is ignored for its counts, the others apply; an unknown facet is a 422 naming
the parameter.
"""

from __future__ import annotations

import re
from collections import Counter

import psycopg
import pytest
from fastapi.testclient import TestClient

from jobs_assets.lib.listings import queries

ALL = list(queries.LISTING_FACETS)
#: where a listing of GET /listings shows a facet's value, when not under its name
#: where a listing of GET /listings carries a facet's value (by default, under its name)
ITEM_VALUES = {
    "category": lambda item: item["category_normalised"],
    "eligibility": lambda item: item["eligibility"]["kind"],
}


def listings(client: TestClient, params: dict) -> list[dict]:
    """Every listing GET /listings returns for `params`, page after page."""
    found, token = [], None
    while True:
        page = client.get(
            "/listings", params=params | {"limit": 100} | ({"cursor": token} if token else {})
        )
        assert page.status_code == 200, page.text
        found += page.json()["items"]
        token = page.json()["next_cursor"]
        if not token:
            return found


def facets(client: TestClient, params: dict, names: list[str] = ALL) -> dict[str, list[dict]]:
    response = client.get("/listings", params=params | {"facets": ",".join(names)})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body["facets"]) == set(names)
    return body["facets"]


def counts(values: list[dict]) -> dict[str, int]:
    return {v["value"]: v["listings"] for v in values}


def assert_counts_match_listings(client: TestClient, params: dict) -> dict[str, list[dict]]:
    """Under `params`, each value's count is what GET /listings returns with that value
    as the facet's filter (in place of the facet's own filter in `params`, if any)."""
    found = facets(client, params)
    for name, values in found.items():
        for value in values:
            matching = listings(client, params | {name: value["value"]})
            assert len(matching) == value["listings"], (name, value, params)
        # every listing params match, the facet's own filter aside, under its one value
        # (a salary band for each listing; other facets count no blank value)
        items = listings(client, {k: v for k, v in params.items() if k != name})
        if name == "salary_band":
            assert sum(v["listings"] for v in values) == len(items)
        else:
            value_of = ITEM_VALUES.get(name, lambda item, name=name: item[name])
            carried = Counter(value_of(i) for i in items if value_of(i) and value_of(i).strip())
            assert counts(values) == dict(carried), name
    return found


def test_every_count_is_what_the_listings_endpoint_returns(client: TestClient) -> None:
    found = assert_counts_match_listings(client, {})
    # the data has something to count in every facet (the test would prove little else)
    assert all(found.values()), found
    assert len(found["source"]) >= 4 and len(found["salary_band"]) >= 3, found
    assert any(v["value"] == "not_stated" for v in found["salary_band"])
    # salary bands in order of pay, other facets the most frequent first
    bands = [v["value"] for v in found["salary_band"]]
    assert bands == [b for b in queries.SALARY_BANDS if b in bands]
    for name in ("source", "region", "category"):
        assert [v["listings"] for v in found[name]] == sorted(
            (v["listings"] for v in found[name]), reverse=True
        )


def test_counts_follow_the_other_filters_and_ignore_their_own(client: TestClient) -> None:
    plain = facets(client, {})
    region = plain["region"][0]["value"]
    source = plain["source"][0]["value"]
    stated = [v for v in plain["salary_band"] if v["value"] != "not_stated"]
    band = max(stated, key=lambda v: v["listings"])["value"]

    by_region = assert_counts_match_listings(client, {"region": region})
    # the region's own counts ignore region=...: every region is still counted, as before
    assert by_region["region"] == plain["region"]
    # the other facets count only that region's listings
    assert sum(v["listings"] for v in by_region["source"]) == plain["region"][0]["listings"]
    assert counts(by_region["source"]) != counts(plain["source"])

    combined = {"source": source, "salary_band": band, "status": "all"}
    by_both = assert_counts_match_listings(client, combined)
    assert counts(by_both["source"]) == counts(
        facets(client, {"salary_band": band, "status": "all"})["source"]
    )
    assert counts(by_both["salary_band"]) == counts(
        facets(client, {"source": source, "status": "all"})["salary_band"]
    )


def test_full_text_and_duplicates_filter_the_counts_too(client: TestClient) -> None:
    assert_counts_match_listings(client, {"q": "engineer"})
    everything = facets(client, {"include_duplicates": "true", "status": "all"}, ["source"])
    default = facets(client, {}, ["source"])
    assert sum(counts(everything["source"]).values()) > sum(counts(default["source"]).values())


def test_get_facets_counts_as_listings_facets_do(client: TestClient) -> None:
    """GET /facets is the same count over active listings, duplicates included."""
    body = client.get("/facets").json()
    same = facets(client, {"include_duplicates": "true"}, list(queries.FACETS.values()))
    for key, name in queries.FACETS.items():
        assert body[key] == same[name], key


def test_later_pages_count_as_the_first_and_answers_are_cached_per_facets(
    client: TestClient,
) -> None:
    first = client.get("/listings", params={"limit": 5, "facets": "source,region"})
    later = client.get(
        "/listings",
        params={"limit": 5, "facets": "source,region", "cursor": first.json()["next_cursor"]},
    )
    assert later.json()["facets"] == first.json()["facets"]
    assert later.json()["items"] != first.json()["items"]
    # the cache keeps one answer per facets asked for: never one for another
    plain = client.get("/listings", params={"limit": 5})
    assert plain.headers["X-Cache"] == "miss" and "facets" not in plain.json()
    again = client.get("/listings", params={"limit": 5, "facets": "source,region"})
    assert again.headers["X-Cache"] == "hit" and again.json() == first.json()
    other = client.get("/listings", params={"limit": 5, "facets": "source"})
    assert other.headers["X-Cache"] == "miss" and set(other.json()["facets"]) == {"source"}


@pytest.mark.parametrize("given", ["source,colour", "regions", "source,,x", "salary"])
def test_an_unknown_facet_is_a_422_naming_the_parameter(client: TestClient, given: str) -> None:
    response = client.get("/listings", params={"facets": given})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["parameter"] == "facets"
    assert body["message"].startswith("facets: unknown facet")
    assert all(name in body["message"] for name in queries.LISTING_FACETS)


def test_an_unknown_salary_band_is_a_422_naming_the_parameter(client: TestClient) -> None:
    response = client.get("/listings", params={"salary_band": "lots"})
    assert response.status_code == 422 and response.json()["parameter"] == "salary_band"


def test_the_schema_describes_the_facets(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    parameters = {p["name"]: p for p in schema["paths"]["/listings"]["get"]["parameters"]}
    pattern = parameters["facets"]["schema"]["pattern"]
    assert re.fullmatch(pattern, ",".join(ALL)) and not re.fullmatch(pattern, "source,colour")
    page = schema["components"]["schemas"]["ListingsPage"]["properties"]["facets"]
    assert page["anyOf"][0]["$ref"].endswith("/ListingFacets")
    described = schema["components"]["schemas"]["ListingFacets"]
    assert set(described["properties"]) == set(ALL)
    assert all(band in described["description"] for band in queries.SALARY_BANDS)


@pytest.mark.parametrize("bound", [50_000, 55_555, 1_500_000])
def test_a_salary_bound_inside_a_counted_step_counts_as_the_listings(
    client: TestClient, bound: int
) -> None:
    """min_salary_usd is read from the counts in whole steps of $10,000 and from the
    listings for the step the bound splits (queries.SALARY_STEP)."""
    found = assert_counts_match_listings(client, {"min_salary_usd": bound})
    if bound < 100_000:  # the data has listings stating such salaries
        assert sum(v["listings"] for v in found["source"]) > 0


# The combination's columns of public.jobs_listing_facet_counts, counted from the listings.
LISTINGS_COUNTED = """
SELECT status, (duplicate_cluster_id IS NULL OR coalesce(is_canonical, false)), source,
       region, category_normalised, seniority, job_type, eligibility,
       public.jobs_salary_band(salary_min_usd, salary_max_usd),
       public.jobs_salary_k(salary_min_usd, salary_max_usd), count(*)
FROM public.jobs_listings_data GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
"""
KEPT = """
SELECT status, shown, source, region, category_normalised, seniority, job_type,
       eligibility, salary_band, salary_k, listings
FROM public.jobs_listing_facet_counts WHERE listings <> 0
"""


def assert_kept_counts_are_the_listings(conn: psycopg.Connection) -> int:
    kept = Counter({tuple(row[:-1]): row[-1] for row in conn.execute(KEPT)})
    counted = Counter({tuple(row[:-1]): row[-1] for row in conn.execute(LISTINGS_COUNTED)})
    assert kept == counted
    return sum(counted.values())


def test_the_counts_the_triggers_keep_are_the_listings_counted(data) -> None:
    """After the pipeline's windows, and after every kind of write in one transaction:
    status and salary updates, copies inserted, deletes, a truncate (migration 0015)."""
    with psycopg.connect(data.conninfo) as conn, conn.transaction(force_rollback=True):
        total = assert_kept_counts_are_the_listings(conn)
        assert total > 100  # the loaded windows
        first = conn.execute("SELECT min(source) FROM public.jobs_listings_data").fetchone()[0]
        conn.execute(
            "UPDATE public.jobs_listings_data SET status = 'expired', expired_at = now() "
            "WHERE source = %s",
            (first,),
        )
        conn.execute(
            "UPDATE public.jobs_listings_data SET salary_max_usd = coalesce(salary_max_usd, "
            "60000) * 3, region = coalesce(region, 'Europe'), is_canonical = NOT is_canonical"
        )
        assert_kept_counts_are_the_listings(conn)
        conn.execute(
            "CREATE TEMP TABLE copies ON COMMIT DROP AS SELECT * FROM public.jobs_listings_data"
        )
        conn.execute("UPDATE copies SET source_job_id = source_job_id || '-copy'")
        conn.execute("INSERT INTO public.jobs_listings_data SELECT * FROM copies")
        assert assert_kept_counts_are_the_listings(conn) == 2 * total
        conn.execute("DELETE FROM public.jobs_listings_data WHERE source_job_id LIKE '%-copy'")
        assert assert_kept_counts_are_the_listings(conn) == total
        conn.execute("TRUNCATE public.jobs_listings_data CASCADE")
        assert assert_kept_counts_are_the_listings(conn) == 0
