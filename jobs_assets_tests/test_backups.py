"""Backups: a real pg_dump, a real test restore into a scratch database, retention, restore.

Runs against whichever PostgreSQL the session uses (embedded, or `PGHOST`), so the
tool discovery is exercised for both.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from psycopg import sql

from jobs_assets.cli import main as cli_main
from jobs_assets.defs.backups.assets import BACKUP_VERIFIED, postgres_backup, verified_check
from jobs_assets.defs.backups.checks import latest_verified_backup_fresh
from jobs_assets.defs.backups.resources import BackupsResource, backup_resources
from jobs_assets.lib import backup
from jobs_assets.lib.schema.migrate import ensure_schema
from jobs_assets.partitions import BACKUP_PARTITIONS
from jobs_assets_tests.conftest import (
    Database,
    deployed_definitions,
    fixture_listing_count,
    latest_windows,
    materialize_window,
)

TABLES = {
    ("staging", "staging_jobs_listings_data"): ("source", "partition_key", "source_job_id"),
    ("public", "jobs_listings_data"): ("source", "source_job_id"),
    ("public", "alembic_version"): ("version_num",),  # the migrations' record is backed up too
    ("public", "jobs_listings_history"): ("source", "source_job_id", "valid_from"),
    ("public", "jobs_duplicate_overrides"): ("left_key", "right_key"),
    ("public", "jobs_data_version"): ("singleton",),
    ("ml", "salary_models"): ("version",),  # the salary model travels with its data
    ("ml", "salary_estimates"): ("source", "source_job_id"),
}


def table_rows(database: Database) -> dict[str, list[str]]:
    """Every row of both tables as JSON text, in key order: equal means identical."""
    out = {}
    with database.connect() as conn:
        for (schema, table), key in TABLES.items():
            query = sql.SQL("SELECT to_jsonb(t)::text FROM {}.{} t ORDER BY {}").format(
                sql.Identifier(schema),
                sql.Identifier(table),
                sql.SQL(", ").join(map(sql.Identifier, key)),
            )
            out[f"{schema}.{table}"] = [row[0] for row in conn.execute(query)]
    return out


def indexes(database: Database) -> list[str]:
    rows = database.query(
        "SELECT indexdef FROM pg_indexes WHERE schemaname IN ('public', 'staging') ORDER BY 1"
    )
    return [row[0] for row in rows]


def raw_files(raw_dir: Path) -> dict[str, bytes]:
    return {
        p.relative_to(raw_dir).as_posix(): p.read_bytes()
        for p in sorted(raw_dir.rglob("*"))
        if p.is_file()
    }


def scratch_databases(database: Database) -> set[str]:
    return {row[0] for row in database.query("SELECT datname FROM pg_database")} - {
        database.query("SELECT current_database()")[0][0]
    }


def add_staged_row(database: Database, job_id: str) -> None:
    with database.connect() as conn:
        conn.execute(
            "INSERT INTO staging.staging_jobs_listings_data VALUES (%s, %s, %s, %s, now())",
            ("remotive", "2026-01-01-00:00", job_id, json.dumps({"id": job_id})),
        )


def backup_key() -> str:
    return BACKUP_PARTITIONS.get_last_partition_key()


def materialize_backup(
    postgres: dg.ConfigurableResource, backups: BackupsResource, partition_key: str | None = None
) -> dg.ExecuteInJobResult:
    return dg.materialize(
        [postgres_backup, latest_verified_backup_fresh],
        partition_key=partition_key or backup_key(),
        resources={"postgres": postgres, "backups": backups},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def step_failure_message(result: dg.ExecuteInJobResult) -> str:
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failures, "the step was expected to fail"
    error = failures[0].step_failure_data.error
    return f"{error.message} {error.cause.message if error.cause else ''}"


def test_round_trip_restores_identical_rows_and_raw_files(
    resources: dict[str, object], clean_db: Database, data_dir: Path, tmp_path: Path
) -> None:
    materialize_window(resources, latest_windows(1)[0])
    before, before_indexes = table_rows(clean_db), indexes(clean_db)
    assert len(before["public.jobs_listings_data"]) == fixture_listing_count()
    raw_before = raw_files(data_dir / "raw")
    assert raw_before

    result = materialize_backup(resources["postgres"], BackupsResource(data_dir=str(data_dir)))
    assert result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {BACKUP_VERIFIED: True, "latest_verified_backup_fresh": True}
    metadata = result.asset_materializations_for_node("postgres_backup")[0].metadata
    manifest = metadata["manifest"].value
    assert manifest["verified"] is True and manifest["window"] == backup_key()
    # (other tables hold what earlier tests on this worker left: clean_db empties these)
    counted = {t: manifest["row_counts"][t] for t in before}
    assert counted == {t: len(rows) for t, rows in before.items()}
    assert manifest["raw_archive"]["files"] == len(raw_before)
    dump = Path(metadata["dump_path"].value)
    assert dump.parent == data_dir / "backups" and not list(dump.parent.glob("*.part"))
    assert (
        dump.with_name(dump.name + ".sha256").read_text().split()[0]
        == backup.sha256_of(dump)
        == manifest["sha256"]
    )

    with clean_db.connect() as conn:
        # made after the dump: a view on the history in a schema of its own (as dbt's
        # staging views are) and a watermark of the incremental marts
        conn.execute("CREATE SCHEMA IF NOT EXISTS probe")
        conn.execute(
            "CREATE OR REPLACE VIEW probe.versions AS"
            " SELECT source, source_job_id FROM public.jobs_listings_history"
        )
        conn.execute("CREATE SCHEMA IF NOT EXISTS analytics_intermediate")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS analytics_intermediate.refresh_marks (name text"
            " PRIMARY KEY, mark xid8, previous xid8, marked_at timestamptz NOT NULL"
            " DEFAULT now())"
        )
        conn.execute(
            "INSERT INTO analytics_intermediate.refresh_marks (name, mark)"
            " VALUES ('probe', pg_current_xact_id()) ON CONFLICT (name) DO NOTHING"
        )
        conn.execute(
            "DROP TABLE staging.staging_jobs_listings_data, public.jobs_listings_data CASCADE"
        )
    # The embedded server is found through JOBS_DATA_DIR, so restore there; else anywhere.
    restore_dir = clean_db.data_dir if clean_db.pghost is None else tmp_path / "restored"
    shutil.rmtree(restore_dir / "raw", ignore_errors=True)  # what other tests left there
    try:
        run = subprocess.run(
            [sys.executable, "-m", "jobs_assets.cli", "restore", str(dump), "--yes"],
            env={**os.environ, **clean_db.env, "JOBS_DATA_DIR": str(restore_dir)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, run.stderr
        assert f"restored {dump.name}" in run.stdout
        assert table_rows(clean_db) == before
        assert indexes(clean_db) == before_indexes
        assert raw_files(restore_dir / "raw") == raw_before
        # the view the dump did not hold is back; the marts will read every listing
        assert clean_db.query("SELECT count(*) FROM probe.versions")[0][0] == len(
            before["public.jobs_listings_history"]
        )
        assert clean_db.query("SELECT count(*) FROM analytics_intermediate.refresh_marks") == [(0,)]
    finally:
        shutil.rmtree(restore_dir / "raw", ignore_errors=True)
        ensure_schema(clean_db.conninfo)  # later tests need the tables, whatever happened


def test_retention_keeps_the_newest_verified_backups(
    clean_db: Database, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOBS_DATA_DIR", str(data_dir))
    monkeypatch.setenv("JOBS_BACKUP_KEEP", "2")
    named = backup_resources().resources["backups"]
    assert getattr(named.keep, "env_var_name", None) == "JOBS_BACKUP_KEEP"  # named in the UI
    resource = named.process_config_and_initialize()  # as a run resolves it
    assert resource.keep == 2 and Path(resource.data_dir) == data_dir.resolve()

    conninfo = clean_db.resource().conninfo()
    outcomes = []
    for i in range(4):
        add_staged_row(clean_db, f"job-{i}")
        (data_dir / "raw" / "remotive" / f"w{i}").mkdir(parents=True)
        (data_dir / "raw" / "remotive" / f"w{i}" / "page-0000.json.gz").write_bytes(b"x" * i)
        outcomes.append(backup.back_up(conninfo, data_dir, backup_key(), keep=resource.keep))
    assert all(o.verified for o in outcomes)
    # one staged row more each time (the other tables hold what earlier tests left there:
    # clean_db empties only the listing tables)
    totals = [o.manifest["total_rows"] for o in outcomes]
    assert [total - totals[0] for total in totals] == [0, 1, 2, 3]
    assert outcomes[0].manifest["row_counts"]["staging.staging_jobs_listings_data"] == 1

    kept = [b.stem for b, _ in backup.list_sets(data_dir / "backups")]
    assert kept == [outcomes[2].backup.stem, outcomes[3].backup.stem]
    assert sorted(p.name for p in (data_dir / "backups").glob("*.dump")) == sorted(
        o.backup.dump.name for o in outcomes[2:]
    )
    assert [p.name for p in outcomes[2].deleted] == [
        outcomes[0].backup.dump.name,
        outcomes[0].backup.checksum.name,
        outcomes[0].backup.manifest_path.name,
    ]
    # Raw archives are incremental: every one stays, each holding only what was new.
    archives = [o.manifest["raw_archive"] for o in outcomes]
    assert [a["files"] for a in archives] == [1, 1, 1, 1]
    assert all((data_dir / "backups" / a["file"]).exists() for a in archives)
    assert outcomes[3].manifest["raw_archives"] == [a["file"] for a in archives]


def test_truncated_dump_fails_verification_and_nothing_is_deleted(
    clean_db: Database, data_dir: Path
) -> None:
    conninfo = clean_db.resource().conninfo()
    backups_dir = data_dir / "backups"
    databases_before = scratch_databases(clean_db)
    add_staged_row(clean_db, "job-1")
    good = backup.back_up(conninfo, data_dir, backup_key(), keep=1)
    assert good.verified

    bad = backup.dump(conninfo, backups_dir, backup_key())
    with open(bad.dump, "r+b") as fh:
        fh.truncate(bad.dump.stat().st_size // 2)
    outcome = backup.verify_and_retain(bad, conninfo, keep=1)
    assert not outcome.verified and "sha256" in outcome.verification.error
    assert outcome.deleted == []

    # Even with a checksum that matches the cut file, the test restore rejects it.
    worse = backup.dump(conninfo, backups_dir, backup_key())
    with open(worse.dump, "r+b") as fh:
        fh.truncate(worse.dump.stat().st_size // 2)
    manifest = worse.manifest()
    manifest["sha256"] = backup.sha256_of(worse.dump)
    worse.save_manifest(manifest)
    outcome = backup.verify_and_retain(worse, conninfo, keep=1)
    assert not outcome.verified and "pg_restore" in outcome.verification.error
    assert outcome.deleted == []
    assert worse.manifest()["verified"] is False
    assert worse.manifest()["verification"]["error"] == outcome.verification.error

    assert all(p.exists() for b in (good.backup, bad, worse) for p in (b.dump, b.manifest_path))
    assert backup.apply_retention(backups_dir, keep=1) == []  # the newest is unverified
    assert backup.latest_verified(backups_dir)[0] == good.backup
    assert scratch_databases(clean_db) == databases_before  # scratch databases dropped
    check = verified_check(outcome)  # what the asset reports: a failed ERROR check
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert "pg_restore" in check.metadata["error"].value and "no backup was deleted" in (
        check.description
    )


def test_freshness_check_needs_a_verified_backup_under_seven_hours_old(data_dir: Path) -> None:
    resource = BackupsResource(data_dir=str(data_dir))
    folder = data_dir / "backups"
    folder.mkdir()
    assert not latest_verified_backup_fresh(backups=resource).passed  # none yet

    def write_set(stem: str, hours_ago: float, verified: bool) -> None:
        created = datetime.now(UTC) - timedelta(hours=hours_ago)
        backup.BackupSet(folder, stem).save_manifest(
            {"window": "2026-11-22-00:00", "created_at": created.isoformat(), "verified": verified}
        )

    write_set("jobs-2026-11-22-0000-20261122T000000Z", 8, verified=True)
    write_set("jobs-2026-11-22-0600-20261122T060000Z", 1, verified=False)
    result = latest_verified_backup_fresh(backups=resource)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
    assert result.metadata["age_hours"].value >= 8  # the unverified newer one does not count
    write_set("jobs-2026-11-22-0600-20261122T060001Z", 0.5, verified=True)
    assert latest_verified_backup_fresh(backups=resource).passed


def test_failing_pg_dump_is_reported_and_leaves_no_file(clean_db: Database, data_dir: Path) -> None:
    backups = BackupsResource(data_dir=str(data_dir), lock_wait_timeout="300ms")
    with clean_db.connect() as blocker:  # a migration holding a table: pg_dump cannot read it
        blocker.execute("LOCK TABLE public.jobs_listings_data IN ACCESS EXCLUSIVE MODE")
        result = materialize_backup(clean_db.resource(), backups)
    assert not result.success
    message = step_failure_message(result)
    assert "pg_dump of database" in message and "failed (exit 1)" in message
    assert "jobs_listings_data" in message
    assert not result.asset_materializations_for_node("postgres_backup")
    leftovers = [p.name for p in (data_dir / "backups").iterdir() if p.name != ".lock"]
    assert leftovers == []


def test_old_window_cannot_be_backed_up(clean_db: Database, data_dir: Path) -> None:
    old = BACKUP_PARTITIONS.get_partition_keys()[-3]  # ended 12-18 h ago
    result = materialize_backup(
        clean_db.resource(), BackupsResource(data_dir=str(data_dir)), partition_key=old
    )
    assert not result.success
    message = step_failure_message(result)
    assert f"backup window {old} ended" in message and "only the latest two windows" in message
    assert not (data_dir / "backups").exists()


def test_restore_refuses_a_changed_dump_and_asks_first(
    clean_db: Database,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    add_staged_row(clean_db, "job-1")
    good = backup.back_up(clean_db.resource().conninfo(), data_dir, backup_key(), keep=2)
    for name, value in clean_db.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # no terminal
    add_staged_row(clean_db, "job-2")

    assert cli_main(["restore", str(good.backup.dump)]) == 1  # no terminal and no --yes
    assert "pass --yes" in capsys.readouterr().err
    assert clean_db.query("SELECT count(*) FROM staging.staging_jobs_listings_data")[0][0] == 2

    with open(good.backup.dump, "ab") as fh:
        fh.write(b"tampered")
    assert cli_main(["restore", str(good.backup.dump), "--yes"]) == 2
    assert "does not match its manifest's sha256" in capsys.readouterr().err
    assert clean_db.query("SELECT count(*) FROM staging.staging_jobs_listings_data")[0][0] == 2


def test_backup_schedule_runs_every_six_hours_in_utc() -> None:
    defs = deployed_definitions()
    schedule = defs.resolve_schedule_def("backup_schedule")
    assert schedule.cron_schedule == "0 */6 * * *"
    assert schedule.execution_timezone == "UTC"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.job_name == "backup_job"
    tick = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=tick)
        requests = schedule.evaluate_tick(context).run_requests
    assert [r.partition_key for r in requests] == ["2026-11-22-06:00"]  # the window just ended
    node = defs.resolve_asset_graph().get(dg.AssetKey("postgres_backup"))
    assert node.group_name == "backups" and node.partitions_def == BACKUP_PARTITIONS


def test_tools_match_the_server_major_version(clean_db: Database) -> None:
    conninfo = clean_db.resource().conninfo()
    tools = backup.find_pg_tools(conninfo)
    _, number = backup.server_version(conninfo)
    assert tools.version.split(".")[0] == str(backup.server_major(number))
    assert backup.server_major(150020) == 15 and backup.server_major(160002) == 16
    if clean_db.pghost is None:  # the embedded server uses the binaries shipped with it
        assert tools.bin_dir == backup._bundled_bin_dir()


def test_restore_refuses_a_backup_of_a_newer_schema_or_a_changed_checksum_file(
    clean_db: Database,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A backup a newer release took (a schema revision this code does not know) is
    refused before anything is touched: restored, it would leave a database this code
    refuses to run on. A `.dump.sha256` that disagrees with the dump is refused too."""
    add_staged_row(clean_db, "job-1")
    (head,) = clean_db.query("SELECT version_num FROM public.alembic_version")[0]
    with clean_db.connect() as conn:
        conn.execute("UPDATE public.alembic_version SET version_num = '0999'")
    newer = backup.back_up(clean_db.resource().conninfo(), data_dir, backup_key(), keep=3)
    with clean_db.connect() as conn:
        conn.execute("UPDATE public.alembic_version SET version_num = %s", (head,))
    for name, value in clean_db.env.items():
        monkeypatch.setenv(name, value)
    add_staged_row(clean_db, "job-2")

    assert cli_main(["restore", str(newer.backup.dump), "--yes", "--no-raw"]) == 2
    said = capsys.readouterr().err
    assert "taken at schema revision 0999, which this code does not know" in said
    assert "Nothing was changed" in said
    assert clean_db.query("SELECT version_num FROM public.alembic_version") == [(head,)]
    assert clean_db.query("SELECT count(*) FROM staging.staging_jobs_listings_data")[0][0] == 2

    good = backup.back_up(clean_db.resource().conninfo(), data_dir, backup_key(), keep=3)
    checksum = good.backup.dump.with_name(good.backup.dump.name + ".sha256")
    checksum.write_text("0" * 64 + "  " + good.backup.dump.name + "\n")
    assert cli_main(["restore", str(good.backup.dump), "--yes", "--no-raw"]) == 2
    assert "was changed after the backup" in capsys.readouterr().err


def test_restore_refuses_an_unreadable_raw_archive_before_touching_the_database(
    clean_db: Database,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A raw archive cut short is found before the restore starts (it used to be read
    after the database was replaced, and failed with a traceback)."""
    page = data_dir / "raw" / "remotive" / "2026-12-07-04:00" / "page-0000.json"
    page.parent.mkdir(parents=True)
    page.write_text('{"jobs": []}' * 2000)
    add_staged_row(clean_db, "job-1")
    made = backup.back_up(clean_db.resource().conninfo(), data_dir, backup_key(), keep=2)
    archive = made.backup.dump.with_name(made.backup.stem + ".raw.tar")
    assert archive.exists()
    archive.write_bytes(archive.read_bytes()[:1000] + os.urandom(300))
    # the test database by its address: JOBS_DATA_DIR names the raw files' folder here,
    # where no embedded database lives
    for name, value in clean_db.libpq_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("JOBS_DATA_DIR", str(data_dir))
    add_staged_row(clean_db, "job-2")

    assert cli_main(["restore", str(made.backup.dump), "--yes"]) == 2
    said = capsys.readouterr().err
    assert f"{archive.name} (" in said and "cannot be read" in said and "--no-raw" in said
    assert clean_db.query("SELECT count(*) FROM staging.staging_jobs_listings_data")[0][0] == 2
