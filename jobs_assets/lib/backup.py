"""Database backups that are proven restorable: dump, archive raw files, verify, retain, restore.

A backup set shares one stem under `$JOBS_DATA_DIR/backups/`:

- `<stem>.dump`: `pg_dump -Fc` of the data database, written as `.part` and renamed
  when pg_dump has finished; `<stem>.dump.sha256` in `sha256sum` format;
- `<stem>.manifest.json`: window, size, duration, row counts per table, server version,
  and whether (and when) the dump was verified;
- `<stem>.raw.tar`: the raw files added or changed since the previous backup (absent when
  there were none). Raw archives are incremental, so retention never deletes them; each
  manifest lists the chain of archives a restore replays.

A dump is verified by restoring it into a scratch database and comparing its row counts
with the manifest's. Retention keeps the newest `keep` verified sets and runs only when
the newest set is verified, so a bad dump never pushes out a good one.

The row counts come from the same snapshot as the dump (`pg_export_snapshot` and
`pg_dump --snapshot`), so they match exactly even while ingestion writes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from jobs_assets.lib.db import connect
from jobs_assets.lib.raw_store import window_dirname

MANIFEST_FORMAT = 1
LIVE_BACKUP_WINDOW = timedelta(hours=12)
DEFAULT_LOCK_WAIT_TIMEOUT = "5min"
RAW_INDEX = "raw-index.json"
_STEM = re.compile(r"^jobs-(?P<window>\d{4}-\d{2}-\d{2}-\d{4})-(?P<created>\d{8}T\d{6}Z)(-\d+)?$")
_SUFFIXES = (".dump.sha256", ".manifest.json", ".raw.tar", ".dump")

Log = Callable[[str], None]


class BackupError(RuntimeError):
    """A backup, verification or restore step failed; the message says what to do next."""


class WindowTooOld(BackupError):
    """The window is too old: a backup taken now would not show the database as it was then."""


class ToolsNotFound(BackupError):
    """No pg_dump/pg_restore of the server's major version was found."""


# ---------------------------------------------------------------- tools and server


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


def _bundled_bin_dir() -> Path | None:
    """The binaries shipped with the embedded server (`pgserver`), if it is installed."""
    try:
        from pgserver._commands import POSTGRES_BIN_PATH
    except ImportError:
        return None
    return Path(POSTGRES_BIN_PATH)


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


# ---------------------------------------------------------------- small helpers


def describe(conninfo: str) -> str:
    """Where a conninfo points, without any password (for logs and manifests)."""
    params = conninfo_to_dict(conninfo) if conninfo else {}
    host = params.get("host") or os.environ.get("PGHOST") or "local socket"
    port = params.get("port") or os.environ.get("PGPORT") or "5432"
    dbname = params.get("dbname") or os.environ.get("PGDATABASE") or "(default)"
    user = params.get("user") or os.environ.get("PGUSER") or "(default)"
    return f"database {dbname} on {host}:{port} as {user}"


def with_dbname(conninfo: str, dbname: str) -> str:
    """The same server and credentials, another database (a key=value conninfo)."""
    return make_conninfo(conninfo, dbname=dbname)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_json(path: Path, data: dict) -> None:
    """Write atomically: a reader never sees half a manifest."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    os.replace(tmp, path)


def _now() -> datetime:
    return datetime.now(UTC)


def _run(command: Sequence[str], what: str, timeout: float | None = None) -> None:
    """Run a PostgreSQL client program; on failure say which, why, and its stderr."""
    try:
        result = subprocess.run(
            [str(c) for c in command],
            capture_output=True,
            text=True,
            env=os.environ.copy(),  # libpq reads PG* (and PGPASSWORD) from here
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


def _db_args(conninfo: str) -> list[str]:
    """`-d CONNINFO`, or nothing when libpq should read `PG*` from the environment."""
    return ["-d", conninfo] if conninfo else []


# ---------------------------------------------------------------- backup sets


@dataclass(frozen=True)
class BackupSet:
    """The files of one backup, named by a common stem."""

    folder: Path
    stem: str

    @classmethod
    def from_path(cls, path: Path) -> BackupSet:
        """The set a given file belongs to (the dump, its manifest, checksum or raw archive)."""
        path = Path(path).resolve()
        for suffix in _SUFFIXES:
            if path.name.endswith(suffix):
                return cls(path.parent, path.name[: -len(suffix)])
        raise BackupError(
            f"{path} is not a backup file: expected a name ending in .dump, .manifest.json, "
            f".dump.sha256 or .raw.tar, e.g. jobs_data/backups/jobs-<window>-<time>.dump"
        )

    @property
    def dump(self) -> Path:
        return self.folder / f"{self.stem}.dump"

    @property
    def checksum(self) -> Path:
        return self.folder / f"{self.stem}.dump.sha256"

    @property
    def manifest_path(self) -> Path:
        return self.folder / f"{self.stem}.manifest.json"

    @property
    def raw_archive(self) -> Path:
        return self.folder / f"{self.stem}.raw.tar"

    def manifest(self) -> dict:
        if not self.manifest_path.exists():
            raise BackupError(
                f"{self.manifest_path} is missing, so {self.dump.name} cannot be checked; "
                "pick another backup"
            )
        return json.loads(self.manifest_path.read_text())

    def save_manifest(self, manifest: dict) -> None:
        _write_json(self.manifest_path, manifest)


def list_sets(backups_dir: Path) -> list[tuple[BackupSet, dict]]:
    """Every set with a readable manifest, oldest first."""
    out = []
    if not backups_dir.exists():
        return out
    for path in backups_dir.glob("jobs-*.manifest.json"):
        backup = BackupSet.from_path(path)
        try:
            manifest = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue  # a damaged manifest is left alone for a person to look at
        out.append((backup, manifest))
    return sorted(out, key=lambda item: (item[1].get("created_at", ""), item[0].stem))


def latest_verified(backups_dir: Path) -> tuple[BackupSet, dict] | None:
    verified = [item for item in list_sets(backups_dir) if item[1].get("verified")]
    return verified[-1] if verified else None


@contextlib.contextmanager
def backup_lock(backups_dir: Path) -> Iterator[None]:
    """One backup at a time per folder (a backfill may start several runs at once)."""
    backups_dir.mkdir(parents=True, exist_ok=True)
    with open(backups_dir / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def check_window(partition_key: str, window_end: datetime, now: datetime) -> None:
    """SPEC §4: only a window that ended less than 12 h ago can be backed up."""
    age = now - window_end
    if age >= LIVE_BACKUP_WINDOW:
        raise WindowTooOld(
            f"backup window {partition_key} ended {age.total_seconds() / 3600:.1f} h ago; a "
            "backup taken now holds today's database, not that window's, so only the latest "
            "two windows (ended less than 12 h ago) can be backed up. Materialise the latest "
            "window instead; older backups are in $JOBS_DATA_DIR/backups/."
        )


# ---------------------------------------------------------------- dump


def _user_tables(conn: psycopg.Connection) -> list[tuple[str, str]]:
    return conn.execute(
        """
        SELECT n.nspname, c.relname
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname !~ '^pg_'
        ORDER BY 1, 2
        """
    ).fetchall()


def row_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Exact row counts of every user table, keyed `schema.table`."""
    counts = {}
    for schema, table in _user_tables(conn):
        query = sql.SQL("SELECT count(*) FROM {}.{}").format(
            sql.Identifier(schema), sql.Identifier(table)
        )
        counts[f"{schema}.{table}"] = conn.execute(query).fetchone()[0]
    return counts


def _new_stem(backups_dir: Path, partition_key: str, created: datetime) -> str:
    base = f"jobs-{window_dirname(partition_key)}-{created:%Y%m%dT%H%M%SZ}"
    stem, n = base, 1
    while any((backups_dir / f"{stem}{s}").exists() for s in _SUFFIXES):
        n += 1
        stem = f"{base}-{n}"
    return stem


def dump(
    conninfo: str,
    backups_dir: Path,
    partition_key: str,
    tools: PgTools | None = None,
    lock_wait_timeout: str = DEFAULT_LOCK_WAIT_TIMEOUT,
    timeout_seconds: float | None = None,
) -> BackupSet:
    """`pg_dump -Fc` into a new set, with its checksum and manifest (not yet verified).

    The dump is written as `<stem>.dump.part` and renamed only when pg_dump succeeded;
    on any failure the partial file is removed and nothing of the set remains.
    """
    tools = tools or find_pg_tools(conninfo)
    backups_dir.mkdir(parents=True, exist_ok=True)
    created = _now()
    backup = BackupSet(backups_dir, _new_stem(backups_dir, partition_key, created))
    part = backup.dump.with_name(backup.dump.name + ".part")
    started = time.monotonic()
    try:
        with psycopg.connect(conninfo) as conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            with conn.transaction():
                snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
                database = conn.execute("SELECT current_database()").fetchone()[0]
                _run(
                    [
                        tools.pg_dump,
                        "-Fc",
                        f"--snapshot={snapshot}",
                        f"--lock-wait-timeout={lock_wait_timeout}",
                        "-f",
                        part,
                        *_db_args(conninfo),
                    ],
                    f"pg_dump of {describe(conninfo)}",
                    timeout=timeout_seconds,
                )
                counts = row_counts(conn)  # same snapshot as the dump
        duration = time.monotonic() - started
        digest = sha256_of(part)
        os.replace(part, backup.dump)
        backup.checksum.write_text(f"{digest}  {backup.dump.name}\n")
        backup.save_manifest(
            {
                "format": MANIFEST_FORMAT,
                "window": partition_key,
                "created_at": created.isoformat(),
                "database": database,
                "server": describe(conninfo),
                "server_version": tools.server_version,
                "server_version_num": tools.server_version_num,
                "pg_dump": str(tools.pg_dump),
                "pg_dump_version": tools.version,
                "dump_file": backup.dump.name,
                "size_bytes": backup.dump.stat().st_size,
                "sha256": digest,
                "duration_seconds": round(duration, 3),
                "row_counts": counts,
                "total_rows": sum(counts.values()),
                "raw_archive": None,
                "raw_archives": [],
                "verified": False,
                "verification": None,
            }
        )
    except BaseException:  # a set is complete with its manifest, or absent
        for path in (part, backup.dump, backup.checksum, backup.manifest_path):
            path.unlink(missing_ok=True)
        raise
    return backup


# ---------------------------------------------------------------- raw archives


def _raw_files(raw_dir: Path) -> Iterator[Path]:
    """Published raw files; hidden folders are fetches in progress or windows being replaced."""
    if not raw_dir.exists():
        return
    for root, dirs, files in os.walk(raw_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(root) / name


def _load_index(backups_dir: Path) -> dict:
    path = backups_dir / RAW_INDEX
    index = json.loads(path.read_text()) if path.exists() else {"archives": [], "files": {}}
    present = [a for a in index["archives"] if (backups_dir / a).exists()]
    if len(present) != len(index["archives"]):  # an archive was removed by hand: re-archive
        index["files"] = {k: v for k, v in index["files"].items() if v[2] in present}
        index["archives"] = present
    return index


def archive_raw(backup: BackupSet, raw_dir: Path) -> dict | None:
    """Tar the raw files added or changed since the previous archive; record the chain.

    Files are compared by size and modification time: a window re-fetched later is
    written anew, so it is archived again.
    """
    index = _load_index(backup.folder)
    part = backup.raw_archive.with_name(backup.raw_archive.name + ".part")
    added: dict[str, list] = {}
    size = 0
    try:
        with tarfile.open(part, "w", format=tarfile.PAX_FORMAT) as tar:
            for path in _raw_files(raw_dir):
                rel = path.relative_to(raw_dir).as_posix()
                try:
                    stat = path.stat()
                    known = index["files"].get(rel)
                    if known and known[0] == stat.st_size and known[1] == stat.st_mtime_ns:
                        continue
                    tar.add(path, arcname=rel, recursive=False)
                except FileNotFoundError:  # replaced by a newer fetch meanwhile: next time
                    continue
                added[rel] = [stat.st_size, stat.st_mtime_ns, backup.raw_archive.name]
                size += stat.st_size
        if added:
            os.replace(part, backup.raw_archive)
    finally:
        part.unlink(missing_ok=True)
    manifest = backup.manifest()
    info = None
    if added:
        index["files"].update(added)
        index["archives"].append(backup.raw_archive.name)
        _write_json(backup.folder / RAW_INDEX, index)
        info = {"file": backup.raw_archive.name, "files": len(added), "bytes": size}
    manifest["raw_archive"] = info
    manifest["raw_archives"] = list(index["archives"])
    backup.save_manifest(manifest)
    return info


def _safe_member(member: tarfile.TarInfo) -> bool:
    name = Path(member.name)
    return member.isfile() and not name.is_absolute() and ".." not in name.parts


def restore_raw(archives: Sequence[Path], raw_dir: Path) -> dict[str, int]:
    """Unpack the archives into the raw store without ever overwriting a file.

    The newest archive is read first, so the latest copy of a re-fetched window wins,
    and a file already in the raw store (perhaps newer than the backup) is kept.
    """
    restored = present = 0
    seen: set[str] = set()
    for archive in reversed(list(archives)):
        with tarfile.open(archive, "r") as tar:
            for member in tar:
                if not _safe_member(member) or member.name in seen:
                    continue
                seen.add(member.name)
                target = raw_dir / member.name
                if target.exists():
                    present += 1
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
                with tar.extractfile(member) as src, open(tmp, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                os.utime(tmp, (member.mtime, member.mtime))
                os.replace(tmp, target)
                restored += 1
    return {"raw_files_restored": restored, "raw_files_already_present": present}


# ---------------------------------------------------------------- verify


@dataclass
class Verification:
    ok: bool
    error: str | None = None
    row_counts: dict[str, int] = field(default_factory=dict)
    duration_seconds: float = 0.0
    checked_at: str = ""

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "error": self.error,
            "row_counts_restored": self.row_counts,
            "duration_seconds": round(self.duration_seconds, 3),
            "checked_at": self.checked_at,
        }


def _count_mismatches(expected: dict[str, int], found: dict[str, int]) -> list[str]:
    return [
        f"{table}: {expected.get(table, 'absent')} in the manifest, {found.get(table, 'absent')} "
        "restored"
        for table in sorted(set(expected) | set(found))
        if expected.get(table) != found.get(table)
    ]


def verify(backup: BackupSet, conninfo: str, tools: PgTools | None = None) -> Verification:
    """Restore the dump into a scratch database and compare row counts with the manifest.

    The scratch database lives on the same server (created from `template0` via the
    maintenance database `postgres`) and is dropped afterwards, whatever happened.
    """
    started = time.monotonic()
    checked_at = _now().isoformat()

    def failed(message: str, counts: dict[str, int] | None = None) -> Verification:
        return Verification(False, message, counts or {}, time.monotonic() - started, checked_at)

    try:
        manifest = backup.manifest()
    except BackupError as err:
        return failed(str(err))
    if not backup.dump.exists():
        return failed(f"{backup.dump} is missing")
    digest = sha256_of(backup.dump)
    if digest != manifest.get("sha256"):
        return failed(
            f"{backup.dump.name}: sha256 {digest[:12]}… does not match the manifest's "
            f"{str(manifest.get('sha256'))[:12]}…: the file changed or was cut short after it "
            "was written"
        )
    tools = tools or find_pg_tools(conninfo)
    scratch = f"jobs_verify_{uuid.uuid4().hex[:12]}"
    maintenance = with_dbname(conninfo, "postgres")
    try:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(scratch))
            )
    except psycopg.Error as err:
        return failed(
            f"could not create the scratch database {scratch} on {describe(maintenance)}: "
            f"{str(err).strip()}; the backup user needs CREATEDB"
        )
    try:
        target = with_dbname(conninfo, scratch)
        _run(
            [
                tools.pg_restore,
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                "-d",
                target,
                backup.dump,
            ],
            f"pg_restore of {backup.dump.name} into the scratch database {scratch}",
        )
        with psycopg.connect(target) as conn:
            counts = row_counts(conn)
    except (BackupError, psycopg.Error) as err:
        return failed(str(err).strip())
    finally:
        with (
            contextlib.suppress(psycopg.Error),
            psycopg.connect(maintenance, autocommit=True) as conn,
        ):
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch))
            )
    mismatches = _count_mismatches(manifest.get("row_counts", {}), counts)
    if mismatches:
        return failed("row counts differ: " + "; ".join(mismatches), counts)
    return Verification(True, None, counts, time.monotonic() - started, checked_at)


def record_verification(backup: BackupSet, verification: Verification) -> dict:
    manifest = backup.manifest()
    manifest["verified"] = verification.ok
    manifest["verification"] = verification.as_dict()
    backup.save_manifest(manifest)
    return manifest


# ---------------------------------------------------------------- retention


def apply_retention(backups_dir: Path, keep: int) -> list[Path]:
    """Delete verified sets beyond the newest `keep`; return the files deleted.

    Unverified sets are kept for inspection, raw archives are kept (later restores
    replay them), and nothing is deleted while the newest set is unverified.
    """
    keep = max(1, keep)
    sets = list_sets(backups_dir)
    if not sets or not sets[-1][1].get("verified"):
        return []
    verified = [backup for backup, manifest in sets if manifest.get("verified")]
    deleted = []
    for backup in verified[:-keep]:
        for path in (backup.dump, backup.checksum, backup.manifest_path):
            if path.exists():
                path.unlink()
                deleted.append(path)
    return deleted


# ---------------------------------------------------------------- the whole backup


@dataclass
class BackupOutcome:
    backup: BackupSet
    manifest: dict
    verification: Verification
    deleted: list[Path]

    @property
    def verified(self) -> bool:
        return self.verification.ok


def verify_and_retain(
    backup: BackupSet, conninfo: str, keep: int, tools: PgTools | None = None
) -> BackupOutcome:
    """Verify a new set, record the result, and only then apply retention."""
    verification = verify(backup, conninfo, tools)
    manifest = record_verification(backup, verification)
    deleted = apply_retention(backup.folder, keep) if verification.ok else []
    return BackupOutcome(backup, manifest, verification, deleted)


def back_up(
    conninfo: str,
    data_dir: Path,
    partition_key: str,
    keep: int,
    lock_wait_timeout: str = DEFAULT_LOCK_WAIT_TIMEOUT,
) -> BackupOutcome:
    """Dump the database, archive new raw files, verify, then apply retention."""
    backups_dir = Path(data_dir) / "backups"
    tools = find_pg_tools(conninfo)
    with backup_lock(backups_dir):
        backup = dump(conninfo, backups_dir, partition_key, tools, lock_wait_timeout)
        archive_raw(backup, Path(data_dir) / "raw")
        return verify_and_retain(backup, conninfo, keep, tools)


# ---------------------------------------------------------------- restore


@dataclass
class RestorePlan:
    """What a restore will use, checked before anything is touched."""

    backup: BackupSet
    manifest: dict
    raw_archives: list[Path]
    missing_archives: list[str]


def plan_restore(path: Path) -> RestorePlan:
    """Find the set, check the dump's checksum, and list the raw archives to replay."""
    backup = BackupSet.from_path(path)
    if not backup.dump.exists():
        raise BackupError(f"{backup.dump} does not exist; list jobs_data/backups/ for backups")
    manifest = backup.manifest()
    digest = sha256_of(backup.dump)
    if digest != manifest.get("sha256"):
        raise BackupError(
            f"{backup.dump} does not match its manifest's sha256 (the file was changed or cut "
            "short); restore another backup"
        )
    names = manifest.get("raw_archives") or []
    archives = [backup.folder / name for name in names]
    missing = [name for name, p in zip(names, archives, strict=True) if not p.exists()]
    return RestorePlan(backup, manifest, [p for p in archives if p.exists()], missing)


def restore(
    plan: RestorePlan,
    conninfo: str,
    raw_dir: Path | None,
    tools: PgTools | None = None,
) -> dict:
    """Replace the database's tables with the dump's (one transaction), then unpack raw files.

    `pg_restore --clean --if-exists --single-transaction`: either every table of the
    dump is replaced, or nothing changes. Owners and grants are not restored.
    """
    tools = tools or find_pg_tools(conninfo)
    started = time.monotonic()
    _run(
        [
            tools.pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            *(["-d", conninfo] if conninfo else ["-d", with_dbname("", _default_dbname())]),
            plan.backup.dump,
        ],
        f"pg_restore of {plan.backup.dump.name} into {describe(conninfo)}",
    )
    with psycopg.connect(conninfo) as conn:
        counts = row_counts(conn)
    expected = plan.manifest.get("row_counts", {})
    mismatches = _count_mismatches(expected, {t: counts.get(t) for t in expected})
    if mismatches:
        raise BackupError(
            f"restored {plan.backup.dump.name}, but row counts differ from its manifest: "
            + "; ".join(mismatches)
        )
    result: dict = {
        "restored_rows": {t: counts[t] for t in expected},
        "duration_seconds": round(time.monotonic() - started, 3),
    }
    if raw_dir is not None:
        result.update(restore_raw(plan.raw_archives, raw_dir))
    return result


def _default_dbname() -> str:
    """The database libpq would pick from `PG*`: pg_restore needs `-d` to restore at all."""
    with psycopg.connect("") as conn:
        return conn.execute("SELECT current_database()").fetchone()[0]
