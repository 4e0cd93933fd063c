"""Every definition loads, and the ingestion graph has its shape: one raw asset per source,
then `staged_listings`, then `jobs_listings` (which also converts with `ecb_rates`)."""

from __future__ import annotations

import dagster as dg

from jobs_assets.definitions import defs
from jobs_assets.lib.sources import SOURCES
from jobs_assets.partitions import INGESTION_PARTITIONS


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


def test_window_keys_are_four_hourly_in_utc() -> None:
    keys = INGESTION_PARTITIONS.get_partition_keys()
    assert keys[0] == "2026-01-01-00:00" and keys[1] == "2026-01-01-04:00"
    window = INGESTION_PARTITIONS.time_window_for_partition_key("2026-11-22-04:00")
    assert (window.end - window.start).total_seconds() == 4 * 3600
    assert window.start.utcoffset().total_seconds() == 0
