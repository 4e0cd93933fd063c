"""Restore a backup set: check it first, replace the tables in one transaction, replay
the raw archives, and bring the restored schema to the newest migration."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from jobs_assets.lib.backup.dump import row_counts
from jobs_assets.lib.backup.errors import BackupError
from jobs_assets.lib.backup.raw_archive import restore_raw
from jobs_assets.lib.backup.sets import BackupSet
from jobs_assets.lib.backup.tools import (
    RESTORE_OPTIONS,
    PgTools,
    describe,
    find_pg_tools,
    run_tool,
    with_dbname,
)
from jobs_assets.lib.backup.verify import count_mismatches
from jobs_assets.lib.schema.migrate import migrate

_VERSION_TABLE = "public.alembic_version"


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
    if backup.checksum_mismatch(manifest):
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
    dump is replaced, or nothing changes. Owners and grants are not restored. A dump
    taken before migrations existed holds no `alembic_version`: the database's own is
    dropped so the migrations run again from the baseline over the restored tables.
    """
    tools = tools or find_pg_tools(conninfo)
    started = time.monotonic()
    views = _set_aside_views(conninfo)
    try:
        _pg_restore(tools, plan, conninfo)
    except BaseException:
        _put_back_views(conninfo, views)  # nothing was restored: the database as it was
        raise
    return _after_restore(plan, conninfo, raw_dir, started)


# Views over the listings the dump may not hold (an older release's dump has no
# `jobs_listings_current`) would stop `--clean` from dropping the table. They are
# dropped first, views built on those views included (deepest first); on success the
# migrations recreate them, on failure they are put back (shallowest first).
_DEPENDENT_VIEWS = """
WITH RECURSIVE dependent(oid, depth) AS (
    SELECT to_regclass('public.jobs_listings_data')::oid, 0
    UNION
    SELECT v.oid, dependent.depth + 1
    FROM dependent
    JOIN pg_depend AS d ON d.refobjid = dependent.oid
    JOIN pg_rewrite AS r ON r.oid = d.objid
    JOIN pg_class AS v ON v.oid = r.ev_class
    WHERE v.oid <> dependent.oid AND v.relkind = 'v' AND dependent.depth < 10
)
SELECT oid::regclass::text, pg_get_viewdef(oid), max(depth) AS depth
FROM dependent WHERE depth > 0
GROUP BY oid ORDER BY depth
"""


def _set_aside_views(conninfo: str) -> list[tuple[str, str]]:
    with psycopg.connect(conninfo) as conn:
        views = [(name, definition) for name, definition, _ in conn.execute(_DEPENDENT_VIEWS)]
        for name, _ in reversed(views):
            conn.execute(sql.SQL("DROP VIEW IF EXISTS {}").format(sql.SQL(name)))
    return views


def _put_back_views(conninfo: str, views: list[tuple[str, str]]) -> None:
    with psycopg.connect(conninfo) as conn:
        for name, definition in views:
            conn.execute(
                sql.SQL("CREATE OR REPLACE VIEW {} AS ").format(sql.SQL(name)) + sql.SQL(definition)
            )


def _pg_restore(tools: PgTools, plan: RestorePlan, conninfo: str) -> None:
    run_tool(
        [
            tools.pg_restore,
            "--clean",
            "--if-exists",
            *RESTORE_OPTIONS,
            *(["-d", conninfo] if conninfo else ["-d", with_dbname("", _default_dbname())]),
            plan.backup.dump,
        ],
        f"pg_restore of {plan.backup.dump.name} into {describe(conninfo)}",
    )


def _after_restore(plan: RestorePlan, conninfo: str, raw_dir: Path | None, started: float) -> dict:
    expected = plan.manifest.get("row_counts", {})
    with psycopg.connect(conninfo) as conn:
        counts = row_counts(conn)
        if _VERSION_TABLE not in expected:
            conn.execute(f"DROP TABLE IF EXISTS {_VERSION_TABLE}")
    mismatches = count_mismatches(expected, {t: counts.get(t) for t in expected})
    if mismatches:
        raise BackupError(
            f"restored {plan.backup.dump.name}, but row counts differ from its manifest: "
            + "; ".join(mismatches)
        )
    schema = migrate(conninfo)  # a backup of an older schema is brought to this one
    result: dict = {
        "restored_rows": {t: counts[t] for t in expected},
        "schema_revision": {"restored": schema.before, "now": schema.after},
        "duration_seconds": round(time.monotonic() - started, 3),
    }
    if raw_dir is not None:
        result.update(restore_raw(plan.raw_archives, raw_dir))
    return result


def _default_dbname() -> str:
    """The database libpq would pick from `PG*`: pg_restore needs `-d` to restore at all."""
    with psycopg.connect("") as conn:
        return conn.execute("SELECT current_database()").fetchone()[0]
