"""Normalisation: staged listings to the columns of `public.jobs_listings_data`.

`rows` (the DataFrame pass), `location` and `gazetteer` (places as GeoNames knows
them), `eligibility` (who may apply), `categories`, `html_text` (descriptions as text)
and `frames` (missing values). Pure: pandas, no database, no Dagster.
May import: `lib.money`, `lib.sources`, `lib.schema`, `lib.errors`, and
`lib.identity.text` (the folded company name is a column).
"""
