"""Public-looking host names that resolve to 127.0.0.1, inside the tests only.

feedparser-rs blanks links to loopback and private hosts, so a feed served as ``http://127.0.0.1:PORT/`` takes the
fallback parser while a real feed takes feedparser-rs. Test feeds are therefore served as
``http://feeds.example.org:PORT/`` with articles at ``http://news.example.com:PORT/``: names under the domains RFC 2606
reserves for examples, which this resolver answers with 127.0.0.1. It stands in for DNS beneath the production SSRF
guard (:class:`ingest.netguard.GuardedResolver`), which is unchanged and still refuses the loopback answer unless
private feeds are allowed; every other name goes to aiohttp's own resolver.

In a child process: ``python -m tests.public_dns SCRIPT [ARGS...]`` runs SCRIPT as ``__main__`` with the names
installed.
"""

from __future__ import annotations

import runpy
import socket
import sys
from collections.abc import Callable
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

import ingest.netguard

FEEDS_HOST = "feeds.example.org"
NEWS_HOST = "news.example.com"
DOMAINS = ("example.org", "example.com", "example.net")


def is_test_name(host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(host == domain or host.endswith(f".{domain}") for domain in DOMAINS)


class LoopbackNames(AbstractResolver):
    """Names under :data:`DOMAINS` resolve to 127.0.0.1; any other name as aiohttp resolves it."""

    def __init__(self) -> None:
        self._real = ThreadedResolver()

    async def resolve(self, host: str, port: int = 0, family: Any = socket.AF_INET) -> list[ResolveResult]:
        if not is_test_name(host):
            return await self._real.resolve(host, port, family)
        answer: ResolveResult = {
            "hostname": host, "host": "127.0.0.1", "port": port,
            "family": socket.AF_INET, "proto": 0, "flags": socket.AI_NUMERICHOST,
        }  # fmt: skip
        return [answer]

    async def close(self) -> None:
        await self._real.close()


def install() -> Callable[[], None]:
    """Put :class:`LoopbackNames` beneath the guard; returns the undo."""
    original = ingest.netguard.ThreadedResolver
    ingest.netguard.ThreadedResolver = LoopbackNames  # type: ignore[misc]

    def undo() -> None:
        ingest.netguard.ThreadedResolver = original  # type: ignore[misc]

    return undo


if __name__ == "__main__":
    install()
    sys.argv = sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name="__main__")
