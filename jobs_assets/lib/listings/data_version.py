"""The data version: a counter each successful load bumps.

The read API puts it in every cache key and ETag, so a cached answer never outlives the
data it was computed from. The table is created by the API's migration
(migration 0003); until it exists, bumping is a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

_BUMP = """
INSERT INTO public.jobs_data_version AS v (version, partition_key, loaded_at)
VALUES (1, %(key)s, now())
ON CONFLICT (singleton) DO UPDATE
    SET version = v.version + 1, partition_key = EXCLUDED.partition_key, loaded_at = now()
RETURNING version
"""


@dataclass(frozen=True)
class DataVersion:
    version: int
    partition_key: str | None
    loaded_at: datetime | None


def bump_data_version(conn: psycopg.Connection, partition_key: str | None = None) -> int | None:
    """Record a successful load of `partition_key`; the new version, or None without the table.

    Inside the caller's open transaction it commits with it (a savepoint), so a load and
    its bump can be one atomic step.
    """
    with conn.transaction():
        exists = conn.execute("SELECT to_regclass('public.jobs_data_version')").fetchone()[0]
        if exists is None:
            return None
        return conn.execute(_BUMP, {"key": partition_key}).fetchone()[0]


def read_data_version(conn: psycopg.Connection) -> DataVersion:
    row = conn.execute(
        "SELECT version, partition_key, loaded_at FROM public.jobs_data_version"
    ).fetchone()
    return DataVersion(*row) if row else DataVersion(0, None, None)
