"""Refuse URLs that would make the bot reach into its own network (SSRF).

Users type feed URLs, so every request (and every redirect hop) is checked: the
scheme must be http(s), and every address the host resolves to must be public.
``GuardedResolver`` enforces the same rule inside aiohttp for names it resolves;
IP literals never reach a resolver, so :func:`check_url` covers them.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver


class UnsafeURLError(ValueError):
    """The URL is malformed, not http(s), or points at a private address."""


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries to the network: IPv4-mapped, 6to4, NAT64 or Teredo."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def is_public(address: str) -> bool:
    """Globally routable, and so is any IPv4 address it embeds (``is_global`` alone passes 6to4 of 10.0.0.1)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL or ip.is_site_local:  # fec0::/10 is deprecated, yet is_global passes it
            return False
        inner = embedded_ipv4(ip)
        if inner is not None:
            return inner.is_global and not inner.is_multicast
    return ip.is_global and not ip.is_multicast


def check_url(url: str, *, allow_private: bool) -> str:
    """Return the URL's host after checking its form; raise :class:`UnsafeURLError` if unusable."""
    try:
        parts = urlsplit(url.strip())
        _ = parts.port  # raises ValueError for a malformed port
    except ValueError as exc:
        raise UnsafeURLError(f"{url!r} is not a valid URL ({exc}).") from None
    if parts.scheme not in {"http", "https"}:
        raise UnsafeURLError(f"{url!r} is not an http(s) URL.")
    host = parts.hostname
    if not host:
        raise UnsafeURLError(f"{url!r} has no host name.")
    if not allow_private:
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None and not is_public(host):
            raise UnsafeURLError(f"{url!r} points at a private or local address; feeds must be public.")
        if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
            raise UnsafeURLError(f"{url!r} points at a local host name; feeds must be public.")
    return host


class GuardedResolver(AbstractResolver):
    """Resolve names like aiohttp does, but refuse any answer that holds a non-public address."""

    def __init__(self, *, allow_private: bool) -> None:
        self._inner = ThreadedResolver()
        self._allow_private = allow_private

    async def resolve(self, host: str, port: int = 0, family: Any = socket.AF_INET) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        if not self._allow_private:
            bad = [r["host"] for r in results if not is_public(r["host"])]
            if bad:
                raise UnsafeURLError(f"{host} resolves to a private or local address ({bad[0]}); refused.")
        return results

    async def close(self) -> None:
        await self._inner.close()
