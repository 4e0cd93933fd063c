"""Response shapes, for the OpenAPI schema (and the contract tests generated from it)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from jobs_assets.lib.listings.queries import LISTING_FACETS, SALARY_BANDS
from jobs_assets.lib.sources import SOURCES

#: the examples show the first registered source
_SOURCE = next(iter(SOURCES.values()))
_JOB_URL = f"{_SOURCE.home_url}/remote-jobs/software-dev/senior-python-engineer-1234567"

_LISTING_EXAMPLE = {
    "source": _SOURCE.name,
    "source_job_id": "1234567",
    "title": "Senior Python Engineer",
    "company": "Acme Remote",
    "company_logo_url": f"{_SOURCE.home_url}/job/1234567/logo",
    "job_url": _JOB_URL,
    "job_type": "full_time",
    "seniority": "senior",
    "category": "Software Development",
    "category_normalised": "engineering",
    "tags": ["python", "django"],
    "location": "Europe",
    "countries": [],
    "regions": ["Europe"],
    "region": "Europe",
    "eligibility": {
        "kind": "regions",
        "countries": ["AT", "BE", "DE", "FR", "NL", "PL"],
        "utc_offset_min": None,
        "utc_offset_max": None,
    },
    "salary": {
        "min_annual": 90000,
        "max_annual": 120000,
        "currency": "EUR",
        "min_usd_annual": 97000,
        "max_usd_annual": 130000,
        "original_period": "year",
        "as_written": "€90k - €120k",
    },
    "published_at": "2026-11-30T08:00:00+00:00",
    "first_seen_at": "2026-11-30T06:00:00+00:00",
    "last_seen_at": "2026-12-01T00:00:00+00:00",
    "status": "active",
    "expired_at": None,
    "duplicate_cluster_id": None,
    "is_canonical": None,
    "attribution": {
        "source_name": _SOURCE.display_name,
        "url": _JOB_URL,
        "text": f"Listing from {_SOURCE.display_name}",
    },
}


class Attribution(BaseModel):
    """Who published the listing and where to read it: the sources' terms ask for both."""

    source_name: str
    url: str | None
    text: str


class Salary(BaseModel):
    """Every amount is a year's pay: an hourly or monthly figure is annualised by the
    pipeline; `original_period` says what the source quoted."""

    min_annual: float | None = Field(description="Lower bound a year, in `currency`.")
    max_annual: float | None = Field(description="Upper bound a year, in `currency`.")
    currency: str | None = Field(description="ISO 4217 code of the listing's salary.")
    min_usd_annual: float | None = Field(description="Lower bound a year in US dollars (ECB).")
    max_usd_annual: float | None = Field(description="Upper bound a year in US dollars (ECB).")
    original_period: str | None = Field(
        description="The period the source quoted (year, month, week, day, hour), before "
        "the amounts were annualised."
    )
    as_written: str | None = Field(description="The salary as the source wrote it.")


class Eligibility(BaseModel):
    """Who may apply (lib/normalise/eligibility.py), read from the location and the source's fields."""

    kind: str = Field(
        description="worldwide, regions, countries, timezones, onsite_or_hybrid or unknown."
    )
    countries: list[str] = Field(
        description="ISO 3166-1 alpha-2 codes of the countries whose residents may apply "
        "(regions expanded, 'except X' removed); empty for worldwide, timezones, unknown."
    )
    utc_offset_min: float | None = Field(
        description="West end of the stated time-zone band, hours from UTC (null: none)."
    )
    utc_offset_max: float | None = Field(
        description="East end of the stated time-zone band, hours from UTC (null: none)."
    )


class Listing(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_LISTING_EXAMPLE]})

    source: str
    source_job_id: str
    title: str | None
    company: str | None
    company_logo_url: str | None
    job_url: str | None
    job_type: str | None
    seniority: str | None
    category: str | None
    category_normalised: str | None
    tags: list[str]
    location: str | None
    countries: list[str]
    regions: list[str]
    region: str
    eligibility: Eligibility
    salary: Salary
    published_at: str | None
    first_seen_at: str
    last_seen_at: str
    status: str | None
    expired_at: str | None
    duplicate_cluster_id: str | None
    is_canonical: bool | None
    attribution: Attribution


class ListingWithDescription(Listing):
    description_text: str | None


class ListingDetail(BaseModel):
    listing: ListingWithDescription
    history: list[dict[str, Any]] = Field(
        description="Earlier versions of the listing (jobs_listings_history), newest first."
    )
    duplicates: list[Listing] = Field(
        description="Other listings of the same job (its duplicate cluster)."
    )


_MARTS_BUILT = (
    "When dbt last built the marts (null before the first build, or when the API's role "
    "may not read the build stamp: then these answers are never cached)."
)


class PostingsDay(BaseModel):
    day: str
    source: str
    new_listings: int
    active_listings: int
    expired_listings: int


class PostingsStats(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "rows": [
                        {
                            "day": "2026-11-30",
                            "source": _SOURCE.name,
                            "new_listings": 42,
                            "active_listings": 950,
                            "expired_listings": 12,
                        }
                    ],
                    "data_version": 7,
                    "marts_built_at": "2026-11-30T04:05:00+00:00",
                }
            ]
        }
    )
    rows: list[PostingsDay]
    data_version: int
    marts_built_at: str | None = Field(description=_MARTS_BUILT)


class SalaryRow(BaseModel):
    region: str | None
    category_normalised: str | None
    seniority: str | None
    listings: int
    p25_usd: float | None = Field(description="25th percentile, annual USD.")
    p50_usd: float | None = Field(description="Median, annual USD.")
    p75_usd: float | None = Field(description="75th percentile, annual USD.")


class RegionSalary(BaseModel):
    region: str | None
    listings: int
    median_usd: float | None = Field(
        description="Listing-weighted mean of the groups' medians: the region's median, "
        "approximately (annual USD)."
    )


class SalaryStats(BaseModel):
    rows: list[SalaryRow]
    regions: list[RegionSalary]
    note: str | None = Field(
        description="Why `rows` is empty (cells need 5 listings, or none matches the "
        "filters); null when there are rows."
    )
    data_version: int
    marts_built_at: str | None = Field(description=_MARTS_BUILT)


class FacetValue(BaseModel):
    value: str
    listings: int = Field(
        description="Listings with this value: active ones for GET /facets; for "
        "GET /listings?facets=, those the request's filters match (the facet's own aside)."
    )


def _salary_bands() -> str:
    def usd(amount: int) -> str:
        return f"${amount:,}"

    bands = []
    for band, bounds in SALARY_BANDS.items():
        if bounds is None:
            bands.append(f"`{band}` (no USD figure)")
        elif bounds[0] is None:
            bands.append(f"`{band}` (below {usd(bounds[1])})")
        elif bounds[1] is None:
            bands.append(f"`{band}` ({usd(bounds[0])} or more)")
        else:
            bands.append(f"`{band}` ({usd(bounds[0])} to below {usd(bounds[1])})")
    return ", ".join(bands)


#: the salary bands, described once for the schema (parameter and facet)
SALARY_BANDS_TEXT = (
    "Annual USD salary bands, on the figure `min_salary_usd` compares (the listing's USD "
    "maximum a year, else its minimum): " + _salary_bands() + "."
)

#: one field per facet of queries.LISTING_FACETS: adding a facet there adds it here
ListingFacets = create_model(
    "ListingFacets",
    __doc__="Counts per value of each facet asked for (`facets=`), under the request's "
    "filters except the facet's own: with region=Europe, `region` still counts every "
    "region. Values are those the facet's filter takes; blank values are not counted. "
    "The most frequent value first (`salary_band`: in order of pay), at most 500 each. "
    + SALARY_BANDS_TEXT,
    **{
        name: (
            list[FacetValue] | None,
            Field(None, description=f"Listings per `{name}` (only when asked for)."),
        )
        for name in LISTING_FACETS
    },
)


class ListingsPage(BaseModel):
    items: list[Listing]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )
    facets: ListingFacets | None = Field(  # type: ignore[valid-type]
        None, description="Only with `facets=`: counts per value of each facet asked for."
    )
    data_version: int


class Facets(BaseModel):
    """The values the filters of GET /listings can match (compared ignoring case)."""

    regions: list[FacetValue]
    categories: list[FacetValue]
    seniorities: list[FacetValue]
    job_types: list[FacetValue]
    data_version: int


class DatabaseHealth(BaseModel):
    ok: bool
    error: str | None = None


class CacheHealth(BaseModel):
    backend: str = Field(description='"redis" or "memory"')
    status: str = Field(description='"ok", or "degraded" when answers bypass the cache')


class DataHealth(BaseModel):
    version: int
    latest_window: str | None
    loaded_at: str | None
    age_seconds: float | None


class Health(BaseModel):
    status: str = Field(description='"ok", "degraded" (cache) or "down" (database)')
    database: DatabaseHealth
    cache: CacheHealth
    data: DataHealth | None


class Problem(BaseModel):
    """Every error answer (404, 422, 503): the same shape."""

    message: str = Field(description="What is wrong, naming the parameter, and what to do.")
    parameter: str | None = Field(
        description="The parameter to blame (the first, when several are), if any."
    )
    detail: list[dict[str, Any]]
