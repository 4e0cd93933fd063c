"""jobs_assets: remote-job listings from Remotive, Jobicy and Himalayas, as Dagster assets."""

__version__ = "0.1.0"
