"""The caller's network address, as far as the deployment's own proxies vouch for it.

`X-Forwarded-For` is written by whoever sends the request: only the hops the deployment names in
`TRUSTED_PROXIES` may add to it. Walking it from the right, the first address that is not one of
those proxies is the client; without trusted proxies the peer address (`REMOTE_ADDR`) is.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def trusted_networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    """`TRUSTED_PROXIES` entries (addresses or CIDR networks) parsed once."""
    networks = []
    for entry in proxies:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"TRUSTED_PROXIES: {entry!r} is not an IP address or network"
            ) from exc
    return tuple(networks)


def _is_trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def client_address(request: HttpRequest) -> str:
    """The client's IP address: the peer, or what trusted proxies say the peer was."""
    peer = request.META.get("REMOTE_ADDR") or ""
    networks = trusted_networks(tuple(settings.TRUSTED_PROXIES))
    if not _is_trusted(peer, networks):
        return peer
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    closest = peer
    for hop in reversed(hops):
        if not _is_address(hop):
            # A trusted proxy would not have written this: nothing left of it can be believed.
            return closest
        if not _is_trusted(hop, networks):
            return hop
        closest = hop
    return closest
