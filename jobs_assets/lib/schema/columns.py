"""The column contract: one declaration of each table, from which the rest is derived.

`LISTINGS` declares `public.jobs_listings_data` column by column: its SQL type, whether
it may be NULL and its default, how the normaliser's value is rendered for COPY, which
fields a source must extract to fill it, whether every listing must have it (a quality
rule), and what it means. From it come the extract list (`EXTRACTED`), the columns the
normaliser fills (`OUTPUT_COLUMNS`), the COPY rendering (`lib/listings/copy_text.py`),
the required-column checks (`lib/listings/quality.py`), the `dagster/column_schema` metadata of
`jobs_listings` and `staged_listings`, and the DDL a migration must produce.

The history table (`HISTORY`: the `versioned` columns, then valid_from, valid_to and
row_hash) and the views over the listings (`VIEWS`: every column of the table) follow
from `LISTINGS` too.

The tables themselves change only through migrations (`jobs_assets/migrations/`).
Adding a column takes:

1. one `Column(...)` at the end of `LISTINGS` here (new columns go last: that is where
   `ALTER TABLE .. ADD COLUMN` puts them), and, when it needs a new field from the
   sources, its name in `inputs` plus that field in each source's `fields`;
2. one migration file `jobs_assets/migrations/versions/NNNN_<what>.py` whose `upgrade`
   runs, as text pasted in, what `new_column_sql(column)` prints: the column added to
   the listings, to the history (when versions keep it) and the views created again
   (`0009_views_follow_the_contract.py` is the example), with `down_revision` the
   previous head.

`jobs_assets_tests/test_schema.py` migrates a fresh database and fails, naming the
column and printing that SQL, until the migrated table, the history and the views
have every column the contract declares, with its type.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Render(enum.Enum):
    """How a normalised value becomes COPY text (see `lib/listings/copy_text.py`)."""

    TEXT = "text"  # str, escaped for COPY
    PLAIN_TEXT = "plain_text"  # str known to hold no tab or carriage return
    ARRAY = "array"  # a list of str as a PostgreSQL array literal
    TIMESTAMP = "timestamp"  # an instant, ISO with microseconds and Z
    VALUE = "value"  # a number or a date, as psycopg would send it
    WINDOW = "window"  # not from the normaliser: set by the upsert from the window
    LIFECYCLE = (
        "lifecycle"  # not from the normaliser: kept by `lib/identity/lifecycle.py` after the upsert
    )
    GENERATED = "generated"  # computed by PostgreSQL (GENERATED ALWAYS AS ... STORED)
    STAMPED = "stamped"  # set by a PostgreSQL trigger on insert and update


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    description: str
    nullable: bool = True
    default: str | None = None  # an SQL expression
    render: Render = Render.TEXT
    required: bool = False  # every listing must have a value (a blocking quality rule)
    inputs: tuple[str, ...] = ()  # the fields each source extracts to fill it
    check: str | None = None  # a CHECK constraint on the column (SQL expression)
    generated: str | None = None  # GENERATED ALWAYS AS (this) STORED (Render.GENERATED)
    #: kept in every version in the history (`HISTORY`); what PostgreSQL computes never is
    versioned: bool = True

    @property
    def by_postgres(self) -> bool:
        """PostgreSQL writes it (generated or stamped): never copied or inserted by us."""
        return self.render in (Render.GENERATED, Render.STAMPED)

    def ddl(self) -> str:
        """The column's definition, as in CREATE TABLE or ALTER TABLE .. ADD COLUMN."""
        out = f"{self.name} {self.sql_type}"
        if self.generated is not None:
            return f"{out} GENERATED ALWAYS AS ({self.generated}) STORED"
        if not self.nullable:
            out += " NOT NULL"
        if self.default is not None:
            out += f" DEFAULT {self.default}"
        if self.check is not None:
            out += f" CHECK ({self.check})"
        return out


@dataclass(frozen=True)
class Table:
    name: str  # schema-qualified
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    description: str

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r}")

    def ddl(self) -> str:
        """CREATE TABLE as the contract says (what the migrations must have produced)."""
        lines = [c.ddl() for c in self.columns]
        lines.append(f"PRIMARY KEY ({', '.join(self.primary_key)})")
        body = ",\n    ".join(lines)
        return f"CREATE TABLE {self.name} (\n    {body}\n)"


#: the full-text vector of the read API (migration 0003, a generated column then, which may
#: call only IMMUTABLE functions, hence `public.jobs_tags_text`; the trigger of migration
#: 0013 computes the same expression on the row being written)
SEARCH_VECTOR_SQL = (
    "setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')"
    " || setweight(to_tsvector('english'::regconfig, coalesce(company_name, '')), 'B')"
    " || setweight(to_tsvector('english'::regconfig, public.jobs_tags_text(tags)), 'C')"
    " || setweight(to_tsvector('english'::regconfig, "
    "left(coalesce(description_text, ''), 100000)), 'D')"
)
_SALARY_INPUTS = ("salary_text", "salary_min", "salary_max", "salary_period", "salary_currency")
_LOCATION_INPUTS = ("location_text", "location_json")
_ELIGIBILITY_INPUTS = (*_LOCATION_INPUTS, "timezones_json", "remote_flag")

LISTINGS = Table(
    name="public.jobs_listings_data",
    primary_key=("source", "source_job_id"),
    description="One row per listing, with common column names across sources.",
    columns=(
        Column("source", "text", "Source name (a key of the source registry).",
               nullable=False, required=True),
        Column("source_job_id", "text", "The listing's id at its source.",
               nullable=False, required=True),
        Column("title", "text", "Job title, HTML entities decoded.",
               required=True, inputs=("title",)),
        Column("company_name", "text", "Hiring company.", inputs=("company_name",)),
        Column("job_url", "text", "Link to the listing at its source (http or https only).",
               required=True, inputs=("job_url",)),
        Column("company_logo_url", "text", "Company logo (http or https only).",
               inputs=("company_logo_url",)),
        Column("job_type", "text", "full_time, part_time, contract, freelance, internship, "
               "temporary, volunteer or other.", inputs=("job_type",)),
        Column("seniority", "text", "entry, mid, senior, manager, director or executive.",
               inputs=("seniority",)),
        Column("category", "text", "The source's category, as given.", inputs=("category",)),
        Column("tags", "text[]", "Tags, trimmed and deduplicated.", nullable=False,
               default="'{}'", render=Render.ARRAY, inputs=("tags_json",)),
        Column("location_raw", "text", "The location restriction as the source wrote it.",
               inputs=_LOCATION_INPUTS),
        Column("countries", "text[]", "ISO 3166-1 alpha-2 codes of the countries named.",
               nullable=False, default="'{}'", render=Render.ARRAY, inputs=_LOCATION_INPUTS),
        Column("regions", "text[]", "Every region the location covers.", nullable=False,
               default="'{}'", render=Render.ARRAY, inputs=_LOCATION_INPUTS),
        Column("region", "text", "One region, or worldwide, multiple or unknown.",
               nullable=False, required=True, inputs=_LOCATION_INPUTS),
        Column("salary_raw", "text", "The salary as the source wrote it (or rendered from "
               "its structured fields).", inputs=_SALARY_INPUTS),
        Column("salary_min", "numeric", "Lower bound, annualised, in salary_currency.",
               render=Render.VALUE, inputs=_SALARY_INPUTS),
        Column("salary_max", "numeric", "Upper bound, annualised, in salary_currency.",
               render=Render.VALUE, inputs=_SALARY_INPUTS),
        Column("salary_currency", "text", "ISO 4217 code.", inputs=_SALARY_INPUTS),
        Column("salary_period", "text", "The period the source quoted (year, month, hour...).",
               inputs=_SALARY_INPUTS),
        Column("salary_min_usd", "numeric", "salary_min in US dollars (ECB rate).",
               render=Render.VALUE, inputs=_SALARY_INPUTS),
        Column("salary_max_usd", "numeric", "salary_max in US dollars (ECB rate).",
               render=Render.VALUE, inputs=_SALARY_INPUTS),
        Column("salary_usd_rate_date", "date", "Date of the ECB rate used for the USD amounts.",
               render=Render.VALUE, inputs=_SALARY_INPUTS),
        Column("description_text", "text", "Plain text of the description (at most 100,000 "
               "characters; scripts, styles and tracking pixels dropped).",
               render=Render.PLAIN_TEXT, inputs=("description_html",)),
        Column("published_at", "timestamptz", "When the source published the listing.",
               render=Render.TIMESTAMP, inputs=("published",)),
        Column("expires_at", "timestamptz", "When the source says the listing expires.",
               render=Render.TIMESTAMP, inputs=("expires",)),
        Column("retrieved_at", "timestamptz", "When the response holding it was received.",
               nullable=False, required=True, render=Render.TIMESTAMP),
        Column("first_seen_at", "timestamptz", "Start of the earliest window that had it.",
               nullable=False, required=True, render=Render.WINDOW),
        Column("last_seen_at", "timestamptz", "Start of the latest window that had it.",
               nullable=False, required=True, render=Render.WINDOW),
        Column("last_partition_key", "text", "Key of the latest window that had it.",
               nullable=False, render=Render.WINDOW),
        # migration 0002: listing identity (lib/identity/lifecycle.py, lib/identity)
        Column("status", "text", "active, or expired once a complete fetch of its source "
               "(or the source's own rule) proved it gone.", nullable=False,
               default="'active'::text", render=Render.LIFECYCLE,
               check="status = ANY (ARRAY['active'::text, 'expired'::text])"),
        Column("expired_at", "timestamptz", "Start of the window that proved it gone "
               "(NULL while active).", render=Render.LIFECYCLE),
        Column("reactivated_count", "integer", "How often it came back after expiring.",
               nullable=False, default="0", render=Render.LIFECYCLE),
        Column("duplicate_cluster_id", "text", "source:source_job_id of the canonical "
               "listing of its duplicate cluster (itself when alone).",
               render=Render.LIFECYCLE, versioned=False),
        Column("is_canonical", "boolean", "True for the one listing that speaks for its "
               "cluster (earliest first_seen_at, then the source order).",
               render=Render.LIFECYCLE, versioned=False),
        Column("category_normalised", "text", "The shared category vocabulary "
               "(lib/normalise/categories.py): from category, else from the tags.",
               render=Render.PLAIN_TEXT),
        Column("company_key", "text", "Folded company name (lib/identity/text.py), the "
               "duplicate matcher's blocking key.", inputs=("company_name",)),
        # migration 0003: the read API's full-text column; since 0013 set by a trigger
        # (jobs_listings_data_search_vector) when its text changes, not GENERATED: a
        # generated column was parsed again on every UPDATE of the row (issue 25)
        Column("search_vector", "tsvector", "Weighted full text of title, company, tags "
               "and description (SEARCH_VECTOR_SQL, set by a PostgreSQL trigger whenever "
               "they change).", render=Render.STAMPED),
        # migration 0006: change tracking for the incremental marts (jobs_assets/dbt)
        Column("changed_xid", "xid8", "Transaction that last inserted or updated the row "
               "(trigger jobs_listings_data_stamp_change; NULL: unchanged since the "
               "migration). The marts refresh the listings changed since their last build.",
               render=Render.STAMPED),
        # migration 0010: places as a gazetteer knows them (lib/normalise/location.py, lib/normalise/gazetteer.py)
        Column("cities", "text[]", "Cities the location names (GeoNames English names).",
               nullable=False, default="'{}'", render=Render.ARRAY, inputs=_LOCATION_INPUTS),
        Column("subdivisions", "text[]", "ISO 3166-2 codes of the states, provinces and "
               "regions the location names.", nullable=False, default="'{}'",
               render=Render.ARRAY, inputs=_LOCATION_INPUTS),
        # migration 0012: who may apply (lib/normalise/eligibility.py)
        Column("eligibility", "text", "Who may apply: worldwide, regions, countries, "
               "timezones, onsite_or_hybrid or unknown.", nullable=False,
               default="'unknown'::text", inputs=_ELIGIBILITY_INPUTS),
        Column("eligible_countries", "text[]", "ISO 3166-1 alpha-2 codes of the countries "
               "whose residents may apply (regions expanded, exclusions removed; empty for "
               "worldwide, timezones and unknown).", nullable=False, default="'{}'",
               render=Render.ARRAY, inputs=_ELIGIBILITY_INPUTS),
        Column("utc_offset_min", "numeric", "West end of the stated time-zone band (hours "
               "from UTC), NULL when none is stated.", render=Render.VALUE,
               inputs=_ELIGIBILITY_INPUTS),
        Column("utc_offset_max", "numeric", "East end of the stated time-zone band (hours "
               "from UTC), NULL when none is stated.", render=Render.VALUE,
               inputs=_ELIGIBILITY_INPUTS),
    ),
)  # fmt: skip

STAGING = Table(
    name="staging.staging_jobs_listings_data",
    primary_key=("source", "partition_key", "source_job_id"),
    description="Each window's listings as received, one JSONB payload per listing.",
    columns=(
        Column("source", "text", "Source name.", nullable=False),
        Column("partition_key", "text", "The window's key.", nullable=False),
        Column("source_job_id", "text", "The listing's id at its source.", nullable=False),
        Column("payload", "jsonb", "The listing exactly as the source sent it.",
               nullable=False),
        Column("retrieved_at", "timestamptz", "When the response holding it was received.",
               nullable=False),
    ),
)  # fmt: skip


@dataclass(frozen=True)
class View:
    """A view over the listings. Its `select` names the table's columns with `*`, which
    PostgreSQL expands once, when the view is created: a column added to the table later
    reaches the view only when a migration creates the view again (`views_sql`)."""

    name: str  # schema-qualified
    description: str
    select: str
    columns: tuple[Column, ...]


def versioned_columns(listings: Table) -> tuple[Column, ...]:
    """The listing columns each version in the history keeps, in table order: the content
    and lifecycle, not the cluster columns (which listing speaks for a cluster is not the
    listing's content) nor what PostgreSQL computes."""
    return tuple(c for c in listings.columns if c.versioned and not c.by_postgres)


def history_table(listings: Table) -> Table:
    """`public.jobs_listings_history` as it follows the listings: every versioned column
    with its type, then when the version held and its hash."""
    return Table(
        name="public.jobs_listings_history",
        primary_key=("source", "source_job_id", "valid_from"),
        description="One row per version of a listing (lib/identity/history.py); valid_to is NULL "
        "for the current one.",
        columns=versioned_columns(listings) + (
            Column("valid_from", "timestamptz", "Start of the window that brought the "
                   "version.", nullable=False),
            Column("valid_to", "timestamptz", "When the next version replaced it (NULL: "
                   "the current version)."),
            Column("row_hash", "text", "MD5 of the version's content (lib/identity/history.py "
                   "HASHED): a new version starts only when it changes.", nullable=False),
        ),
    )  # fmt: skip


def listing_views(listings: Table) -> tuple[View, ...]:
    """The views over the listings, each after the views it reads: both show every
    column of the table."""
    current = View(
        name="public.jobs_listings_current",
        description="Active listings, one per duplicate cluster (a listing not yet "
        "clustered stands alone): every column of the listings.",
        select="SELECT * FROM public.jobs_listings_data\n"
        "    WHERE status = 'active' AND (duplicate_cluster_id IS NULL OR is_canonical)",
        columns=listings.columns,
    )
    with_estimates = View(
        name="public.jobs_listings_current_with_estimates",
        description="Active, canonical listings; salary_min_usd/salary_max_usd as stated, "
        "and the salary model's annual USD estimate with its 80% interval (NULL until "
        "estimated).",
        select="SELECT c.*,\n"
        "       e.estimate      AS salary_estimate_usd,\n"
        "       e.low           AS salary_estimate_low_usd,\n"
        "       e.high          AS salary_estimate_high_usd,\n"
        "       e.model_version AS salary_model_version,\n"
        "       e.predicted_at  AS salary_predicted_at\n"
        "FROM public.jobs_listings_current c\n"
        "LEFT JOIN ml.salary_estimates e USING (source, source_job_id)",
        columns=listings.columns + (
            Column("salary_estimate_usd", "numeric(12,2)", "The salary model's annual USD "
                   "estimate."),
            Column("salary_estimate_low_usd", "numeric(12,2)", "Low end of its 80% interval."),
            Column("salary_estimate_high_usd", "numeric(12,2)", "High end of its 80% "
                   "interval."),
            Column("salary_model_version", "integer", "The model that made the estimate."),
            Column("salary_predicted_at", "timestamptz", "When it was estimated."),
        ),
    )  # fmt: skip
    return (current, with_estimates)


HISTORY = history_table(LISTINGS)
VIEWS: tuple[View, ...] = listing_views(LISTINGS)


def views_sql(views: tuple[View, ...] = VIEWS) -> str:
    """SQL that creates every view again from the listings as they are now: dropped in
    reverse order (a view's columns cannot move), created in order, with its comment."""
    drops = [f"DROP VIEW IF EXISTS {view.name};" for view in reversed(views)]
    creates = []
    for view in views:
        comment = view.description.replace("'", "''")
        creates.append(f"CREATE VIEW {view.name} AS\n{view.select};")
        creates.append(f"COMMENT ON VIEW {view.name} IS\n    '{comment}';")
    return "\n".join(drops + creates)


def new_column_sql(column: Column) -> str:
    """The body of the migration that adds `column` (the new last one of `LISTINGS`): to
    the listings, to the history when versions keep it (nullable: the versions already
    written never had it), and to the views. Paste it into the migration as text: a
    migration must not change when this code does."""
    statements = [f"ALTER TABLE {LISTINGS.name} ADD COLUMN IF NOT EXISTS {column.ddl()};"]
    if column.versioned and not column.by_postgres:
        statements.append(
            f"ALTER TABLE {HISTORY.name} ADD COLUMN IF NOT EXISTS {column.name} {column.sql_type};"
        )
    return "\n".join([*statements, views_sql()])


LISTINGS_TABLE = LISTINGS.name
STAGING_TABLE = STAGING.name
#: how a `partition_key` spells the start of its window (UTC): keys sort as their windows
WINDOW_KEY_FORMAT = "%Y-%m-%d-%H:%M"

#: the columns the normaliser fills, in table order
OUTPUT_COLUMNS: tuple[str, ...] = tuple(
    c.name
    for c in LISTINGS.columns
    if c.render not in (Render.WINDOW, Render.LIFECYCLE) and not c.by_postgres
)
#: the columns lifecycle and identity keep (never in the normaliser's COPY)
LIFECYCLE_COLUMNS: tuple[str, ...] = tuple(
    c.name for c in LISTINGS.columns if c.render is Render.LIFECYCLE
)
#: the columns the upsert sets from the window, not from the listing
WINDOW_COLUMNS: tuple[str, ...] = tuple(
    c.name for c in LISTINGS.columns if c.render is Render.WINDOW
)
#: the cluster a listing is written with when first seen: its own, as its canonical
#: member (`lib/identity`); identity then rewrites only the listings that joined another
CLUSTER_COLUMNS: tuple[str, ...] = ("duplicate_cluster_id", "is_canonical")
#: the listing columns each version in the history keeps (`lib/identity/history.py`)
VERSIONED_COLUMNS: tuple[str, ...] = tuple(c.name for c in versioned_columns(LISTINGS))
#: the fields every source's `columns` maps (SQL over the staged payload), in this order
EXTRACTED: tuple[str, ...] = tuple(dict.fromkeys(i for c in LISTINGS.columns for i in c.inputs))
#: columns every listing must have (the key, where it came from, where to apply, when seen)
REQUIRED_COLUMNS: tuple[str, ...] = tuple(c.name for c in LISTINGS.columns if c.required)
