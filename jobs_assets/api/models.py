"""Response shapes, for the OpenAPI schema (and the contract tests generated from it)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

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
    "salary": {
        "min": 90000,
        "max": 120000,
        "currency": "EUR",
        "period": "year",
        "min_usd_annual": 97000,
        "max_usd_annual": 130000,
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
    min: float | None
    max: float | None
    currency: str | None
    period: str | None
    min_usd_annual: float | None
    max_usd_annual: float | None


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


class ListingsPage(BaseModel):
    items: list[Listing]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )
    data_version: int


class ListingDetail(BaseModel):
    listing: ListingWithDescription
    history: list[dict[str, Any]] = Field(
        description="Earlier versions of the listing (jobs_listings_history), newest first."
    )
    duplicates: list[Listing] = Field(
        description="Other listings of the same job (its duplicate cluster)."
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
                }
            ]
        }
    )
    rows: list[PostingsDay]
    data_version: int


class SalaryRow(BaseModel):
    region: str | None
    category_normalised: str | None
    seniority: str | None
    listings: int
    p25: float | None
    p50: float | None
    p75: float | None


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


class ValidationProblem(BaseModel):
    message: str = Field(description="What is wrong, naming the parameter.")
    detail: list[dict[str, Any]]
