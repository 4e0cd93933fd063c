"""The column contract and the migrations: a migrated database equals the contract,
a database made by the release before migrations upgrades in place keeping every row,
and migrating is idempotent and safe from several processes at once."""

from __future__ import annotations

import contextlib
import multiprocessing
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from jobs_assets import cli
from jobs_assets.defs.ingestion.assets import jobs_listings, staged_listings
from jobs_assets.lib import backup
from jobs_assets.lib.errors import SchemaMismatch
from jobs_assets.lib.listings import quality
from jobs_assets.lib.normalise.rows import EXTRACTED, OUTPUT_COLUMNS
from jobs_assets.lib.schema import (
    HISTORY,
    LIFECYCLE_COLUMNS,
    LISTINGS,
    STAGING,
    VIEWS,
    Column,
    Table,
    new_column_sql,
)
from jobs_assets.lib.schema.columns import history_table, listing_views
from jobs_assets.lib.schema.migrate import (
    Migration,
    current_revision,
    ensure_schema,
    head_revision,
    migrate,
)
from jobs_assets.lib.sources import SOURCES
from jobs_assets.replay import ReplayServer
from jobs_assets_tests.conftest import Database

PREVIOUS_RELEASE_SCHEMA = Path(__file__).parent / "data" / "previous_release_schema.sql"
CONTRACT_TABLES = (LISTINGS, STAGING)


@contextlib.contextmanager
def created_database(database: Database, name: str) -> Iterator[str]:
    """An empty database `name` on the test server (no migration run); its conninfo."""
    maintenance = make_conninfo(database.conninfo, dbname="postgres")
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_conninfo(database.conninfo, dbname=name)
    finally:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def scratch(database: Database) -> Iterator[str]:
    with created_database(database, f"jobs_schema_{uuid.uuid4().hex[:10]}") as conninfo:
        yield conninfo


def catalog(conn: psycopg.Connection, table: str) -> dict[str, object]:
    """A table as PostgreSQL describes it: columns in order (type, NOT NULL, default)
    and its primary key."""
    columns = conn.execute(
        "SELECT attname, format_type(atttypid, atttypmod), attnotnull, "
        "pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute AS a "
        "LEFT JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        (table,),
    ).fetchall()
    key = conn.execute(
        "SELECT a.attname FROM pg_index AS i JOIN pg_attribute AS a "
        "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "WHERE i.indrelid = %s::regclass AND i.indisprimary "
        "ORDER BY array_position(i.indkey::int2[], a.attnum)",
        (table,),
    ).fetchall()
    return {"columns": columns, "primary_key": [name for (name,) in key]}


def contract_catalog(conn: psycopg.Connection, table: Table) -> dict[str, object]:
    """`catalog` of the table the contract's DDL creates (in a schema rolled back after)."""
    with conn.transaction(force_rollback=True):
        conn.execute("CREATE SCHEMA contract_check")
        _, name = table.name.split(".")
        conn.execute(table.ddl().replace(table.name, f"contract_check.{name}", 1))
        return catalog(conn, f"contract_check.{name}")


def declared_types(conn: psycopg.Connection, columns: tuple[Column, ...]) -> dict[str, str]:
    """Each column's contract type as PostgreSQL spells it (`timestamptz` is `timestamp
    with time zone`), read from a table made with those types and rolled back."""
    with conn.transaction(force_rollback=True):
        body = ", ".join(f"{c.name} {c.sql_type}" for c in columns)
        conn.execute(f"CREATE TEMP TABLE declared_types ({body})")
        return {name: kind for name, kind, *_ in catalog(conn, "declared_types")["columns"]}


def assert_follows_contract(conn: psycopg.Connection, listings: Table = LISTINGS) -> None:
    """The history table and the views over `listings` have every column the contract
    declares for them, with its type, and no other."""
    relations = [history_table(listings)] + list(listing_views(listings))
    for relation in relations:
        have = {name: kind for name, kind, *_ in catalog(conn, relation.name)["columns"]}
        want = declared_types(conn, relation.columns)
        missing = [name for name in want if name not in have]
        assert not missing, (
            f"{relation.name} lacks {missing}: the migration that added a column must run "
            f"what lib.schema.new_column_sql prints, e.g.\n"
            f"{new_column_sql(listings.column(missing[0])) if missing[0] in listings.names else ''}"
        )
        assert have == want, relation.name


def assert_matches_contract(conninfo: str) -> None:
    with psycopg.connect(conninfo) as conn:
        assert_follows_contract(conn)
        for table in CONTRACT_TABLES:
            migrated, declared = catalog(conn, table.name), contract_catalog(conn, table)
            missing = [
                table.column(c[0]).ddl()
                for c in declared["columns"]
                if c[0] not in {m[0] for m in migrated["columns"]}
            ]
            assert not missing, (
                f"{table.name}: the contract declares columns no migration adds; write a "
                f"migration with ALTER TABLE {table.name} ADD COLUMN IF NOT EXISTS {missing}"
            )
            assert migrated == declared, table.name


def test_fresh_database_migrates_to_head_and_equals_the_contract(scratch: str) -> None:
    assert current_revision(scratch) is None
    done = migrate(scratch)
    assert done == Migration(None, head_revision()) and done.upgraded
    assert current_revision(scratch) == head_revision()
    assert_matches_contract(scratch)
    with psycopg.connect(scratch) as conn:
        where = conn.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'alembic_version'"
        ).fetchall()
    assert where == [("public",)]


def test_history_and_views_follow_the_contract(scratch: str) -> None:
    """Every contract column of the listings reaches the history (unless it is not
    versioned) and both views, with its type: from the migrated catalogue."""
    migrate(scratch)
    with psycopg.connect(scratch) as conn:
        assert_follows_contract(conn)
        view_columns = catalog(conn, VIEWS[0].name)["columns"]
        history_columns = {c[0] for c in catalog(conn, HISTORY.name)["columns"]}
    assert [c[0] for c in view_columns] == list(LISTINGS.names)  # changed_xid included
    assert "changed_xid" not in history_columns and "is_canonical" not in history_columns
    assert {"valid_from", "valid_to", "row_hash", "status"} <= history_columns


def test_a_new_column_is_one_contract_entry_and_one_migration(scratch: str) -> None:
    """A column added to the contract plus the migration `new_column_sql` prints is in
    the listings, the history and the views (and is missed until that migration ran)."""
    migrate(scratch)
    added = Column("remote_policy", "text", "Remote, hybrid or on site.")
    listings = Table(
        name=LISTINGS.name,
        columns=(*LISTINGS.columns, added),
        primary_key=LISTINGS.primary_key,
        description=LISTINGS.description,
    )
    with psycopg.connect(scratch) as conn:
        with conn.transaction(force_rollback=True), pytest.raises(AssertionError, match="remote"):
            assert_follows_contract(conn, listings)
        conn.execute(new_column_sql(added))
        assert_follows_contract(conn, listings)
        assert catalog(conn, LISTINGS.name) == contract_catalog(conn, listings)


def test_migrating_twice_changes_nothing(scratch: str) -> None:
    first = migrate(scratch)
    with psycopg.connect(scratch) as conn:
        before = [catalog(conn, t.name) for t in CONTRACT_TABLES]
    second = migrate(scratch)
    assert first.upgraded and not second.upgraded
    assert second == Migration(head_revision(), head_revision())
    with psycopg.connect(scratch) as conn:
        assert [catalog(conn, t.name) for t in CONTRACT_TABLES] == before
        assert conn.execute("SELECT count(*) FROM public.alembic_version").fetchone()[0] == 1


#: the columns later migrations added to the listings (0002 identity, 0003 search)
ADDED_COLUMNS = LISTINGS.names[LISTINGS.names.index("last_partition_key") + 1 :]


def all_rows(conninfo: str) -> dict[str, list[str]]:
    """Every row of both tables as JSON text in key order, without the columns later
    migrations added: equal means the previous release's values are all kept."""
    out = {}
    with psycopg.connect(conninfo) as conn:
        for table in CONTRACT_TABLES:
            query = sql.SQL(
                "SELECT (to_jsonb(t) - {}::text[])::text FROM {} AS t ORDER BY {}"
            ).format(
                sql.Literal(list(ADDED_COLUMNS)),
                sql.SQL(table.name),
                sql.SQL(", ").join(map(sql.Identifier, table.primary_key)),
            )
            out[table.name] = [row[0] for row in conn.execute(query)]
    return out


def test_previous_release_database_upgrades_in_place_keeping_every_row(scratch: str) -> None:
    with psycopg.connect(scratch) as conn:
        conn.execute(PREVIOUS_RELEASE_SCHEMA.read_text())
        conn.execute(
            "INSERT INTO staging.staging_jobs_listings_data VALUES "
            "('remotive', '2026-11-30-08:00', '1', '{\"id\": 1, \"title\": \"Data engineer\"}', "
            " '2026-11-30 12:01:02.123456+00'),"
            "('jobicy', '2026-11-30-08:00', 'x-2', '{\"id\": \"x-2\", \"tags\": [\"a\"]}', now())"
        )
        conn.execute(
            "INSERT INTO public.jobs_listings_data (source, source_job_id, title, job_url, tags, "
            "countries, regions, region, salary_min, salary_max, salary_currency, "
            "salary_usd_rate_date, description_text, published_at, retrieved_at, first_seen_at, "
            "last_seen_at, last_partition_key) VALUES "
            "('remotive', '1', 'Data engineer', 'https://remotive.com/1', '{python,sql}', "
            " '{DE}', '{europe}', 'europe', 60000.5, 80000, 'EUR', '2026-11-27', "
            " E'Line one\\nline two\\ttab', '2026-11-29 10:00+00', '2026-11-30 12:01+00', "
            " '2026-11-30 08:00+00', '2026-11-30 08:00+00', '2026-11-30-08:00'),"
            "('jobicy', 'x-2', NULL, NULL, DEFAULT, DEFAULT, DEFAULT, 'unknown', NULL, NULL, "
            " NULL, NULL, NULL, NULL, now(), now(), now(), '2026-11-30-08:00')"
        )
    before = all_rows(scratch)
    assert [len(rows) for rows in before.values()] == [2, 2]
    assert current_revision(scratch) is None

    done = migrate(scratch)

    assert done == Migration(None, head_revision())
    assert all_rows(scratch) == before
    assert_matches_contract(scratch)
    with psycopg.connect(scratch) as conn:  # identity columns set, one version each
        upgraded = conn.execute(
            "SELECT source, status, expired_at, reactivated_count, category_normalised, "
            "company_key FROM public.jobs_listings_data ORDER BY source"
        ).fetchall()
        assert upgraded == [
            ("jobicy", "active", None, 0, "Other", None),
            # decided by its title since migration 0019 (its tags python, sql said software)
            ("remotive", "active", None, 0, "Data & Analytics", None),
        ]
        versions = conn.execute(
            "SELECT source, valid_to, row_hash FROM public.jobs_listings_history ORDER BY 1"
        ).fetchall()
        assert [(s, v) for s, v, _ in versions] == [("jobicy", None), ("remotive", None)]
        current = conn.execute("SELECT count(*) FROM public.jobs_listings_current").fetchone()
        assert current == (2,)
        # 0015 counted the listings it found for the facets, as the listings say
        counted = conn.execute(
            # (a combination that 0019's new category left empty keeps its row at 0, as
            # the counts' triggers keep them; readers skip zeros)
            "SELECT source, status, salary_band, salary_k, listings "
            "FROM public.jobs_listing_facet_counts WHERE listings > 0 ORDER BY source"
        ).fetchall()
        listed = conn.execute(
            "SELECT source, status, public.jobs_salary_band(salary_min_usd, salary_max_usd), "
            "public.jobs_salary_k(salary_min_usd, salary_max_usd), 1::bigint "
            "FROM public.jobs_listings_data ORDER BY source"
        ).fetchall()
        assert counted == listed and len(counted) == 2


def test_saved_search_tables_upgrade_in_place_keeping_every_row(scratch: str) -> None:
    """A release at 0015 with a search, a sent and a pending delivery and what they
    announced upgrades in place: 0016 (follow-up messages for a window loaded again)
    keeps the deliveries' values and keys as part 0, and a follow-up fits beside them;
    0017 counts the search as its client's creation."""
    migrate(scratch, "0015")
    with psycopg.connect(scratch) as conn:
        conn.execute(
            "INSERT INTO public.jobs_saved_searches (search_id, token_sha256, query, deliver, "
            "client_hash, created_at) "
            "VALUES ('s1', 'ab', '{\"q\": \"rust\"}', '{\"webhook_url\": \"https://x.example/\"}', "
            "'c1', '2026-12-01 09:00+00')"
        )
        conn.execute(
            "INSERT INTO public.jobs_search_deliveries (search_id, window_key, channel, "
            "idempotency_key, status, payload, listing_count, attempts, sent_at) VALUES "
            "('s1', '2026-12-01-08:00', 'webhook', 'k1', 'sent', '{\"listings\": [1]}', 1, 1, "
            " now()), "
            "('s1', '2026-12-01-12:00', 'webhook', 'k2', 'pending', '{\"listings\": [2]}', 1, 0, "
            " NULL)"
        )
        conn.execute(
            "INSERT INTO public.jobs_search_announced (search_id, job_key, source, "
            "source_job_id, window_key) VALUES ('s1', 'jobicy:1', 'jobicy', '1', "
            "'2026-12-01-08:00')"
        )

    def rows(conn: psycopg.Connection, table: str) -> list[str]:
        return [
            r[0]
            for r in conn.execute(f"SELECT (to_jsonb(t) - 'part')::text FROM {table} t ORDER BY 1")
        ]

    tables = ("public.jobs_search_deliveries", "public.jobs_search_announced")
    with psycopg.connect(scratch) as conn:
        before = {t: rows(conn, t) for t in tables}
    migrate(scratch)
    with psycopg.connect(scratch) as conn:
        assert {t: rows(conn, t) for t in tables} == before
        assert conn.execute(
            "SELECT idempotency_key, part FROM public.jobs_search_deliveries ORDER BY 1"
        ).fetchall() == [("k1", 0), ("k2", 0)]
        conn.execute(
            "INSERT INTO public.jobs_search_deliveries (search_id, window_key, channel, part, "
            "idempotency_key, payload, listing_count) "
            "VALUES ('s1', '2026-12-01-08:00', 'webhook', 1, 'k3', '{}', 1)"
        )
        assert conn.execute(
            "SELECT client_hash, created_at = '2026-12-01 09:00+00' FROM public.jobs_search_creations"
        ).fetchall() == [("c1", True)]


def _migrate_in_process(conninfo: str) -> tuple[str | None, str | None]:
    done = migrate(conninfo)
    return done.before, done.after


def test_concurrent_processes_migrate_once_without_error(scratch: str) -> None:
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        outcomes = pool.map(_migrate_in_process, [scratch] * 4)
    head = head_revision()
    assert sorted(outcomes, key=str) == sorted([(None, head)] + [(head, head)] * 3, key=str)
    assert_matches_contract(scratch)


def test_migrate_command_prints_the_revision_before_and_after(
    database: Database, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in database.env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["migrate"]) == 0
    out = capsys.readouterr().out
    head = head_revision()
    assert f"schema revision before: {head}" in out
    assert f"schema revision after:  {head} (nothing to do)" in out


def test_everything_derived_from_the_contract_agrees() -> None:
    kept_elsewhere = {"first_seen_at", "last_seen_at", "last_partition_key"}
    kept_elsewhere |= set(LIFECYCLE_COLUMNS)  # lifecycle and clusters, after the upsert
    kept_elsewhere |= {c.name for c in LISTINGS.columns if c.by_postgres}
    assert {"search_vector", "changed_xid"} <= kept_elsewhere
    assert list(OUTPUT_COLUMNS) == [n for n in LISTINGS.names if n not in kept_elsewhere]
    assert {"status", "expired_at", "duplicate_cluster_id"} <= set(LIFECYCLE_COLUMNS)
    assert set(quality.REQUIRED_COLUMNS) <= set(LISTINGS.names)
    assert {"source", "source_job_id", "title", "job_url", "region"} <= set(
        quality.REQUIRED_COLUMNS
    )
    for source in SOURCES.values():  # every source maps every extracted field
        assert set(source.columns) == set(EXTRACTED), source.name
    for asset, table in ((jobs_listings, LISTINGS), (staged_listings, STAGING)):
        metadata = asset.specs_by_key[asset.key].metadata
        schema = metadata["dagster/column_schema"]
        assert [c.name for c in schema.columns] == list(table.names)
        assert all(c.description for c in schema.columns)
        assert metadata["dagster/table_name"] == table.name


def test_restoring_a_backup_of_the_previous_release_migrates_it(
    scratch: str, database: Database, tmp_path: Path
) -> None:
    with psycopg.connect(scratch) as conn:  # the previous release's database, with a row
        conn.execute(PREVIOUS_RELEASE_SCHEMA.read_text())
        conn.execute(
            "INSERT INTO staging.staging_jobs_listings_data VALUES "
            "('remotive', '2026-11-30-08:00', '1', '{\"id\": 1}', now())"
        )
    old = backup.dump(scratch, tmp_path, "2026-11-30-08:00")
    assert "public.alembic_version" not in old.manifest()["row_counts"]
    name = conninfo_to_dict(scratch)["dbname"] + "_restored"
    with created_database(database, name) as target:
        migrate(target)  # today's database, at head, about to be replaced by the old backup
        restored = backup.restore(backup.plan_restore(old.dump), target, None)
        # the dump held no alembic_version: the migrations ran again from the baseline
        assert restored["schema_revision"] == {"restored": None, "now": head_revision()}
        assert current_revision(target) == head_revision()
        assert all_rows(target)[STAGING.name] == all_rows(scratch)[STAGING.name]
        assert_matches_contract(target)


#: the revision a newer release would leave (one this code will not have for a long while)
NEWER_RELEASE = "9999"


@contextlib.contextmanager
def stamped(database: Database, revision: str) -> Iterator[None]:
    """The test database stamped at `revision` (as a newer release would leave it), and
    stamped back at this code's head afterwards."""
    with database.connect() as conn:
        conn.execute("UPDATE public.alembic_version SET version_num = %s", (revision,))
    try:
        yield
    finally:
        with database.connect() as conn:
            conn.execute("UPDATE public.alembic_version SET version_num = %s", (head_revision(),))


def test_migrate_refuses_a_database_newer_than_the_code_in_one_line(
    database: Database, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in database.env.items():
        monkeypatch.setenv(name, value)
    with stamped(database, NEWER_RELEASE):
        assert cli.main(["migrate"]) == 2
        err = capsys.readouterr().err
        assert err.strip() == (
            f"error: The database is at schema revision {NEWER_RELEASE}, which this code does not know "
            f"(it knows up to {head_revision()}): a newer release has migrated it. Deploy that "
            "release (or newer) of the code, or restore a backup made by this version; "
            "nothing was changed."
        )
        assert "Traceback" not in err and "Can't locate revision" not in err
        assert current_revision(database.conninfo) == NEWER_RELEASE  # left exactly as it was


def test_a_version_table_edited_to_two_rows_is_refused_in_one_line(scratch: str) -> None:
    """Two rows in `alembic_version` (someone stamped by hand): migrate, the steps' check
    and `current_revision` say so and what to do, and change nothing (Alembic's own
    answer was a traceback about "more than one head")."""
    ensure_schema(scratch)
    with psycopg.connect(scratch, autocommit=True) as conn:
        conn.execute("INSERT INTO public.alembic_version VALUES ('0007')")
    for attempt in (lambda: ensure_schema(scratch), lambda: ensure_schema(scratch, False)):
        with pytest.raises(SchemaMismatch) as err:
            attempt()
        message = str(err.value)
        assert message.startswith("public.alembic_version holds 2 revisions (0007, ")
        assert head_revision() in message and "delete the others" in message
        assert message.endswith("nothing was changed.")
    with psycopg.connect(scratch) as conn:
        rows = conn.execute("SELECT version_num FROM public.alembic_version").fetchall()
    assert sorted(r[0] for r in rows) == sorted(["0007", head_revision()])


def test_a_run_on_a_database_newer_than_the_code_refuses_before_any_write(
    clean_db: Database,
    resources: dict[str, object],
    data_dir: Path,
    replay: ReplayServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every step that writes (the raw fetches and the ECB rates included, which write
    files, not rows) checks the revision first: nothing is fetched, stored or loaded."""
    from jobs_assets import resources as resources_module
    from jobs_assets_tests.conftest import latest_windows, materialize_window

    monkeypatch.setattr(resources_module, "_schema_ready", set())  # a fresh step process
    with stamped(clean_db, NEWER_RELEASE):
        result = materialize_window(resources, latest_windows(1)[0], raise_on_error=False)
        assert not result.success
        failures = [
            e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE
        ]
        fetching = {f"{name}_raw" for name in SOURCES} | {"ecb_rates"}
        assert {e.step_key for e in failures} == fetching  # then nothing downstream
        stored = [p for p in data_dir.rglob("*") if p.is_file() and "logs" not in p.parts]
        assert replay.requests == [] and stored == []  # nothing fetched, nothing kept
        message = failures[0].event_specific_data.error.message
        assert f"schema revision {NEWER_RELEASE}, which this code does not know" in message
        assert "ResolutionError" not in message
        assert not [e for e in result.all_events if e.event_type_value == "STEP_RESTARTED"]
        for table in ("staging.staging_jobs_listings_data", "public.jobs_listings_data"):
            assert clean_db.query(f"SELECT count(*) FROM {table}") == [(0,)]
        assert current_revision(clean_db.conninfo) == NEWER_RELEASE


def test_a_backup_on_a_database_newer_than_the_code_refuses_and_deletes_nothing(
    clean_db: Database, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: the backup step connected without the revision check, so it dumped a
    database this code cannot restore and deleted the older backups by its retention."""
    from jobs_assets import resources as resources_module
    from jobs_assets.defs.backups.assets import postgres_backup
    from jobs_assets.defs.backups.resources import BackupsResource
    from jobs_assets.partitions import BACKUP_PARTITIONS

    def back_up() -> dg.ExecuteInJobResult:
        monkeypatch.setattr(resources_module, "_schema_ready", set())  # a fresh step process
        return dg.materialize(
            [postgres_backup],
            partition_key=BACKUP_PARTITIONS.get_last_partition_key(),
            resources={
                "postgres": clean_db.resource(),
                "backups": BackupsResource(data_dir=str(data_dir), keep=1),
            },
            instance=dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
        )

    def kept() -> list[str]:
        return sorted(str(p.relative_to(data_dir)) for p in (data_dir / "backups").rglob("*"))

    assert back_up().success  # at this code's revision
    before = kept()
    assert [name for name in before if name.endswith(".dump")]
    with stamped(clean_db, NEWER_RELEASE):
        result = back_up()
        assert not result.success
        [failure] = [
            e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE
        ]
        message = failure.event_specific_data.error.message
        assert f"schema revision {NEWER_RELEASE}, which this code does not know" in message
        assert not [e for e in result.all_events if e.event_type_value == "STEP_RESTARTED"]
        assert kept() == before  # no new dump, no old one deleted
        assert current_revision(clean_db.conninfo) == NEWER_RELEASE


def test_steps_that_may_not_migrate_refuse_a_database_behind_the_code(scratch: str) -> None:
    """`JOBS_MIGRATE=check` (deployments): the migrate job owns the schema, steps only
    check it, and say what to run."""
    with pytest.raises(SchemaMismatch) as err:
        ensure_schema(scratch, upgrade=False)
    assert str(err.value) == (
        f"The database is at schema revision none (never migrated), this code needs "
        f"{head_revision()}: run the deployment's migrate job (`python -m jobs_assets.cli "
        "migrate` with the schema owner's role) and start the run again; nothing was changed."
    )
    assert current_revision(scratch) is None
    ensure_schema(scratch)  # `auto` (laptops): migrated in place
    ensure_schema(scratch, upgrade=False)  # and now the check passes
    assert current_revision(scratch) == head_revision()
