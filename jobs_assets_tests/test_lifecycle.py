"""Lifecycle through whole runs (replay server, real PostgreSQL): a listing expires only
when its source's fetch of the window was complete, never after a skipped, failed,
unusable, truncated, page-limited or inbox-only fetch."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from jobs_assets.defs.ingestion import checks, identity_checks
from jobs_assets.lib.raw_store import RawStore
from jobs_assets.lib.sources import SOURCES
from jobs_assets.partitions import INGESTION_PARTITIONS
from jobs_assets.replay import FIXTURES, ReplayServer, Reply
from jobs_assets.resources import RawStoreResource
from jobs_assets_tests.conftest import (
    Database,
    api_resources,
    ingestion_assets,
    latest_windows,
)

JOBICY = json.loads((FIXTURES / "jobicy.json").read_text())
GONE = str(JOBICY["jobs"][0]["id"])  # the listing the second window no longer has
WITHOUT_GONE = {**JOBICY, "jobs": JOBICY["jobs"][1:]}


def run(resources: dict, key: str, raise_on_error: bool = True) -> dg.ExecuteInJobResult:
    return dg.materialize(
        [*ingestion_assets(), *checks.jobs_listings_checks, *identity_checks.identity_checks],
        partition_key=key,
        resources=resources,
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=raise_on_error,
    )


def load_only(resources: dict, key: str) -> dg.ExecuteInJobResult:
    """Stage and load the window from what is stored (after a raw step failed)."""
    return dg.materialize(
        [*ingestion_assets(), *checks.jobs_listings_checks, *identity_checks.identity_checks],
        selection=dg.AssetSelection.assets("staged_listings", "jobs_listings"),
        partition_key=key,
        resources=resources,
        instance=dg.DagsterInstance.ephemeral(),
    )


def listings_metadata(result: dg.ExecuteInJobResult) -> dict:
    (event,) = result.asset_materializations_for_node("jobs_listings")
    return {k: v.value for k, v in event.metadata.items()}


def check_results(result: dg.ExecuteInJobResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def jobicy_states(database: Database) -> dict[str, tuple]:
    rows = database.query(
        "SELECT source_job_id, status, expired_at, reactivated_count "
        "FROM public.jobs_listings_data WHERE source = 'jobicy'"
    )
    return {job_id: rest for job_id, *rest in rows}


def window_start(key: str) -> datetime:
    return INGESTION_PARTITIONS.time_window_for_partition_key(key).start


@dataclass(frozen=True)
class FirstWindow:
    tables: dict[str, bytes]  # Database.snapshot()
    data_dir: Path  # its raw files (and the record of its live fetches)


@pytest.fixture(scope="module")
def first_window(database: Database, tmp_path_factory: pytest.TempPathFactory) -> FirstWindow:
    """Every test here starts from the same complete first window: loaded once per
    module, then restored (tables and raw files) for each test."""
    database.empty()
    data_dir = tmp_path_factory.mktemp("lifecycle_first")
    with ReplayServer() as server:
        run(
            {
                "postgres": database.resource(),
                "raw_store": RawStoreResource(data_dir=str(data_dir)),
                **api_resources(server.base_url),
            },
            latest_windows()[0],
        )
    assert {s for s, *_ in jobicy_states(database).values()} == {"active"}
    return FirstWindow(database.snapshot(), data_dir)


@pytest.fixture
def after_first(first_window: FirstWindow, clean_db: Database, data_dir: Path) -> tuple[str, str]:
    """The database and data folder as the first window left them: (first, second) keys."""
    clean_db.restore(first_window.tables)
    shutil.copytree(first_window.data_dir, data_dir, dirs_exist_ok=True)
    first, second = latest_windows()
    return first, second


def test_a_listing_missing_from_a_complete_fetch_expires(
    after_first: tuple[str, str], resources: dict, clean_db: Database, replay: ReplayServer
) -> None:
    first, second = after_first

    replay.script("/jobicy", Reply.json(WITHOUT_GONE))
    result = run(resources, second)

    states = jobicy_states(clean_db)
    assert states.pop(GONE) == ["expired", window_start(second), 0]
    assert {s for s, *_ in states.values()} == {"active"}
    meta = listings_metadata(result)
    assert meta["listings_expired"] == 1 and meta["listings_expired_per_source"]["jobicy"] == 1
    assert set(meta["fetches_counted_complete"]) == set(SOURCES)
    versions = clean_db.query(
        "SELECT status, valid_to IS NULL FROM public.jobs_listings_history "
        "WHERE source = 'jobicy' AND source_job_id = %s ORDER BY valid_from",
        (GONE,),
    )
    assert versions == [("active", False), ("expired", True)]
    evaluations = check_results(result)
    assert evaluations["listings_expired_only_on_complete_fetch"].passed
    assert evaluations["clusters_within_one_company"].passed
    assert evaluations["cluster_sizes_plausible"].passed
    assert clean_db.query("SELECT count(*) FROM public.jobs_listings_current")[0][0] == len(
        clean_db.query("SELECT 1 FROM public.jobs_listings_data WHERE status = 'active'")
    ) - len(clean_db.query("SELECT 1 FROM public.jobs_listings_data WHERE NOT is_canonical"))


def _page(job: dict, cursor: str | None, has_more: bool) -> Reply:
    return Reply.json({"jobs": [job], "hasMore": has_more, "nextCursor": cursor})


def skipped(resources: dict, replay: ReplayServer, key: str, data_dir: Path) -> dict:
    """The source's terms allow one live fetch a day: the second window is skipped."""
    return {**resources, **api_resources(replay.base_url, min_interval_hours=24.0)}


def http_failure(resources: dict, replay: ReplayServer, key: str, data_dir: Path) -> dict:
    replay.script("/jobicy", *[Reply.json({"error": "down"}, status=503)] * 10)
    return resources


def unusable_page(resources: dict, replay: ReplayServer, key: str, data_dir: Path) -> dict:
    html = Reply(200, b"<html>maintenance</html>", headers={"Content-Type": "text/html"})
    replay.script("/jobicy", html, html)
    return resources


def truncated(resources: dict, replay: ReplayServer, key: str, data_dir: Path) -> dict:
    jobs = WITHOUT_GONE["jobs"]
    replay.script("/jobicy", _page(jobs[0], "same", True), _page(jobs[1], "same", True))
    return resources


def page_limit(resources: dict, replay: ReplayServer, key: str, data_dir: Path) -> dict:
    jobs = WITHOUT_GONE["jobs"]
    replay.script("/jobicy", *[_page(jobs[i % len(jobs)], f"c{i}", True) for i in range(12)])
    return {**resources, **api_resources(replay.base_url, max_pages=4)}


def inbox_only(resources: dict, replay: ReplayServer, key: str, data_dir: Path) -> dict:
    """No live fetch (skipped), but a file dropped in the inbox for the window."""
    RawStore(data_dir).add_inbox_page(
        "jobicy", key, json.dumps(WITHOUT_GONE).encode(), "jobicy.json", datetime.now(UTC)
    )
    return {**resources, **api_resources(replay.base_url, min_interval_hours=24.0)}


INCOMPLETE: dict[str, Callable[..., dict]] = {
    "skipped_for_politeness": skipped,
    "http_failure": http_failure,
    "unusable_page": unusable_page,
    "truncated": truncated,
    "page_limit": page_limit,
    "inbox_only": inbox_only,
}


@pytest.mark.parametrize("kind", list(INCOMPLETE))
def test_no_listing_expires_after_an_incomplete_fetch(
    kind: str,
    after_first: tuple[str, str],
    resources: dict,
    clean_db: Database,
    replay: ReplayServer,
    data_dir: Path,
) -> None:
    first, second = after_first
    before = jobicy_states(clean_db)

    second_resources = INCOMPLETE[kind](resources, replay, second, data_dir)
    result = run(second_resources, second, raise_on_error=False)
    if not result.success:  # the raw step failed: the others are loaded from what is stored
        assert kind in ("http_failure", "unusable_page")
        result = load_only(second_resources, second)

    assert jobicy_states(clean_db) == before  # every jobicy listing still active
    meta = listings_metadata(result)
    assert "jobicy" not in meta["fetches_counted_complete"]
    assert meta["fetches_not_counted"]["jobicy"]
    assert meta["listings_expired_per_source"].get("jobicy", 0) == 0
    assert check_results(result)["listings_expired_only_on_complete_fetch"].passed


def test_replaying_an_older_stored_window_moves_no_status_backwards(
    after_first: tuple[str, str], resources: dict, clean_db: Database, replay: ReplayServer
) -> None:
    first, second = after_first
    replay.script("/jobicy", Reply.json(WITHOUT_GONE))
    run(resources, second)
    assert jobicy_states(clean_db)[GONE][0] == "expired"
    before = jobicy_states(clean_db)

    # the first window again, from its stored files (every live fetch skipped): it still
    # holds GONE, but it is older than the window that expired it
    polite = {**resources, **api_resources(replay.base_url, min_interval_hours=24.0)}
    result = run(polite, first)

    assert jobicy_states(clean_db) == before
    meta = listings_metadata(result)
    assert meta["listings_reactivated"] == 0 and meta["listings_expired"] == 0
    assert meta["new_versions"] == 0
