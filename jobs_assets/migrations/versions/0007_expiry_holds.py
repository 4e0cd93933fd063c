"""The sudden-drop guard's memory: `public.jobs_expiry_holds`.

When a complete fetch would expire more than `JOBS_EXPIRE_MAX_SHARE` of a source's
active listings, nothing is expired and the window is recorded here as `held`; a
complete fetch of a later window that still lacks them `confirmed`s it (and expires),
one that no longer would `cleared`s it. One row per source and window, so a re-run of
the window updates its row instead of confirming itself.

An index finds what one window expired (`expired_at`), so a re-run of the window can undo
it without reading the table. A new table and an index: no existing row changes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
CREATE TABLE IF NOT EXISTS public.jobs_expiry_holds (
    source           text             NOT NULL,
    partition_key    text             NOT NULL,
    window_start     timestamptz      NOT NULL,
    active_listings  integer          NOT NULL,
    would_expire     integer          NOT NULL,
    max_share        double precision NOT NULL,
    status           text             NOT NULL DEFAULT 'held'
        CHECK (status IN ('held', 'confirmed', 'cleared')),
    resolved_by      text,
    recorded_at      timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (source, partition_key)
);
COMMENT ON TABLE public.jobs_expiry_holds IS
    'Expiries held by the sudden-drop guard (JOBS_EXPIRE_MAX_SHARE), per source and window, '
    'until a complete fetch of a later window confirms or clears them.';
CREATE INDEX IF NOT EXISTS jobs_expiry_holds_open_idx
    ON public.jobs_expiry_holds (source, window_start) WHERE status = 'held';
CREATE INDEX IF NOT EXISTS jobs_listings_data_expired_idx
    ON public.jobs_listings_data (source, expired_at) WHERE status = 'expired';
"""
    )


def downgrade() -> None:
    op.execute(
        "DROP INDEX IF EXISTS public.jobs_listings_data_expired_idx;"
        " DROP TABLE IF EXISTS public.jobs_expiry_holds;"
    )
