"""The backups resource: where backup sets live and how many verified ones to keep."""

from pathlib import Path

import dagster as dg

from jobs_assets.lib.backup import DEFAULT_LOCK_WAIT_TIMEOUT
from jobs_assets.logs import log_to
from jobs_assets.settings import Settings


class BackupsResource(dg.ConfigurableResource):
    """Backup sets under `$JOBS_DATA_DIR/backups/`; `keep` comes from `JOBS_BACKUP_KEEP`."""

    data_dir: str
    keep: int = 10
    lock_wait_timeout: str = DEFAULT_LOCK_WAIT_TIMEOUT

    def folder(self) -> Path:
        log_to(Path(self.data_dir))
        return Path(self.data_dir) / "backups"


@dg.definitions
def backup_resources() -> dg.Definitions:
    settings = Settings.from_env()
    return dg.Definitions(
        resources={
            "backups": BackupsResource(data_dir=str(settings.data_dir), keep=settings.backup_keep)
        }
    )
