"""Money: salaries as written, currencies, and the ECB's reference rates.

`salary_text` (amounts, periods and currencies from free text), `salary` (the columns
of a listing), `currency` (conversion to USD), `ecb_rates`/`ecb_fetch` (the rates, and
their plausibility). May import: `lib.errors`, `lib.redact`, `lib.db`.
"""
