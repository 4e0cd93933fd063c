"""One masking rule for secrets in URLs, used wherever text can leave the process.

Logs, the Dagster event log, error messages, `reason.txt`, manifests, alerts and
metadata all pass through `redact`, so a token in `JOBS_*_URL` (as `user:password@`
or a query parameter such as `?api_key=`) never lands on disk or in a message.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

MASK = "***"
SECRET_PARAMS = (
    "token",
    "key",
    "api_key",
    "apikey",
    "access_token",
    "password",
    "secret",
    "signature",
)
# `scheme://user:password@host`: the password (the user name stays, to tell accounts apart),
# up to the last `@` of the URL: a password written without percent-encoding may hold
# `@`, `/` or `#` itself (`smtp://me:p@ss/w#rd@mail`); masking too much is the safe side.
_USERINFO = re.compile(
    r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#@:\s'\"<>]*):(?P<password>[^\s'\"<>]*)@"
)
# `name=value` in a query string (or its percent-encoded form, `%3F`/`%26`/`%3D`). The
# name counts as written or percent-decoded (`%74oken` is `token` to the server), whatever
# the case: `_secret` decides. The value is only looked at (a lookahead), so the search
# goes on inside it: `next=/cb?token=...` still finds its `token`.
_PARAM = re.compile(
    r"(?:(?<![A-Za-z0-9_%])|(?<=%3F)|(?<=%26))(?P<name>[A-Za-z0-9_%]+)"
    r"(?:=|%3D)(?=(?P<value>(?:(?!%26)[^&#\s'\"<>,;)\]}])+))",
    re.IGNORECASE,
)
_SECRETS = frozenset(SECRET_PARAMS)
#: how many layers of percent-encoding a name is read through (a URL inside a URL)
_DECODINGS = 4
_LAST_NAME = re.compile(r"[A-Za-z0-9_]*$")


def _secret(name: str) -> bool:
    """Whether a parameter name, decoded as a server decodes it (and through nested
    encodings: masking too much is the safe side), is a secret's: the last name in it
    counts (`encoded%3Ftoken` is the parameter `token` of an encoded URL)."""
    for _ in range(_DECODINGS):
        decoded = unquote_plus(name)
        if decoded == name:
            break
        name = decoded
    return _LAST_NAME.search(name)[0].lower() in _SECRETS


def redact(text: object) -> str:
    """`text` with every URL credential and secret query parameter replaced by `***`."""
    value = str(text)
    if "@" in value:
        value = _USERINFO.sub(lambda m: f"{m['head']}:{MASK}@", value)
    kept, done = [], 0
    for found in _PARAM.finditer(value):
        if found.start() >= done and _secret(found["name"]):
            kept.append(value[done : found.start("value")] + MASK)
            done = found.end("value")
    return "".join(kept) + value[done:]


def mask_url(url: str) -> str:
    """The URL as it may be shown or stored (same rule as `redact`)."""
    return redact(url)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message through `redact` before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to logging's own error path
            return True
        clean = redact(message)
        if clean != message and isinstance(record.args, tuple):
            # each argument masked in place: formatters that read the arguments (uvicorn's
            # access log unpacks client, method, path, version, status) keep working
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
            try:
                message = record.getMessage()
            except Exception:
                message = ""
        if redact(message) != message:
            record.msg, record.args = clean, None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


_FILTER = RedactingFilter()
#: loggers whose records can carry a request URL: ours, urllib3's retry warnings, and
#: uvicorn's (its access log writes each request's path with its query string)
PROTECTED_LOGGERS = (
    "jobs_assets",
    "jobs_assets.events",
    "urllib3",
    "urllib3.connectionpool",
    "uvicorn",
    "uvicorn.access",
    "uvicorn.error",
)


def install_log_filter() -> None:
    """Attach the filter to the project's loggers and urllib3's (idempotent)."""
    ours = [n for n in logging.root.manager.loggerDict if n.startswith("jobs_assets.")]
    for name in (*PROTECTED_LOGGERS, *ours):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
