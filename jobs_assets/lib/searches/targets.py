"""Whether a saved search's webhook URL may be called.

A webhook target is `https` (or `http` when allowed), and its host must not resolve to
a private, loopback, link-local, multicast, reserved or unspecified address unless
private targets are allowed (tests, a trusted network). The check runs when a search is
created and again before each delivery, since DNS can change in between; `resolve`
is the one place that looks the host up, so a delivery can connect to the address that
was checked.

Messages never repeat the URL (it may carry a secret); they name the host at most.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit


class UnsafeTarget(ValueError):
    """The webhook URL may not be called; the message says why and what to do."""


@dataclass(frozen=True)
class TargetPolicy:
    """What a deployment allows: plain http, and private or local addresses."""

    allow_http: bool = False
    allow_private: bool = False


def check_target(url: str, policy: TargetPolicy) -> list[str]:
    """The addresses `url`'s host resolves to, all of them allowed; else `UnsafeTarget`.

    Raises with a message naming the rule broken and the setting that would allow it.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise UnsafeTarget(
            "the webhook URL must start with https:// (give the address your service receives POSTs on)"
        )
    if scheme == "http" and not policy.allow_http:
        raise UnsafeTarget(
            "the webhook URL must use https:// (plain http is allowed only when the "
            "deployment sets JOBS_ALERT_ALLOW_HTTP=on)"
        )
    if parts.username or parts.password:
        raise UnsafeTarget(
            "the webhook URL must not hold a user name or password; put a secret in the path or query"
        )
    host = parts.hostname
    if not host:
        raise UnsafeTarget("the webhook URL has no host name")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeTarget(f"the webhook URL's port is not a number ({exc})") from None
    addresses = resolve(host, port)
    if not policy.allow_private:
        for address in addresses:
            if not ipaddress.ip_address(address).is_global:
                raise UnsafeTarget(
                    f"the webhook host {host} resolves to {address}, a private, loopback "
                    "or link-local address; give a public address (a deployment that "
                    "trusts its network sets JOBS_ALERT_ALLOW_PRIVATE=on)"
                )
    return addresses


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (IPv4 and IPv6); `UnsafeTarget` when none."""
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return [str(ip)]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnsafeTarget(
            f"the webhook host {host} does not resolve; check the host name"
        ) from None
    addresses = sorted({str(info[4][0]).split("%", 1)[0] for info in infos})
    if not addresses:
        raise UnsafeTarget(f"the webhook host {host} does not resolve; check the host name")
    return addresses
