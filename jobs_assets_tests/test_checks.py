"""Asset checks: all pass on the recorded fixtures, and each fails on crafted bad data.

The raw window is fetched once per module from the replay server and loaded into the
database once; each test starts from that load (its tables restored), crafts its damage
and runs the checks the way the UI does, as a partitioned run of the selected checks.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from jobs_assets.defs.ingestion import checks
from jobs_assets.defs.ingestion.assets import RAW_KEYS, jobs_listings, staged_listings
from jobs_assets.lib.raw.store import RawStore
from jobs_assets.lib.sources import Page
from jobs_assets.partitions import INGESTION_PARTITIONS
from jobs_assets.replay import ReplayServer
from jobs_assets.resources import LifecycleResource, RawStoreResource
from jobs_assets_tests.conftest import (
    Database,
    Snapshot,
    api_resources,
    ecb_file,
    ingestion_assets,
    latest_windows,
    store_ecb_rates,
)

ALL_CHECKS = [*checks.raw_checks, checks.staged_rows_match_parsed, *checks.jobs_listings_checks]
CHECK_KEYS = [key for c in ALL_CHECKS for key in c.check_keys]
RAW_CHECK_KEYS = [key for c in checks.raw_checks for key in c.check_keys]
DOWNSTREAM = dg.AssetSelection.assets(staged_listings, jobs_listings)


def run(
    resources: dict,
    key: str,
    instance: dg.DagsterInstance,
    selection: dg.AssetSelection,
) -> dg.ExecuteInJobResult:
    """One partitioned run of `selection` (assets and/or checks), like a run from the UI.

    The window goes in as the run's partition tag: a job of checks alone has no
    partitions definition of its own for `partition_key=` to validate against.
    """
    job = dg.define_asset_job("under_test", selection=selection)
    defs = dg.Definitions(
        assets=ingestion_assets(), asset_checks=ALL_CHECKS, jobs=[job], resources=resources
    )
    return defs.resolve_job_def("under_test").execute_in_process(
        tags={"dagster/partition": key}, instance=instance, raise_on_error=False
    )


def evaluations(result: dg.ExecuteInJobResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {
        f"{e.asset_key.to_user_string()}:{e.check_name}": e
        for e in result.get_asset_check_evaluations()
    }


def check_only(*names: str) -> dg.AssetSelection:
    return dg.AssetSelection.checks(*(dg.AssetCheckKey.from_user_string(n) for n in names))


def spec_of(name: str) -> dg.AssetCheckSpec:
    key = dg.AssetCheckKey.from_user_string(name)
    return next(s for c in ALL_CHECKS for s in c.check_specs if s.key == key)


@pytest.fixture(scope="module")
def raw_dir(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Path:
    """A data dir holding the latest window's raw files, fetched once from the replay server."""
    data_dir = tmp_path_factory.mktemp("checks_raw")
    key = latest_windows(1)[0]
    with ReplayServer() as server, dg.instance_for_test() as instance:
        result = dg.materialize(
            ingestion_assets(),
            selection=dg.AssetSelection.assets(*RAW_KEYS),
            partition_key=key,
            resources={
                "postgres": database.resource(),
                "raw_store": RawStoreResource(data_dir=str(data_dir)),
                "lifecycle": LifecycleResource(),
                **api_resources(server.base_url, max_pages=3),
            },
            instance=instance,
        )
    assert result.success
    return data_dir


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


def offline_resources(database: Database, raw_dir: Path, data_dir: Path) -> dict:
    """Resources on a copy of the stored raw window and a fresh ECB rates file stored for
    the window's day; the APIs point nowhere."""
    shutil.copytree(raw_dir / "raw", data_dir / "raw")
    start = INGESTION_PARTITIONS.time_window_for_partition_key(latest_windows(1)[0]).start
    store_ecb_rates(data_dir, start.date(), ecb_file(start.date() - timedelta(days=1)))
    return {
        "postgres": database.resource(),
        "raw_store": RawStoreResource(data_dir=str(data_dir)),
        "lifecycle": LifecycleResource(),
        **api_resources("http://127.0.0.1:9"),
    }


@pytest.fixture
def offline(clean_db: Database, raw_dir: Path, data_dir: Path) -> dict:
    return offline_resources(clean_db, raw_dir, data_dir)


@dataclass(frozen=True)
class Load:
    key: str
    tables: Snapshot  # Database.snapshot() after the load
    metadata: dict[str, Any]  # of the jobs_listings materialisation


@pytest.fixture(scope="module")
def load_once(database: Database, raw_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Load:
    """The latest window staged and normalised from the stored fixtures, every check passing
    but the expiry one: the recorded listings that carry an expiry date (taken months
    ago) are served today, after it. Loaded once per module (the load is not what most
    tests here are about); each test restores the tables it left."""
    key = latest_windows(1)[0]
    database.empty()
    resources = offline_resources(database, raw_dir, tmp_path_factory.mktemp("checks_load"))
    with dg.instance_for_test() as instance:
        result = run(
            resources, key, instance, DOWNSTREAM | dg.AssetSelection.checks(*RAW_CHECK_KEYS)
        )
    assert result.success
    found = evaluations(result)
    assert sorted(found) == sorted(k.to_user_string() for k in CHECK_KEYS)
    with_expiry = database.query(
        "SELECT count(*) FROM public.jobs_listings_data WHERE expires_at IS NOT NULL"
    )[0][0]
    assert with_expiry > 0
    assert {n: e.description for n, e in found.items() if not e.passed} == {
        "jobs_listings:listings_not_expired_before_retrieval": (
            f"{with_expiry} expires_at before retrieved_at"
        )
    }
    assert {e.partition for e in found.values()} == {key}
    (materialised,) = [
        e.event_specific_data.materialization
        for e in result.get_asset_materialization_events()
        if e.asset_key == jobs_listings.key
    ]
    return Load(key, database.snapshot(), dict(materialised.metadata))


@pytest.fixture
def loaded(load_once: Load, offline: dict, clean_db: Database) -> str:
    """The module's load, as it was after the load: the window key."""
    clean_db.restore(load_once.tables)
    return load_once.key


def test_every_check_passes_on_the_fixtures_and_is_partitioned(loaded: str) -> None:
    assert INGESTION_PARTITIONS.get_last_partition_key() == loaded
    for spec in (s for c in ALL_CHECKS for s in c.check_specs):
        assert spec.partitions_def == INGESTION_PARTITIONS
        assert "If it fails" in (spec.description or ""), spec.key


@pytest.mark.parametrize(
    ("sql", "check", "expected"),
    [
        (
            "UPDATE public.jobs_listings_data SET title = NULL WHERE source = 'remotive' "
            "AND source_job_id = (SELECT min(source_job_id) FROM public.jobs_listings_data "
            "WHERE source = 'remotive')",
            "jobs_listings:listings_keys_and_required_columns",
            "1 null title",
        ),
        (
            "DELETE FROM public.jobs_listings_data WHERE source = 'jobicy' AND source_job_id = "
            "(SELECT min(source_job_id) FROM public.jobs_listings_data WHERE source = 'jobicy')",
            "jobs_listings:listings_keys_and_required_columns",
            "1 staged listings missing from the table",
        ),
        (
            "UPDATE public.jobs_listings_data SET region = 'Mars', job_type = 'gig' "
            "WHERE source = 'himalayas'",
            "jobs_listings:listings_values_in_vocabulary",
            "region outside the vocabulary",
        ),
        (
            "UPDATE public.jobs_listings_data SET salary_min = 200000, salary_max = 100000, "
            "salary_min_usd = 5000000 WHERE source = 'remotive'",
            "jobs_listings:listings_salaries_plausible",
            "salary_min above salary_max",
        ),
        (
            "UPDATE public.jobs_listings_data SET published_at = now() + interval '2 days' "
            "WHERE source = 'jobicy'",
            "jobs_listings:listings_published_not_in_future",
            "published_at in the future",
        ),
        (
            "DELETE FROM staging.staging_jobs_listings_data WHERE source = 'remotive' AND "
            "source_job_id = (SELECT min(source_job_id) FROM staging.staging_jobs_listings_data "
            "WHERE source = 'remotive')",
            "staged_listings:staged_rows_match_parsed",
            "remotive: 10 staged, 11 parsed",
        ),
        (
            # a week of earlier windows with far more Remotive listings than this one
            "INSERT INTO staging.staging_jobs_listings_data "
            "SELECT 'remotive', to_char(w, 'YYYY-MM-DD-HH24:MI'), 'old-' || n, '{}', now() "
            "FROM generate_series(now() - interval '6 days', now() - interval '1 day', "
            "interval '1 day') AS w, generate_series(1, 100) AS n",
            "jobs_listings:listings_volume_vs_trailing_median",
            "remotive: 11 listings, trailing median 100",
        ),
        (
            # the shipped rates of a package installed long ago (offline for weeks)
            "UPDATE public.jobs_listings_data SET salary_usd_rate_date = "
            "(retrieved_at AT TIME ZONE 'UTC')::date - 15 WHERE salary_min_usd IS NOT NULL "
            "AND source = 'remoteok'",
            "jobs_listings:listings_usd_rates_fresh",
            "USD rate more than 14 days older than the retrieval",
        ),
    ],
    ids=[
        "null-title",
        "missing-row",
        "vocabulary",
        "salary",
        "future",
        "staged-count",
        "volume",
        "stale-rates",
    ],
)
def test_check_fails_on_crafted_bad_rows(
    loaded: str,
    offline: dict,
    instance: dg.DagsterInstance,
    clean_db: Database,
    sql: str,
    check: str,
    expected: str,
) -> None:
    with clean_db.connect() as conn:
        assert conn.execute(sql).rowcount >= 1
    result = run(offline, loaded, instance, check_only(check))
    evaluation = evaluations(result)[check]
    assert not evaluation.passed
    assert expected in evaluation.description
    assert evaluation.partition == loaded
    critical = spec_of(check).blocking
    severity = dg.AssetCheckSeverity.ERROR if critical else dg.AssetCheckSeverity.WARN
    assert evaluation.severity == severity
    # a failed critical check fails its run; a WARN one only reports
    assert result.success is not critical


def store_window(data_dir: Path, source: str, key: str, body: bytes) -> None:
    writer = RawStore(data_dir).writer(source, key, origin="live")
    writer.keep(Page(0, f"http://example.test/{source}", 200, "", body, datetime.now(UTC)))
    writer.commit()


def test_damaged_stored_window_stops_the_run_before_staging(
    offline: dict, instance: dg.DagsterInstance, data_dir: Path, clean_db: Database
) -> None:
    old = latest_windows(5)[0]  # too old to fetch: the raw assets replay stored files
    for source in ("jobicy", "himalayas"):
        shutil.copytree(
            RawStore(data_dir).window_dir(source, latest_windows(1)[0]),
            RawStore(data_dir).window_dir(source, old),
        )
    store_window(data_dir, "remotive", old, b"<html>502 Bad Gateway</html>")

    everything = dg.AssetSelection.assets(*RAW_KEYS) | DOWNSTREAM
    result = run(offline, old, instance, everything)

    assert not result.success
    parses = evaluations(result)["remotive_raw:raw_window_parses"]
    assert not parses.passed and parses.severity == dg.AssetCheckSeverity.ERROR
    assert "HTML page instead of JSON" in parses.description
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "remotive_raw" in materialized and "staged_listings" not in materialized
    assert clean_db.query("SELECT count(*) FROM staging.staging_jobs_listings_data")[0][0] == 0


def test_empty_window_warns_without_failing(
    offline: dict, instance: dg.DagsterInstance, data_dir: Path
) -> None:
    old = latest_windows(5)[0]
    store_window(data_dir, "jobicy", old, b'{"jobCount": 0, "jobs": []}')
    result = run(offline, old, instance, dg.AssetSelection.assets("jobicy_raw"))
    assert result.success
    found = evaluations(result)
    assert found["jobicy_raw:raw_window_parses"].passed
    empty = found["jobicy_raw:raw_window_has_listings"]
    assert not empty.passed and empty.severity == dg.AssetCheckSeverity.WARN
    assert "0 listings" in empty.description


def test_source_skipped_for_politeness_passes(
    clean_db: Database, replay: ReplayServer, data_dir: Path, instance: dg.DagsterInstance
) -> None:
    first, second = latest_windows()
    resources = {
        "postgres": clean_db.resource(),
        "raw_store": RawStoreResource(data_dir=str(data_dir)),
        "lifecycle": LifecycleResource(),
        **api_resources(replay.base_url, max_pages=3, min_interval_hours=6.0),
    }
    remotive = dg.AssetSelection.assets("remotive_raw")
    assert run(resources, first, instance, remotive).success
    result = run(resources, second, instance, remotive)
    assert result.success
    found = evaluations(result)
    assert all(e.passed for e in found.values()), {n: e.description for n, e in found.items()}
    assert "less than 6 h ago" in found["remotive_raw:raw_window_has_listings"].description
    assert "skipped for politeness" in found["remotive_raw:raw_window_parses"].description


def test_rates_fourteen_days_old_still_pass(
    loaded: str, offline: dict, instance: dg.DagsterInstance, clean_db: Database
) -> None:
    with clean_db.connect() as conn:
        conn.execute(
            "UPDATE public.jobs_listings_data SET salary_usd_rate_date = "
            "(retrieved_at AT TIME ZONE 'UTC')::date - 14 WHERE salary_min_usd IS NOT NULL"
        )
    check = "jobs_listings:listings_usd_rates_fresh"
    evaluation = evaluations(run(offline, loaded, instance, check_only(check)))[check]
    assert evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN


def test_the_load_counts_listings_served_after_their_expiry(
    loaded: str, load_once: Load, clean_db: Database
) -> None:
    expired = clean_db.query(
        "SELECT count(*) FROM public.jobs_listings_data WHERE expires_at < retrieved_at"
    )[0][0]
    metadata = load_once.metadata
    assert expired > 0 and metadata["listings_expired_before_retrieval"].value == expired
    assert metadata["usd_rates"].value.startswith("ecb-daily ")  # the file stored for the day


def test_a_check_that_raises_fails_alone_and_its_step_still_reports_the_others(
    offline: dict, instance: dg.DagsterInstance
) -> None:
    """The checks of an asset share a step: one that raises is a failed check naming the
    error (blocking, since it is an ERROR check), and the others still report."""

    def broken(context, postgres, raw_store) -> dg.AssetCheckResult:
        raise RuntimeError("the rule itself is broken")

    def fine(context, postgres, raw_store) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True, severity=checks.WARN, description="fine")

    step = checks.checks_step(
        "probe_checks",
        jobs_listings.key,
        [
            checks.Check("probe_broken", checks.ERROR, "If it fails: fix the rule.", broken),
            checks.Check("probe_fine", checks.WARN, "If it fails: never.", fine),
        ],
    )
    job = dg.define_asset_job("probe", selection=dg.AssetSelection.checks(step))
    defs = dg.Definitions(
        assets=ingestion_assets(), asset_checks=[step], jobs=[job], resources=offline
    )
    result = defs.resolve_job_def("probe").execute_in_process(
        tags={"dagster/partition": latest_windows(1)[0]}, instance=instance, raise_on_error=False
    )
    found = evaluations(result)
    assert not found["jobs_listings:probe_broken"].passed
    assert found["jobs_listings:probe_broken"].description == (
        "the check could not run: RuntimeError: the rule itself is broken"
    )
    assert found["jobs_listings:probe_fine"].passed
    assert not result.success  # a failed blocking check fails its step
