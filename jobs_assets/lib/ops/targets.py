"""Whether a saved search's webhook URL may be called.

A webhook target is `https` (or `http` when allowed), and its host must not resolve to
a private, loopback, link-local, multicast, site-local, reserved or unspecified address,
nor to an IPv6 address carrying an IPv4 one that is not public, unless private targets
are allowed (tests, a trusted network); a host with a zone id (`%eth0`) is refused
always: it names a link, not a place on the internet. The check runs when a search is
created and again before each delivery, since DNS can change in between; `resolve`
is the one place that looks the host up, so a delivery can connect to the addresses
that were checked, in the order the resolver gave them.

A lookup that takes longer than `TargetPolicy.resolve_seconds` counts as a host that
does not resolve: a name server that never answers must not hold a request (or a
delivery worker) for the system resolver's own timeouts, which add up to tens of seconds.

Messages never repeat the URL (it may carry a secret); they name the host at most.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as LookupTimeout
from dataclasses import dataclass
from urllib.parse import urlsplit

#: lookups run here, so that a caller waits at most `resolve_seconds`; a lookup that
#: hangs keeps its thread until the system resolver gives up, and when all are taken,
#: later lookups wait their turn within their own time limit
_LOOKUPS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="webhook-dns")


class UnsafeTarget(ValueError):
    """The webhook URL may not be called; the message says why and what to do."""


@dataclass(frozen=True)
class TargetPolicy:
    """What a deployment allows: plain http, and private or local addresses."""

    allow_http: bool = False
    allow_private: bool = False
    #: how long a host name may take to resolve before it counts as not resolving
    resolve_seconds: float = 3.0
    #: the lookup (`socket.getaddrinfo`'s signature): the system resolver
    lookup: Callable[..., list] = socket.getaddrinfo


def check_target(url: str, policy: TargetPolicy) -> list[str]:
    """The addresses `url`'s host resolves to, all of them allowed; else `UnsafeTarget`.

    Raises with a message naming the rule broken and the setting that would allow it.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # an unclosed "[", a bad IPv6 literal
        raise UnsafeTarget(
            "the webhook URL is not a valid URL; check its host part (an IPv6 address "
            "goes in square brackets)"
        ) from None
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
    if "%" in host:
        raise UnsafeTarget(
            "the webhook URL's host carries a zone id (the part after %), which only a "
            "link-local address uses; give a public host name or address without it"
        )
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise UnsafeTarget("the webhook URL's port must be a number from 1 to 65535")
    addresses = resolve(host, port or (443 if scheme == "https" else 80), policy)
    if not policy.allow_private:
        for address in addresses:
            if not is_public(address):
                raise UnsafeTarget(
                    f"the webhook host {host} resolves to {address}, not a public address "
                    "(private, loopback, link-local, multicast or reserved); give a public "
                    "address (a deployment that trusts its network sets "
                    "JOBS_ALERT_ALLOW_PRIVATE=on)"
                )
    return addresses


#: IPv6 prefixes that carry an IPv4 address in their last 32 bits: NAT64's well-known
#: prefix (RFC 6052), SIIT's IPv4-translated addresses (RFC 2765) and the deprecated
#: IPv4-compatible ones
_IPV4_IN_LAST_32_BITS = (
    ipaddress.ip_network("64:ff9b::/96"),
    ipaddress.ip_network("::ffff:0:0:0/96"),
    ipaddress.ip_network("::/96"),
)
#: NAT64 for a network's own use (RFC 8215): where it leads is that network's business
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
#: not reachable on the internet, though Python 3.11's `is_global` says they are: IANA's
#: protocol assignments (192.0.0.0/24: DS-Lite, NAT64 discovery, dummy addresses), IPv6
#: documentation (3fff::/20, RFC 9637) and SRv6 segment ids (5f00::/16, RFC 9602)
_NOT_GLOBAL = (
    ipaddress.ip_network("192.0.0.0/24"),
    ipaddress.ip_network("3fff::/20"),
    ipaddress.ip_network("5f00::/16"),
)


def is_public(address: str) -> bool:
    """Whether `address` is a unicast address reachable on the internet, and so is any
    IPv4 address it carries (6to4, NAT64, IPv4-translated, IPv4-compatible): a
    public-looking IPv6 address that leads to a private IPv4 one is private. Multicast,
    site-local, reserved and unspecified addresses and any zone id are not public."""
    ip = ipaddress.ip_address(address)
    if getattr(ip, "scope_id", None) is not None:
        return False
    if not ip.is_global or ip.is_multicast or any(ip in block for block in _NOT_GLOBAL):
        return False
    if ip.version == 4:
        return not ip.is_reserved
    if ip in _LOCAL_NAT64 or ip.is_site_local:
        return False
    carried = ip.sixtofour
    if carried is None and any(ip in prefix for prefix in _IPV4_IN_LAST_32_BITS):
        carried = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if carried is not None:  # judged by where it leads (these prefixes count as reserved)
        return is_public(str(carried))
    return not ip.is_reserved


def resolve(host: str, port: int, policy: TargetPolicy) -> list[str]:
    """Every address `host` resolves to (IPv4 and IPv6), in the resolver's order, within
    the policy's time limit; `UnsafeTarget` when none."""
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return [str(ip)]
    lookup = _LOOKUPS.submit(policy.lookup, host, port, type=socket.SOCK_STREAM)
    try:
        infos = lookup.result(timeout=policy.resolve_seconds)
    except LookupTimeout:
        lookup.cancel()  # when it is still waiting for a thread
        raise UnsafeTarget(
            f"the webhook host {host} did not resolve within {policy.resolve_seconds:g} s; "
            "check the host name, or try again when its name servers answer"
        ) from None
    except (OSError, UnicodeError):
        raise UnsafeTarget(
            f"the webhook host {host} does not resolve; check the host name"
        ) from None
    # the resolver's order (RFC 6724: the addresses this host can reach first), once each
    addresses = list(dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in infos))
    if not addresses:
        raise UnsafeTarget(f"the webhook host {host} does not resolve; check the host name")
    return addresses
