"""A dump counts only once proven restorable: restored into a scratch database, its row
counts compared with the manifest's."""

from __future__ import annotations

import contextlib
import time
import uuid
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from jobs_assets.lib.backup.dump import row_counts
from jobs_assets.lib.backup.errors import BackupError
from jobs_assets.lib.backup.sets import BackupSet
from jobs_assets.lib.backup.tools import (
    RESTORE_OPTIONS,
    PgTools,
    describe,
    find_pg_tools,
    run_tool,
    with_dbname,
)
from jobs_assets.lib.raw.files import utc_now


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


def count_mismatches(expected: dict[str, int], found: dict[str, int]) -> list[str]:
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
    checked_at = utc_now().isoformat()

    def failed(message: str, counts: dict[str, int] | None = None) -> Verification:
        return Verification(False, message, counts or {}, time.monotonic() - started, checked_at)

    try:
        manifest = backup.manifest()
    except BackupError as err:
        return failed(str(err))
    if not backup.store.exists(backup.dump_key):
        return failed(f"{backup.dump} is missing")
    mismatch = backup.checksum_mismatch(manifest)
    if mismatch:
        return failed(mismatch)
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
        with backup.local_dump() as local:
            run_tool(
                [tools.pg_restore, *RESTORE_OPTIONS, "-d", target, local],
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
    mismatches = count_mismatches(manifest.get("row_counts", {}), counts)
    if mismatches:
        return failed("row counts differ: " + "; ".join(mismatches), counts)
    return Verification(True, None, counts, time.monotonic() - started, checked_at)


def record_verification(backup: BackupSet, verification: Verification) -> dict:
    manifest = backup.manifest()
    manifest["verified"] = verification.ok
    manifest["verification"] = verification.as_dict()
    backup.save_manifest(manifest)
    return manifest
