"""The PostgreSQL client programs that match the server, and how to run them."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from psycopg import pq
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from jobs_assets.lib.backup.errors import BackupError, ToolsNotFound
from jobs_assets.lib.db import connect


@dataclass(frozen=True)
class PgTools:
    """The client programs that match the server, and what the server is."""

    bin_dir: Path
    version: str  # of the client tools, e.g. "16.2"
    server_version: str
    server_version_num: int

    @property
    def pg_dump(self) -> Path:
        return self.bin_dir / "pg_dump"

    @property
    def pg_restore(self) -> Path:
        return self.bin_dir / "pg_restore"


def server_major(version_num: int) -> int:
    """`150020` -> 15 (PostgreSQL 10 and later number majors with one integer)."""
    return version_num // 10000 if version_num >= 100000 else version_num // 100


@functools.cache
def _bundled_bin_dir() -> Path | None:
    """The binaries shipped with the embedded server (`pgserver`), if it is installed."""
    try:
        from pgserver import pg_config
    except ImportError:
        return None
    try:  # the bundled pg_config names its own folder
        return Path(pg_config(["--bindir"]).strip())
    except (OSError, subprocess.SubprocessError):  # a broken install: look elsewhere
        return None


def _candidate_dirs(major: int, bundled_first: bool) -> list[Path]:
    bundled = _bundled_bin_dir()
    dirs = [
        Path(f"/usr/lib/postgresql/{major}/bin"),  # Debian, Ubuntu
        Path(f"/usr/pgsql-{major}/bin"),  # RHEL, Fedora (PGDG)
        Path(f"/opt/homebrew/opt/postgresql@{major}/bin"),  # macOS Homebrew
        Path(f"/usr/local/opt/postgresql@{major}/bin"),
    ]
    on_path = shutil.which("pg_dump")
    if on_path:
        dirs.append(Path(on_path).parent)
    if bundled is not None:
        dirs.insert(0, bundled) if bundled_first else dirs.append(bundled)
    unique: list[Path] = []
    for folder in dirs:
        if folder not in unique:
            unique.append(folder)
    return unique


def _tool_version(executable: Path) -> str | None:
    try:
        out = subprocess.run(
            [str(executable), "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\)\s+(\d+(?:\.\d+)?)", out)
    return match.group(1) if match else None


def server_version(conninfo: str) -> tuple[str, int]:
    with connect(conninfo) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        number = int(conn.execute("SHOW server_version_num").fetchone()[0])
    return version, number


def find_pg_tools(conninfo: str, bundled_first: bool | None = None) -> PgTools:
    """The pg_dump and pg_restore whose major version equals the server's.

    The embedded server (a URI, `bundled_first` by default) uses the binaries shipped
    with it; an external one (`""`: libpq reads `PG*`) looks in the usual install
    folders for its major version, then on PATH.
    """
    bundled_first = bool(conninfo) if bundled_first is None else bundled_first
    version, number = server_version(conninfo)
    major = server_major(number)
    tried: list[str] = []
    for folder in _candidate_dirs(major, bundled_first):
        dump, restore = folder / "pg_dump", folder / "pg_restore"
        if not (dump.exists() and restore.exists()):
            continue
        found = _tool_version(dump)
        tried.append(f"{dump} ({found or 'unknown version'})")
        if found and found.split(".")[0] == str(major):
            return PgTools(folder, found, version, number)
    raise ToolsNotFound(
        f"No pg_dump/pg_restore for PostgreSQL {major} (the server runs {version}) was found; "
        f"tried: {', '.join(tried) or 'none installed'}. Install the client tools of that "
        f"major version (e.g. `apt-get install postgresql-client-{major}`) or put their bin "
        "folder first on PATH."
    )


def describe(conninfo: str) -> str:
    """Where a conninfo points, without any password (for logs and manifests)."""
    params = conninfo_to_dict(conninfo) if conninfo else {}
    # libpq's defaults, which it takes from PG* itself
    defaults = {
        option.keyword.decode(): option.val.decode()
        for option in pq.Conninfo.get_defaults()
        if option.val is not None
    }

    def value(name: str) -> str | None:
        return params.get(name) or defaults.get(name)

    host = value("host") or "local socket"
    port = value("port") or "5432"
    dbname = value("dbname") or "(default)"
    user = value("user") or "(default)"
    return f"database {dbname} on {host}:{port} as {user}"


def with_dbname(conninfo: str, dbname: str) -> str:
    """The same server and credentials, another database (a key=value conninfo)."""
    return make_conninfo(conninfo, dbname=dbname)


#: pg_restore's options for every restore: all or nothing, no owners or grants of the source
RESTORE_OPTIONS = ("--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error")


def run_tool(command: Sequence[str], what: str, timeout: float | None = None) -> None:
    """Run a PostgreSQL client program; on failure say which, why, and its stderr."""
    try:
        result = subprocess.run(
            [str(c) for c in command],
            capture_output=True,
            text=True,
            # the tool inherits this environment: libpq reads PG* (and PGPASSWORD) there
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as err:
        raise BackupError(f"{what} did not finish within {timeout:.0f} s") from err
    except OSError as err:
        raise BackupError(f"{what} could not start: {err}") from err
    if result.returncode != 0:
        stderr = result.stderr.strip().splitlines()
        detail = " | ".join(stderr[-6:]) or "no error output"
        raise BackupError(f"{what} failed (exit {result.returncode}): {detail}")


def db_args(conninfo: str) -> list[str]:
    """`-d CONNINFO`, or nothing when libpq should read `PG*` from the environment."""
    return ["-d", conninfo] if conninfo else []
