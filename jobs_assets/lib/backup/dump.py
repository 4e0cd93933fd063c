"""`pg_dump -Fc` into a new backup set, with its checksum and manifest.

The row counts come from the same snapshot as the dump (`pg_export_snapshot` and
`pg_dump --snapshot`), so they match exactly even while ingestion writes.
"""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
from psycopg import sql

from jobs_assets.lib.backup.sets import BackupSet
from jobs_assets.lib.backup.tools import PgTools, db_args, describe, find_pg_tools, run_tool
from jobs_assets.lib.raw.files import sha256_of, utc_now
from jobs_assets.lib.raw.storage import Storage, as_storage

MANIFEST_FORMAT = 1
DEFAULT_LOCK_WAIT_TIMEOUT = "5min"


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


def dump(
    conninfo: str,
    backups_dir: Path | Storage,
    partition_key: str,
    tools: PgTools | None = None,
    lock_wait_timeout: str = DEFAULT_LOCK_WAIT_TIMEOUT,
    timeout_seconds: float | None = None,
) -> BackupSet:
    """`pg_dump -Fc` into a new set, with its checksum and manifest (not yet verified).

    The dump is written as `<stem>.dump.part` (beside the set on the local disk, in a
    temporary folder for object storage) and stored under its name only when pg_dump
    succeeded; on any failure nothing of the set remains. The manifest comes last.
    """
    tools = tools or find_pg_tools(conninfo)
    store = as_storage(backups_dir)
    created = utc_now()
    backup = BackupSet.new(store, partition_key, created)
    part = store.staging_file(backup.dump_key + ".part")
    started = time.monotonic()
    try:
        with psycopg.connect(conninfo) as conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            with conn.transaction():
                snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
                database = conn.execute("SELECT current_database()").fetchone()[0]
                run_tool(
                    [
                        tools.pg_dump,
                        "-Fc",
                        f"--snapshot={snapshot}",
                        f"--lock-wait-timeout={lock_wait_timeout}",
                        "-f",
                        part,
                        *db_args(conninfo),
                    ],
                    f"pg_dump of {describe(conninfo)}",
                    timeout=timeout_seconds,
                )
                counts = row_counts(conn)  # same snapshot as the dump
        duration = time.monotonic() - started
        digest = sha256_of(part)
        size = part.stat().st_size
        store.move_in(backup.dump_key, part)
        store.put_bytes(backup.checksum_key, f"{digest}  {backup.dump_key}\n".encode())
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
                "size_bytes": size,
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
        store.discard_staging(part)
        for key in (backup.dump_key, backup.checksum_key, backup.manifest_key):
            store.delete(key)
        raise
    return backup
