"""Operations shared by every area: alerts for a person, and locks between processes.

`alerts` (message text and the outbox table); `webhook` and `targets` (the one client
that calls a URL someone gave us, and whether it may: saved searches post through it
too); `window_lock` (PostgreSQL advisory locks, so two pods never fetch one window or
back up twice). May import: `lib.db`, `lib.redact`, `lib.errors`.
"""
