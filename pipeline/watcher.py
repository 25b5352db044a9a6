"""Polls feeds, decides which items are new, and hands them to a bounded pool of workers.

An item is new when neither its identity nor its canonical link was ever seen, so an
edited item, a feed that changes all its guids, and one article reached through two
feeds are each processed once. Accepting items is one store transaction: they are
marked seen and written to the store's inbox together, and leave the inbox only when
their report and outbox messages are committed. A crash therefore neither loses an
item nor posts one twice, and a slow model call never stalls fetching.

Scheduling is per feed: after a success the next poll is one interval away (with
jitter, never sooner than the server's ``Cache-Control: max-age``, capped at an
hour); after a failure it backs off exponentially, honouring ``Retry-After``, and
after ``pause_after`` failures in a row the feed is paused and its channels told.
"""

from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import functools
import hashlib
import logging
import os
import random
import re
import secrets
import socket
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import aiohttp
import trafilatura

from pipeline.alerts import route_notice, route_report
from pipeline.encoding import decode_page
from pipeline.feeds import FeedError, FeedItem, Fetched, fetch, link_identity, parse_feed
from pipeline.process import ArticlePipeline, ArticleReport
from settings import Settings
from storage.durable import StorageError
from storage.interfaces import StanceStore
from storage.records import Feed

log = logging.getLogger(__name__)
SNIPPET_CHARS = 400
MAX_AGE_CAP_S = 3600.0
MAX_BACKOFF_S = 24 * 3600.0
ADOPT_BATCH = 100

ReportHandler = Callable[[FeedItem, ArticleReport], Awaitable[None]]
NoticeHandler = Callable[[str, str], Awaitable[None]]


class ItemTaken(Exception):
    """Another process holds the item now (this one outlived its lease): its work here is dropped, not stored."""


@dataclass(frozen=True)
class WatchPolicy:
    """How often and how carefully feeds are polled; every field is a deployment setting."""

    interval_s: float = 600.0
    pause_after: int = 10
    max_new_per_poll: int = 20
    initial_items: int = 0
    workers: int = 2
    max_concurrent_polls: int = 24  # more only makes bursts that delay the event loop (benchmarks/feeds.py)
    lease_s: float = 300.0
    """How long a process holds a feed it polls or an item it processes; another takes them over after that."""

    @classmethod
    def from_settings(cls, settings: Settings) -> WatchPolicy:
        return cls(
            interval_s=settings.poll_interval_minutes * 60.0,
            pause_after=settings.feed_pause_after,
            max_new_per_poll=settings.feed_max_new_per_poll,
            initial_items=settings.feed_initial_items,
            workers=settings.feed_workers,
            lease_s=float(settings.feed_lease_seconds),
        )


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
    html = decode_page(page.body, page.headers.get("content-type", ""))
    extracted = await asyncio.to_thread(trafilatura.extract, html, url=item.url, favor_recall=True)
    if not extracted or len(extracted) <= len(item.text) or extracted.count("\ufffd") > len(extracted) // 100:
        return item.text  # never a good teaser replaced by less, or by undecodable text
    return extracted


def retry_after(headers: dict[str, str], now: float) -> float:
    """Seconds a server asked us to wait (``Retry-After`` as seconds or an HTTP date), or 0."""
    raw = headers.get("retry-after", "").strip()
    if raw.isdigit():
        return float(raw)
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return 0.0
    return max(0.0, when.timestamp() - now)


def max_age(headers: dict[str, str]) -> float:
    match = re.search(r"max-age\s*=\s*(\d+)", headers.get("cache-control", ""))
    return min(float(match.group(1)), MAX_AGE_CAP_S) if match else 0.0


class FeedWatcher:
    def __init__(
        self,
        store: StanceStore,
        pipeline: ArticlePipeline,
        session: aiohttp.ClientSession,
        on_report: ReportHandler,
        *,
        allow_private: bool,
        policy: WatchPolicy | None = None,
        on_notice: NoticeHandler | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.pipeline = pipeline
        self.session = session
        self.on_report = on_report
        self.on_notice = on_notice
        self.allow_private = allow_private
        self.policy = policy or WatchPolicy()
        self.last_poll = 0.0
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        """Who holds this process's feed leases (PostgreSQL), in a form an operator can trace to a process."""
        self._rng = rng or random.Random()
        self._queue: asyncio.Queue[FeedItem] = asyncio.Queue()
        self._queued: set[str] = set()
        self._workers: list[asyncio.Task[None]] = []
        self._announcing: set[asyncio.Task[None]] = set()
        self._polls = asyncio.Semaphore(self.policy.max_concurrent_polls)
        # One parsing thread: more would only fight the event loop for the GIL (see benchmarks/feeds.py).
        self._parser = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feed-parse")

    # -- workers ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start the workers and requeue what a previous run accepted but did not finish."""
        await self.adopt()
        self._ensure_workers()

    async def adopt(self) -> int:
        """Queue the accepted items nobody holds: a previous run's, or those of a process that died (PostgreSQL)."""
        taken = await self.store.run(self.store.take_inbox, self.owner, self.policy.lease_s, ADOPT_BATCH)
        fresh = [FeedItem(**row) for row in taken if row["identity"] not in self._queued]
        for item in fresh:
            self._enqueue(item)
        return len(fresh)

    def _enqueue(self, item: FeedItem) -> None:
        self._queued.add(item.identity)
        self._queue.put_nowait(item)

    def _ensure_workers(self) -> None:
        while len(self._workers) < self.policy.workers:
            self._workers.append(asyncio.create_task(self._work(), name=f"feed-worker-{len(self._workers)}"))

    async def drain(self) -> None:
        """Wait until every queued item is processed, committed and announced."""
        await self._queue.join()
        while self._announcing:
            await asyncio.gather(*self._announcing)

    async def stop(self) -> None:
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers.clear()
        self._parser.shutdown(wait=False)

    @property
    def queue_depth(self) -> int:
        return self._queue.qsize()

    async def _work(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                if await self.store.run(self.store.take_item, item.identity, self.owner, self.policy.lease_s):
                    await self._process(item)
            except ItemTaken:
                log.info("%s was taken over by another process while this one worked on it", item.url)
            except Exception:
                log.exception("Processing %s failed; it is dropped from the queue", item.url)
                await self.store.run(self.store.done, item.identity)
                await self.store.commit()
            finally:
                self._queued.discard(item.identity)
                self._queue.task_done()

    async def _process(self, item: FeedItem) -> None:
        text = await article_text(self.session, item, allow_private=self.allow_private)
        report = await self.pipeline.process(
            dataclasses.replace(item, text=text), finish=functools.partial(self._finish, item)
        )
        # The worker moves on while the commit runs, so that the commits of items finished
        # meanwhile share one write; the report is announced only once it is durable.
        task = asyncio.create_task(self._announce(item, report))
        self._announcing.add(task)
        task.add_done_callback(self._announcing.discard)

    async def _announce(self, item: FeedItem, report: ArticleReport) -> None:
        try:
            await self.store.commit()
            await self.on_report(item, report)
        except Exception:
            log.exception("Could not commit or announce %s; what was not written is redone after a restart", item.url)

    def _finish(self, item: FeedItem, report: ArticleReport) -> None:
        """In the article's transaction: only the item's holder queues its messages (raising rolls it all back)."""
        if not self.store.take_item(item.identity, self.owner, self.policy.lease_s):
            raise ItemTaken(item.identity)
        route_report(self.store, item.feed_url, report)
        self.store.done(item.identity)

    # -- polling ---------------------------------------------------------------------

    async def poll_due(self, now: float | None = None) -> list[PollResult]:
        """Poll every unpaused feed whose next poll time has come and that no other process is polling.

        Also takes over the queued items of a process that died (their leases ran out).
        """
        if await self.adopt():
            self._ensure_workers()
        moment = time.time() if now is None else now
        return await self._poll_many(
            await self.store.run(self.store.lease_feeds, self.owner, moment, self.policy.lease_s)
        )

    async def poll_all(self) -> list[PollResult]:
        """Poll every unpaused feed now, whatever its schedule."""
        return await self._poll_many([f for f in await self.store.run(self.store.feeds) if not f.paused])

    async def _poll_many(self, feeds: list[Feed]) -> list[PollResult]:
        results = await asyncio.gather(*(self._poll_bounded(feed) for feed in feeds))
        self.last_poll = time.time()
        return list(results)

    async def _poll_bounded(self, feed: Feed) -> PollResult:
        async with self._polls:
            return await self._poll_feed(feed)

    async def poll(self, url: str) -> PollResult:
        """Poll one feed now (a new feed when the store does not know ``url`` yet)."""
        known = await self.store.run(self.store.feed, url)
        return await self._poll_feed(known or Feed(url=url, key=url))

    async def _poll_feed(self, feed: Feed) -> PollResult:
        """Any exception while polling one feed is that feed's failure: the sweep always finishes."""
        try:
            return await self._fetch_and_accept(feed)
        except FeedError as exc:
            return await self._failed(feed, str(exc))
        except (StorageError, asyncio.CancelledError):
            raise
        except Exception as exc:
            log.exception("Polling %s failed unexpectedly", feed.url)
            return await self._failed(feed, f"{feed.url} could not be read ({type(exc).__name__}).")

    async def _fetch_and_accept(self, feed: Feed) -> PollResult:
        headers = {}
        if feed.etag:
            headers["If-None-Match"] = feed.etag
        if feed.last_modified:
            headers["If-Modified-Since"] = feed.last_modified
        fetched = await fetch(self.session, feed.url, allow_private=self.allow_private, headers=headers)
        if fetched.status in {429, 503}:
            wait = retry_after(fetched.headers, time.time())
            return await self._failed(feed, f"{feed.url} answered HTTP {fetched.status} (busy).", wait)
        if fetched.status not in {200, 304}:
            return await self._failed(feed, f"{feed.url} answered HTTP {fetched.status}.")
        if fetched.moved_to and fetched.moved_to != feed.url:
            log.info("Feed %s moved permanently to %s", feed.url, fetched.moved_to)
            feed = await self.store.run(self.store.move_feed, feed, fetched.moved_to)
        if fetched.status == 304:
            await self.store.run(self.store.save_feed, self._succeeded(feed, fetched))
            await self.store.commit()
            return PollResult(feed.url)
        body_hash = hashlib.sha256(fetched.body).hexdigest()
        items: list[FeedItem] = []
        if body_hash != feed.body_hash:
            content_type = fetched.headers.get("content-type", "")
            parse = functools.partial(parse_feed, fetched.body, feed.url, content_type, scope=feed.scope)
            items = await asyncio.get_running_loop().run_in_executor(self._parser, parse)
        first_fetch = not feed.body_hash
        updated = dataclasses.replace(
            self._succeeded(feed, fetched),
            etag=fetched.headers.get("etag", ""),
            last_modified=fetched.headers.get("last-modified", ""),
            body_hash=body_hash,
        )
        accepted = await self.store.run(self._accept, updated, items, first_fetch)
        await self.store.commit()
        for item in accepted:
            self._enqueue(item)
        if accepted:
            self._ensure_workers()
        return PollResult(feed.url, new_items=len(accepted))

    def _accept(self, feed: Feed, items: list[FeedItem], first_fetch: bool) -> list[FeedItem]:
        """On the store thread: pick the new items, mark them seen and queue them, in one transaction."""
        links = Counter(item.url for item in items)
        claimed: set[str] = set()
        new: list[tuple[FeedItem, list[str]]] = []
        for item in items:
            keys = [item.identity]
            if item.url and links[item.url] == 1 and item.url != feed.url:
                keys.append(link_identity(item.url))
            if any(k in claimed or self.store.seen(k) for k in keys):
                continue
            claimed.update(keys)
            new.append((item, keys))
        limit = self.policy.initial_items if first_fetch else self.policy.max_new_per_poll
        process = [item for item, _ in new[:limit]]
        excess = len(new) - len(process)
        if excess and not first_fetch:
            log.warning("%s: %d new items over the cap of %d recorded as seen, not posted", feed.url, excess, limit)
        self.store.mark_seen(k for _, keys in new for k in keys)
        self.store.accept(  # oldest first, held by this process while it works through them
            (dataclasses.asdict(item) for item in reversed(process)), self.owner, self.policy.lease_s
        )
        self.store.save_feed(feed)
        return list(reversed(process))

    def _succeeded(self, feed: Feed, fetched: Fetched) -> Feed:
        delay = max(self.policy.interval_s * self._rng.uniform(0.9, 1.1), max_age(fetched.headers))
        return dataclasses.replace(feed, last_fetch=_now(), last_error="", failures=0, next_poll=time.time() + delay)

    async def _failed(self, feed: Feed, error: str, wait_s: float = 0.0) -> PollResult:
        failures = feed.failures + 1
        backoff = min(self.policy.interval_s * 2 ** (failures - 1), MAX_BACKOFF_S) * self._rng.uniform(0.8, 1.0)
        delay = min(max(backoff, wait_s), MAX_BACKOFF_S)
        paused_now = failures >= self.policy.pause_after and not feed.paused
        updated = dataclasses.replace(
            feed,
            failures=failures,
            last_error=error,
            paused=feed.paused or paused_now,
            next_poll=time.time() + delay,
        )
        await self.store.run(self._record_failure, updated, paused_now)
        await self.store.commit()
        log.warning("Feed %s failed (%d in a row, next try in %.0f s): %s", feed.url, failures, delay, error)
        if paused_now and self.on_notice is not None:
            await self.on_notice(feed.url, error)
        return PollResult(feed.url, error=error, paused_now=paused_now)

    def _record_failure(self, feed: Feed, paused_now: bool) -> None:
        self.store.save_feed(feed)
        if paused_now:
            reason = f"it failed {feed.failures} times in a row; last error: {feed.last_error}"
            route_notice(self.store, feed.url, reason)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
