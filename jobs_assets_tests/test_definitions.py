"""Every definition loads, and the ingestion graph has its shape: one raw asset per source,
then `staged_listings`, then `jobs_listings` (which also converts with `ecb_rates`)."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta

import dagster as dg

from jobs_assets.definitions import defs
from jobs_assets.lib.sources import SOURCES
from jobs_assets.partitions import FIRST_WINDOW, INGESTION_PARTITIONS, WINDOW_FORMAT
from jobs_assets.settings import DEFAULT_FIRST_WINDOW, Settings


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
    assert keys[0] == Settings.from_env().first_window == FIRST_WINDOW
    assert keys[1] == (datetime.strptime(keys[0], WINDOW_FORMAT) + timedelta(hours=4)).strftime(
        WINDOW_FORMAT
    )
    window = INGESTION_PARTITIONS.time_window_for_partition_key("2026-11-22-04:00")
    assert (window.end - window.start).total_seconds() == 4 * 3600
    assert window.start.utcoffset().total_seconds() == 0


AUTOMATION_PROBE = """
import dagster as dg
from jobs_assets.definitions import defs
from jobs_assets.partitions import INGESTION_PARTITIONS
d = defs()
states = {s.name: s.default_status.value for s in d.schedules}
states.update({s.name: s.default_status.value for s in d.sensors})
print(INGESTION_PARTITIONS.get_first_partition_key(), sorted(set(states.values())), len(states))
"""


def automation_states(definitions: dg.Definitions) -> set[str]:
    states = {s.default_status.value for s in definitions.schedules or ()}
    return states | {s.default_status.value for s in definitions.sensors or ()}


def test_automation_starts_stopped_unless_on_and_the_first_window_is_a_setting(
    tmp_path,
) -> None:
    """A laptop's `make dev` starts nothing; JOBS_AUTOMATION=on (compose) starts everything.

    Both are read when the definitions load: this session runs with JOBS_AUTOMATION=on
    (conftest.py) and the default first window; a fresh process checks the opposite."""
    assert DEFAULT_FIRST_WINDOW == "2026-11-01-00:00"
    assert Settings.from_env().automation
    assert automation_states(defs()) == {"RUNNING"}
    assert INGESTION_PARTITIONS.get_first_partition_key() == Settings.from_env().first_window

    env = {
        "PATH": "/usr/bin:/bin",
        "JOBS_DATA_DIR": str(tmp_path),
        "PGHOST": "unused",
        "JOBS_FIRST_WINDOW": "2026-11-20-00:00",
    }
    done = subprocess.run(
        [sys.executable, "-c", AUTOMATION_PROBE],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    first_window, *states = done.stdout.split(maxsplit=1)
    assert first_window == "2026-11-20-00:00" and "['STOPPED']" in " ".join(states)
