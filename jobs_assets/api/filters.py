"""The filters of `GET /listings`, defined once: the endpoint's query parameters and a
saved search's `query` (`POST /searches`) are this model, validated by the same rules.

A new filter is one field here (with its limits and description) and its clause in
`queries.where_clauses`; `/listings`, the saved searches, their feed and their delivery all
take it from there. `ListingsParams` adds what only a page of `/listings` has (status,
duplicates, order, cursor, size); `SavedQuery` refuses a name that is not a filter.
"""

from __future__ import annotations

import re
from datetime import date
from enum import Enum, StrEnum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from jobs_assets.lib.listings import queries
from jobs_assets.lib.sources import SOURCES

SourceName = Enum("SourceName", {name: name for name in SOURCES}, type=str)

# PostgreSQL text cannot hold NUL: a value with one is a 422, never a query.
NO_NUL = r"^[^\x00]*$"


class Status(StrEnum):
    active = "active"
    expired = "expired"
    all = "all"


class Sort(StrEnum):
    newest = "newest"
    relevance = "relevance"


def _iso_day(value: object) -> object:
    """Only YYYY-MM-DD: pydantic alone would also read "0" as a Unix time."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("expected a day as YYYY-MM-DD")
    return value


IsoDay = Annotated[date, BeforeValidator(_iso_day)]


class ListingQuery(BaseModel):
    """What a listing must match: every filter of `GET /listings`."""

    q: str | None = Field(
        None,
        max_length=200,
        pattern=NO_NUL,
        description="Full-text search over title, company, tags and description "
        '(web search syntax: words, "quoted phrases", -excluded, or).',
        examples=["python django", '"data engineer" -senior'],
    )
    source: SourceName | None = None
    region: str | None = Field(None, max_length=64, pattern=NO_NUL, examples=["Europe"])
    country: str | None = Field(
        None, pattern=r"^[A-Za-z]{2}$", description="ISO 3166 alpha-2.", examples=["DE"]
    )
    category: str | None = Field(
        None,
        max_length=64,
        pattern=NO_NUL,
        description="The normalised category (category_normalised).",
        examples=["engineering"],
    )
    seniority: str | None = Field(None, max_length=32, pattern=NO_NUL, examples=["senior"])
    job_type: str | None = Field(None, max_length=32, pattern=NO_NUL, examples=["full_time"])
    min_salary_usd: int | None = Field(
        None,
        ge=0,
        le=10_000_000,
        description="The listing's annual USD maximum (its minimum when it gives no "
        "maximum) is at least this.",
        examples=[80000],
    )
    posted_since: IsoDay | None = Field(
        None, description="Only listings posted on or after this day (UTC)."
    )

    @field_validator("country")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.upper() if value else value

    def listing_filters(
        self, status: str = "active", include_duplicates: bool = False
    ) -> queries.ListingFilters:
        """The SQL side's filters (`queries.ListingFilters`)."""
        values = {name: getattr(self, name) for name in ListingQuery.model_fields}
        values["source"] = self.source.value if self.source else None
        return queries.ListingFilters(
            **values, status=status, include_duplicates=include_duplicates
        )

    def stored(self) -> dict:
        """The filters that are set, as JSON (a saved search's `query`)."""
        return self.model_dump(mode="json", exclude_none=True)


class ListingsParams(ListingQuery):
    """`GET /listings`: the filters, and how to page through what matches."""

    status: Status = Status.active
    include_duplicates: bool = Field(
        False, description="false: one listing per duplicate cluster (canonical)."
    )
    sort: Sort = Field(Sort.newest, description="relevance needs q.")
    cursor: str | None = Field(
        None, max_length=600, description="next_cursor of the previous page."
    )
    limit: int = Field(20, ge=1, le=100)

    def filters(self) -> queries.ListingFilters:
        return self.listing_filters(self.status.value, self.include_duplicates)


class SavedQuery(ListingQuery):
    """A saved search's `query`: the filters only (a name that is none of them is a 422)."""

    model_config = ConfigDict(extra="forbid")
