"""Alembic's environment: run the migrations on the connection `migrate` hands over.

`jobs_assets.lib.schema.migrate.migrate` opens that connection from the same conninfo as
the pipeline (`lib/db.py`: the embedded PostgreSQL, or `PG*`) and holds the advisory
lock; run any other way (e.g. the `alembic` command), this opens one the same way.
"""

from __future__ import annotations

from alembic import context

from jobs_assets.lib.schema.migrate import VERSION_TABLE, VERSION_TABLE_SCHEMA, engine_for


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=None,  # plain SQL migrations: nothing to autogenerate from
        version_table=VERSION_TABLE,
        version_table_schema=VERSION_TABLE_SCHEMA,
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from jobs_assets.lib import db
    from jobs_assets.settings import Settings  # only when run outside `migrate`

    settings = Settings.from_env()
    engine = engine_for(db.conninfo_for(settings.data_dir, settings.pghost))
    with engine.connect() as connection:
        _run(connection)
        connection.commit()
