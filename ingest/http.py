"""Retrieving feeds and article pages over HTTP: one guarded session, every redirect hop checked, bodies capped.

Parsing is :mod:`ingest.parse`'s; this module only moves bytes, so a feed's failure to arrive and its failure to
make sense are told apart.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urljoin

import aiohttp

from domain.errors import FeedError
from ingest.netguard import GuardedResolver, UnsafeURLError, check_url

USER_AGENT = "Stancewatch/0.1 (+AI-policy stance monitor)"
MAX_REDIRECTS = 10
MAX_BODY_BYTES = 10 * 1024 * 1024
DEADLINE_S = 60.0


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    body: bytes
    headers: dict[str, str]
    moved_to: str = ""
    """Where an unbroken chain of permanent redirects (301/308) from the requested URL ends, if any."""


def make_session(*, allow_private: bool, timeout_s: float = 30.0) -> aiohttp.ClientSession:
    """One shared session: a guarded resolver, bounded timeouts, and the bot's User-Agent."""
    connector = aiohttp.TCPConnector(resolver=GuardedResolver(allow_private=allow_private), limit=32, limit_per_host=2)
    timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=10)
    return aiohttp.ClientSession(connector=connector, timeout=timeout, headers={"User-Agent": USER_AGENT})


async def fetch(
    session: aiohttp.ClientSession,
    url: str,
    *,
    allow_private: bool,
    headers: dict[str, str] | None = None,
    max_bytes: int = MAX_BODY_BYTES,
    deadline_s: float = DEADLINE_S,
) -> Fetched:
    """GET ``url`` following at most 10 redirects, checking every hop; raise :class:`FeedError` on failure.

    ``deadline_s`` bounds the whole fetch, every hop and the body together: a server that answers each request
    just before its own time-out cannot hold a poll for minutes. Only a chain of permanent redirects from the start
    moves a feed (``moved_to``): a temporary redirect anywhere before a permanent one means the old URL stays right.
    """
    try:
        async with asyncio.timeout(deadline_s):
            return await _follow(session, url, allow_private=allow_private, headers=headers, max_bytes=max_bytes)
    except TimeoutError:
        raise FeedError(f"{url} took longer than {deadline_s:.0f} s (redirects and body together).") from None


async def _follow(
    session: aiohttp.ClientSession, url: str, *, allow_private: bool, headers: dict[str, str] | None, max_bytes: int
) -> Fetched:
    current, moved_to, permanent = url, "", True
    for _ in range(MAX_REDIRECTS + 1):
        try:
            check_url(current, allow_private=allow_private)
            async with session.get(current, headers=headers or {}, allow_redirects=False) as resp:
                if resp.status in {301, 302, 303, 307, 308} and "Location" in resp.headers:
                    location = resp.headers["Location"]
                    try:
                        current = urljoin(current, location)
                    except ValueError:
                        raise FeedError(f"{current} redirected to {location!r}, which is not a valid URL.") from None
                    permanent = permanent and resp.status in {301, 308}
                    moved_to = current if permanent else moved_to
                    continue
                body = await _read_capped(resp, max_bytes, current)
                found = {k.lower(): v for k, v in resp.headers.items()}
                return Fetched(current, resp.status, body, found, moved_to)
        except UnsafeURLError as exc:
            raise FeedError(str(exc)) from None
        except TimeoutError:
            raise FeedError(f"{current} did not answer in time.") from None
        except (aiohttp.ClientError, ValueError) as exc:  # aiohttp raises ValueError on some malformed URLs
            raise FeedError(f"{current} could not be fetched: {exc.__class__.__name__}: {exc}.") from None
    raise FeedError(f"{url} redirected more than {MAX_REDIRECTS} times.")


async def _read_capped(resp: aiohttp.ClientResponse, max_bytes: int, url: str) -> bytes:
    if resp.content_length is not None and resp.content_length > max_bytes:
        raise FeedError(f"{url} is larger than the {max_bytes // (1024 * 1024)} MiB limit.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > max_bytes:
            raise FeedError(f"{url} is larger than the {max_bytes // (1024 * 1024)} MiB limit.")
        chunks.append(chunk)
    return b"".join(chunks)
