"""The `alerts` resource: where alerts go and how the UI is reached from a message."""

from pathlib import Path

import dagster as dg

from jobs_assets.lib.ops import alerts
from jobs_assets.logs import log_to
from jobs_assets.resources import PostgresResource, from_env_or, resources_from_env
from jobs_assets.settings import Settings


class AlertsResource(dg.ConfigurableResource):
    """The outbox (a table in `postgres`'s database) and the webhook; `data_dir` is where
    the daily log is written (and where the previous release kept its outbox files, which
    the first use imports).

    `webhook_url` is `dg.EnvVar("JOBS_ALERT_WEBHOOK_URL")` in deployments, resolved in the
    process that sends, so the secret never shows in the UI's resource config (which names
    the variable). Tests set it to a local receiver.
    """

    data_dir: str
    postgres: PostgresResource
    ui_base_url: str = alerts.DEFAULT_UI_BASE_URL
    webhook_url: str | None = None
    timeout_seconds: float = alerts.WEBHOOK_TIMEOUT_SECONDS

    def outbox(self) -> alerts.AlertOutbox:
        log_to(Path(self.data_dir))
        outbox = alerts.AlertOutbox(self.postgres.connect)
        outbox.import_files(Path(self.data_dir))
        return outbox

    def webhook(self) -> str | None:
        return (self.webhook_url or "").strip() or None

    def post(self, text: str) -> None:
        url = self.webhook()
        if not url:
            raise alerts.WebhookError("no webhook set (JOBS_ALERT_WEBHOOK_URL)")
        alerts.post_webhook(url, text, timeout=self.timeout_seconds)


def alerts_resource_from_env(
    settings: Settings | None = None, name_variables: bool = True
) -> AlertsResource:
    """The webhook only by name: a secret in `.env` but not in the environment is never
    copied into the resource's config (Dagster's own commands put `.env` in the
    environment of the processes that send)."""
    settings = settings or Settings.from_env()
    return AlertsResource(
        data_dir=str(settings.data_dir),
        postgres=resources_from_env(settings, name_variables)["postgres"],
        ui_base_url=settings.ui_base_url or alerts.DEFAULT_UI_BASE_URL,
        webhook_url=from_env_or("JOBS_ALERT_WEBHOOK_URL", None),
    )


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"alerts": alerts_resource_from_env()})
