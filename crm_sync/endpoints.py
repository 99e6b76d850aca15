"""Which CRM endpoint URLs revorg may call.

A connection's URLs decide where its credentials are sent, so they are checked when saved and
again when a provider connects (DNS can change in between): http(s) with a host, no
user-info, query or fragment, and a host that resolves only to public addresses — never
loopback, private, link-local, reserved or cloud metadata addresses — unless the operator
allows private hosts (`CRM_ALLOW_PRIVATE_HOSTS=1`: local fakes, an on-premises CRM proxy).
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

# Named for the reader: every one of them is also outside the global address space.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)


UNRESOLVED = "host does not resolve"


class EndpointRefused(Exception):
    """The URL may not be called; the message is ours and safe to show. `transient` when
    only the name lookup failed (DNS trouble passes; a private address does not)."""

    def __init__(self, message: str, *, transient: bool = False):
        super().__init__(message)
        self.transient = transient


def endpoint_url_problem(url) -> str | None:
    """What is wrong with the URL's form, or None."""
    if not isinstance(url, str):
        return "must be an http(s) URL"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 — a bad port raises here
    except ValueError:
        return "must be an http(s) URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http(s) URL"
    if parts.username is not None or parts.password is not None:
        return "must not carry a user name or password"
    if parts.query or parts.fragment or url.rstrip().endswith(("?", "#")):
        return "must not carry a query or fragment"
    return None


def _refused_address(address) -> bool:
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address in METADATA_ADDRESSES or not address.is_global or address.is_multicast


def endpoint_host_problem(url: str) -> str | None:
    """Why the URL's host may not be called, or None. Resolves the host (a getaddrinfo)."""
    if settings.CRM_ALLOW_PRIVATE_HOSTS:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return UNRESOLVED
    addresses = {ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos}
    if not addresses:
        return UNRESOLVED
    if any(_refused_address(address) for address in addresses):
        return "host resolves to a private, loopback, link-local or reserved address"
    return None


def endpoint_check(url: str, *, label: str) -> None:
    """Raises EndpointRefused naming `label` when the URL may not be called now."""
    problem = endpoint_url_problem(url) or endpoint_host_problem(url)
    if problem:
        raise EndpointRefused(f"{label} refused: {problem}", transient=problem == UNRESOLVED)
