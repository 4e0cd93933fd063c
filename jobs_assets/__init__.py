"""jobs_assets: remote-job listings from public job APIs (`lib/sources`), as Dagster assets."""

__version__ = "0.1.0"
