"""Nothing bricks the store, no worker dies for good, no article is dropped on a blip (issue 22, crashes 1-3).

Each test takes the path production takes: the real store on both backends, the real watcher and its workers,
a real feed server, and for the model, the real llama.cpp (in process, or behind a real OpenAI-compatible server).
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psycopg
import pytest
from aiohttp import web

from analysis.article import ArticleAnalysis, ArticleOutcome, ArticleReport
from domain.errors import ModelUnavailable
from domain.records import Article, Feed, FeedItem, Subscription
from ingest.http import make_session
from ingest.parse import parse_feed
from llm.runtime.backend import LLM
from pipeline.watcher import FeedWatcher, WatchPolicy
from storage import open_store
from storage.files.store import Store
from storage.interfaces import StanceStore
from tests.conftest import FeedServer, Route, analyse_and_record, judge_for, rss

LONG = "Lawmakers debated AI safety rules at length. " * 12
LINKLESS_ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Wire</title><id>urn:wire</id><updated>2026-11-01T00:00:00Z</updated>
<entry><title>Elon Musk again calls for a pause on giant AI experiments</title><id>urn:uuid:5b1c-pause</id>
<updated>2026-11-01T00:00:00Z</updated><summary>Elon Musk again calls for a six-month moratorium on giant AI
experiments, as in the open letter he signed. Elon Musk said the pause on training AI systems is needed now.</summary>
</entry></feed>"""
FAST_RETRY = WatchPolicy(interval_s=600, retry_s=0.05, max_attempts=3)


# -- crash 1: a record that would not load is never written ------------------------------------


@pytest.mark.model
async def test_an_item_without_a_link_is_processed_and_the_store_still_opens(engine: LLM, tmp_path: Path) -> None:
    """Before: the proposal was stored with ``source_url ""`` and the next start failed, last-good copy included."""
    data = tmp_path / "data"
    store = Store.open(data)
    [item] = parse_feed(LINKLESS_ATOM, "https://feeds.example.org/wire.atom")
    assert item.url == "" and item.identity
    await analyse_and_record(ArticleAnalysis(engine, store, judge_for(engine)), item)
    await store.commit()
    store.close()
    for location in (data, data / "backups" / "last-good"):  # the store and its last good copy both load
        if location != data:
            (location / "archive").mkdir(exist_ok=True)
        reopened = Store.open(location, seed=False)
        try:
            proposals = reopened.positions(status="proposed")
            assert proposals, "the link-less item still gets its proposal"
            assert all(p.source_url == "" and p.article == item.identity for p in proposals)
            assert all(p.feed == "https://feeds.example.org/wire.atom" for p in proposals)
        finally:
            reopened.close()


def test_a_last_good_copy_is_only_a_store_that_loads(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = Store.open(data)
    store.close()
    good = (data / "backups" / "last-good" / "stancewatch.json").read_bytes()
    store = Store.open(data)
    store._hot.table("positions").insert({"id": "bad", "person": "elon-musk"})  # bypasses every write path
    store.close()
    assert (data / "backups" / "last-good" / "stancewatch.json").read_bytes() == good


# -- crash 2: the store goes away for a moment ---------------------------------------------------


@dataclass
class StorePipeline:
    """The analysis's store traffic without the model; the watcher then commits as production does.

    ``before_record`` runs once, just before the commit: the place where a database restart hurts most.
    """

    store: StanceStore
    before_record: Callable[[], None] | None = None
    processed: list[str] = field(default_factory=list)

    async def analyse(self, item: FeedItem) -> ArticleOutcome:
        await self.store.run(self.store.people)
        if self.before_record is not None:
            hook, self.before_record = self.before_record, None
            hook()
        self.processed.append(item.title)
        report = ArticleReport(item.url, item.title, "en", relevant=True, summary=f"Summary of {item.title}.")
        return ArticleOutcome(report, Article(item.identity, item.url, feed=item.feed_url, title=item.title))


def watched(store: StanceStore, feed_server: FeedServer, path: str, *items: tuple[str, ...]) -> str:
    """Serve ``items`` at ``path`` and watch it as a feed fetched once before, so that its items count as new."""
    feed_server.routes[path] = Route(rss(*items))
    url = feed_server.url(path)
    store.save_feed(Feed(url=url, key=url, body_hash="old"))
    return url


def watcher_for(
    store: StanceStore, pipeline: object, session: aiohttp.ClientSession, policy: WatchPolicy = FAST_RETRY
) -> FeedWatcher:
    async def on_report(item: FeedItem, report: ArticleReport) -> None:
        return None

    return FeedWatcher(
        store,
        pipeline,  # type: ignore[arg-type]
        session,
        on_report,
        allow_private=True,
        policy=policy,
        rng=random.Random(3),
    )


def cut_connections(url: str) -> None:
    """What a PostgreSQL restart does to the bot: every one of its connections ends (``AdminShutdown``)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with make_session(allow_private=True, timeout_s=5) as opened:
        yield opened


async def test_connections_cut_mid_article_keep_the_article_and_the_worker(
    database_url: str, feed_server: FeedServer, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    store = open_store(database_url)
    try:
        feed_server.routes["/a"] = Route(rss(("n1", "First", LONG)))
        url = feed_server.url("/a")
        await store.run(store.save_feed, Feed(url=url, key=url, body_hash="old"))
        await store.run(store.add_subscription, Subscription(10, 1, receive="summaries"))
        pipeline = StorePipeline(store, before_record=lambda: cut_connections(database_url))
        # one try for an article's own failures: only a failure known to be transient is tried again
        watcher = watcher_for(store, pipeline, session, dataclasses.replace(FAST_RETRY, max_attempts=1))
        await watcher.poll_all()
        await asyncio.wait_for(watcher.drain(), 60)
        assert set(pipeline.processed) == {"First"}  # analysed again after the failed commit: nothing was written
        assert "recorded as failed" not in caplog.text and "kept in the inbox" in caplog.text
        assert await store.run(store.inbox) == []
        assert [p["summary"] for _, _, p in await store.run(store.pending)] == ["Summary of First."]
        # the same workers go on with the next article
        feed_server.routes["/a"] = Route(rss(("n2", "Second", LONG), ("n1", "First", LONG)))
        await watcher.poll_all()
        await asyncio.wait_for(watcher.drain(), 60)
        assert pipeline.processed[-1] == "Second"
        summaries = [p["summary"] for _, _, p in await store.run(store.pending)]
        assert summaries == ["Summary of First.", "Summary of Second."]  # each exactly once
        await watcher.stop()
    finally:
        store.close()


async def test_a_dead_worker_is_replaced(
    tmp_path: Path, feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    """Before: the supervisor counted finished tasks as live workers, and later articles waited for ever."""
    store = Store.open(tmp_path / "data", seed=False)
    try:
        watched(store, feed_server, "/a", ("n1", "First", LONG))
        pipeline = StorePipeline(store)
        watcher = watcher_for(store, pipeline, session)
        await watcher.start()
        for task in list(watcher._workers):
            task.cancel()  # however a worker ends
        await asyncio.sleep(0)
        await watcher.poll_due(now=float("inf"))
        await asyncio.wait_for(watcher.drain(), 30)
        assert pipeline.processed == ["First"]
        await watcher.stop()
    finally:
        store.close()


async def test_an_article_that_keeps_failing_on_its_content_is_recorded_as_failed(
    tmp_path: Path, feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    store = Store.open(tmp_path / "data", seed=False)

    class Broken(StorePipeline):
        async def analyse(self, item: FeedItem) -> ArticleOutcome:
            self.processed.append(item.title)
            raise ValueError("the model's reply broke the parser")

    try:
        watched(store, feed_server, "/a", ("n1", "Poison", LONG))
        pipeline = Broken(store)
        watcher = watcher_for(store, pipeline, session)
        await watcher.poll_all()
        await asyncio.wait_for(watcher.drain(), 30)
        assert pipeline.processed == ["Poison"] * FAST_RETRY.max_attempts
        assert store.inbox() == [] and watcher.failed == 1
        [identity] = [i for i in store._archive._article_month]
        failed = store.article(identity)
        assert failed is not None and failed.state == "failed" and "broke the parser" in failed.error
        await watcher.stop()
    finally:
        store.close()


# -- crash 3: the model server restarts while it judges an article -----------------------------


class FlakyProxy:
    """A real HTTP proxy in front of the model server that can be switched off (connection refused) and on."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.port = 0
        self.runner: web.AppRunner | None = None
        self.requests = 0
        self.refuse_after: int | None = None
        self.outage: asyncio.Event = asyncio.Event()

    async def _forward(self, request: web.Request) -> web.Response:
        self.requests += 1
        if self.refuse_after is not None and self.requests > self.refuse_after:
            self.outage.set()
            assert request.transport is not None
            request.transport.close()  # a server killed mid-request: the connection is reset
            raise web.HTTPServiceUnavailable()
        async with aiohttp.ClientSession() as client:
            url = f"{self.upstream}{request.path_qs.removeprefix('/v1')}"
            async with client.request(request.method, url, data=await request.read(), headers=request.headers) as up:
                return web.Response(body=await up.read(), status=up.status, content_type=up.content_type)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self.runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self.runner.addresses[0][1]

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.mark.model
async def test_a_model_server_restart_keeps_the_article_in_flight(
    server_url: str, tmp_path: Path, feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    """Before: 'dropped from the queue', marked seen, no report, even after a restart."""
    from llm.runtime.remote import RemoteEngine
    from settings import Settings

    proxy = FlakyProxy(server_url)
    await proxy.start()
    engine = await RemoteEngine.connect(Settings(llm_base_url=f"http://127.0.0.1:{proxy.port}/v1"))
    store = Store.open(tmp_path / "data")
    try:
        watched(store, feed_server, "/a", ("n1", "Elon Musk buys GPUs for AI", LONG))
        analysis = ArticleAnalysis(engine, store, judge_for(engine))
        watcher = watcher_for(store, analysis, session)
        proxy.refuse_after = proxy.requests  # the server goes down before the article's first model call
        await watcher.poll_all()
        await asyncio.wait_for(proxy.outage.wait(), 30)
        await proxy.stop()  # killed: connections are now refused
        await asyncio.sleep(0.3)
        assert [i["identity"] for i in store.inbox()], "the article stays in the inbox while the server is down"
        proxy.refuse_after = None
        await proxy.start()  # back on the same port
        await asyncio.wait_for(watcher.drain(), 240)
        assert store.inbox() == [] and watcher.failed == 0
        [article] = [store.article(i) for i in store._archive._article_month]
        assert article is not None and article.state == "processed"
        await watcher.stop()
    finally:
        await engine.aclose()
        await proxy.stop()
        store.close()


async def test_transient_model_errors_are_named_as_such() -> None:
    from llm.runtime.remote import RemoteEngine

    engine = RemoteEngine.__new__(RemoteEngine)
    async with aiohttp.ClientSession() as client:
        RemoteEngine.__init__(engine, client, "http://127.0.0.1:9/v1", "m", 1)  # port 9 (discard): refused
        with pytest.raises(ModelUnavailable):
            await engine.chat([{"role": "user", "content": "hi"}], max_tokens=1)


# -- item 4: the same article in two feeds is queued once, whoever polls them --------------------


@pytest.mark.parametrize("processes", [1, 2])
async def test_one_article_in_two_feeds_is_queued_once_on_postgresql(
    database_url: str, feed_server: FeedServer, session: aiohttp.ClientSession, processes: int
) -> None:
    """Before: check-then-insert, so concurrent polls of two feeds queued 88 to 98 of 100 shared articles twice."""
    articles = [(f"g{i}", f"Shared story {i}", LONG, f"https://news.example.com/story/{i}") for i in range(40)]
    stores = [open_store(database_url, seed=False) for _ in range(processes)]
    try:
        urls = []
        for name in ("a", "b"):
            feed_server.routes[f"/{name}"] = Route(rss(*[(f"{name}-{g}", t, d, link) for g, t, d, link in articles]))
            urls.append(feed_server.url(f"/{name}"))
            await stores[0].run(stores[0].save_feed, Feed(url=urls[-1], key=urls[-1], body_hash="old"))
        policy = dataclasses.replace(FAST_RETRY, max_new_per_poll=100)
        watchers = [watcher_for(s, StorePipeline(s), session, policy) for s in stores]
        for watcher in watchers:
            watcher._ensure_workers = lambda: None  # type: ignore[method-assign]  # count the queue, do not drain it
        polls = [w.poll(url) for w in watchers for url in urls] * 2
        await asyncio.gather(*polls)
        queued = [row["url"] for row in await stores[0].run(stores[0].inbox)]
        assert sorted(queued) == sorted(link for *_, link in articles)  # each shared article exactly once
    finally:
        for store in stores:
            store.close()


async def test_a_nul_in_a_feed_item_blocks_nothing_on_postgresql(
    database_url: str, feed_server: FeedServer, session: aiohttp.ClientSession
) -> None:
    """Before: ``<title>A&#0;B</title>`` failed every poll, and the normal item beside it was never taken."""
    store = open_store(database_url, seed=False)
    try:
        feed_server.routes["/nul"] = Route(rss(("n1", "A&#0;B", LONG), ("n2", "Normal", LONG)), parser="feedparser")
        url = feed_server.url("/nul")
        await store.run(store.save_feed, Feed(url=url, key=url, body_hash="old"))
        watcher = watcher_for(store, StorePipeline(store), session)
        [result] = await watcher.poll_all()
        await asyncio.wait_for(watcher.drain(), 60)
        assert result.error == "" and result.new_items == 2
        titles = sorted(title for (title,) in store._rows("SELECT data->>'title' FROM articles"))
        assert titles == ["AB", "Normal"]
        await watcher.stop()
    finally:
        store.close()
