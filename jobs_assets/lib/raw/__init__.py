"""The raw layer: every response body kept exactly as received, before parsing.

`store` (pages and manifests of a window), `storage` (local folder or S3, one small
interface), `ingest` (fetch a source's window into the store, SPEC §4), `inbox` (files
an operator drops in), `parsed_windows` (what a stored window parsed to) and `files`
(atomic writes). May import: `lib.sources`, `lib.errors`, `lib.redact`, `lib.db`, `lib.ops` (the fetch
lock).
"""
