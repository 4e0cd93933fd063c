"""Restore a backup set: check it first, replace the tables in one transaction, replay
the raw archives, and bring the restored schema to the newest migration."""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

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
from jobs_assets.lib.raw.storage import Location, Storage
from jobs_assets.lib.schema.migrate import head_revision, known_revisions, migrate

_VERSION_TABLE = "public.alembic_version"


@dataclass
class RestorePlan:
    """What a restore will use, checked before anything is touched."""

    backup: BackupSet
    manifest: dict
    raw_archives: list[Path | Location]
    missing_archives: list[str]


def plan_restore(path: Path | str) -> RestorePlan:
    """Find the set, check the dump's checksum, and list the raw archives to replay.

    `path` is a local file or an object's URL: a new machine restores straight from
    the bucket (`s3://bucket/prefix/backups/jobs-….dump`).
    """
    backup = BackupSet.from_path(path)
    if not backup.store.exists(backup.dump_key):
        raise BackupError(f"{backup.dump} does not exist; list the backups folder for backups")
    manifest = backup.manifest()
    if backup.checksum_mismatch(manifest):
        raise BackupError(
            f"{backup.dump} does not match its manifest's sha256 (the file was changed or cut "
            "short); restore another backup"
        )
    disagreement = backup.checksum_file_mismatch(manifest)
    if disagreement:
        raise BackupError(f"{disagreement}; restore another backup")
    names = manifest.get("raw_archives") or []
    present = [name for name in names if backup.store.exists(name)]
    missing = [name for name in names if name not in present]
    return RestorePlan(backup, manifest, [backup.store.where(n) for n in present], missing)


def restore(
    plan: RestorePlan,
    conninfo: str,
    raw_dir: Path | Storage | None,
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
    with plan.backup.local_dump() as local:  # downloaded first when it is in a bucket
        _refuse_a_newer_schema(tools, plan, local)
        views = _set_aside_views(conninfo)
        try:
            _pg_restore(tools, plan, conninfo, local)
        except BaseException:
            _put_back_views(conninfo, views)  # nothing was restored: the database as it was
            raise
    result = _after_restore(plan, conninfo, raw_dir, started)
    result["views_put_back"] = _put_back_views(conninfo, views, missing_only=True)
    return result


def _refuse_a_newer_schema(tools: PgTools, plan: RestorePlan, local: Path) -> None:
    """A backup taken by a newer release (a schema revision this code does not know) is
    refused before anything is touched: restored, it would leave a database the code
    refuses to run on."""
    listing = subprocess.run(
        [str(tools.pg_restore), "--data-only", "--table=alembic_version", "--file=-", str(local)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    revisions = re.findall(r"^([0-9a-z_]+)$", listing.stdout, re.MULTILINE)
    unknown = [r for r in revisions if r not in known_revisions()]
    if listing.returncode == 0 and unknown:
        raise BackupError(
            f"{plan.backup.dump.name} was taken at schema revision {unknown[0]}, which this "
            f"code does not know (it knows up to {head_revision()}): a newer release made "
            "it; restore it with that release, or restore a backup of this one. Nothing was "
            "changed"
        )


# Views over the listings the dump may not hold (an older release's dump has no
# `jobs_listings_current`, nor the dbt views of the marts) would stop `--clean` from
# dropping the tables. They are dropped first, in any schema, views built on those views
# included (deepest first); on failure they are put back (shallowest first); on success
# those that neither the dump nor the migrations recreated are put back where they still
# apply to the restored tables (dbt's next build replaces its own anyway).
_DEPENDENT_VIEWS = """
WITH RECURSIVE deps(oid, depth) AS (
    SELECT r.ev_class, 1
    FROM pg_depend AS d JOIN pg_rewrite AS r ON r.oid = d.objid
    WHERE d.refobjid IN (to_regclass('public.jobs_listings_data'),
                         to_regclass('public.jobs_listings_history'))
      AND r.ev_class <> d.refobjid
  UNION
    SELECT r.ev_class, deps.depth + 1
    FROM deps JOIN pg_depend AS d ON d.refobjid = deps.oid
    JOIN pg_rewrite AS r ON r.oid = d.objid
    WHERE r.ev_class <> deps.oid AND deps.depth < 20
)
SELECT v.oid::regclass::text, pg_get_viewdef(v.oid)
FROM deps JOIN pg_class AS v ON v.oid = deps.oid
WHERE v.relkind = 'v'
GROUP BY v.oid
ORDER BY max(deps.depth) DESC, v.oid DESC
"""


#: how long the restore waits for a table another session holds (a `make dev`, a run):
#: then it fails, says so, and changes nothing, instead of waiting for ever
LOCK_TIMEOUT = "30s"


def _set_aside_views(conninfo: str) -> list[tuple[str, str]]:
    with psycopg.connect(conninfo, options=f"-c lock_timeout={LOCK_TIMEOUT}") as conn:
        views = conn.execute(_DEPENDENT_VIEWS).fetchall()
        for name, _ in views:
            conn.execute(sql.SQL("DROP VIEW IF EXISTS {}").format(sql.SQL(name)))
    return views


def _put_back_views(
    conninfo: str, views: list[tuple[str, str]], missing_only: bool = False
) -> list[str]:
    """Recreate set-aside views, shallowest first: every one (the restore failed, so the
    database is as it was), or after a restore those neither the dump nor the migrations
    recreated, where they still apply to the restored tables (the others are left out).
    The names put back."""
    put_back = []
    with psycopg.connect(conninfo, autocommit=missing_only) as conn:
        for name, definition in reversed(views):
            if missing_only and conn.execute("SELECT to_regclass(%s)", (name,)).fetchone()[0]:
                continue
            statement = sql.SQL("CREATE OR REPLACE VIEW {} AS ").format(sql.SQL(name))
            try:
                conn.execute(statement + sql.SQL(definition))
            except psycopg.Error:
                if not missing_only:
                    raise
                continue
            put_back.append(name)
    return put_back


def _pg_restore(tools: PgTools, plan: RestorePlan, conninfo: str, local: Path) -> None:
    target = conninfo or with_dbname("", _default_dbname())
    run_tool(
        [
            tools.pg_restore,
            "--clean",
            "--if-exists",
            *RESTORE_OPTIONS,
            "-d",
            make_conninfo(target, options=f"-c lock_timeout={LOCK_TIMEOUT}"),
            local,
        ],
        f"pg_restore of {plan.backup.dump.name} into {describe(conninfo)} (a session "
        f"holding its tables for over {LOCK_TIMEOUT} stops it: stop `make dev` and runs)",
    )


def _after_restore(
    plan: RestorePlan, conninfo: str, raw_dir: Path | Storage | None, started: float
) -> dict:
    expected = plan.manifest.get("row_counts", {})
    with psycopg.connect(conninfo) as conn:
        counts = row_counts(conn)
        if _VERSION_TABLE not in expected:
            conn.execute(f"DROP TABLE IF EXISTS {_VERSION_TABLE}")
        # the listings are the dump's now, with the dump's change stamps: the marts'
        # next build reads every listing (jobs_assets/dbt/macros/refresh_marks.sql)
        if conn.execute(f"SELECT to_regclass('{_REFRESH_MARKS}')").fetchone()[0]:
            conn.execute(f"TRUNCATE {_REFRESH_MARKS}")
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
        names = [archive.name for archive in plan.raw_archives]
        result.update(restore_raw(names, raw_dir, plan.backup.store))
    return result


_REFRESH_MARKS = "analytics_intermediate.refresh_marks"


def _default_dbname() -> str:
    """The database libpq would pick from `PG*`: pg_restore needs `-d` to restore at all."""
    with psycopg.connect("") as conn:
        return conn.execute("SELECT current_database()").fetchone()[0]
