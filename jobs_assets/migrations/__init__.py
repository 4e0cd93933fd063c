"""Alembic migrations of the data database (plain SQL through `op.execute`).

Run by `jobs_assets.lib.schema.migrate` (`make migrate`, and once per process before
any asset touches the tables); `alembic_version` lives in `public`.
"""
