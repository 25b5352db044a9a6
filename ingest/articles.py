"""What an item's analysis reads: the article page's main text when the feed carries only a snippet, and a feed
checked once before it is added."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import trafilatura

from domain.errors import FeedError
from domain.records import FeedItem
from ingest.encoding import decode_page
from ingest.http import fetch
from ingest.parse import parse_feed

log = logging.getLogger(__name__)
SNIPPET_CHARS = 400


async def probe_feed(session: aiohttp.ClientSession, url: str, *, allow_private: bool) -> int:
    """Fetch and parse ``url`` once, off the event loop; the number of items, or :class:`FeedError` saying why not."""
    fetched = await fetch(session, url, allow_private=allow_private)
    if fetched.status != 200:
        raise FeedError(f"{url} answered HTTP {fetched.status}.")
    content_type = fetched.headers.get("content-type", "")
    return len(await asyncio.to_thread(parse_feed, fetched.body, url, content_type))


async def article_text(session: aiohttp.ClientSession, item: FeedItem, *, allow_private: bool) -> str:
    """The feed's text, or the article page's main text when the feed carries only a snippet."""
    if len(item.text) >= SNIPPET_CHARS or not item.url.startswith(("http://", "https://")):
        return item.text
    try:
        page = await fetch(session, item.url, allow_private=allow_private)
    except FeedError as exc:
        log.info("Keeping the feed's text for %s: %s", item.url, exc)
        return item.text
    if page.status != 200:
        return item.text
    html = decode_page(page.body, page.headers.get("content-type", ""))
    extracted = await asyncio.to_thread(trafilatura.extract, html, url=item.url, favor_recall=True)
    if not extracted or len(extracted) <= len(item.text) or extracted.count("\ufffd") > len(extracted) // 100:
        return item.text  # never a good teaser replaced by less, or by undecodable text
    return extracted
