"""The feed watcher over a real local server and real store files; the article pipeline is faked for speed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.feeds import FeedItem, make_session
from pipeline.process import ArticleReport
from pipeline.watcher import PAUSE_AFTER_FAILURES, FeedWatcher
from storage.records import Feed
from storage.store import Store
from tests.conftest import FeedServer, Route, rss


class CountingPipeline:
    def __init__(self) -> None:
        self.processed: list[str] = []

    async def process(self, item: FeedItem) -> ArticleReport:
        self.processed.append(item.identity)
        return ArticleReport(item.url, item.title, "en", relevant=False)


async def noop(item: FeedItem, report: ArticleReport) -> None:
    return None


def watcher(store: Store, pipeline: Any, session: Any) -> FeedWatcher:
    return FeedWatcher(store, pipeline, session, noop, allow_private=True)


async def test_first_fetch_floods_nothing_and_restarts_repeat_nothing(feed_server: FeedServer, tmp_path: Path) -> None:
    feed_server.routes["/f"] = Route(rss(("a", "A", "x" * 500), ("b", "B", "y" * 500)))
    url = feed_server.url("/f")
    pipeline = CountingPipeline()
    store = Store.open(tmp_path)
    store.save_feed(Feed(url=url))
    async with make_session(allow_private=True) as session:
        assert (await watcher(store, pipeline, session).poll(url)).new_items == 0
        feed_server.routes["/f"] = Route(rss(("c", "C", "z" * 500), ("a", "A", "x" * 500), ("b", "B", "y" * 500)))
        assert (await watcher(store, pipeline, session).poll(url)).new_items == 1
        store.close()
        reopened = Store.open(tmp_path)  # a restart
        feed_server.routes["/f"] = Route(rss(("c", "C edited", "z" * 500), ("a", "A", "x" * 500)))
        assert (await watcher(reopened, pipeline, session).poll(url)).new_items == 0
    assert pipeline.processed == ["guid:c"]


async def test_failing_feed_is_paused_after_repeated_errors(feed_server: FeedServer, tmp_path: Path) -> None:
    feed_server.routes["/bad"] = Route(b"oops", status=500)
    feed_server.routes["/good"] = Route(rss(("a", "A", "x")))
    store = Store.open(tmp_path)
    store.save_feed(Feed(url=feed_server.url("/bad")))
    store.save_feed(Feed(url=feed_server.url("/good")))
    async with make_session(allow_private=True) as session:
        w = watcher(store, CountingPipeline(), session)
        results = []
        for _ in range(PAUSE_AFTER_FAILURES):
            results = await w.poll_all()
    bad = store.feed(feed_server.url("/bad"))
    assert bad is not None and bad.paused and "HTTP 500" in bad.last_error
    assert any(r.paused_now for r in results)
    good = store.feed(feed_server.url("/good"))
    assert good is not None and good.failures == 0 and good.last_fetch  # the other feed kept going
