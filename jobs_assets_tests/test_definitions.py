"""Every definition loads, and the ingestion graph has its shape: one raw asset per source,
then `staged_listings`, then `jobs_listings` (which also converts with `ecb_rates`)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import yaml

from jobs_assets.cli import LOCAL_DAGSTER_YAML
from jobs_assets.definitions import build_definitions, defs
from jobs_assets.lib.sources import SOURCES
from jobs_assets.partitions import FIRST_WINDOW, INGESTION_PARTITIONS, WINDOW_FORMAT
from jobs_assets.settings import DefinitionsSettings
from jobs_assets_tests.deployment import free_port, stop_sessions


def test_all_definitions_load() -> None:
    dg.Definitions.validate_loadable(defs())


def test_ingestion_group_is_partitioned_by_four_hour_windows() -> None:
    graph = defs().resolve_asset_graph()
    ingestion = {
        key.to_user_string(): graph.get(key)
        for key in graph.get_all_asset_keys()
        if graph.get(key).group_name == "ingestion"
    }
    raw = {"remotive_raw", "jobicy_raw", "himalayas_raw", "remoteok_raw", "arbeitnow_raw"}
    assert raw == {f"{name}_raw" for name in SOURCES}
    assert set(ingestion) == {*raw, "ecb_rates", "staged_listings", "jobs_listings"}
    assert all(node.partitions_def == INGESTION_PARTITIONS for node in ingestion.values())
    assert {k.to_user_string() for k in ingestion["staged_listings"].parent_keys} == raw
    assert {k.to_user_string() for k in ingestion["jobs_listings"].parent_keys} == {
        "staged_listings",
        "ecb_rates",
    }


def test_window_keys_are_four_hourly_in_utc_from_the_first_window() -> None:
    keys = INGESTION_PARTITIONS.get_partition_keys()
    assert keys[0] == FIRST_WINDOW == "2026-11-01-00:00"
    assert keys[1] == (datetime.strptime(keys[0], WINDOW_FORMAT) + timedelta(hours=4)).strftime(
        WINDOW_FORMAT
    )
    window = INGESTION_PARTITIONS.time_window_for_partition_key("2026-11-22-04:00")
    assert (window.end - window.start).total_seconds() == 4 * 3600
    assert window.start.utcoffset().total_seconds() == 0


AUTOMATION_PROBE = """
import json
import dagster as dg
from jobs_assets.definitions import defs
d = defs()
states = {s.name: s.default_status.value for s in d.schedules}
states.update({s.name: s.default_status.value for s in d.sensors})
graph = d.resolve_asset_graph()
ops = {
    key.to_user_string(): graph.get(key).assets_def.op
    for key in graph.get_all_asset_keys()
    if graph.get(key).assets_def.is_executable
}
retries = {name: op.retry_policy.max_retries for name, op in ops.items() if op.retry_policy}
model = graph.get(dg.AssetKey("salary_model"))
print(json.dumps({"states": sorted(set(states.values())), "count": len(states),
    "retries": retries, "retrain": model.automation_condition.get_label()}))
"""


def automation_states(definitions: dg.Definitions) -> set[str]:
    states = {s.default_status.value for s in definitions.schedules or ()}
    return states | {s.default_status.value for s in definitions.sensors or ()}


def probe(env: dict[str, str], cwd: Path) -> dict:
    """What a fresh process that loads the code location with `env` finds in it."""
    done = subprocess.run(
        [sys.executable, "-c", AUTOMATION_PROBE],
        env={"PATH": "/usr/bin:/bin", "JOBS_DATA_DIR": str(cwd), "PGHOST": "unused", **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_automation_and_retries_are_read_once_when_the_definitions_load(tmp_path) -> None:
    """A laptop's `make dev` starts nothing; JOBS_AUTOMATION=on (compose) starts everything.

    The switch, the step retries and the retraining interval are read when the
    definitions load (`definitions.py`), never when a module is imported: the values
    given to `build_definitions` are the ones its objects carry, and a fresh process
    reads them from its environment."""
    assert automation_states(build_definitions(DefinitionsSettings(automation=True))) == {"RUNNING"}
    assert automation_states(build_definitions(DefinitionsSettings())) == {"STOPPED"}

    quiet = probe({}, tmp_path)
    assert quiet["states"] == ["STOPPED"] and quiet["count"] >= 6
    assert set(quiet["retries"].values()) == {3}
    assert "every 24 h" in quiet["retrain"]
    deployed = probe(
        {
            "JOBS_AUTOMATION": "on",
            "JOBS_STEP_RETRIES": "7",
            "JOBS_MODEL_RETRAIN_HOURS": "6",
        },
        tmp_path,
    )
    assert deployed["states"] == ["RUNNING"] and deployed["count"] == quiet["count"]
    assert set(deployed["retries"]) == {
        *(f"{n}_raw" for n in SOURCES),
        "staged_listings",
        "jobs_listings",
        "saved_search_matches",  # the sensor asks once per window: a passing error retries
    }
    assert set(deployed["retries"].values()) == {7}
    assert "every 6 h" in deployed["retrain"]


# --- loading as make dev, the daemon and the compose code server do: no warning of ours ---

REPO = Path(__file__).resolve().parents[1]
#: what a warning about this project's own configuration names
OURS = re.compile(r"code location name|tool\.dg|pyproject|dagster\.yaml|jobs_assets", re.I)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def our_warnings(output: str) -> list[str]:
    lines = ANSI.sub("", output).splitlines()
    return [line for line in lines if re.search(r"warn", line, re.I) and OURS.search(line)]


def start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        argv,
        cwd=REPO,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # stopped as a group: dagster dev's children too
    )


def wait_for(ready: Callable[[], bool], processes: list[subprocess.Popen], what: str) -> None:
    deadline = time.monotonic() + 240
    while not ready():
        for process in processes:
            assert process.poll() is None, f"{what}: {process.args[:4]} ended early"
        assert time.monotonic() < deadline, f"{what} never became ready"
        time.sleep(1)


def location_loaded(port: int) -> bool:
    query = b'{"query": "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"}'
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", query, {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            entries = json.loads(answer.read())["data"]["workspaceOrError"]["locationEntries"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return entries == [{"name": "jobs_assets", "loadStatus": "LOADED"}]


def test_dagster_loads_the_project_without_a_warning_about_its_configuration(
    tmp_path: Path,
) -> None:
    """`make dev` (its code server and daemon, from the repository root) and the compose
    code server with the compose daemon load the definitions; no WARNING names this
    project's configuration (a code location name that disagrees with pyproject's
    [tool.dg.project], a dagster.yaml that `dagster dev` would not use)."""
    bin_dir = Path(sys.executable).parent
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "MAKE"))}
    base |= {"JOBS_DATA_DIR": str(tmp_path / "jobs_data"), "JOBS_AUTOMATION": "off"}
    dev_port, grpc_port = free_port(), free_port()

    dev_env = {**base, "DAGSTER_HOME": str(tmp_path / "dev_home")}
    dev = start(
        [sys.executable, "-m", "jobs_assets.cli", "dev", "--port", str(dev_port)],
        dev_env,
        tmp_path / "dev.log",
    )
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    command = [
        {"0.0.0.0": "127.0.0.1", "4000": str(grpc_port)}.get(arg, arg)
        for arg in compose["services"]["user_code"]["command"]
    ]
    grpc_home = tmp_path / "grpc_home"
    grpc_home.mkdir()
    (grpc_home / "dagster.yaml").write_text(LOCAL_DAGSTER_YAML)
    grpc_env = {
        **base,
        "DAGSTER_HOME": str(grpc_home),
        "DAGSTER_CODE_SERVER_HOST": "127.0.0.1",
        "DAGSTER_CODE_SERVER_PORT": str(grpc_port),
    }
    server = start([str(bin_dir / command[0]), *command[1:]], grpc_env, tmp_path / "grpc.log")
    processes = [dev, server]
    try:
        health = [str(bin_dir / "dagster"), "api", "grpc-health-check", "-p", str(grpc_port)]

        def serving() -> bool:
            return subprocess.run(health, capture_output=True, timeout=60).returncode == 0

        wait_for(serving, processes, "the compose code server")
        daemon_command = compose["services"]["daemon"]["command"]
        daemon = start(
            [str(bin_dir / daemon_command[0]), *daemon_command[1:]],
            grpc_env,
            tmp_path / "daemon.log",
        )
        processes.append(daemon)
        wait_for(lambda: location_loaded(dev_port), processes, "make dev")
        time.sleep(10)  # the daemons' first ticks, against both code servers
    finally:
        stop_sessions(processes, timeout=15)  # dagster dev may take minutes: then killed
    for log in ("dev.log", "grpc.log", "daemon.log"):
        output = (tmp_path / log).read_text()
        assert not our_warnings(output), f"{log}:\n" + "\n".join(our_warnings(output)[:5])
    assert "Serving dagster-webserver" in ANSI.sub("", (tmp_path / "dev.log").read_text())
