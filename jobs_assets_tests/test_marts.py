"""The analytics marts: `dbt build` through Dagster on a realistic data set, every mart
compared with a pandas recomputation from the base table, dbt tests as asset checks,
and the refresh after an ingestion window by declarative automation."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pandas as pd
import psutil
import psycopg
import pytest

from jobs_assets.cli import MARTS
from jobs_assets.defs.marts.assets import MANIFEST, MartsDbtResource, analytics_dbt
from jobs_assets.defs.marts.project import PROJECT
from jobs_assets.lib import marts
from jobs_assets.lib.normalise.categories import VOCABULARY
from jobs_assets.lib.schema import LISTINGS
from jobs_assets.testing.synth import ListingFactory
from jobs_assets_tests import marts_data as md
from jobs_assets_tests.conftest import (
    Database,
    dagster_materialize,
    deployed_definitions,
    latest_windows,
    materialize_command,
)

MART_KEYS = {name: dg.AssetKey(["marts", name]) for name in MARTS}  # the CLI's list


def build(
    database: Database,
    raise_on_error: bool = True,
    selection: list[dg.AssetKey] | dg.AssetSelection | None = None,
) -> dg.ExecuteInJobResult:
    """`dbt build` through Dagster (of `selection`, else of every model)."""
    return dg.materialize(
        [analytics_dbt],
        selection=selection,
        resources={
            "dbt": MartsDbtResource(project_dir=PROJECT, dbt_executable=marts.dbt_executable()),
            "postgres": database.resource(),
        },
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=raise_on_error,
    )


@pytest.fixture(scope="module")
def built(database: Database) -> tuple[Database, pd.DataFrame, dg.ExecuteInJobResult]:
    with database.connect() as conn, database.connect() as read_conn:
        listings = md.build_dataset(conn, read_conn)
    started = time.monotonic()
    result = build(database)
    print(f"{listings} listings; dbt build through Dagster: {time.monotonic() - started:.1f} s")
    with database.connect() as conn:
        base = md.read_base(conn, md.build_as_of(conn))
    return database, base, result


def as_float(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.map(lambda v: float(v) if isinstance(v, Decimal) else v)


def assert_same(actual: pd.DataFrame, expected: pd.DataFrame, keys: list[str]) -> None:
    actual = as_float(actual).sort_values(keys).reset_index(drop=True)
    expected = expected[list(actual.columns)].sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(actual, expected, check_dtype=False, rtol=1e-9)


def test_data_set_is_realistic(built) -> None:
    """Several windows and sources, expiries, duplicates and salary cells to compare."""
    _, base, _ = built
    assert base["source"].nunique() == 3
    assert base["first_date"].nunique() >= 8
    assert (base["status"] == "expired").sum() >= 50
    assert (~base["is_canonical"]).sum() >= 10
    assert len(md.expected_salary_percentiles(base)) >= 3


def test_daily_postings_match_recomputation(built) -> None:
    database, base, _ = built
    columns = ["day", "source", "region", "category_normalised"]
    measures = ["new_listings", "active_listings", "expired_listings"]
    with database.connect() as conn:
        actual = md.read_mart(conn, "daily_postings", columns + measures)
    expected = md.expected_daily_postings(base)
    assert_same(actual, expected, columns)
    print(f"daily_postings: {len(actual)} rows, {actual['new_listings'].sum()} new listings")


def test_salary_percentiles_match_recomputation(built) -> None:
    database, base, _ = built
    keys = ["region", "category_normalised", "seniority"]
    with database.connect() as conn:
        actual = md.read_mart(
            conn, "salary_percentiles", [*keys, "listings", "p25_usd", "p50_usd", "p75_usd"]
        )
    assert_same(actual, md.expected_salary_percentiles(base), keys)
    print(f"salary_percentiles: {len(actual)} cells of >= 5 listings")


def test_top_companies_match_recomputation(built) -> None:
    database, base, _ = built
    columns = ["iso_week", "company_name", "new_listings", "share_of_week", "rank_in_week"]
    with database.connect() as conn:
        actual = md.read_mart(conn, "top_companies", columns)
    assert_same(actual, md.expected_top_companies(base), ["iso_week", "company_name"])


def test_tag_trends_match_recomputation(built) -> None:
    database, base, _ = built
    with database.connect() as conn:
        actual = md.read_mart(conn, "tag_trends", ["iso_week", "tag", "listings", "share_of_week"])
    assert len(actual) > 20
    assert_same(actual, md.expected_tag_trends(base), ["iso_week", "tag"])


def test_listing_durations_match_recomputation(built) -> None:
    database, base, _ = built
    columns = ["source", "category_normalised", "listings_expired", "median_days", "p90_days"]
    with database.connect() as conn:
        actual = md.read_mart(conn, "listing_durations", columns)
    assert_same(actual, md.expected_listing_durations(base), ["source", "category_normalised"])


def test_worldwide_share_matches_recomputation(built) -> None:
    """The share of worldwide listings per category, from what the pipeline decided for
    the real (shuffled) locations: some worldwide, some not, in every category."""
    database, base, _ = built
    columns = ["category_normalised", "listings", "worldwide_listings", "worldwide_share"]
    with database.connect() as conn:
        actual = md.read_mart(conn, "worldwide_share", columns)
    expected = md.expected_worldwide_share(base)
    assert_same(actual, expected, ["category_normalised"])
    assert 0 < expected["worldwide_listings"].sum() < expected["listings"].sum()
    print(actual.to_string())


def test_marts_report_row_counts_and_headlines(built) -> None:
    database, base, result = built
    materialised = {
        m.asset_key: m.metadata
        for m in result.get_asset_materialization_events()
        and [
            e.event_specific_data.materialization for e in result.get_asset_materialization_events()
        ]
    }
    for name, key in MART_KEYS.items():
        with database.connect() as conn:
            rows = conn.execute(f"SELECT count(*) FROM marts.{name}").fetchone()[0]
        assert materialised[key]["dagster/row_count"].value == rows, name
        assert "Execution Duration" in materialised[key], sorted(materialised[key])
    daily = materialised[MART_KEYS["daily_postings"]]
    expected = md.expected_daily_postings(base)
    latest = expected[expected["day"] == expected["day"].max()]
    assert daily["new_listings_latest_day"].value == latest["new_listings"].sum()
    assert daily["active_listings_latest_day"].value == latest["active_listings"].sum()
    salaries = materialised[MART_KEYS["salary_percentiles"]]
    on_offer = base[(base["status"] == "active") & base["is_canonical"]]
    mid = on_offer[["salary_min_usd", "salary_max_usd"]].mean(axis=1, skipna=True).dropna()
    assert salaries["median_salary_usd"].value == pytest.approx(mid.quantile(0.5))
    print(
        {k: v.value for k, v in daily.items() if "latest_day" in k}, salaries["median_salary_usd"]
    )


def test_every_dbt_test_is_a_passing_asset_check(built) -> None:
    _, _, result = built
    evaluations = result.get_asset_check_evaluations()
    specs = list(analytics_dbt.check_specs)
    assert len(specs) >= 40
    assert {(e.asset_key, e.check_name) for e in evaluations} == {
        (s.asset_key, s.name) for s in specs
    }
    assert all(e.passed for e in evaluations), [e.check_name for e in evaluations if not e.passed]
    mart_checks = {s.name for s in specs if s.asset_key == MART_KEYS["salary_percentiles"]}
    assert any(n.startswith("ordered_") for n in mart_checks), mart_checks
    print(f"{len(evaluations)} dbt tests evaluated as asset checks, all passed")


def manifest() -> dict:
    return json.loads(Path(MANIFEST).read_text())


def mart_nodes() -> dict[str, dict]:
    return {
        node["name"]: node
        for node in manifest()["nodes"].values()
        if node["resource_type"] == "model" and node["config"].get("schema") == "marts"
    }


def test_every_mart_has_an_enforced_contract_that_reaches_dagster() -> None:
    """Every mart (read outside dbt) declares every column with a type and a meaning,
    its contract is enforced, and Dagster's column schema shows all of it."""
    nodes = mart_nodes()
    assert set(nodes) == set(MART_KEYS)
    for name, key in MART_KEYS.items():
        node = nodes[name]
        assert node["config"]["contract"]["enforced"], name
        assert node["config"]["on_schema_change"] in ("fail", "append_new_columns"), name
        schema = analytics_dbt.specs_by_key[key].metadata["dagster/column_schema"]
        declared = [(c["name"], c["data_type"]) for c in node["columns"].values()]
        assert [(c.name, c.type) for c in schema.columns] == declared, name
        assert all(c.type and c.type != "?" and c.description for c in schema.columns), name
    percentiles = analytics_dbt.specs_by_key[MART_KEYS["salary_percentiles"]]
    assert [c.name for c in percentiles.metadata["dagster/column_schema"].columns] == [
        "region", "category_normalised", "seniority", "listings", "p25_usd", "p50_usd", "p75_usd"
    ]  # fmt: skip


def test_every_dbt_check_says_what_it_checks() -> None:
    specs = list(analytics_dbt.check_specs)
    assert len(specs) >= 40
    missing = [s.name for s in specs if not s.description]
    assert not missing, f"dbt tests without a description (give them one in the yml): {missing}"
    by_name = {s.name: s.description for s in specs}
    assert by_name["not_null_salary_percentiles_p50_usd"] == "`p50_usd` is never NULL."
    ordered = next(d for n, d in by_name.items() if n.startswith("ordered_salary_percentiles"))
    assert ordered == "`p25_usd` <= `p50_usd` <= `p75_usd` in every row."


def test_the_api_exposure_names_every_mart_the_api_reads() -> None:
    """The dbt exposure of the read API names exactly the marts its SQL reads, and
    each of them has an enforced contract."""
    api_sql = (Path(marts.PROJECT_DIR).parent / "lib" / "listings" / "queries.py").read_text()
    read = set(re.findall(r"\bmarts\.(\w+)", api_sql))
    exposure = next(e for e in manifest()["exposures"].values() if e["name"] == "read_api")
    named = {node.split(".")[-1] for node in exposure["depends_on"]["nodes"]}
    assert read and named == read
    nodes = mart_nodes()
    assert all(nodes[name]["config"]["contract"]["enforced"] for name in named)


def test_built_marts_have_the_columns_and_types_dagster_shows(built) -> None:
    """What dbt built (the database's catalogue) is what the column schema says."""
    database, _, _ = built
    for name, key in MART_KEYS.items():
        schema = analytics_dbt.specs_by_key[key].metadata["dagster/column_schema"]
        with database.connect() as conn:
            have = conn.execute(
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped "
                "ORDER BY attnum",
                (f"marts.{name}",),
            ).fetchall()
            want = [
                (
                    c.name,
                    conn.execute("SELECT format_type(%s::regtype, NULL)", (c.type,)).fetchone()[0],
                )
                for c in schema.columns
            ]
        assert have == want, name


def test_a_mart_whose_sql_breaks_its_contract_is_not_built(built, tmp_path: Path) -> None:
    """Rename a column the API reads (p50_usd) in the mart's SQL alone: dbt refuses to
    build the mart, naming the column, and the mart keeps its rows and columns."""
    database, _, _ = built
    project = tmp_path / "dbt"
    shutil.copytree(marts.PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    model = project / "models" / "marts" / "salary_percentiles.sql"
    model.write_text(model.read_text().replace("as p50_usd", "as p50"))
    with database.connect() as conn:
        profiles = marts.write_profiles(tmp_path / "profile", marts.connection_profile(conn))
        before = conn.execute("SELECT * FROM marts.salary_percentiles ORDER BY 1, 2, 3").fetchall()
    args = marts.command_args(profiles, tmp_path / "target", project)
    done = subprocess.run(
        [marts.dbt_executable(), "run", "--select", "salary_percentiles", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0, done.stdout[-2000:]
    assert "contract" in done.stdout and "p50_usd" in done.stdout, done.stdout[-2000:]
    with database.connect() as conn:
        after = conn.execute("SELECT * FROM marts.salary_percentiles ORDER BY 1, 2, 3").fetchall()
    assert after == before and before


STATUS_CHECK = "jobs_listings_data_status_check"  # migration 0002


def test_failing_dbt_test_is_a_failed_asset_check(built) -> None:
    """A listing with an unknown status fails the accepted_values test of stg_listings: the
    check fails, the marts downstream are not rebuilt, and the run fails."""
    database, _, _ = built
    with database.connect() as conn:  # past the table's own CHECK, to reach dbt's test
        conn.execute(f"ALTER TABLE public.jobs_listings_data DROP CONSTRAINT {STATUS_CHECK}")
        conn.execute(
            "UPDATE public.jobs_listings_data SET status = 'withdrawn' WHERE source_job_id = "
            "(SELECT min(source_job_id) FROM public.jobs_listings_data WHERE status = 'active')"
        )
    try:
        result = build(database, raise_on_error=False)
    finally:
        with database.connect() as conn:
            conn.execute(
                "UPDATE public.jobs_listings_data SET status = 'active' WHERE status = 'withdrawn'"
            )
            conn.execute(
                f"ALTER TABLE public.jobs_listings_data ADD CONSTRAINT {STATUS_CHECK} "
                "CHECK (status IN ('active', 'expired'))"
            )
    assert not result.success
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert [(e.asset_key, e.check_name.split("_stg_")[0]) for e in failed] == [
        (dg.AssetKey(["analytics_staging", "stg_listings"]), "accepted_values")
    ]
    assert failed[0].severity == dg.AssetCheckSeverity.ERROR
    rebuilt = {e.asset_key for e in result.get_asset_materialization_events()}
    assert not rebuilt & set(MART_KEYS.values())


def test_marts_refresh_after_an_ingestion_window() -> None:
    """Declarative automation requests the whole dbt graph once `jobs_listings` has a new
    window, and nothing before."""
    definitions = deployed_definitions()  # the code location as deployed, sensor and all
    sensor = definitions.resolve_sensor_def("marts_automation")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    with dg.instance_for_test() as instance:
        first = dg.evaluate_automation_conditions(definitions, instance)
        assert first.total_requested == 0
        instance.report_runless_asset_event(
            dg.AssetMaterialization("jobs_listings", partition=latest_windows(1)[0])
        )
        second = dg.evaluate_automation_conditions(definitions, instance, cursor=first.cursor)
        requested = {key for key in analytics_dbt.keys if second.get_num_requested(key)}
        assert requested == set(analytics_dbt.keys)
        third = dg.evaluate_automation_conditions(definitions, instance, cursor=second.cursor)
        assert third.total_requested == 0


def test_dbt_project_never_needs_the_network() -> None:
    """No dbt packages (dagster-dbt would run `dbt deps`), no usage statistics, and the
    layers dbt's guide asks for, with the marts in schema `marts` exactly."""
    import yaml

    project = yaml.safe_load((marts.PROJECT_DIR / "dbt_project.yml").read_text())
    assert project["flags"]["send_anonymous_usage_stats"] is False
    assert not (marts.PROJECT_DIR / "packages.yml").exists()
    assert not (marts.PROJECT_DIR / "dependencies.yml").exists()
    assert project["flags"]["version_check"] is False
    layers = project["models"]["jobs_analytics"]
    assert layers["marts"]["+schema"] == "marts"
    models = {key.path[-1]: key.path[0] for key in analytics_dbt.keys}
    assert len(models) >= 10
    assert {n for n, schema in models.items() if schema == "marts"} == set(MART_KEYS)
    assert {n[:4] for n in models if n not in MART_KEYS} == {"stg_", "int_"}


def test_jobs_dbt_answers_dbts_version_and_runs_dbt_for_everything_else() -> None:
    """The marts' `dbt_executable` answers `--version` (dagster-dbt asks once per run)
    with the version dbt itself reports, without dbt's 2.5 s start; any other command is
    dbt's own (`parse_events` below runs `parse` through it)."""
    executable = marts.dbt_executable()
    assert Path(executable).name == "jobs-dbt"
    dbt = Path(executable).with_name("dbt")

    def core_version(command: list[str]) -> str:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        return re.search(r"(\d+\.\d+\.\d+)", done.stdout).group(1)

    assert core_version([executable, "--version"]) == core_version([str(dbt), "--version"])
    help_text = subprocess.run(
        [executable, "build", "--help"], capture_output=True, text=True, timeout=120
    )
    assert help_text.returncode == 0 and "--select" in help_text.stdout


def run_dbt(
    args: list[str], profile: dict[str, object], work: Path, env: dict[str, str] | None = None
) -> str:
    """`dbt <args>` outside Dagster, as an operator runs it, on `profile` (written under
    `work`, with the artifacts and logs); dbt's output, after asserting that it succeeded."""
    profiles = marts.write_profiles(work / "profile", profile)
    done = subprocess.run(
        [marts.dbt_executable(), *args, *marts.command_args(profiles, work / "target")],
        cwd=marts.PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    return done.stdout


def parse_events(profile: dict[str, object], state: Path, work: Path) -> set[str]:
    """The names of the events of a `dbt parse` on `profile` that starts from `state`."""
    env = {**os.environ, "DBT_PARTIAL_PARSE_FILE_PATH": str(state)}
    out = run_dbt(["parse", "--log-format", "json"], profile, work, env)
    return {json.loads(line)["info"]["name"] for line in out.splitlines() if line}


def test_a_fresh_data_folder_gets_its_parse_state_ahead_of_its_first_build(
    database: Database, tmp_path: Path
) -> None:
    """`make demo` in a new folder: dbt's parse state for the folder's connection is
    made in the background, and dbt accepts it for that connection (no full re-parse);
    for another connection it would not."""
    with database.connect() as conn:
        profile = marts.connection_profile(conn)
    finish = marts.parse_ahead(tmp_path, profile)
    finish()
    state = marts.saved_parse_state(marts.runs_dir(tmp_path))
    assert state.exists()
    assert "UnableToPartialParse" not in parse_events(profile, state, tmp_path / "same")
    elsewhere = {**profile, "host": str(tmp_path / "another-server")}
    assert "UnableToPartialParse" in parse_events(elsewhere, state, tmp_path / "other")
    # a folder that has its state already starts nothing
    before = state.stat().st_mtime_ns
    marts.parse_ahead(tmp_path, profile)()
    assert state.stat().st_mtime_ns == before


# --- incremental refresh --------------------------------------------------------------

MARTS = {  # name: (grain, measures, pandas recomputation)
    "daily_postings": (
        ["day", "source", "region", "category_normalised"],
        ["new_listings", "active_listings", "expired_listings"],
        md.expected_daily_postings,
    ),
    "salary_percentiles": (
        ["region", "category_normalised", "seniority"],
        ["listings", "p25_usd", "p50_usd", "p75_usd"],
        md.expected_salary_percentiles,
    ),
    "top_companies": (
        ["iso_week", "company_name"],
        ["new_listings", "share_of_week", "rank_in_week"],
        md.expected_top_companies,
    ),
    "tag_trends": (["iso_week", "tag"], ["listings", "share_of_week"], md.expected_tag_trends),
    "listing_durations": (
        ["source", "category_normalised"],
        ["listings_expired", "median_days", "p90_days"],
        md.expected_listing_durations,
    ),
    "worldwide_share": (
        ["category_normalised"],
        ["listings", "worldwide_listings", "worldwide_share"],
        md.expected_worldwide_share,
    ),
}
# a listing that is neither written by PostgreSQL nor its key, to copy as a new one
_COPIED = [c.name for c in LISTINGS.columns if not c.by_postgres and c.name != "source_job_id"]

A_WINDOW = f"""
-- new listings 4 hours after the last window, with new companies and tags
INSERT INTO public.jobs_listings_data (source_job_id, {", ".join(_COPIED)})
SELECT source_job_id || '-next', {", ".join(_COPIED)} FROM public.jobs_listings_data
WHERE abs(hashtext(source_job_id || 'n')) % 12 = 0;
UPDATE public.jobs_listings_data SET
    first_seen_at = (SELECT max(last_seen_at) FROM public.jobs_listings_data) + interval '4 hours',
    status = 'active', expired_at = NULL, is_canonical = true, duplicate_cluster_id = NULL,
    company_name = company_name || ' Next', tags = tags || ARRAY['Brand New ']
WHERE source_job_id LIKE '%-next';
UPDATE public.jobs_listings_data SET last_seen_at = first_seen_at
WHERE source_job_id LIKE '%-next';
-- seen again (nothing else changes) and expired in that window
UPDATE public.jobs_listings_data SET last_seen_at = last_seen_at + interval '4 hours'
WHERE status = 'active' AND abs(hashtext(source_job_id || 'a')) % 5 = 0
  AND source_job_id NOT LIKE '%-next';
UPDATE public.jobs_listings_data SET status = 'expired',
    expired_at = (SELECT max(first_seen_at) FROM public.jobs_listings_data)
WHERE status = 'active' AND abs(hashtext(source_job_id || 'z')) % 6 = 0
  AND source_job_id NOT LIKE '%-next';
"""
MOVES = """
-- listings that move between groups: back after expiring, re-categorised, renamed,
-- re-tagged, paid differently, and a duplicate cluster whose canonical member changes
UPDATE public.jobs_listings_data SET status = 'active', expired_at = NULL,
    reactivated_count = reactivated_count + 1
WHERE status = 'expired' AND abs(hashtext(source_job_id || 'b')) % 4 = 0;
UPDATE public.jobs_listings_data SET category_normalised = 'Data & Analytics'
WHERE abs(hashtext(source_job_id || 'k')) % 9 = 0;
UPDATE public.jobs_listings_data SET company_name = 'Renamed ' || company_name,
    tags = ARRAY['moved', 'Tags '], salary_min_usd = salary_min_usd * 2
WHERE abs(hashtext(source_job_id || 'm')) % 10 = 0;
UPDATE public.jobs_listings_data SET is_canonical = NOT is_canonical
WHERE duplicate_cluster_id = (SELECT min(duplicate_cluster_id) FROM public.jobs_listings_data);
"""


def assert_marts_match_recomputation(database: Database) -> None:
    """Every mart equals its pandas recomputation as of the last build's instant."""
    with database.connect() as conn:
        base = md.read_base(conn, md.build_as_of(conn))
        for name, (grain, measures, expected) in MARTS.items():
            actual = md.read_mart(conn, name, grain + measures)
            assert_same(actual, expected(base), grain)


def changed_listings(database: Database) -> int:
    return database.query("SELECT count(*) FROM analytics_intermediate.int_listing_changes")[0][0]


def refresh_after(
    database: Database, *statements: str, selection: list[dg.AssetKey] | None = None
) -> None:
    """Run `statements` (the changes), then a successful build of the models of
    `selection` (all). Their dbt tests are left out (`without_checks`: dagster-dbt then
    selects the models alone): the refreshes are judged against the recomputation, and
    every test runs on the first build (`test_every_dbt_test_is_a_passing_asset_check`)."""
    with database.connect() as conn:
        for statement in statements:
            conn.execute(statement)
    models = dg.AssetSelection.assets(*(selection or analytics_dbt.keys)).without_checks()
    result = build(database, selection=models)
    assert result.success
    assert not result.get_asset_check_evaluations()  # the models alone were built


def test_incremental_refreshes_equal_the_recomputation(built) -> None:
    """After each change the marts refresh from the changed listings only, and equal the
    pandas recomputation of the whole table: a window (new, seen again, expired), listings
    moving between groups, a refresh the marts missed, a restore into another server, and
    deleted listings."""
    database, _, _ = built
    with database.connect() as conn:
        conn.execute(A_WINDOW)
    # written since the last refresh read the table (this window, and anything an
    # earlier test wrote after its last successful build)
    touched = database.query(
        "SELECT count(*) FROM public.jobs_listings_data WHERE changed_xid >= ("
        " SELECT mark FROM analytics_intermediate.refresh_marks WHERE name = 'int_listing_state')"
    )[0][0]
    listings = database.query("SELECT count(*) FROM public.jobs_listings_data")[0][0]
    refresh_after(database)
    assert 100 < changed_listings(database) == touched < listings / 2
    assert_marts_match_recomputation(database)

    refresh_after(database, MOVES)
    assert_marts_match_recomputation(database)

    # the marts miss a refresh of the listing state: they then rebuild in full
    state_only = [
        dg.AssetKey(["analytics_staging", "stg_listings"]),
        dg.AssetKey(["analytics_intermediate", "int_listing_changes"]),
        dg.AssetKey(["analytics_intermediate", "int_listing_state"]),
    ]
    refresh_after(
        database,
        "UPDATE public.jobs_listings_data SET category_normalised = 'Design'"
        " WHERE abs(hashtext(source_job_id || 'q')) % 7 = 0",
        selection=state_only,
    )
    refresh_after(
        database,
        "UPDATE public.jobs_listings_data SET seniority = 'Senior'"
        " WHERE abs(hashtext(source_job_id || 'v')) % 8 = 0",
    )
    assert_marts_match_recomputation(database)

    # restored into another server: the watermark is ahead of its transactions, whose
    # stamps it would hide, so the next refresh reads every listing
    refresh_after(
        database,
        "UPDATE analytics_intermediate.refresh_marks"
        " SET mark = (pg_current_xact_id()::text::bigint + 1000000)::text::xid8"
        " WHERE name = 'int_listing_state'",
        "UPDATE public.jobs_listings_data SET company_name = 'After restore'"
        " WHERE abs(hashtext(source_job_id || 'r')) % 9 = 0",
    )
    assert changed_listings(database) == 0  # a full read leaves it empty
    assert_marts_match_recomputation(database)

    # deleted listings: the next refresh reads every listing
    refresh_after(
        database,
        "DELETE FROM public.jobs_listings_data WHERE abs(hashtext(source_job_id || 'd')) % 10 = 0",
    )
    assert changed_listings(database) == 0
    assert_marts_match_recomputation(database)


def mart_rows(database: Database) -> dict[str, list[tuple]]:
    with database.connect() as conn:
        return {
            name: sorted(conn.execute(f"SELECT * FROM marts.{name}").fetchall())
            for name in MART_KEYS
        }


def latest_days(database: Database) -> dict[str, date]:
    """The latest day of daily_postings and week of the weekly marts."""
    with database.connect() as conn:
        return {
            name: conn.execute(f"SELECT max({column}) FROM marts.{name}").fetchone()[0]
            for name, column in [
                ("daily_postings", "day"),
                ("top_companies", "week_start"),
                ("tag_trends", "week_start"),
            ]
        }


FULL_REBUILD = "TRUNCATE analytics_intermediate.refresh_marks"  # README: a full rebuild


def expire_at(conn: psycopg.Connection, stamp: datetime, listings: int = 5) -> None:
    """`listings` active listings not seen at `stamp` expired by the window starting then,
    as the lifecycle step would expire them."""
    conn.execute(
        "UPDATE public.jobs_listings_data SET status = 'expired', expired_at = %(stamp)s"
        " WHERE (source, source_job_id) IN (SELECT source, source_job_id"
        "  FROM public.jobs_listings_data WHERE status = 'active' AND last_seen_at < %(stamp)s"
        "  ORDER BY source, source_job_id LIMIT %(listings)s)",
        {"stamp": stamp, "listings": listings},
    )


def test_a_window_after_days_without_a_build_refreshes_as_a_full_build(built) -> None:
    """A window three days after the last build (the pipeline was down): the groups it
    moves pick up their active listings from their last day, the days in between
    included, and equal the recomputation and a full rebuild."""
    database, _, _ = built
    last = database.query(
        "SELECT greatest(max(last_seen_at), max(expired_at)) FROM public.jobs_listings_data"
    )[0][0]  # the last day of data
    start = last.replace(minute=0, second=0, microsecond=0) + timedelta(days=3)
    with database.connect() as conn, database.connect() as read_conn:
        md.load_window(conn, read_conn, start, range(700, 760), ListingFactory(seed=17))
        expire_at(conn, start)
    refresh_after(database)
    assert changed_listings(database) >= 60  # an incremental refresh
    assert latest_days(database)["daily_postings"] == start.date()
    assert_marts_match_recomputation(database)
    incremental = mart_rows(database)
    with database.connect() as conn:
        conn.execute(FULL_REBUILD)
    refresh_after(database)
    assert mart_rows(database) == incremental


def test_a_deployment_builds_the_marts_in_its_forked_step_process(built, tmp_path: Path) -> None:
    """The multiprocess executor deployments use: the marts step forks from the fork
    server, which preloaded dbt's adapter (jobs_assets/preload.py), and starts dbt as a
    process of its own; the refresh equals the recomputation."""
    database, _, _ = built
    with database.connect() as conn:
        conn.execute(MOVES)
    env = {
        **os.environ,
        **database.env,
        "DAGSTER_HOME": str(tmp_path),
        "JOBS_EXECUTOR": "multiprocess",
    }
    log = dagster_materialize("group:marts", env, tmp_path)
    assert "forkserver" in log or "Multiprocess executor" in log, log[-3000:]
    assert_marts_match_recomputation(database)


def dbt_processes(root: psutil.Process) -> list[psutil.Process]:
    """The dbt processes under `root` (dagster-dbt starts `dbt build` as a child)."""
    found = []
    for child in root.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            command = child.cmdline()
            named = {Path(part).name for part in command[:2]}
            if named & {"dbt", Path(marts.dbt_executable()).name} and "build" in command:
                found.append(child)
    return found


def dbt_queries(database: Database) -> int:
    """Statements dbt has running in the database now (dbt-postgres names its sessions)."""
    return database.query(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'dbt' "
        "AND state = 'active' AND datname = current_database()"
    )[0][0]


def started_nodes(runs: Path, before: set[Path]) -> int:
    """dbt nodes started by the build whose artifacts folder appeared after `before`."""
    logs = [p / "dbt.log" for p in runs.iterdir() if p.is_dir() and p not in before]
    return sum(log.read_text().count('"name": "NodeStart"') for log in logs if log.exists())


def test_stopping_a_run_stops_dbt_and_leaves_the_marts_consistent(built, tmp_path: Path) -> None:
    """A run of the marts stopped mid-build (SIGINT to the run's process: what the UI's
    terminate and Ctrl-C both raise in the step) stops dbt: dbt is interrupted, cancels
    its queries and exits, and no dbt process or query is left. The marts are still
    readable, and the next build equals the recomputation."""
    database, _, _ = built
    with database.connect() as conn:
        conn.execute(MOVES)
    data_dir = Path(database.env.get("JOBS_DATA_DIR") or tmp_path / "jobs_data")
    runs = marts.runs_dir(data_dir)
    before = set(runs.iterdir())
    env = {
        **os.environ,
        **database.env,
        "JOBS_DATA_DIR": str(data_dir),
        "DAGSTER_HOME": str(tmp_path),
        "JOBS_EXECUTOR": "in_process",
    }
    run = subprocess.Popen(
        materialize_command("group:marts"),
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    seen: list[psutil.Process] = []
    try:
        root = psutil.Process(run.pid)
        deadline = time.monotonic() + 240
        while not (seen and started_nodes(runs, before) >= 2):  # dbt is at work
            assert run.poll() is None, run.stdout.read().decode()[-3000:]
            assert time.monotonic() < deadline, "dbt never started a node"
            seen = seen or dbt_processes(root)
            time.sleep(0.05)
        os.kill(run.pid, signal.SIGINT)
        output = run.communicate(timeout=120)[0].decode()
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    assert run.returncode != 0
    assert "interrupt" in output.lower(), output[-3000:]  # the run says it was stopped
    nodes = len(analytics_dbt.keys) + len(analytics_dbt.check_specs)  # models and tests
    assert started_nodes(runs, before) < nodes, "the build had finished before it was stopped"
    for process in seen:
        gone = not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
        assert gone, output[-6000:]
    assert dbt_queries(database) == 0
    with database.connect() as conn:
        for name in MART_KEYS:  # every mart is there, the old version or the new
            marts.row_count(conn, "marts", name)
    refresh_after(database)
    assert_marts_match_recomputation(database)


# --- what is dated after the build ------------------------------------------------------


def window_in_two_days() -> datetime:
    """The start of the 4-hour window two days from now: a window stamped in the future
    (the ingestion host's clock ahead, or a window key typed ahead)."""
    now = datetime.now(UTC)
    return now.replace(hour=now.hour - now.hour % 4, minute=0, second=0, microsecond=0) + (
        timedelta(days=2)
    )


def load_window_ahead(database: Database, start: datetime) -> int:
    """The window at `start` through the pipeline (staged and upserted): listings of the
    last window seen again and new ones; and listings expired by it, as the lifecycle step
    would. Returns how many listings are now dated after the present."""
    with database.connect() as conn, database.connect() as read_conn:
        md.load_window(conn, read_conn, start, range(540, 630), ListingFactory(seed=16))
        expire_at(conn, start)
        return conn.execute(
            "SELECT count(*) FROM public.jobs_listings_data WHERE first_seen_at > now()"
            " OR last_seen_at > now() OR expired_at > now()"
        ).fetchone()[0]


def dbt_build_as_of(database: Database, as_of: datetime, work: Path) -> str:
    """`dbt build --vars '{as_of: ...}'` outside Dagster: the marts as of another instant,
    as an operator reproduces a build (macros/as_of.sql). Returns dbt's output."""
    with database.connect() as conn:
        profile = marts.connection_profile(conn)
    return run_dbt(["build", "--vars", json.dumps({"as_of": as_of.isoformat()})], profile, work)


def test_a_window_stamped_ahead_counts_once_its_time_comes(built, tmp_path: Path) -> None:
    """A window stamped two days ahead (new listings, listings seen again, expiries) is
    left out of every mart: no day or week after the build's, the marts equal the
    recomputation as of the build, a full rebuild gives the same rows, and the warning
    `dated_after_build` counts the listings left out. A build as of a day after that
    window counts all of it, incrementally, as the recomputation does; the window
    re-stamped to the day it really came (the operator's fix) moves the last day back;
    a listing re-dated after the build leaves the marts."""
    database, _, _ = built
    snapshot = database.snapshot()
    ahead = window_in_two_days()
    try:
        dated_ahead = load_window_ahead(database, ahead)
        assert dated_ahead >= 60

        result = build(database)  # incremental, with every dbt test
        assert result.success
        today = datetime.now(UTC).date()
        assert all(day <= today for day in latest_days(database).values()), latest_days(database)
        assert_marts_match_recomputation(database)
        failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
        assert [(e.check_name.split("_stg_")[0], e.severity) for e in failed] == [
            ("dated_after_build", dg.AssetCheckSeverity.WARN)
        ]
        assert failed[0].metadata["dagster_dbt/failed_row_count"].value == dated_ahead
        incremental = mart_rows(database)
        with database.connect() as conn:
            conn.execute(FULL_REBUILD)
        refresh_after(database)
        assert mart_rows(database) == incremental

        # a day after that window: all of it counts, up to its day and no further
        later = ahead + timedelta(days=1)
        dbt_build_as_of(database, later, tmp_path)
        assert latest_days(database)["daily_postings"] == ahead.date()
        assert_marts_match_recomputation(database)  # as the full rebuild above did

        # the window re-stamped to the one it came in: the last day moves back
        came = ahead - timedelta(days=2)
        with database.connect() as conn:
            conn.execute(
                "UPDATE public.jobs_listings_data SET"
                " first_seen_at = least(first_seen_at, %(came)s),"
                " last_seen_at = CASE WHEN last_seen_at = %(ahead)s THEN %(came)s"
                "  ELSE last_seen_at END,"
                " expired_at = CASE WHEN expired_at = %(ahead)s THEN %(came)s ELSE expired_at END"
                " WHERE %(ahead)s IN (first_seen_at, last_seen_at, expired_at)",
                {"ahead": ahead, "came": came},
            )
        dbt_build_as_of(database, later, tmp_path)
        assert changed_listings(database) >= dated_ahead  # an incremental refresh
        assert latest_days(database)["daily_postings"] == came.date()
        assert_marts_match_recomputation(database)

        # a listing the marts count re-dated after the build: it leaves every mart, by
        # a refresh that reads every listing
        with database.connect() as conn:
            conn.execute(
                "UPDATE public.jobs_listings_data SET first_seen_at = %(after)s,"
                " last_seen_at = %(after)s WHERE (source, source_job_id) = (SELECT source,"
                " source_job_id FROM public.jobs_listings_data WHERE status = 'active'"
                " ORDER BY source, source_job_id LIMIT 1)",
                {"after": later + timedelta(hours=4)},
            )
        dbt_build_as_of(database, later, tmp_path)
        assert changed_listings(database) == 0  # a full read leaves it empty
        assert_marts_match_recomputation(database)
    finally:
        database.restore(snapshot)
    refresh_after(database)  # as of now again: every listing is read
    assert changed_listings(database) == 0
    assert_marts_match_recomputation(database)


def test_the_dbt_project_knows_the_category_vocabulary() -> None:
    """The categories the marts are tested against are the categoriser's vocabulary."""
    import yaml

    project = yaml.safe_load((marts.PROJECT_DIR / "dbt_project.yml").read_text())
    assert project["vars"]["categories"] == list(VOCABULARY)
    test = next(
        node
        for node in manifest()["nodes"].values()
        if node["resource_type"] == "test" and node["name"] == "known_categories_daily_postings"
    )
    assert "var('categories')" in test["test_metadata"]["kwargs"]["values"]


def test_a_category_outside_the_vocabulary_is_a_warning(built) -> None:
    """A listing still labelled as an older vocabulary had it ('Data') is counted under
    that label, and the check of daily_postings' categories warns about it; the marts
    build all the same."""
    database, _, _ = built
    listing = "(SELECT min(source_job_id) FROM public.jobs_listings_data)"
    with database.connect() as conn:
        label = conn.execute(
            f"SELECT category_normalised FROM public.jobs_listings_data"
            f" WHERE source_job_id = {listing}"
        ).fetchone()[0]
        conn.execute(
            "UPDATE public.jobs_listings_data SET category_normalised = 'Data'"
            f" WHERE source_job_id = {listing}"
        )
    try:
        result = build(database)
        assert result.success
        failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
        assert [(e.check_name, e.severity) for e in failed] == [
            ("known_categories_daily_postings", dg.AssetCheckSeverity.WARN)
        ]
        assert failed[0].metadata["dagster_dbt/failed_row_count"].value == 1  # one label
        assert_marts_match_recomputation(database)
    finally:
        with database.connect() as conn:
            conn.execute(
                "UPDATE public.jobs_listings_data SET category_normalised = %s"
                f" WHERE source_job_id = {listing}",
                (label,),
            )
    refresh_after(database)
    assert_marts_match_recomputation(database)
