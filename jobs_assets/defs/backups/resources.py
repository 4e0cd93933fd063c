"""The backups resource: where backup sets live and how many verified ones to keep."""

from pathlib import Path

import dagster as dg

from jobs_assets.lib.backup import DEFAULT_LOCK_WAIT_TIMEOUT
from jobs_assets.lib.storage import Storage, open_storage
from jobs_assets.logs import log_to
from jobs_assets.resources import from_env_var
from jobs_assets.settings import STORAGE_URL, Settings


class BackupsResource(dg.ConfigurableResource):
    """Backup sets under `backups/` of `JOBS_STORAGE_URL` (default `$JOBS_DATA_DIR`);
    `keep` comes from `JOBS_BACKUP_KEEP`."""

    data_dir: str
    keep: int = 10
    lock_wait_timeout: str = DEFAULT_LOCK_WAIT_TIMEOUT
    storage_url: str | None = None

    def storage(self) -> Storage:
        """Holds `backups/` and the `raw/` files the raw archives copy."""
        return open_storage(self.storage_url, Path(self.data_dir))

    def folder(self) -> Storage:
        log_to(Path(self.data_dir))
        return self.storage().child("backups")


@dg.definitions
def backup_resources() -> dg.Definitions:
    settings = Settings.from_env()
    return dg.Definitions(
        resources={
            "backups": BackupsResource(
                data_dir=str(settings.data_dir),
                keep=settings.backup_keep,
                storage_url=from_env_var(STORAGE_URL, settings.storage_url),
            )
        }
    )
