"""Who may write what, decided in PostgreSQL: every process that shares the database
(a second pod, a second machine) sees the same locks, whatever its local disk holds.

- `window_lock(conn, name, window)`: one writer per (asset, window) in the database.
  Staging replaces a window with delete + COPY in one transaction; two such transactions
  at once would collide on the primary key, so the second run waits for the first (then
  does its own complete write), or fails after `wait_seconds` saying which lock.
- `fetch_lock(conninfo, source, window)`: one fetch of a source's window into the raw
  store at a time (the second waits, then finds the first's files and reuses them or
  fetches again as the source's interval allows).
- `advisory_lock(conninfo, name, key)`: the same for anything else (one backup at a time).

All are session-level advisory locks: a process that dies loses its connection, and
PostgreSQL releases its locks; nothing is left behind to clean up.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import psycopg

from jobs_assets.lib.errors import WindowBusy

POLL_SECONDS = 0.25


def lock_id(name: str, partition_key: str) -> int:
    """A stable signed 64-bit id for `pg_advisory_lock` from the asset and window."""
    digest = hashlib.sha256(f"jobs_assets:{name}:{partition_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _acquire(
    conn: psycopg.Connection, key: int, wait_seconds: float, busy: Callable[[], Exception]
) -> None:
    """Take lock `key` on `conn`'s session, polling (so the wait has an end); `busy()` is
    raised when `wait_seconds` pass first."""
    give_up = time.monotonic() + max(0.0, wait_seconds)
    while True:
        got = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]
        if not conn.autocommit:
            conn.commit()  # the lock is the session's; leave no transaction open around it
        if got:
            return
        if time.monotonic() >= give_up:
            raise busy()
        time.sleep(POLL_SECONDS)


def _release(conn: psycopg.Connection, key: int) -> None:
    if not conn.closed:
        conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
        if not conn.autocommit:
            conn.commit()


@contextmanager
def window_lock(
    conn: psycopg.Connection, name: str, partition_key: str, wait_seconds: float = 900.0
) -> Iterator[None]:
    """Hold the (name, window) lock on `conn`'s session; the caller's transactions run inside."""
    key = lock_id(name, partition_key)

    def busy() -> Exception:
        return WindowBusy(
            f"{name} window {partition_key} is being written by another run (PostgreSQL "
            f"advisory lock {key}); waited {wait_seconds:g} s. Let that run finish, then "
            "re-run this window if needed"
        )

    _acquire(conn, key, wait_seconds, busy)
    try:
        yield
    except BaseException:
        if not conn.closed:
            conn.rollback()  # a failed write leaves its transaction aborted
        raise
    else:
        conn.commit()  # what the caller did on this connection stays, as without the lock
    finally:
        _release(conn, key)


@contextmanager
def advisory_lock(
    conninfo: str, name: str, key: str, wait_seconds: float, busy: Callable[[int], Exception]
) -> Iterator[None]:
    """Hold the (name, key) lock for the block on a session of its own (opened here and
    closed after), so a long block holds no transaction open; `busy(lock)` is raised when
    another session keeps it for `wait_seconds`."""
    lock = lock_id(name, key)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        _acquire(conn, lock, wait_seconds, lambda: busy(lock))
        try:
            yield
        finally:
            _release(conn, lock)


def fetch_lock(
    conninfo: str, source: str, partition_key: str, wait_seconds: float = 900.0
) -> AbstractContextManager[None]:
    """One fetch of `source`'s window at a time, across every process on the database."""

    def busy(lock: int) -> Exception:
        return WindowBusy(
            f"{source} window {partition_key} is being fetched by another run (PostgreSQL "
            f"advisory lock {lock}); waited {wait_seconds:g} s. Let that run finish, then "
            "re-run this one if its result is not enough"
        )

    return advisory_lock(conninfo, f"fetch:{source}", partition_key, wait_seconds, busy)
