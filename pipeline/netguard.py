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


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified
    )


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
