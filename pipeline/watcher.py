"""Polls feeds on their schedules and keeps a bounded pool of workers walking accepted items to the outbox.

Accepting a poll's new items (:func:`ingest.intake.decide_intake` decides which) is one store transaction: they are
marked seen and written to the store's inbox together, and leave the inbox only when their report and outbox
messages are committed (:func:`pipeline.update.commit_article`). A crash therefore neither loses an item nor posts
one twice, and a slow model call never stalls fetching. A worker survives any failure: an article that meets an
unreachable store or model stays in the inbox and is retried with backoff; one that fails on its own content is
retried a few times, then archived as failed.

Scheduling is per feed: after a success the next poll follows the feed's learned publishing cadence
(:mod:`pipeline.cadence`, with jitter, never sooner than the floor or the server's ``Cache-Control: max-age``,
capped at an hour); after a failure it backs off exponentially, honouring ``Retry-After``, and after ``pause_after``
failures in a row the feed is paused and its channels told. Accepted items that name a tracked person are processed
before the others.
"""

from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import functools
import hashlib
import itertools
import logging
import os
import random
import re
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import aiohttp

from analysis.article import ArticleAnalysis, ArticleReport
from delivery.routing import route_notice
from domain.errors import FeedError, StorageError, Unavailable
from domain.names import mentioned_people
from domain.records import Article, Feed, FeedItem
from ingest.http import Fetched, fetch
from ingest.intake import decide_intake
from ingest.parse import parse_document
from ingest.websub import Discovery, discover
from pipeline.cadence import Cadence
from pipeline.update import ItemTaken, Lease, update_item
from settings import Settings
from storage.interfaces import StanceStore

log = logging.getLogger(__name__)
MAX_AGE_CAP_S = 3600.0
MAX_BACKOFF_S = 24 * 3600.0
ADOPT_BATCH = 100
MAX_RETRY_S = 300.0

WEBSUB_STATE = ("websub_secret", "websub_state", "websub_until")
"""What the subscriber keeps on a feed; a poll's save never overwrites it."""
ReportHandler = Callable[[FeedItem, ArticleReport], Awaitable[None]]
HubHandler = Callable[[Feed], Awaitable[None]]
PUSHED_POLL_S = 3600.0
"""How often a feed whose items a WebSub hub pushes is still polled: the fallback, should the hub fall silent."""
NoticeHandler = Callable[[str, str], Awaitable[None]]


@dataclass(frozen=True)
class WatchPolicy:
    """How often and how carefully feeds are polled; every field is a deployment setting."""

    interval_s: float = 600.0
    """The poll interval of a feed whose cadence is not learned yet."""
    floor_s: float = 300.0
    """The least time between two scheduled polls of one feed."""
    ceiling_s: float = 6 * 3600.0
    """The most time between two scheduled polls of a feed that stopped publishing."""
    pause_after: int = 10
    max_new_per_poll: int = 20
    initial_items: int = 0
    workers: int = 2
    max_concurrent_polls: int = 24  # more only makes bursts that delay the event loop (benchmarks/feeds.py)
    lease_s: float = 300.0
    """How long a process holds a feed it polls or an item it processes; another takes them over after that."""
    retry_s: float = 2.0
    """The first wait before an article is tried again; each further try waits twice as long (capped)."""
    poll_deadline_s: float = 60.0
    """The most one poll may take, every redirect hop and the body together."""
    max_attempts: int = 3
    """Tries before an article that fails on its own content is recorded as failed; transient failures never count."""

    @classmethod
    def from_settings(cls, settings: Settings) -> WatchPolicy:
        return cls(
            interval_s=settings.poll_interval_minutes * 60.0,
            floor_s=settings.poll_floor_minutes * 60.0,
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
        analysis: ArticleAnalysis,
        session: aiohttp.ClientSession,
        on_report: ReportHandler | None,
        *,
        allow_private: bool,
        policy: WatchPolicy | None = None,
        on_notice: NoticeHandler | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``clock`` (Unix seconds) schedules the polls: a benchmark replays a day on a clock of its own."""
        self.store = store
        self.analysis = analysis
        self.session = session
        self.on_report = on_report
        """Told of each committed article's report (the bot dispatches it); None: nobody listens."""
        self.on_notice = on_notice
        self.on_hub: HubHandler | None = None
        """Told of each polled feed that names a WebSub hub (the subscriber decides whether to subscribe)."""
        self.allow_private = allow_private
        self.policy = policy or WatchPolicy()
        self.last_poll = 0.0
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        """Who holds this process's feed leases (PostgreSQL), in a form an operator can trace to a process."""
        self._rng = rng or random.Random()
        self._clock = clock
        self._queue: asyncio.PriorityQueue[tuple[int, int, FeedItem]] = asyncio.PriorityQueue()
        """(0 for an item naming a tracked person, else 1; arrival order; the item)."""
        self._arrivals = itertools.count()
        self._cadence = Cadence(
            self.policy.interval_s, min(self.policy.floor_s, self.policy.interval_s), self.policy.ceiling_s
        )
        self._queued: set[str] = set()
        self._workers: list[asyncio.Task[None]] = []
        self._polling: dict[str, asyncio.Task[PollResult]] = {}
        """Polls the scheduler's sweeps started and that have not finished, by feed URL."""
        self._stopping = False
        self._retrying: dict[str, asyncio.Task[None]] = {}
        """Items waiting to be tried again, by identity; they stay in the store's inbox meanwhile."""
        self._attempts: dict[str, int] = {}
        self._failures: dict[str, int] = {}
        self.failed = 0
        """Articles given up on since start (each recorded in the archive as ``state="failed"``)."""
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

    def _enqueue(self, item: FeedItem, urgent: bool = False) -> None:
        self._queued.add(item.identity)
        self._queue.put_nowait((0 if urgent else 1, next(self._arrivals), item))

    def _ensure_workers(self) -> None:
        """Keep ``policy.workers`` live workers: one that ended for any reason is replaced (and logged)."""
        for task in [t for t in self._workers if t.done()]:
            self._workers.remove(task)
            if not task.cancelled() and task.exception() is not None:
                log.error("A feed worker died; replacing it", exc_info=task.exception())
        while len(self._workers) < self.policy.workers:
            task = asyncio.create_task(self._work(), name=f"feed-worker-{len(self._workers)}")
            task.add_done_callback(self._replace_dead_worker)
            self._workers.append(task)

    def _replace_dead_worker(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and not self._stopping:
            self._ensure_workers()

    async def drain(self) -> None:
        """Wait until every queued item is processed (retries included), committed and announced."""
        while True:
            await self._queue.join()
            if self._retrying:
                await asyncio.gather(*self._retrying.values(), return_exceptions=True)
            elif self._announcing:
                await asyncio.gather(*self._announcing)
            elif self._queue.empty():
                return

    async def stop(self) -> None:
        self._stopping = True
        tasks = [*self._workers, *self._retrying.values(), *self._polling.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._workers.clear()
        self._retrying.clear()
        self._parser.shutdown(wait=False)

    @property
    def queue_depth(self) -> int:
        return self._queue.qsize() + len(self._retrying)

    @property
    def retrying(self) -> int:
        """Articles kept after a failure, waiting for their next try."""
        return len(self._retrying)

    async def _work(self) -> None:
        """Take items off the queue for ever: no exception of an item's ends the worker."""
        while True:
            _, _, item = await self._queue.get()
            try:
                await self._attempt(item)
            except Exception:  # even the error handling failed (the store went away again): try again later
                log.exception("Handling %s failed; it stays in the inbox and is retried", item.url)
                self._retry(item, self._backoff(item.identity))
            finally:
                if item.identity not in self._retrying:
                    self._queued.discard(item.identity)
                self._queue.task_done()

    async def _attempt(self, item: FeedItem) -> None:
        """Process ``item`` once; keep it for a retry after a transient failure or a first failure of its own."""
        try:
            if await self.store.run(self.store.take_item, item.identity, self.owner, self.policy.lease_s):
                await self._process(item)
            self._attempts.pop(item.identity, None)
        except ItemTaken:
            log.info("%s was taken over by another process while this one worked on it", item.url)
        except Unavailable as exc:
            delay = self._backoff(item.identity)
            log.warning("%s is kept in the inbox and retried in %.0f s: %s", item.url or item.identity, delay, exc)
            self._retry(item, delay)
        except Exception as exc:
            failures = self._failures.get(item.identity, 0) + 1
            self._failures[item.identity] = failures
            if failures < self.policy.max_attempts:
                log.exception("Processing %s failed (attempt %d); retrying", item.url or item.identity, failures)
                self._retry(item, self._backoff(item.identity))
                return
            log.exception("Processing %s failed %d times; recorded as failed", item.url or item.identity, failures)
            await self.store.run(self._give_up, item, f"{type(exc).__name__}: {exc}")
            await self.store.commit()
            self._failures.pop(item.identity, None)
            self._attempts.pop(item.identity, None)
            self.failed += 1

    def _backoff(self, identity: str) -> float:
        """Seconds before the next try of ``identity``: doubling from ``retry_s``, capped, with jitter."""
        attempt = self._attempts.get(identity, 0)
        self._attempts[identity] = attempt + 1
        return min(self.policy.retry_s * 2**attempt, MAX_RETRY_S) * self._rng.uniform(0.8, 1.0)

    def _retry(self, item: FeedItem, delay: float) -> None:
        """Queue ``item`` again after ``delay`` seconds; it stays in the store's inbox meanwhile."""

        async def later() -> None:
            try:
                await asyncio.sleep(delay)
            finally:
                self._retrying.pop(item.identity, None)
            self._queue.put_nowait((1, next(self._arrivals), item))

        self._retrying[item.identity] = asyncio.create_task(later(), name=f"retry-{item.identity[:40]}")

    def _give_up(self, item: FeedItem, error: str) -> None:
        """On the store thread: the item is recorded as a failed article, visible to operators, and leaves the inbox."""
        article = Article.of(item, _now(), state="failed", error=error[:500])
        self.store.record_article(article, [])
        self.store.done(item.identity)

    async def _process(self, item: FeedItem) -> None:
        lease = Lease(self.owner, self.policy.lease_s)
        report = await update_item(
            item,
            store=self.store,
            analysis=self.analysis,
            session=self.session,
            lease=lease,
            allow_private=self.allow_private,
        )
        # The worker moves on while the commit runs, so that the commits of items finished
        # meanwhile share one write; the report is announced only once it is durable.
        task = asyncio.create_task(self._announce(item, report))
        self._announcing.add(task)
        task.add_done_callback(self._announcing.discard)

    async def _announce(self, item: FeedItem, report: ArticleReport) -> None:
        try:
            await self.store.commit()
            if self.on_report is not None:
                await self.on_report(item, report)
        except Exception:
            log.exception("Could not commit or announce %s; what was not written is redone after a restart", item.url)

    # -- polling ---------------------------------------------------------------------

    async def poll_due(self, now: float | None = None) -> list[PollResult]:
        """Poll every unpaused feed whose next poll time has come and that no other process is polling.

        Also takes over the queued items of a process that died (their leases ran out).
        """
        if await self.adopt():
            self._ensure_workers()
        moment = self._clock() if now is None else now
        return await self._poll_many(
            await self.store.run(self.store.lease_feeds, self.owner, moment, self.policy.lease_s)
        )

    async def sweep(self, now: float | None = None) -> int:
        """Start a poll of every due feed not being polled already, and return at once: how many started.

        The scheduler's job. One slow feed never holds a sweep, so the next sweep polls every other feed on time.
        """
        if await self.adopt():
            self._ensure_workers()
        moment = self._clock() if now is None else now
        due = await self.store.run(self.store.lease_feeds, self.owner, moment, self.policy.lease_s)
        fresh = [feed for feed in due if feed.url not in self._polling]
        for feed in fresh:
            task = asyncio.create_task(self._poll_bounded(feed), name=f"poll {feed.url[:80]}")
            self._polling[feed.url] = task
            task.add_done_callback(functools.partial(self._polled, feed.url))
        self.last_poll = time.time()
        return len(fresh)

    def _polled(self, url: str, task: asyncio.Task[PollResult]) -> None:
        self._polling.pop(url, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("Polling %s failed", url, exc_info=task.exception())

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
        fetched = await fetch(
            self.session,
            feed.url,
            allow_private=self.allow_private,
            headers=headers,
            deadline_s=self.policy.poll_deadline_s,
        )
        if fetched.status in {429, 503}:
            wait = retry_after(fetched.headers, self._clock())
            return await self._failed(feed, f"{feed.url} answered HTTP {fetched.status} (busy).", wait)
        if fetched.status not in {200, 304}:
            return await self._failed(feed, f"{feed.url} answered HTTP {fetched.status}.")
        if fetched.moved_to and fetched.moved_to != feed.url:
            log.info("Feed %s moved permanently to %s", feed.url, fetched.moved_to)
            feed = await self.store.run(self.store.move_feed, feed, fetched.moved_to)
        if fetched.status == 304:
            await self.store.run(self.store.save_feed, self._succeeded(feed, fetched, 0))
            await self.store.commit()
            return PollResult(feed.url)
        read = functools.partial(_read_body, fetched.body, fetched.headers, feed)
        body_hash, items, hub = await asyncio.get_running_loop().run_in_executor(self._parser, read)
        first_fetch = not feed.body_hash
        updated = dataclasses.replace(
            feed, etag=fetched.headers.get("etag", ""), last_modified=fetched.headers.get("last-modified", ""),
            body_hash=body_hash, websub_hub=hub.hub if hub else "", websub_topic=hub.topic if hub else "",
        )  # fmt: skip
        accepted = await self._take(updated, items, first_fetch, lambda f, n: self._succeeded(f, fetched, n))
        if hub is not None and self.on_hub is not None:
            await self.on_hub(updated)
        return PollResult(feed.url, new_items=len(accepted))

    async def receive(self, feed: Feed, body: bytes, content_type: str) -> int:
        """Items a WebSub hub pushed for ``feed``: parsed and accepted as a poll's are (deduplicated against what
        polls found), its poll schedule kept; how many were new."""
        parse = functools.partial(parse_document, body, feed.url, content_type, scope=feed.scope)
        parsed = await asyncio.get_running_loop().run_in_executor(self._parser, parse)
        now = self._clock()
        return len(await self._take(feed, parsed.items, False, lambda f, n: self._cadence.learned(f, now, n)))

    async def _take(
        self, feed: Feed, items: list[FeedItem], first_fetch: bool, schedule: Callable[[Feed, int], Feed]
    ) -> list[FeedItem]:
        accepted, urgent = await self.store.run(self._accept, feed, items, first_fetch, schedule)
        await self.store.commit()
        for item in accepted:
            self._enqueue(item, item.identity in urgent)
        if accepted:
            self._ensure_workers()
        return accepted

    def _accept(
        self, feed: Feed, items: list[FeedItem], first_fetch: bool, schedule: Callable[[Feed, int], Feed]
    ) -> tuple[list[FeedItem], set[str]]:
        """On the store thread: decide the intake, then mark seen and queue, in one transaction, saving the feed as
        ``schedule`` updates it for the number of new items; the accepted items, and the identities of those naming
        a tracked person (processed first)."""
        limit = self.policy.initial_items if first_fetch else self.policy.max_new_per_poll
        intake = decide_intake(items, feed.url, seen=self.store.seen, limit=limit)
        if intake.excess and not first_fetch:
            log.warning(
                "%s: %d new items over the cap of %d recorded as seen, not posted", feed.url, intake.excess, limit
            )
        fresh = self.store.mark_seen(intake.seen)
        # Only what this transaction marked first is its to queue: another feed, or another process, polling the same
        # article at the same moment marked it already (on PostgreSQL the unique key decides, not this check).
        queue = [item for item in intake.queue if set(intake.keys[item.identity]) <= fresh]
        self.store.accept(  # oldest first, held by this process while it works through them
            (dataclasses.asdict(item) for item in queue), self.owner, self.policy.lease_s
        )
        self.store.save_feed(schedule(self._subscribed(feed), 0 if first_fetch else len(queue)))
        people = self.store.people() if queue else []  # most polls bring nothing new: no read for them
        urgent = {item.identity for item in queue if mentioned_people(f"{item.title}\n{item.text}", people)}
        return queue, urgent

    def _succeeded(self, feed: Feed, fetched: Fetched, new_items: int) -> Feed:
        now = self._clock()
        feed = self._cadence.learned(feed, now, new_items)
        wait = max(self._cadence.interval(feed, now) * self._rng.uniform(0.9, 1.1), self._cadence.floor_s)
        if feed.websub_state == "active" and feed.websub_until > now:
            wait = max(wait, PUSHED_POLL_S)
        delay = max(wait, max_age(fetched.headers))
        return dataclasses.replace(feed, last_fetch=_now(), last_error="", failures=0, next_poll=now + delay)

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
            next_poll=self._clock() + delay,
        )
        await self.store.run(self._record_failure, updated, paused_now)
        await self.store.commit()
        log.warning("Feed %s failed (%d in a row, next try in %.0f s): %s", feed.url, failures, delay, error)
        if paused_now and self.on_notice is not None:
            await self.on_notice(feed.url, error)
        return PollResult(feed.url, error=error, paused_now=paused_now)

    def _subscribed(self, feed: Feed) -> Feed:
        """On the store thread: ``feed`` with the WebSub state stored now (a hub may verify a subscription while a
        poll of the feed is in flight; the poll's save must not undo it)."""
        if self.on_hub is None:  # no WebSub subscriber: nothing else writes that state, no read needed
            return feed
        known = self.store.feed(feed.url)
        return dataclasses.replace(feed, **{k: getattr(known, k) for k in WEBSUB_STATE}) if known else feed

    def _record_failure(self, feed: Feed, paused_now: bool) -> None:
        self.store.save_feed(self._subscribed(feed))
        if paused_now:
            reason = f"it failed {feed.failures} times in a row; last error: {feed.last_error}"
            route_notice(self.store, feed.url, reason)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _read_body(body: bytes, headers: Mapping[str, str], feed: Feed) -> tuple[str, list[FeedItem], Discovery | None]:
    """On the parse thread: the body's hash, its items when the body changed, and the WebSub hub it names.

    Hashing is here, not on the event loop, because hashlib lets go of the GIL for a body of more than 2 KiB and
    the loop then waits its turn behind the parse and store threads: measured in ``benchmarks/feeds.py``, those
    waits were the loop's largest lag."""
    body_hash = hashlib.sha256(body).hexdigest()
    items: list[FeedItem] = []
    if body_hash != feed.body_hash:
        parsed = parse_document(body, feed.url, headers.get("content-type", ""), scope=feed.scope)
        if parsed.reason:
            log.debug("%s: read by %s (%s)", feed.url, parsed.parser, parsed.reason)
        items = parsed.items
    return body_hash, items, discover(body, headers, feed.url)
