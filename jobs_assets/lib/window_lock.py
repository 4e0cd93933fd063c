"""One writer per window in PostgreSQL: two runs of the same window take turns.

Staging replaces a window with delete + COPY in one transaction; two such transactions
at once would collide on the primary key. A session-level advisory lock per (asset,
window) makes the second run wait for the first (then do its own complete write), or
fail after `wait_seconds` with a message saying which run holds it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from jobs_assets.lib.errors import WindowBusy


def lock_id(name: str, partition_key: str) -> int:
    """A stable signed 64-bit id for `pg_advisory_lock` from the asset and window."""
    digest = hashlib.sha256(f"jobs_assets:{name}:{partition_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def window_lock(
    conn: psycopg.Connection, name: str, partition_key: str, wait_seconds: float = 900.0
) -> Iterator[None]:
    """Hold the (name, window) lock on `conn`'s session; the caller's transactions run inside."""
    key = lock_id(name, partition_key)
    give_up = time.monotonic() + wait_seconds
    while True:
        got = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]
        conn.commit()  # the lock is the session's; leave no transaction open around it
        if got:
            break
        if time.monotonic() >= give_up:
            raise WindowBusy(
                f"{name} window {partition_key} is being written by another run (PostgreSQL "
                f"advisory lock {key}); waited {wait_seconds:g} s. Let that run finish, then "
                "re-run this window if needed"
            )
        time.sleep(0.25)
    try:
        yield
    except BaseException:
        if not conn.closed:
            conn.rollback()  # a failed write leaves its transaction aborted
        raise
    else:
        conn.commit()  # what the caller did on this connection stays, as without the lock
    finally:
        if not conn.closed:
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
            conn.commit()
