"""Saved searches and their deliveries (issue 29).

- `public.jobs_saved_searches`: one row per saved search. `query` holds exactly the
  filters of `GET /listings` (validated by the API before it is stored), `deliver` the
  webhook URL and/or e-mail address. The secret token is stored as its SHA-256 only;
  `client_hash` (a keyed hash of the creating client's address) lets the API rate-limit
  creation without keeping addresses.
- `public.jobs_search_deliveries`: one message per search, window and channel
  (`webhook` or `email`), with its idempotency key, status, attempts and next attempt.
  The primary key makes a re-run of a window, a restarted daemon or a second pod find
  the message already there instead of making a second one.
- `public.jobs_search_announced`: what a search has already announced, one row per
  duplicate cluster (or listing, when it has no cluster), so a job is never announced
  to a search twice, even when its twin arrives later from another board.

All three tables are new: upgrading touches no existing row.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
CREATE TABLE IF NOT EXISTS public.jobs_saved_searches (
    search_id text PRIMARY KEY,
    token_sha256 text NOT NULL,
    query jsonb NOT NULL DEFAULT '{}'::jsonb,
    deliver jsonb NOT NULL DEFAULT '{}'::jsonb,
    client_hash text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS jobs_saved_searches_client_created_idx
    ON public.jobs_saved_searches (client_hash, created_at);
COMMENT ON TABLE public.jobs_saved_searches IS
    'Saved searches of the read API (POST /searches): the filters of GET /listings and where to deliver new matches.';
COMMENT ON COLUMN public.jobs_saved_searches.token_sha256 IS
    'SHA-256 (hex) of the secret token; the token itself is shown once, at creation, and kept nowhere.';

CREATE TABLE IF NOT EXISTS public.jobs_search_deliveries (
    search_id text NOT NULL
        REFERENCES public.jobs_saved_searches (search_id) ON DELETE CASCADE,
    window_key text NOT NULL,
    channel text NOT NULL CHECK (channel IN ('webhook', 'email')),
    idempotency_key text NOT NULL UNIQUE,
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'sent', 'undeliverable')),
    payload jsonb NOT NULL,
    listing_count integer NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_attempt_at timestamptz,
    last_error text,
    claimed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    PRIMARY KEY (search_id, window_key, channel)
);
CREATE INDEX IF NOT EXISTS jobs_search_deliveries_due_idx
    ON public.jobs_search_deliveries (next_attempt_at)
    WHERE status IN ('pending', 'sending');
COMMENT ON TABLE public.jobs_search_deliveries IS
    'One message per saved search, window and channel; at-least-once with its Idempotency-Key.';

CREATE TABLE IF NOT EXISTS public.jobs_search_announced (
    search_id text NOT NULL
        REFERENCES public.jobs_saved_searches (search_id) ON DELETE CASCADE,
    job_key text NOT NULL,
    source text NOT NULL,
    source_job_id text NOT NULL,
    window_key text NOT NULL,
    announced_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (search_id, job_key)
);
COMMENT ON TABLE public.jobs_search_announced IS
    'What each saved search has announced: one row per job (duplicate cluster id, or source:id without one).';
"""
    )


def downgrade() -> None:
    op.execute(
        """
DROP TABLE IF EXISTS public.jobs_search_announced;
DROP TABLE IF EXISTS public.jobs_search_deliveries;
DROP TABLE IF EXISTS public.jobs_saved_searches;
"""
    )
