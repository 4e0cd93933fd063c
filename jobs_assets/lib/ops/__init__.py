"""Operations shared by every area: alerts for a person, and locks between processes.

`alerts` (message text, webhook and the outbox table) and `window_lock` (PostgreSQL
advisory locks, so two pods never fetch one window or back up twice). May import:
`lib.db`, `lib.redact`, `lib.errors`, `lib.webhook` (the one webhook client).
"""
