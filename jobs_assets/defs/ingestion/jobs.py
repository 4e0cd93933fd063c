import dagster as dg

from jobs_assets.partitions import INGESTION_PARTITIONS

ingestion_job = dg.define_asset_job(
    "ingestion_job",
    selection=dg.AssetSelection.groups("ingestion"),
    partitions_def=INGESTION_PARTITIONS,
    description="Fetch, stage and normalise one 4-hour window from every source.",
)
