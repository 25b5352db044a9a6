"""Polls feeds, decides which items are new, and hands them to the article pipeline.

An item is new when its identity was never seen. A feed's first successful fetch
records its items as seen and processes only the newest ``initial_items`` (default
none), so adding a feed never floods a channel. Items are marked seen only after they
were processed, so a crash reprocesses rather than misses; alerts are deduplicated by
the store, so reprocessing never posts twice.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp
import trafilatura

from pipeline.feeds import FeedError, FeedItem, fetch, parse_feed
from pipeline.process import ArticlePipeline, ArticleReport
from storage.records import Feed
from storage.store import Store

log = logging.getLogger(__name__)
SNIPPET_CHARS = 400
MAX_NEW_PER_POLL = 20
PAUSE_AFTER_FAILURES = 10

ReportHandler = Callable[[FeedItem, ArticleReport], Awaitable[None]]


@dataclass(frozen=True)
class PollResult:
    url: str
    new_items: int = 0
    error: str = ""
    paused_now: bool = False


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
    html = page.body.decode("utf-8", errors="replace")
    extracted = await asyncio.to_thread(trafilatura.extract, html, url=item.url, favor_recall=True)
    return extracted if extracted and len(extracted) > len(item.text) else item.text


class FeedWatcher:
    def __init__(
        self,
        store: Store,
        pipeline: ArticlePipeline,
        session: aiohttp.ClientSession,
        on_report: ReportHandler,
        *,
        allow_private: bool,
        initial_items: int = 0,
    ) -> None:
        self.store = store
        self.pipeline = pipeline
        self.session = session
        self.on_report = on_report
        self.allow_private = allow_private
        self.initial_items = initial_items
        self.last_poll = 0.0

    async def poll_all(self) -> list[PollResult]:
        feeds = [f for f in await self.store.run(self.store.feeds) if not f.paused]
        results = await asyncio.gather(*(self.poll(f.url) for f in feeds))
        self.last_poll = time.time()
        return list(results)

    async def poll(self, url: str) -> PollResult:
        feed = await self.store.run(self.store.feed, url) or Feed(url=url)
        headers = {}
        if feed.etag:
            headers["If-None-Match"] = feed.etag
        if feed.last_modified:
            headers["If-Modified-Since"] = feed.last_modified
        try:
            fetched = await fetch(self.session, url, allow_private=self.allow_private, headers=headers)
            if fetched.status == 304:
                await self._save(dataclasses.replace(feed, failures=0, last_error="", last_fetch=_now()))
                return PollResult(url)
            if fetched.status != 200:
                raise FeedError(f"{url} answered HTTP {fetched.status}.")
            body_hash = hashlib.sha256(fetched.body).hexdigest()
            items = (
                []
                if body_hash == feed.body_hash
                else await asyncio.to_thread(parse_feed, fetched.body, url, fetched.headers.get("content-type", ""))
            )
        except FeedError as exc:
            return await self._failed(feed, str(exc))
        first_fetch = not feed.body_hash
        feed = dataclasses.replace(
            feed,
            etag=fetched.headers.get("etag", ""),
            last_modified=fetched.headers.get("last-modified", ""),
            body_hash=body_hash,
            last_fetch=_now(),
            last_error="",
            failures=0,
        )
        new = [i for i in items if not self.store.seen(i.identity)]
        if first_fetch:
            process, skip = new[: self.initial_items], new[self.initial_items :]
        else:
            process, skip = new[:MAX_NEW_PER_POLL], new[MAX_NEW_PER_POLL:]
            if skip:
                log.warning(
                    "%s: %d new items over the cap of %d recorded as seen unposted", url, len(skip), MAX_NEW_PER_POLL
                )
        await self.store.run(self._remember, feed, [i.identity for i in skip])
        for item in process:
            await self._process(item)
        return PollResult(url, new_items=len(process))

    async def _process(self, item: FeedItem) -> None:
        text = await article_text(self.session, item, allow_private=self.allow_private)
        report = await self.pipeline.process(dataclasses.replace(item, text=text))
        await self.on_report(item, report)
        await self.store.run(self._remember, None, [item.identity])

    def _remember(self, feed: Feed | None, seen: list[str]) -> None:
        if feed is not None:
            self.store.save_feed(feed)
        self.store.mark_seen(seen)
        self.store.flush()

    async def _failed(self, feed: Feed, error: str) -> PollResult:
        failures = feed.failures + 1
        paused_now = failures >= PAUSE_AFTER_FAILURES and not feed.paused
        await self._save(
            dataclasses.replace(feed, failures=failures, last_error=error, paused=feed.paused or paused_now)
        )
        log.warning("Feed %s failed (%d in a row): %s", feed.url, failures, error)
        return PollResult(feed.url, error=error, paused_now=paused_now)

    async def _save(self, feed: Feed) -> None:
        await self.store.run(self._remember, feed, [])


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
