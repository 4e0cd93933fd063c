"""The salary model's tables: versions of the model (bytes included) and its estimates.

Models live in the database, not in files, so every verified backup carries the model
that produced the estimates it holds (`lib/backup/` dumps the whole database).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
CREATE SCHEMA IF NOT EXISTS ml;

CREATE TABLE IF NOT EXISTS ml.salary_models (
    version           integer     GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    trained_at        timestamptz NOT NULL DEFAULT now(),
    status            text        NOT NULL
        CHECK (status IN ('current', 'retired', 'rejected')),
    reason            text        NOT NULL,
    window_start      timestamptz NOT NULL,
    window_end        timestamptz NOT NULL,
    rows_total        integer     NOT NULL,
    rows_train        integer     NOT NULL,
    rows_test         integer     NOT NULL,
    metrics           jsonb       NOT NULL,
    features          text[]      NOT NULL,
    library_versions  jsonb       NOT NULL,
    model_format      text        NOT NULL DEFAULT 'skops',
    model_bytes       bytea       NOT NULL
);
COMMENT ON TABLE ml.salary_models IS
    'Every trained salary model: metrics on its time-split holdout, the promotion decision '
    '(status, reason) and the model itself serialised with skops (never pickle).';
-- at most one model is in service
CREATE UNIQUE INDEX IF NOT EXISTS salary_models_one_current_idx
    ON ml.salary_models (status) WHERE status = 'current';

CREATE TABLE IF NOT EXISTS ml.salary_estimates (
    source         text          NOT NULL,
    source_job_id  text          NOT NULL,
    model_version  integer       NOT NULL REFERENCES ml.salary_models (version),
    estimate       numeric(12,2) NOT NULL,
    low            numeric(12,2) NOT NULL,
    high           numeric(12,2) NOT NULL,
    predicted_at   timestamptz   NOT NULL,
    input_hash     bigint        NOT NULL,
    PRIMARY KEY (source, source_job_id)
);
COMMENT ON TABLE ml.salary_estimates IS
    'The current model''s annual USD salary estimate for every active listing, with an 80% '
    'interval (low, high); input_hash tells which listings changed since their estimate.';
"""
    )


def downgrade() -> None:
    op.execute("DROP SCHEMA ml CASCADE")
