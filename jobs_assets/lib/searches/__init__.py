"""Saved searches: where they are kept, whom they may call, what they have announced.

Pure code over a psycopg connection (no Dagster, no settings): `store` keeps searches
in `public.jobs_saved_searches` with their token hashed; `lib/ops/targets` decides whether a
webhook URL may be called (at creation and again at delivery) and posts; `match` finds the
searches a window's new, returned and changed listings match, `news` keeps the jobs that
arrived after each search was saved, `deliver` writes one message per search, window
and channel with what it announces, `send` posts and mails them (at least once). The
matcher uses the read side's filter SQL (`jobs_assets.lib.listings.queries`) so a search matches
what `GET /listings` shows. The API, the MCP server and
the delivery sensor all use these modules, so a search is the same thing wherever it is
made or read. May import: `lib.listings.queries`, `lib.normalise.eligibility`,
`lib.schema`, `lib.sources`, `lib.redact`, `lib.db`, `lib.ops.targets`,
`lib.ops.webhook`.
"""
