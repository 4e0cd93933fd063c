"""Money: salaries as written, currencies, and the ECB's reference rates.

`salary_text` (amounts, periods and currencies from free text), `salary` (the columns
of a listing), `currency` (conversion to USD), `ecb_rates`/`ecb_fetch` (the rates, and
their plausibility; `ecb_fetch` keeps the file in the raw store like any fetched
body). May import: `lib.errors`, `lib.redact`, `lib.db`, `lib.ops`, `lib.raw`,
`lib.sources` (its HTTP client, and `sources.mojibake` for text a board double-encoded).
"""
