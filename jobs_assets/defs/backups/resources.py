"""The backups resource: where backup sets live and how many verified ones to keep."""

from pathlib import Path

import dagster as dg

from jobs_assets.lib.backup import DEFAULT_LOCK_WAIT_TIMEOUT
from jobs_assets.lib.raw.storage import Storage, open_storage
from jobs_assets.logs import log_to
from jobs_assets.resources import from_env_var
from jobs_assets.settings import AWS_ENDPOINT_URL, STORAGE_URL, Settings


class BackupsResource(dg.ConfigurableResource):
    """Backup sets under `backups/` of `JOBS_STORAGE_URL` (default `$JOBS_DATA_DIR`);
    `keep` comes from `JOBS_BACKUP_KEEP`."""

    data_dir: str
    keep: int = 10
    lock_wait_timeout: str = DEFAULT_LOCK_WAIT_TIMEOUT
    storage_url: str | None = None
    endpoint_url: str | None = None  # AWS_ENDPOINT_URL, for an s3:// storage_url

    def storage(self) -> Storage:
        """Holds `backups/` and the `raw/` files the raw archives copy."""
        return open_storage(self.storage_url, Path(self.data_dir), self.endpoint_url)

    def folder(self) -> Storage:
        log_to(Path(self.data_dir))
        return self.storage().child("backups")


def backups_resource_from_env(
    settings: Settings | None = None, name_variables: bool = True
) -> BackupsResource:
    settings = settings or Settings.from_env()
    named = from_env_var if name_variables else lambda _name, value: value
    return BackupsResource(
        data_dir=str(settings.data_dir),
        keep=named("JOBS_BACKUP_KEEP", settings.backup_keep),
        storage_url=named(STORAGE_URL, settings.storage_url),
        endpoint_url=named(AWS_ENDPOINT_URL, settings.aws_endpoint_url),
    )


@dg.definitions
def backup_resources() -> dg.Definitions:
    return dg.Definitions(resources={"backups": backups_resource_from_env()})
