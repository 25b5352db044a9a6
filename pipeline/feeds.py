"""Fetch feeds and article pages safely, and parse feeds into items with stable identities."""

from __future__ import annotations

import calendar
import hashlib
import io
import re
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import aiohttp
import feedparser
from lxml import html as lxml_html

from pipeline.netguard import GuardedResolver, UnsafeURLError, check_url

USER_AGENT = "Stancewatch/0.1 (+AI-policy stance monitor)"
MAX_REDIRECTS = 10
MAX_BODY_BYTES = 10 * 1024 * 1024
_TRACKING = re.compile(r"^(utm_.*|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|xtor|igshid|ref_src)$", re.I)


class FeedError(Exception):
    """A feed or page could not be fetched or parsed; the message says why in one sentence."""


@dataclass(frozen=True)
class FeedItem:
    identity: str
    url: str
    title: str
    text: str
    published: str
    feed_url: str


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    body: bytes
    headers: dict[str, str]


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
) -> Fetched:
    """GET ``url`` following at most 10 redirects, checking every hop; raise :class:`FeedError` on failure."""
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        try:
            check_url(current, allow_private=allow_private)
            async with session.get(current, headers=headers or {}, allow_redirects=False) as resp:
                if resp.status in {301, 302, 303, 307, 308} and "Location" in resp.headers:
                    current = urljoin(current, resp.headers["Location"])
                    continue
                body = await _read_capped(resp, max_bytes, current)
                return Fetched(current, resp.status, body, {k.lower(): v for k, v in resp.headers.items()})
        except UnsafeURLError as exc:
            raise FeedError(str(exc)) from None
        except TimeoutError:
            raise FeedError(f"{current} did not answer in time.") from None
        except aiohttp.ClientError as exc:
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


def parse_feed(body: bytes, feed_url: str, content_type: str = "") -> list[FeedItem]:
    """Parse RSS/Atom bytes (encoding decided by feedparser: BOM, HTTP charset, XML prolog, detection)."""
    headers = {"content-type": content_type} if content_type else {}
    parsed: Any = feedparser.parse(io.BytesIO(body), response_headers=headers, sanitize_html=True)
    if not parsed.entries:
        if parsed.bozo:
            reason = getattr(parsed.get("bozo_exception"), "getMessage", lambda: str(parsed.get("bozo_exception")))()
            raise FeedError(f"{feed_url} is not a readable RSS or Atom feed ({reason}).")
        if not parsed.get("version"):
            raise FeedError(f"{feed_url} is not an RSS or Atom feed.")
        return []
    guids = [entry.get("id", "") for entry in parsed.entries]
    counts = Counter(guids)
    trust_guids = all(g and counts[g] == 1 for g in guids)
    items = []
    for entry in parsed.entries:
        link = urljoin(feed_url, entry.get("link", "")) if entry.get("link") else ""
        title = _clean(entry.get("title", ""))
        text = _entry_text(entry)
        identity = _identity(entry.get("id", "") if trust_guids else "", link, title, text)
        items.append(FeedItem(identity, link or feed_url, title, text, _published(entry), feed_url))
    return items


def _entry_text(entry: Any) -> str:
    contents = [c.get("value", "") for c in entry.get("content", [])]
    best = max([*contents, entry.get("summary", "")], key=len)
    return html_to_text(best)


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment, keeping paragraph breaks."""
    if "<" not in fragment:
        return _clean(fragment)
    marked = re.sub(r"(?i)<br\s*/?>|</(p|div|li|h[1-6])>", "\n", fragment)
    try:
        text = lxml_html.fromstring(f"<div>{marked}</div>").text_content()
    except (ValueError, lxml_html.etree.ParserError):
        text = re.sub(r"<[^>]+>", " ", marked)
    return "\n".join(_clean(line) for line in text.splitlines() if line.strip())


def _clean(text: str) -> str:
    return re.sub(r"[ \t\u00a0]+", " ", text).strip()


def _published(entry: Any) -> str:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return ""
    stamp = min(calendar.timegm(parsed), time.time())  # a date in the future is clamped to now
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))


def canonical_link(url: str) -> str:
    """Lower-case scheme and host, drop the fragment and tracking parameters."""
    parts = urlsplit(url)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)])
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", query, ""))


def _identity(guid: str, link: str, title: str, text: str) -> str:
    if guid:
        return f"guid:{guid}"
    if link:
        return f"link:{canonical_link(link)}"
    return "hash:" + hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()[:32]
