"""The `search_delivery` resource: how saved searches' messages go out.

Every field can come from the environment as `dg.EnvVar` (the UI then names the
variable): `JOBS_SMTP_URL` (e-mail is sent only when it is set), `JOBS_MAIL_FROM`,
`JOBS_ALERT_ALLOW_HTTP` and `JOBS_ALERT_ALLOW_PRIVATE` (`on`/`off`: plain-http webhooks,
and webhooks on private, loopback or link-local addresses, for tests and trusted
networks). Tests build the resource with values pointed at local servers.
"""

from datetime import timedelta

import dagster as dg

from jobs_assets.lib.ops.targets import TargetPolicy
from jobs_assets.lib.searches.send import Mailer, SendPolicy
from jobs_assets.resources import from_env_or

ON = ("on", "true", "yes", "1")
DEFAULT_MAIL_FROM = "jobs-assets@localhost"


class SearchDeliveryResource(dg.ConfigurableResource):
    """Webhook policy, retry timing and the mail server of saved-search deliveries."""

    smtp_url: str | None = None
    mail_from: str = DEFAULT_MAIL_FROM
    allow_http: str = "off"
    allow_private: str = "off"
    timeout_seconds: float = 10.0
    backoff_seconds: float = 30.0
    give_up_after_hours: float = 48.0
    workers: int = 16

    def policy(self) -> SendPolicy:
        return SendPolicy(
            target=TargetPolicy(
                allow_http=self.allow_http.strip().lower() in ON,
                allow_private=self.allow_private.strip().lower() in ON,
            ),
            timeout_seconds=self.timeout_seconds,
            backoff_seconds=self.backoff_seconds,
            give_up_after=timedelta(hours=self.give_up_after_hours),
            workers=self.workers,
        )

    def mailer(self) -> Mailer | None:
        """The mail server, or None when `JOBS_SMTP_URL` is not set (no e-mail then)."""
        if not (self.smtp_url or "").strip():
            return None
        return Mailer(self.smtp_url.strip(), self.mail_from, self.timeout_seconds)


def search_delivery_from_env() -> SearchDeliveryResource:
    return SearchDeliveryResource(
        smtp_url=from_env_or("JOBS_SMTP_URL", None),
        mail_from=from_env_or("JOBS_MAIL_FROM", DEFAULT_MAIL_FROM),
        allow_http=from_env_or("JOBS_ALERT_ALLOW_HTTP", "off"),
        allow_private=from_env_or("JOBS_ALERT_ALLOW_PRIVATE", "off"),
    )


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"search_delivery": search_delivery_from_env()})
