"""The alert outbox in the database: `public.jobs_alert_outbox`, one row per alert.

Until this release the outbox was a folder of JSON files under `$JOBS_DATA_DIR/alerts/`,
which on Kubernetes is a pod's scratch space: an alert waiting for the webhook was lost
with its pod, and two pods could each post it. As a row, an alert survives the pod, a
delivery claims it with `FOR UPDATE SKIP LOCKED` (one deliverer per alert, whichever
pod), and its delivery attempts are counted with the last error. Files left by the
previous release are imported by the alert sensor's first tick (`lib/ops/alerts.py`).

The table is new: upgrading touches no existing row.

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-06
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
CREATE TABLE IF NOT EXISTS public.jobs_alert_outbox (
    alert_key text PRIMARY KEY,
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'sent', 'undeliverable')),
    via text NOT NULL DEFAULT 'webhook' CHECK (via IN ('webhook', 'log')),
    alert jsonb NOT NULL,
    message text NOT NULL,
    created_at timestamptz NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    last_attempt_at timestamptz,
    last_error text,
    claimed_at timestamptz,
    sent_at timestamptz
);
CREATE INDEX IF NOT EXISTS jobs_alert_outbox_status_created_idx
    ON public.jobs_alert_outbox (status, created_at);
COMMENT ON TABLE public.jobs_alert_outbox IS
    'Alerts for the webhook (jobs_assets.lib.ops.alerts): pending until delivered, with attempts.';
COMMENT ON COLUMN public.jobs_alert_outbox.message IS
    'The message as it was when the failure happened (secrets masked), posted word for word.';
"""
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS public.jobs_alert_outbox")
