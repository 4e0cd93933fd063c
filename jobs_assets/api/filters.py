"""The filters of `GET /listings`, defined once: the endpoint's query parameters and a
saved search's `query` (`POST /searches`) are this model, validated by the same rules.

A new filter is one field here (with its limits and description) and its clause in
`queries.where_clauses`; `/listings`, the saved searches, their feed and their delivery all
take it from there. `ListingsParams` adds what only a page of `/listings` has (status,
duplicates, order, cursor, size); `SavedQuery` refuses a name that is not a filter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum, StrEnum
from typing import Annotated, Any

import psycopg
import pycountry
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from jobs_assets.api import cursor
from jobs_assets.api.models import SALARY_BANDS_TEXT
from jobs_assets.lib.listings import queries
from jobs_assets.lib.listings.quality import REGION_VALUES
from jobs_assets.lib.money.salary import PLAUSIBLE_USD_MAX
from jobs_assets.lib.normalise.categories import VOCABULARY as CATEGORIES
from jobs_assets.lib.normalise.eligibility import KINDS as ELIGIBILITY_KINDS
from jobs_assets.lib.normalise.eligibility import country_offsets, known_countries
from jobs_assets.lib.normalise.rows import JOB_TYPES, SENIORITIES
from jobs_assets.lib.sources import SOURCES

SourceName = Enum("SourceName", {name: name for name in SOURCES}, type=str)
#: `eligible_in`: the countries whose UTC offsets are known, so the schema says which
#: codes exist (any other is a 422 naming the parameter)
CountryCode = Enum("CountryCode", {code: code for code in known_countries()}, type=str)
Eligibility = Enum("Eligibility", {kind: kind for kind in ELIGIBILITY_KINDS}, type=str)
SalaryBand = Enum("SalaryBand", {name: name for name in queries.SALARY_BANDS}, type=str)
#: `facets=`: a comma-separated list of the facets' names (queries.LISTING_FACETS)
_FACET_NAME = "(" + "|".join(queries.LISTING_FACETS) + ")"
FACETS_PATTERN = f"^({_FACET_NAME}(,{_FACET_NAME})*)?$"  # empty: no facet

# PostgreSQL text cannot hold NUL: a value with one is a 422, never a query.
NO_NUL = r"^[^\x00]*$"
#: the longest listing id asked for (GET /listings/{source}/{id}, the MCP server's
#: get_listing): ingestion caps none and some sources' ids are URLs, so generous but bounded
SOURCE_JOB_ID_MAX_LENGTH = 2000
#: a cursor holds a listing's id: one of the longest, in UTF-8 and base64, still fits
#: (and a request line with it stays under the server's 16 KiB)
CURSOR_MAX_LENGTH = 8192
#: the filters a form sends as text: empty, they filter nothing
FREE_TEXT = frozenset({"q", "region", "category", "seniority", "job_type"})


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
    if isinstance(value, (int, float)):  # a JSON number (a saved search's body)
        raise ValueError("expected a day as YYYY-MM-DD, not a number")
    return value


IsoDay = Annotated[date, BeforeValidator(_iso_day)]


NOT_A_COUNTRY = "not an ISO 3166 alpha-2 country code (e.g. DE, US, IN)"


def _known_country(value: object) -> object:
    if not isinstance(value, str) or not value:
        return value  # None, or not text: the enum's own check answers
    if country_offsets(value) is None:
        raise ValueError(f"{value!r} is {NOT_A_COUNTRY}")
    return value.upper()


#: a country code in any case ("de"), in the annotation itself: wherever the field's type
#: is used (the MCP server's tool arguments too), it reads alike
KnownCountry = Annotated[CountryCode, BeforeValidator(_known_country)]


#: every ISO 3166 alpha-2 code, and Kosovo's XK (which the places parser gives it)
COUNTRY_CODES = frozenset(
    {c.alpha_2 for c in pycountry.countries} | set(known_countries()) | {"XK"}
)


def _fold(label: str) -> str:
    """A label as people type it, compared: case, and `-`/`_`/spaces, ignored."""
    return re.sub(r"[-_\s]+", "_", label.strip().casefold())


def vocabulary(
    name: str, values: Iterable[str], what: str = "", max_length: int = 64, blank: bool = True
) -> Any:
    """A closed vocabulary of the listings as a field type: an enum of `values`, read in
    any case and with `-`, `_` or spaces alike (`full-time`, `Full_Time`) as the listings
    spell it; any other value is refused, saying `what` it should be (by default: the
    values there are), and one over `max_length` unread. Its schema lists the values, and
    the empty text when `blank` (a form's empty field: no filter, see `FREE_TEXT`)."""
    values = tuple(values)
    by_fold = {_fold(v): v for v in values}
    what = what or f"none of the listings' values: {', '.join(values)}"

    def spelled(value: object) -> object:
        if not isinstance(value, str) or not value.strip():
            return value  # None, or not text: the enum's own check answers
        if len(value) > max_length:
            raise ValueError(f"String should have at most {max_length} characters")
        if _fold(value) not in by_fold:
            raise ValueError(f"{value!r} is {what}")
        return by_fold[_fold(value)]

    schema = {"type": "string", "enum": [*values, *([""] if blank else [])], "title": name}
    kind = Enum(name, {v: v for v in values}, type=str)
    return Annotated[kind, BeforeValidator(spelled), WithJsonSchema(schema)]


CountryName = vocabulary("CountryName", sorted(COUNTRY_CODES), NOT_A_COUNTRY, blank=False)
RegionName = vocabulary("RegionName", REGION_VALUES)
CategoryName = vocabulary("CategoryName", CATEGORIES)
SeniorityName = vocabulary("SeniorityName", SENIORITIES, max_length=32)
JobType = vocabulary("JobType", JOB_TYPES, max_length=32)

#: PostgreSQL's English stop words (`tsearch_data/english.stop`): the full-text search
#: drops them, so a `q` of nothing else matches no listing
_ENGLISH_STOP = """
i me my myself we our ours ourselves you your yours yourself yourselves he him his himself
she her hers herself it its itself they them their theirs themselves what which who whom
this that these those am is are was were be been being have has had having do does did
doing a an the and but if or because as until while of at by for with about against
between into through during before after above below to from up down in out on off over
under again further then once here there when where why how all any both each few more
most other some such no nor not only own same so than too very s t can will just don
should now
"""
STOP_WORDS = frozenset(_ENGLISH_STOP.split())
_WORD = re.compile(r"[^\W_]+")
#: a `q` of stop words only (each in any case, between any non-word characters); the
#: schema says so too (`not`), so a client generating valid requests from it sends none
STOP_WORDS_ONLY = (
    r"^[\W_]*(?:(?:"
    + "|".join(
        "".join(f"[{c.upper()}{c}]" for c in word)
        for word in sorted(STOP_WORDS, key=lambda w: (-len(w), w))
    )
    + r")(?:[\W_]+|$))+$"
)
_STOP_WORDS_ONLY = re.compile(STOP_WORDS_ONLY)
#: `posted_since` may be at most this many years ahead: a day later than the end of
#: next year is a typo or a sentinel (9999-12-31), and no listing would ever match it
POSTED_SINCE_YEARS_AHEAD = 1


def latest_posted_since() -> date:
    """The latest day `posted_since` takes: the last day of next year (UTC)."""
    return date(datetime.now(UTC).year + POSTED_SINCE_YEARS_AHEAD, 12, 31)


def _years_up_to(year: int) -> str:
    """A regex of the four-digit years 0000..`year` (the schema's `posted_since`)."""
    digits = f"{year:04d}"
    parts = []
    for i, d in enumerate(digits):
        if d != "0":
            parts.append(digits[:i] + f"[0-{int(d) - 1}]" + r"\d" * (3 - i))
    parts.append(digits)
    return "(?:" + "|".join(parts) + ")"


class ListingQuery(BaseModel):
    """What a listing must match: every filter of `GET /listings`."""

    q: str | None = Field(
        None,
        max_length=200,
        pattern=NO_NUL,
        description="Full-text search over title, company, tags and description "
        '(web search syntax: words, "quoted phrases", -excluded, or). English stop words '
        '("the", "and", "it") are ignored, so a q of nothing else is refused.',
        examples=["python django", '"data engineer" -senior'],
        json_schema_extra={"not": {"type": "string", "pattern": STOP_WORDS_ONLY}},
    )
    source: SourceName | None = None
    region: RegionName | None = Field(
        None,
        description="The listing's region: " + ", ".join(REGION_VALUES) + " (any case).",
        examples=["Europe"],
    )
    country: CountryName | None = Field(
        None, description="ISO 3166 alpha-2 (any case).", examples=["DE"]
    )
    eligible_in: KnownCountry | None = Field(
        None,
        description="ISO 3166 alpha-2: listings a person in that country may apply to: "
        "worldwide ones, those whose eligible_countries hold it, and time-zone-only ones "
        "whose band meets one of the country's UTC offsets.",
        examples=["DE"],
    )
    utc_offset: float | None = Field(
        None,
        ge=-12,
        le=14,
        allow_inf_nan=False,
        description="Hours from UTC (+1, -5, 5.5): listings whose stated time-zone band "
        "contains it, and worldwide ones.",
        examples=[1],
    )
    eligibility: Eligibility | None = Field(
        None, description="Who may apply: " + ", ".join(ELIGIBILITY_KINDS) + "."
    )
    category: CategoryName | None = Field(
        None,
        description="The normalised category (category_normalised): "
        + ", ".join(CATEGORIES)
        + " (any case).",
        examples=["Software Development"],
    )
    seniority: SeniorityName | None = Field(
        None, description=", ".join(SENIORITIES) + " (any case).", examples=["senior"]
    )
    job_type: JobType | None = Field(
        None,
        description=", ".join(JOB_TYPES) + " (any case; `full-time` reads as `full_time`).",
        examples=["full_time"],
    )
    min_salary_usd: int | None = Field(
        None,
        ge=0,
        le=int(PLAUSIBLE_USD_MAX),
        description="The listing's annual USD maximum (its minimum when it gives no "
        f"maximum) is at least this; at most {int(PLAUSIBLE_USD_MAX):,}, the highest "
        "annual figure the pipeline keeps (a higher one is a data error it drops).",
        examples=[80000],
    )
    salary_band: SalaryBand | None = Field(
        None, description=SALARY_BANDS_TEXT, examples=["100k_150k"]
    )
    posted_since: IsoDay | None = Field(
        None,
        description="Only listings posted on or after this day (UTC); at most the end of "
        "next year.",
        json_schema_extra={
            "pattern": f"^{_years_up_to(latest_posted_since().year)}-\\d{{2}}-\\d{{2}}$"
        },
    )

    @model_validator(mode="before")
    @classmethod
    def _empty_is_absent(cls, values: object) -> object:
        """A free-text filter given empty ("?q=", a form's empty field, `"seniority": ""`)
        is one not given, everywhere alike: `/listings`, a saved search's feed and its
        messages (an empty `q` once matched nothing on the page and everything in the
        webhook). A typed filter given empty (a day, a number, a name of a list) stays a
        422, as its schema says."""
        if isinstance(values, dict):
            return {
                k: v
                for k, v in values.items()
                if not (k in FREE_TEXT and isinstance(v, str) and not v.strip())
            }
        return values

    @field_validator("q")
    @classmethod
    def _searchable(cls, value: str | None) -> str | None:
        why = value and queries.unsearchable(value)
        if why:
            raise ValueError(why)
        if value and _STOP_WORDS_ONLY.search(value):
            words = dict.fromkeys(word.lower() for word in _WORD.findall(value))
            raise ValueError(
                f"{value!r} holds only words the full-text search ignores (English stop "
                f"words: {', '.join(words)}), so it would match no listing; add a word "
                "that says what to look for"
            )
        return value

    @field_validator("posted_since")
    @classmethod
    def _not_far_ahead(cls, value: date | None) -> date | None:
        latest = latest_posted_since()
        if value is not None and value > latest:
            raise ValueError(
                f"{value.isoformat()} is too far ahead: no listing is posted then; give a "
                f"day up to {latest.isoformat()}"
            )
        return value

    @field_validator("utc_offset", "min_salary_usd", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: object) -> object:
        if isinstance(value, bool):  # JSON true/false is not a number (pydantic would coerce)
            raise ValueError("expected a number, not true or false")
        return value

    def listing_filters(
        self, status: str = "active", include_duplicates: bool = False
    ) -> queries.ListingFilters:
        """The SQL side's filters (`queries.ListingFilters`)."""
        values = {name: getattr(self, name) for name in ListingQuery.model_fields}
        for name, value in values.items():
            if isinstance(value, Enum):  # the source, labels, band, eligibility: their text
                values[name] = value.value
        values["eligible_in_offsets"] = (
            country_offsets(self.eligible_in.value) if self.eligible_in else None
        )
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
        None, max_length=CURSOR_MAX_LENGTH, description="next_cursor of the previous page."
    )
    limit: int = Field(20, ge=1, le=100)
    facets: str | None = Field(
        None,
        max_length=200,
        description="Also count the listings per value of these facets "
        "(comma-separated: " + ", ".join(queries.LISTING_FACETS) + "), each "
        "under the other filters (a facet's own filter is ignored for its counts).",
        examples=["source,region,salary_band"],
        # the schema says which names exist; the check says it in a sentence
        json_schema_extra={"pattern": FACETS_PATTERN},
    )

    def filters(self) -> queries.ListingFilters:
        return self.listing_filters(self.status.value, self.include_duplicates)


class SavedQuery(ListingQuery):
    """A saved search's `query`: the filters only (a name that is none of them is a 422)."""

    model_config = ConfigDict(extra="forbid")


class BadParameter(ValueError):
    """A parameter that passed its own validation but does not fit the request."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter, self.message = parameter, message


@dataclass(frozen=True)
class ListingsRequest:
    """One page of GET /listings, checked: its filters, where it starts, what it counts."""

    filters: queries.ListingFilters
    sort: str
    limit: int
    facets: list[str]
    digest: str  # the filters and sort: a cursor belongs to one query
    cursor: str | None = None
    snapshot: datetime | None = None
    after: tuple[Any, str, str] | None = None


def listings_request(
    query: ListingQuery,
    sort: Sort = Sort.newest,
    cursor_token: str | None = None,
    limit: int = 20,
    facets: str | None = None,
    status: str = "active",
    include_duplicates: bool = False,
) -> ListingsRequest:
    """The page asked for (`/listings`, the MCP server's search); `BadParameter` when the
    parameters do not fit together."""
    if sort is Sort.relevance and not query.q:
        raise BadParameter("sort", "sort=relevance needs a search query q")
    names = facets.split(",") if facets else []  # exactly FACETS_PATTERN: no blank, no space
    unknown = [name for name in names if name not in queries.LISTING_FACETS]
    if unknown:
        raise BadParameter(
            "facets",
            f"unknown facet {unknown[0]!r}; give a comma-separated list of "
            + ", ".join(queries.LISTING_FACETS),
        )
    filters = query.listing_filters(status, include_duplicates)
    digest = cursor.query_digest(vars(filters) | {"sort": sort.value})
    snapshot = after = None
    if cursor_token is not None:
        try:
            snapshot, after = cursor.decode(cursor_token, sort.value, digest)
        except cursor.CursorError as err:
            raise BadParameter("cursor", str(err)) from None
    facet_names = list(dict.fromkeys(names))
    return ListingsRequest(
        filters, sort.value, limit, facet_names, digest, cursor_token, snapshot, after
    )


def listings_page(conn: psycopg.Connection, wanted: ListingsRequest) -> dict:
    """The page's listings, the cursor to the next page, and the facet counts asked for."""
    snap = wanted.snapshot if wanted.cursor is not None else queries.snapshot(conn)
    keyset = queries.Keyset(snap, wanted.after)
    items, last = queries.search_listings(conn, wanted.filters, wanted.sort, keyset, wanted.limit)
    token = cursor.encode(wanted.sort, wanted.digest, snap, last) if last else None
    body: dict[str, Any] = {"items": items, "next_cursor": token}
    if wanted.facets:  # a later page counts under its first page's snapshot
        bound = wanted.snapshot if wanted.cursor is not None else None
        body["facets"] = queries.facet_counts(conn, wanted.filters, wanted.facets, bound)
    return body
