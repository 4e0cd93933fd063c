"""Real data for the tests and the benchmarks: the pipeline's own assets, run on the
recorded responses through the local replay server, then the dbt marts built from what
they loaded; `synth` makes synthetic windows from the same recordings.

Shared by `jobs_assets_tests` and `benchmarks`, which never import each other
(`jobs_assets_tests/test_imports.py`), so neither keeps a hand-written copy of another
layer's schema: whatever the migrations and the dbt models define is what the API under
test reads. May import anything of `jobs_assets`; nothing of `jobs_assets` but the tests
and the benchmarks imports it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import dagster as dg

from jobs_assets.lib.sources import SOURCES
from jobs_assets.replay import ECB_PATH, FIXTURES, ReplayServer
from jobs_assets.resources import (
    LifecycleResource,
    PostgresResource,
    RawStoreResource,
    SourceApiResource,
)


class DsnPostgres(PostgresResource):
    """The pipeline's database resource pointed at a given database (a scratch one)."""

    dsn: str

    def conninfo(self) -> str:
        return self.dsn


def api_resources(base_url: str, **overrides: object) -> dict[str, SourceApiResource]:
    """Fast, impolite settings for a local server: no rate limit, short backoff; one
    resource per registered source, and the ECB's rates."""
    settings = {
        "min_interval_hours": 0.0,
        "workers": 4,
        "max_rps": 0.0,
        "timeout_seconds": 2.0,
        "max_retries": 3,
        "backoff_seconds": 0.01,
        **overrides,
    }
    apis = {
        f"{name}_api": SourceApiResource(
            **{
                "name": name,
                "url": f"{base_url}/{name}",
                "max_pages": source.max_pages or 1,
                **settings,
            }
        )
        for name, source in SOURCES.items()
    }
    ecb = SourceApiResource(**{"name": "ecb_rates", "url": base_url + ECB_PATH, **settings})
    return {**apis, "ecb_rates_api": ecb}


#: one step retry at once: what a test of a retried failure needs, without the back-off
TEST_RETRY = dg.RetryPolicy(max_retries=1)


def ingestion_assets(retry: dg.RetryPolicy = TEST_RETRY) -> list[dg.AssetsDefinition]:
    """Raw pages, ECB rates, staging and the listings upsert: one window's load."""
    from jobs_assets.defs.ingestion.assets import build_ingestion_assets

    return build_ingestion_assets(retry)


def load_recorded_windows(
    postgres: PostgresResource,
    data_dir: Path,
    partition_keys: Sequence[str],
    fixtures: Path = FIXTURES,
    lifecycle: LifecycleResource | None = None,
) -> None:
    """Each window of `partition_keys`, in order, loaded by the ingestion assets from the
    recorded responses in `fixtures` (the replay server serves the same recordings to
    every window, so a second window sees the listings again); listings expire as
    `lifecycle` says (default: as deployed by default)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with ReplayServer(fixtures) as server:
        resources = {
            "postgres": postgres,
            "raw_store": RawStoreResource(data_dir=str(data_dir)),
            "lifecycle": lifecycle or LifecycleResource(),
            **api_resources(server.base_url),
        }
        for key in partition_keys:
            dg.materialize(
                ingestion_assets(),
                partition_key=key,
                resources=resources,
                instance=dg.DagsterInstance.ephemeral(),
            )


def build_marts(postgres: PostgresResource) -> dg.ExecuteInJobResult:
    """`dbt build` of every model through Dagster, with the resource the marts asset
    runs with, on the database of `postgres`."""
    from jobs_assets.defs.marts.assets import PROJECT, MartsDbtResource, analytics_dbt
    from jobs_assets.lib import marts

    return dg.materialize(
        [analytics_dbt],
        resources={
            "dbt": MartsDbtResource(project_dir=PROJECT, dbt_executable=marts.dbt_executable()),
            "postgres": postgres,
        },
        instance=dg.DagsterInstance.ephemeral(),
    )


def salary_corpus_dir() -> Path:
    """Where the salary corpus is (not committed: other projects' data), as the
    environment says (`JOBS_SALARY_CORPUS_DIR`, `JOBS_SHARED_DATA_DIR`)."""
    from jobs_assets.lib.salary_model.corpus import corpus_dir
    from jobs_assets.settings import environment

    return corpus_dir(environment())


def fixture_listing_counts(recordings: str = "") -> dict[str, int]:
    """Distinct listings per source that the replay server serves (what a demo window
    loads; `recordings="_b"`: the earlier recordings, the demo's previous window),
    fetched with each source's own paging from a replay server of its own (once per
    process: the recorded responses do not change)."""
    return dict(_fixture_listing_counts(recordings))


@functools.cache
def _fixture_listing_counts(recordings: str) -> dict[str, int]:
    from jobs_assets.lib.sources import parse_window

    counts = {}
    with ReplayServer() as server:
        server.use_recordings(recordings)
        resources = api_resources(server.base_url)
        for name, source in SOURCES.items():
            settings = resources[f"{name}_api"].settings()
            pages = []
            with settings.http_client() as client:
                source.fetch(client, settings, pages.append)
            counts[name] = parse_window(source, sorted(pages, key=lambda p: p.index)).parsed
    return counts


def fixture_listing_count() -> int:
    """Distinct listings across the sources the replay server serves."""
    return sum(fixture_listing_counts().values())
