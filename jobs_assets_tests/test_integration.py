"""The deployed stack end to end: a run launched through the webserver's GraphQL API is
queued, dequeued by the daemon, executed by the gRPC code server against the replay
server, and read back (run, materialisations, pool limits) through GraphQL.

The stack (see deployment.py) is production's dagster.yaml and workspace.yaml on a
Postgres-backed instance, with the default run launcher in place of Docker.
"""

from __future__ import annotations

import time

import pytest
import yaml
from dagster_graphql import DagsterGraphQLClient

from jobs_assets.lib.raw.store import window_dirname
from jobs_assets.lib.sources import SOURCES
from jobs_assets_tests.conftest import Database, fixture_listing_count, latest_windows
from jobs_assets_tests.deployment import LOCATION, PRODUCTION_DAGSTER_YAML, Deployment

INGESTION_ASSETS = {
    *(f"{name}_raw" for name in SOURCES),
    "ecb_rates",
    "staged_listings",
    "jobs_listings",
}
API_POOLS = tuple(f"api_{name}" for name in SOURCES)
RUN_TIMEOUT = 240.0

RUN_QUERY = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      runId
      status
      jobName
      tags { key value }
      assetMaterializations {
        assetKey { path }
        partition
        metadataEntries {
          label
          ... on IntMetadataEntry { intValue }
          ... on TextMetadataEntry { text }
        }
      }
    }
  }
}
"""

EVENTS_QUERY = """
query Events($runId: ID!) {
  logsForRun(runId: $runId) {
    __typename
    ... on EventConnection {
      events {
        __typename
        ... on MessageEvent { message stepKey }
      }
    }
  }
}
"""

POOLS_QUERY = """
query Pools($pool: String!) {
  instance {
    poolConfig { defaultPoolLimit poolGranularity }
    concurrencyLimit(concurrencyKey: $pool) { limit slotCount }
  }
}
"""


def run_events(stack: Deployment, run_id: str) -> list[dict]:
    return stack.graphql(EVENTS_QUERY, {"runId": run_id})["logsForRun"]["events"]


def wait_for_run(stack: Deployment, client: DagsterGraphQLClient, run_id: str) -> str:
    """The run's final status; the stack's logs and the run's failures when it times out."""
    deadline = time.monotonic() + RUN_TIMEOUT
    status = "NOT_STARTED"
    while time.monotonic() < deadline:
        stack.check_alive()
        status = client.get_run_status(run_id).value
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            return status
        time.sleep(1.0)
    raise AssertionError(f"run {run_id} still {status} after {RUN_TIMEOUT:.0f}s\n{stack.logs()}")


@pytest.fixture(scope="module")
def ingestion_run(deployment: Deployment) -> dict:
    """One ingestion_job run for the newest window, launched like an operator would."""
    partition = latest_windows()[-1]
    host, port = deployment.webserver_url.removeprefix("http://").split(":")
    client = DagsterGraphQLClient(host, port_number=int(port), timeout=60)
    run_id = client.submit_job_execution(
        "ingestion_job",
        repository_location_name=LOCATION,
        repository_name="__repository__",
        tags={"dagster/partition": partition},
    )
    status = wait_for_run(deployment, client, run_id)
    if status != "SUCCESS":
        failures = [
            f"{e.get('stepKey')}: {e.get('message')}"
            for e in run_events(deployment, run_id)
            if "Failure" in e["__typename"]
        ]
        raise AssertionError(f"run {run_id} ended {status}: {failures}\n{deployment.logs()}")
    run = deployment.graphql(RUN_QUERY, {"runId": run_id})["runOrError"]
    return {"partition": partition, "run": run, "events": run_events(deployment, run_id)}


def test_run_launched_over_graphql_succeeds_through_the_queue(ingestion_run: dict) -> None:
    run = ingestion_run["run"]
    assert run["__typename"] == "Run"
    assert run["status"] == "SUCCESS"
    assert run["jobName"] == "ingestion_job"
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert tags["dagster/partition"] == ingestion_run["partition"]
    # QueuedRunCoordinator: the webserver only enqueued the run; the daemon's queue
    # dequeued it and reported it starting (RunStartingEvent) as it handed it to a launcher.
    kinds = [e["__typename"] for e in ingestion_run["events"]]
    assert "RunEnqueuedEvent" in kinds
    assert "RunStartingEvent" in kinds
    assert kinds.index("RunEnqueuedEvent") < kinds.index("RunStartingEvent")
    assert kinds.index("RunStartingEvent") < kinds.index("RunStartEvent")
    assert "RunSuccessEvent" in kinds
    assert "RunFailureEvent" not in kinds
    # The suite's one run through the multiprocess executor: a process per step.
    messages = [e.get("message") or "" for e in ingestion_run["events"]]
    assert any("using multiprocess executor" in m for m in messages)
    in_subprocess = {m for m in messages if m.startswith("Executing step") and "subprocess" in m}
    assert len(in_subprocess) > len(INGESTION_ASSETS)


def test_every_ingestion_asset_materialised_for_the_window(
    ingestion_run: dict, deployment: Deployment, database: Database
) -> None:
    partition = ingestion_run["partition"]
    materialisations = ingestion_run["run"]["assetMaterializations"]
    by_asset = {"/".join(m["assetKey"]["path"]): m for m in materialisations}
    assert set(by_asset) >= INGESTION_ASSETS
    assert {by_asset[name]["partition"] for name in INGESTION_ASSETS} == {partition}

    def metadata(asset: str) -> dict:
        return {
            e["label"]: e.get("intValue", e.get("text")) for e in by_asset[asset]["metadataEntries"]
        }

    expected = fixture_listing_count()
    assert metadata("staged_listings")["dagster/row_count"] == expected
    assert metadata("jobs_listings")["window_listings"] == expected
    for source in SOURCES:
        assert metadata(f"{source}_raw")["mode"] == "live"
    # The rows are really in the data database the run was pointed at.
    staged = database.query(
        "SELECT count(*) FROM staging.staging_jobs_listings_data WHERE partition_key = %s",
        (partition,),
    )[0][0]
    assert staged == expected
    # ... and the raw responses came over HTTP from the replay server, into $JOBS_DATA_DIR.
    assert {r.path for r in deployment.replay.requests} >= {f"/{name}" for name in SOURCES}
    window_dir = window_dirname(partition)
    for source in SOURCES:
        assert (deployment.data_dir / "raw" / source / window_dir / "manifest.json").is_file()


def test_api_pools_are_limited_to_one_step_at_a_time(
    ingestion_run: dict, deployment: Deployment
) -> None:
    for pool in API_POOLS:
        instance = deployment.graphql(POOLS_QUERY, {"pool": pool})["instance"]
        assert instance["poolConfig"] == {"defaultPoolLimit": 1, "poolGranularity": "op"}
        assert instance["concurrencyLimit"]["limit"] == 1, pool
        assert instance["concurrencyLimit"]["slotCount"] == 1, pool


def test_instance_is_production_config_with_the_default_launcher(deployment: Deployment) -> None:
    used = yaml.safe_load((deployment.home / "dagster.yaml").read_text())
    production = yaml.safe_load(PRODUCTION_DAGSTER_YAML.read_text())
    differs = {k for k in production.keys() | used.keys() if production.get(k) != used.get(k)}
    # storage differs only on the embedded server (a socket URL instead of host and port)
    assert differs <= {"run_launcher", "compute_logs", "storage"}
    assert "run_launcher" not in used
    assert list(used["storage"]) == ["postgres"]
    launcher = deployment.graphql("{ instance { runLauncher { name } } }")["instance"]
    assert launcher["runLauncher"]["name"] == "DefaultRunLauncher"
