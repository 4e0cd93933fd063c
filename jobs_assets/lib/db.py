"""PostgreSQL access: the external server named by `PG*`, or an embedded one.

With `PGHOST` set, libpq reads every `PG*` variable itself, so the password never
passes through this code. Without it, `pgserver` runs a private PostgreSQL under
`$JOBS_DATA_DIR/pgdata`; it is shared by every process (Dagster's multiprocess
executor starts one per step) and keeps running after they exit, like a local
service, until `make db-stop`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "jobs"
_embedded_lock = threading.Lock()
_embedded_uris: dict[Path, str] = {}


def embedded_uri(data_dir: Path) -> str:
    """Start (or attach to) the embedded PostgreSQL and return the data database's URI."""
    pgdata = (data_dir / "pgdata").resolve()
    with _embedded_lock:
        if pgdata not in _embedded_uris:
            import pgserver  # imported here: only laptops without PGHOST need it

            pgdata.parent.mkdir(parents=True, exist_ok=True)
            with _first_start_as_root():
                server = pgserver.get_server(pgdata, cleanup_mode=None)
            with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
                exists = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (EMBEDDED_DATABASE,)
                ).fetchone()
                if not exists:
                    # another step process may create it first
                    with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                        conn.execute(f'CREATE DATABASE "{EMBEDDED_DATABASE}"')
            _embedded_uris[pgdata] = server.get_uri(EMBEDDED_DATABASE)
            log.info("embedded PostgreSQL ready under %s", pgdata)
        return _embedded_uris[pgdata]


#: as root, pgserver runs PostgreSQL as this system user, made with `useradd` on first use
PGSERVER_SYSTEM_USER = "pgserver"


@contextlib.contextmanager
def _first_start_as_root() -> Iterator[None]:
    """One process at a time, machine-wide, until pgserver's system user exists.

    Processes that start their embedded servers at the same moment on a fresh machine
    (pytest-xdist's workers, a multiprocess run's steps) each ran `useradd`, and the
    concurrent writes of /etc/passwd left one data folder owned by a uid that no longer
    existed: `initdb: could not change permissions ... Operation not permitted`.
    """
    if not _is_root() or _user_exists(PGSERVER_SYSTEM_USER):
        yield
        return
    import fcntl

    lock_path = Path(tempfile.gettempdir()) / "jobs_assets_pgserver_user.lock"
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def conninfo_for(data_dir: Path, pghost: str | None) -> str:
    """The connection string: empty (libpq reads `PG*`) or the embedded server's URI."""
    return "" if pghost else embedded_uri(data_dir)


def connect(conninfo: str, **kwargs) -> psycopg.Connection:
    try:
        return psycopg.connect(conninfo, **kwargs)
    except psycopg.OperationalError as err:
        where = "the server named by PGHOST/PGPORT" if not conninfo else "the embedded PostgreSQL"
        raise ConnectionError(
            f"Cannot connect to {where}: {str(err).strip()}. "
            "Check the PG* settings in .env, or unset PGHOST to use the embedded database."
        ) from err


def stop_embedded(data_dir: Path) -> bool:
    """Stop the embedded server if it runs; True when one was stopped."""
    pgdata = (data_dir / "pgdata").resolve()
    if not (pgdata / "postmaster.pid").exists():
        return False
    from pgserver import pg_ctl

    pg_ctl(["-w", "stop"], pgdata=pgdata, user=PGSERVER_SYSTEM_USER if _is_root() else None)
    _embedded_uris.pop(pgdata, None)
    return True


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0
