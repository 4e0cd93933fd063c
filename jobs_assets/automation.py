"""Values fixed when the definitions load: whether schedules and sensors start running
(`JOBS_AUTOMATION=on`, set by the image and docker-compose; stopped by default, so
`make dev` on a laptop fetches nothing until someone asks), the ingestion steps' retry
policy and the salary model's retraining interval.

`jobs_assets/definitions.py` reads them once (`DefinitionsSettings.from_env()`) and loads
the defs folder inside `loading(values)`; a defs module asks `in_use()` in its
`@dg.definitions` function, never at import. Imported on its own (a test), a module's
objects carry the defaults. Either way each schedule and sensor can be switched in the
UI, which then remembers it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

import dagster as dg

from jobs_assets.settings import DefinitionsSettings

_IN_USE: ContextVar[DefinitionsSettings | None] = ContextVar(
    "jobs_assets_definitions_settings", default=None
)


def in_use() -> DefinitionsSettings:
    """The values of the definitions being loaded (the defaults outside `loading()`)."""
    return _IN_USE.get() or DefinitionsSettings()


@contextlib.contextmanager
def loading(values: DefinitionsSettings) -> Iterator[DefinitionsSettings]:
    """The definitions built inside this block use `values`."""
    token = _IN_USE.set(values)
    try:
        yield values
    finally:
        _IN_USE.reset(token)


def schedule_status(values: DefinitionsSettings) -> dg.DefaultScheduleStatus:
    return (
        dg.DefaultScheduleStatus.RUNNING if values.automation else dg.DefaultScheduleStatus.STOPPED
    )


def sensor_status(values: DefinitionsSettings) -> dg.DefaultSensorStatus:
    return dg.DefaultSensorStatus.RUNNING if values.automation else dg.DefaultSensorStatus.STOPPED


def step_retry_policy(values: DefinitionsSettings) -> dg.RetryPolicy:
    """Step retries cover what HTTP retries cannot (an HTML error page, a dropped
    connection); `JOBS_STEP_RETRIES` and `JOBS_STEP_RETRY_DELAY_SECONDS` tune them."""
    return dg.RetryPolicy(
        max_retries=values.step_retries,
        delay=values.step_retry_delay_seconds,
        backoff=dg.Backoff.EXPONENTIAL,
        jitter=dg.Jitter.PLUS_MINUS,
    )
