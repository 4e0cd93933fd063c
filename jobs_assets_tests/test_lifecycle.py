"""Lifecycle through whole runs (replay server, real PostgreSQL): a listing expires only
when its source's fetch of the window was complete, never after a skipped, failed,
unusable, truncated, short (less than the source states), page-limited or inbox-only
fetch; a drop over `JOBS_EXPIRE_MAX_SHARE` waits for confirmation; a re-run of the
newest window replaces its earlier answer."""

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
from jobs_assets.lib.raw.store import RawStore
from jobs_assets.lib.sources import SOURCES, Source, SourceSettings, WindowRecords, parse_window
from jobs_assets.partitions import INGESTION_PARTITIONS
from jobs_assets.replay import FIXTURES, ReplayServer, Reply
from jobs_assets.resources import LifecycleResource, RawStoreResource
from jobs_assets_tests.conftest import (
    Database,
    Snapshot,
    api_resources,
    ingestion_assets,
    latest_windows,
)

JOBICY = json.loads((FIXTURES / "jobicy.json").read_text())
GONE = str(JOBICY["jobs"][0]["id"])  # the listing the second window no longer has
# a whole answer without it states so (`jobCount`)
WITHOUT_GONE = {**JOBICY, "jobs": JOBICY["jobs"][1:], "jobCount": len(JOBICY["jobs"]) - 1}
REMOTIVE = json.loads((FIXTURES / "remotive.json").read_text())
# a whole Remotive answer (`job-count` agrees) with 3 of its 12 jobs: 8 or more of its 11
# active listings would go, more than the default JOBS_EXPIRE_MAX_SHARE of 0.3
THREE_OF_REMOTIVE = {**REMOTIVE, "jobs": REMOTIVE["jobs"][:3], "job-count": 3}


def run(resources: dict, key: str, raise_on_error: bool = True) -> dg.ExecuteInJobResult:
    return dg.materialize(
        [
            *ingestion_assets(),
            *checks.raw_checks,
            *checks.jobs_listings_checks,
            *identity_checks.identity_checks,
        ],
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


def check_results(
    result: dg.ExecuteInJobResult, asset: str = "jobs_listings"
) -> dict[str, dg.AssetCheckEvaluation]:
    return {
        e.check_name: e
        for e in result.get_asset_check_evaluations()
        if e.asset_key.to_user_string() == asset
    }


def jobicy_states(database: Database, source: str = "jobicy") -> dict[str, tuple]:
    rows = database.query(
        "SELECT source_job_id, status, expired_at, reactivated_count "
        "FROM public.jobs_listings_data WHERE source = %s",
        (source,),
    )
    return {job_id: rest for job_id, *rest in rows}


def window_start(key: str) -> datetime:
    return INGESTION_PARTITIONS.time_window_for_partition_key(key).start


def gone_versions(database: Database) -> list[tuple]:
    """GONE's history: (status, current) per version, oldest first."""
    return database.query(
        "SELECT status, valid_to IS NULL FROM public.jobs_listings_history "
        "WHERE source = 'jobicy' AND source_job_id = %s ORDER BY valid_from",
        (GONE,),
    )


def expire_gone(
    resources: dict, replay: ReplayServer, database: Database, key: str
) -> dg.ExecuteInJobResult:
    """Load `key` with a complete Jobicy answer without GONE: it expires."""
    replay.script("/jobicy", Reply.json(WITHOUT_GONE))
    result = run(resources, key)
    assert jobicy_states(database)[GONE] == ["expired", window_start(key), 0]
    return result


@dataclass(frozen=True)
class FirstWindow:
    tables: Snapshot  # Database.snapshot()
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
                "lifecycle": LifecycleResource(),
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

    result = expire_gone(resources, replay, clean_db, second)

    states = jobicy_states(clean_db)
    assert {s for job_id, (s, *_) in states.items() if job_id != GONE} == {"active"}
    meta = listings_metadata(result)
    assert meta["listings_expired"] == 1 and meta["listings_expired_per_source"]["jobicy"] == 1
    assert set(meta["fetches_counted_complete"]) == set(SOURCES)
    assert gone_versions(clean_db) == [("active", False), ("expired", True)]
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


def short_answer(resources: dict, replay: ReplayServer, key: str, data_dir: Path) -> dict:
    """Jobicy states 6 listings (`jobCount`); 5 arrive."""
    replay.script("/jobicy", Reply.json({**JOBICY, "jobs": JOBICY["jobs"][1:]}))
    return resources


def unreadable_count(resources: dict, replay: ReplayServer, key: str, data_dir: Path) -> dict:
    """Jobicy always states `jobCount`; this answer does not: it proves nothing."""
    replay.script("/jobicy", Reply.json({k: v for k, v in WITHOUT_GONE.items() if k != "jobCount"}))
    return resources


def later_page_not_found(resources: dict, replay: ReplayServer, key: str, data_dir: Path) -> dict:
    """A 404 with a JSON body means "no jobs" only as the first answer, not mid-paging."""
    jobs = WITHOUT_GONE["jobs"]
    gone = Reply.json({"success": False, "message": "Too many requests"}, status=404)
    replay.script("/jobicy", _page(jobs[0], "c1", True), *[gone] * 5)
    return resources


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
    "short_answer": short_answer,
    "page_limit": page_limit,
    "unreadable_count": unreadable_count,
    "later_page_not_found": later_page_not_found,
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
    expire_gone(resources, replay, clean_db, second)
    before = jobicy_states(clean_db)

    # the first window again, from its stored files (every live fetch skipped): it still
    # holds GONE, but it is older than the window that expired it
    polite = {**resources, **api_resources(replay.base_url, min_interval_hours=24.0)}
    result = run(polite, first)

    assert jobicy_states(clean_db) == before
    meta = listings_metadata(result)
    assert meta["listings_reactivated"] == 0 and meta["listings_expired"] == 0
    assert meta["new_versions"] == 0


def test_a_listing_that_arrives_but_is_rejected_is_not_expired_by_the_complete_fetch(
    after_first: tuple[str, str],
    resources: dict,
    clean_db: Database,
    replay: ReplayServer,
    data_dir: Path,
) -> None:
    first, second = after_first
    before = jobicy_states(clean_db)
    untitled = {**JOBICY["jobs"][0], "jobTitle": ""}  # GONE, sent without a title
    replay.script("/jobicy", Reply.json({**JOBICY, "jobs": [untitled, *JOBICY["jobs"][1:]]}))

    result = run(resources, second)

    assert jobicy_states(clean_db) == before  # GONE still active: the source still lists it
    meta = listings_metadata(result)
    assert "jobicy" in meta["fetches_counted_complete"] and meta["listings_expired"] == 0
    manifest = RawStore(data_dir).manifest("jobicy", second)
    assert manifest["parse"]["rejected_ids"] == [GONE]


# --- The completeness proof: what each source states about its size (issue 25) ----------

#: what names each source's statement in a short answer's reason (None: states nothing)
STATEMENTS = {
    "remotive": "job-count",
    "jobicy": "jobCount",
    "himalayas": "totalCount",
    "remoteok": None,
    "arbeitnow": "meta.from",
}


def fetch_window(source: Source, settings: SourceSettings) -> WindowRecords:
    pages = []
    with settings.http_client() as client:
        source.fetch(client, settings, pages.append)
    return parse_window(source, sorted(pages, key=lambda p: p.index))


def cut_to_one_listing(source: Source) -> bytes:
    """The source's recorded first answer with one listing left, its envelope as recorded."""
    document = json.loads((FIXTURES / f"{source.name}.json").read_text())
    if isinstance(document, list):  # RemoteOK: the legal notice, then the jobs
        return json.dumps(document[:2]).encode()
    return json.dumps({**document, source.jobs_key: document[source.jobs_key][:1]}).encode()


def test_every_source_has_a_size_statement_entry() -> None:
    assert set(STATEMENTS) == set(SOURCES)


@pytest.mark.parametrize("name", list(STATEMENTS))
def test_each_source_s_size_statement_agrees_with_its_recorded_answers_and_catches_a_cut_one(
    name: str, replay: ReplayServer
) -> None:
    source = SOURCES[name]
    settings = api_resources(replay.base_url)[f"{name}_api"].settings()
    recorded = source.parse((FIXTURES / f"{name}.json").read_bytes())
    stated = source.stated_size(recorded.document)
    if STATEMENTS[name] is None:
        assert stated is None  # states nothing: the sudden-drop guard judges it
    else:
        assert stated == recorded.received > 0  # the real answer states what it holds

    whole = fetch_window(source, settings)  # the recorded answers, as the replay serves them
    assert whole.page_errors == [] and whole.short_answers == [] and whole.parsed > 0

    replay.script(f"/{name}", Reply(200, cut_to_one_listing(source)))
    cut = fetch_window(source, settings)

    if STATEMENTS[name] is None:
        assert cut.short_answers == []
    else:
        assert len(cut.short_answers) == 1
        assert STATEMENTS[name] in cut.short_answers[0]
        assert f"stated {stated} listings" in cut.short_answers[0]
        assert "1 arrived" in cut.short_answers[0]


def test_a_remotive_answer_short_of_its_job_count_expires_nothing_and_warns(
    after_first: tuple[str, str], resources: dict, clean_db: Database, replay: ReplayServer
) -> None:
    first, second = after_first
    before = jobicy_states(clean_db, "remotive")
    assert len(before) == 11 and REMOTIVE["job-count"] == 12

    replay.script("/remotive", Reply.json({**REMOTIVE, "jobs": REMOTIVE["jobs"][:3]}))
    result = run(resources, second)

    assert jobicy_states(clean_db, "remotive") == before  # all still active
    meta = listings_metadata(result)
    assert "remotive" not in meta["fetches_counted_complete"]
    why = meta["fetches_not_counted"]["remotive"]
    assert "short answer" in why and "stated 12 listings (`job-count`), 3 arrived" in why
    raw = check_results(result, "remotive_raw")["raw_window_not_truncated"]
    assert not raw.passed and raw.severity == dg.AssetCheckSeverity.WARN
    assert "stated 12 listings" in raw.description
    assert check_results(result)["listings_expired_only_on_complete_fetch"].passed


def arbeitnow_page(jobs: list[dict], page: int, first: int, more: bool, url: str) -> dict:
    """An Arbeitnow page as the API writes one: positions `meta.from`..`meta.to`, 50 a
    page, `links.next` while more follow."""
    document = json.loads((FIXTURES / "arbeitnow.json").read_text())
    document["data"] = jobs
    document["links"] = {**document["links"], "next": f"{url}?page={page + 1}" if more else None}
    positions = (first, first + len(jobs) - 1) if jobs else (None, None)
    document["meta"] = {**document["meta"], "current_page": page, "per_page": 50}
    document["meta"]["from"], document["meta"]["to"] = positions
    return document


def test_an_arbeitnow_answer_whose_pages_overlap_is_short_and_expires_nothing(
    after_first: tuple[str, str], resources: dict, clean_db: Database, replay: ReplayServer
) -> None:
    """The feed moved while it was paged: page 2 (positions 51-100) repeats page 1's last
    listing and the 51st slipped past. Every page holds what it states, but the answer
    states 100 positions and 99 distinct listings arrived: not complete, so the listing
    that slipped is not expired."""
    first, second = after_first
    jobs = json.loads((FIXTURES / "arbeitnow.json").read_text())["data"]
    slipped = jobs[50]["slug"]
    assert jobicy_states(clean_db, "arbeitnow")[slipped][0] == "active"
    url = f"{replay.base_url}/arbeitnow"
    replay.script(
        "/arbeitnow",
        Reply.json(arbeitnow_page(jobs[:50], 1, 1, True, url)),
        Reply.json(arbeitnow_page([jobs[49], *jobs[51:100]], 2, 51, False, url)),
    )

    result = run(resources, second)

    assert jobicy_states(clean_db, "arbeitnow")[slipped][0] == "active"
    why = listings_metadata(result)["fetches_not_counted"]["arbeitnow"]
    assert "stated 100 listings over its pages, 99 distinct arrived" in why
    assert "1 repeated across pages" in why


def test_an_arbeitnow_page_that_the_previous_one_promised_and_is_empty_stops_short(
    replay: ReplayServer,
) -> None:
    source = SOURCES["arbeitnow"]
    settings = api_resources(replay.base_url)["arbeitnow_api"].settings()
    jobs = json.loads((FIXTURES / "arbeitnow.json").read_text())["data"]
    url = f"{replay.base_url}/arbeitnow"
    replay.script(
        "/arbeitnow",
        Reply.json(arbeitnow_page(jobs[:50], 1, 1, True, url)),
        Reply.json(arbeitnow_page([], 2, 51, False, url)),
    )
    with settings.http_client() as client:
        why = source.fetch(client, settings, lambda page: None)
    assert (
        why == "page 2 holds no listing though page 1's links.next named it: paging stopped short"
    )


# --- The sudden-drop guard through a run (issue 25) ---------------------------------------


def test_a_complete_answer_dropping_most_listings_expires_nothing_and_warns(
    after_first: tuple[str, str],
    resources: dict,
    clean_db: Database,
    replay: ReplayServer,
    data_dir: Path,
) -> None:
    first, second = after_first
    before = jobicy_states(clean_db, "remotive")
    replay.script("/remotive", Reply.json(THREE_OF_REMOTIVE))

    result = run(resources, second)

    assert result.success  # a WARN check reports, it does not stop the run
    assert jobicy_states(clean_db, "remotive") == before
    meta = listings_metadata(result)
    assert "remotive" in meta["fetches_counted_complete"]
    assert meta["listings_expired_per_source"]["remotive"] == 0
    assert "JOBS_EXPIRE_MAX_SHARE = 0.3" in meta["expiry_held"]["remotive"]
    held = check_results(result)["listings_expiry_not_held"]
    assert not held.passed and held.severity == dg.AssetCheckSeverity.WARN
    assert "1 sources_with_expiry_held" in held.description
    log = next((data_dir / "logs").glob("jobs-*.log")).read_text()
    assert "remotive expiry HELD: would expire" in log


def test_the_share_comes_from_jobs_expire_max_share(
    after_first: tuple[str, str],
    resources: dict,
    clean_db: Database,
    replay: ReplayServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = after_first
    no_guard = LifecycleResource(expire_max_share=1.0)
    replay.script("/remotive", Reply.json(THREE_OF_REMOTIVE))

    result = run({**resources, "lifecycle": no_guard}, second)

    meta = listings_metadata(result)
    assert meta["listings_expired_per_source"]["remotive"] >= 8 and not meta["expiry_held"]
    assert check_results(result)["listings_expiry_not_held"].passed


# --- A re-run of the newest window (issue 30) ----------------------------------------------


def test_a_rerun_of_the_newest_window_that_sees_the_listing_again_undoes_its_expiry(
    after_first: tuple[str, str], resources: dict, clean_db: Database, replay: ReplayServer
) -> None:
    first, second = after_first
    expire_gone(resources, replay, clean_db, second)

    result = run(resources, second)  # the operator runs the window again: GONE is back

    assert jobicy_states(clean_db)[GONE] == ["active", None, 0]
    meta = listings_metadata(result)
    assert meta["listings_expiry_undone"] == 1 and meta["listings_reactivated"] == 0
    assert gone_versions(clean_db) == [("active", True)]  # one story: it never left
    assert check_results(result)["listings_expired_only_on_complete_fetch"].passed


# --- A backfill of an older window (after the newer ones) ----------------------------------


def gone_version_starts(database: Database) -> list[tuple]:
    return database.query(
        "SELECT status, valid_from, valid_to FROM public.jobs_listings_history "
        "WHERE source = 'jobicy' AND source_job_id = %s ORDER BY valid_from",
        (GONE,),
    )


def test_a_backfill_brings_a_listing_the_newer_complete_answer_lacked_as_expired(
    resources: dict, clean_db: Database, replay: ReplayServer
) -> None:
    first, second = latest_windows()
    replay.script("/jobicy", Reply.json(WITHOUT_GONE))
    run(resources, second)  # the newer window first: GONE was already taken down
    assert GONE not in jobicy_states(clean_db)

    result = run(resources, first)  # then the backfill, whose answer still had GONE

    states = jobicy_states(clean_db)
    # the newer window's complete answer lacked it: expired there, as that run would have
    assert states[GONE] == ["expired", window_start(second), 0]
    assert {s for job_id, (s, *_) in states.items() if job_id != GONE} == {"active"}
    assert gone_version_starts(clean_db) == [
        ("active", window_start(first), window_start(second)),
        ("expired", window_start(second), None),
    ]
    meta = listings_metadata(result)
    assert meta["listings_expired_by_later_windows"] == 1
    assert meta["listings_expired"] == 0  # the backfill's own answer expires nothing
    evaluations = check_results(result)
    assert evaluations["listings_expired_only_on_complete_fetch"].passed
    assert evaluations["cluster_sizes_plausible"].passed  # one canonical member each

    # the newer window again: its answer still lacks GONE, which stays expired, once
    replay.script("/jobicy", Reply.json(WITHOUT_GONE))
    again = run(resources, second)
    assert jobicy_states(clean_db)[GONE] == ["expired", window_start(second), 0]
    assert listings_metadata(again)["listings_expiry_undone"] == 0
    assert [s for s, *_ in gone_version_starts(clean_db)] == ["active", "expired"]


@pytest.mark.parametrize("kind", ["short_answer", "skipped_for_politeness"])
def test_a_backfill_leaves_active_what_no_complete_newer_answer_lacked(
    kind: str, resources: dict, clean_db: Database, replay: ReplayServer, data_dir: Path
) -> None:
    first, second = latest_windows()
    newer = resources
    if kind == "short_answer":  # five of the six listings Jobicy states: proves nothing
        newer = short_answer(resources, replay, second, data_dir)
    else:  # Jobicy not fetched in the newer window at all
        newer = skipped(resources, replay, second, data_dir)
    run(newer, second)
    replay.script("/jobicy", Reply.json(JOBICY))

    result = run(resources, first)

    assert jobicy_states(clean_db)[GONE] == ["active", None, 0]
    assert listings_metadata(result)["listings_expired_by_later_windows"] == 0
