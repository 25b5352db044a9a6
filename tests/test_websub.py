"""WebSub: a feed that names a hub is subscribed, verified, and its pushed items reach the pipeline without a poll;
forged deliveries and verifications it never asked for are refused; leases are renewed; polling stays the fallback.

Everything real: the feed server, a local hub (``tests/websub_hub.py``) that verifies intent and signs what it
publishes, the watcher and the subscriber's callback server, all under public-looking names (``tests.public_dns``).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from analysis.article import ArticleOutcome, ArticleReport
from domain.records import Article, FeedItem
from ingest.http import make_session
from ingest.websub import discover, signature_ok
from pipeline.watcher import PUSHED_POLL_S, FeedWatcher, WatchPolicy
from pipeline.websub import WebSubSubscriber, callback_token
from storage.files.store import Store
from tests.conftest import FeedServer, Route
from tests.websub_hub import Hub, serve_hub


def hub_feed(hub: str, self_url: str, *titles: str) -> bytes:
    items = "".join(
        f"<item><guid>{t}</guid><title>{t}</title><link>http://news.example.com/{t}</link>"
        f"<description>AI policy news about {t}.</description></item>"
        for t in titles
    )
    return (
        '<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>T</title>'
        f'<atom:link rel="hub" href="{hub}"/><atom:link rel="self" href="{self_url}"/>{items}</channel></rss>'
    ).encode()


@dataclass
class Recorder:
    titles: list[str] = field(default_factory=list)

    async def analyse(self, item: FeedItem) -> ArticleOutcome:
        self.titles.append(item.title)
        return ArticleOutcome(ArticleReport(item.url, item.title, "en", relevant=False), Article.of(item, "x"))


@dataclass
class Rig:
    hub: Hub
    store: Store
    watcher: FeedWatcher
    subscriber: WebSubSubscriber
    recorder: Recorder
    feed_url: str
    server: FeedServer
    clock: list[float]


@pytest.fixture
async def rig(feed_server: FeedServer, tmp_path: Path) -> AsyncIterator[Rig]:
    store = Store.open(tmp_path / "data", seed=False)
    clock = [time.time()]
    recorder = Recorder()
    async with serve_hub() as hub, make_session(allow_private=True) as session:
        watcher = FeedWatcher(store, recorder, session, None, allow_private=True,  # type: ignore[arg-type]
                              policy=WatchPolicy(), rng=random.Random(1), clock=lambda: clock[0])  # fmt: skip
        subscriber = WebSubSubscriber(store, watcher, session, "", clock=lambda: clock[0])
        runner = web.AppRunner(subscriber.app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        subscriber.callback_url = f"http://bot.example.net:{runner.addresses[0][1]}"
        watcher.on_hub = subscriber.ensure
        url = feed_server.url("/hubbed.xml")
        feed_server.routes["/hubbed.xml"] = Route(hub_feed(hub.url, url, "first"))
        yield Rig(hub, store, watcher, subscriber, recorder, url, feed_server, clock)
        await watcher.stop()
        await runner.cleanup()
    store.close()


async def until(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def subscribed(rig: Rig) -> None:
    await rig.watcher.poll(rig.feed_url)
    await until(lambda: (rig.store.feed(rig.feed_url) or rig.store.feeds()[0]).websub_state == "active")


async def test_a_feed_naming_a_hub_is_subscribed_and_its_pushed_items_arrive_without_a_poll(rig: Rig) -> None:
    await subscribed(rig)
    [request] = rig.hub.requests
    assert request["hub.topic"] == rig.feed_url and request["hub.callback"].endswith(callback_token(
        rig.store.feeds()[0]
    ))  # fmt: skip
    assert rig.hub.verifications[0][0] == 200 and len(request["hub.secret"]) >= 32
    feed = rig.store.feeds()[0]
    assert feed.websub_until == pytest.approx(rig.clock[0] + rig.hub.lease_s)
    assert "websub_secret" not in repr(feed)  # the secret stays out of logs
    polls = rig.server.hits["/hubbed.xml"]

    assert await rig.hub.publish(rig.feed_url, hub_feed(rig.hub.url, rig.feed_url, "pushed", "first")) == [202]
    await until(lambda: "pushed" in rig.recorder.titles)
    await rig.watcher.drain()
    assert rig.server.hits["/hubbed.xml"] == polls  # no poll brought it

    await rig.watcher.poll(rig.feed_url)  # the fallback poll: the pushed item is not taken twice
    await rig.watcher.drain()
    assert rig.recorder.titles.count("pushed") == 1
    polled = rig.store.feeds()[0]
    assert polled.next_poll - rig.clock[0] >= 0.99 * PUSHED_POLL_S  # pushed feeds are polled hourly


async def test_forged_deliveries_and_unasked_verifications_are_refused(rig: Rig) -> None:
    await subscribed(rig)
    callback = rig.hub.requests[0]["hub.callback"]
    assert await rig.hub.publish(rig.feed_url, hub_feed(rig.hub.url, rig.feed_url, "forged"), forged=True) == [202]
    await asyncio.sleep(0.3)
    assert "forged" not in rig.recorder.titles  # acknowledged, ignored
    other_topic = await rig.hub.verify_as(callback, **{"hub.mode": "subscribe", "hub.topic": "http://evil.example.com/",
                                                       "hub.challenge": "x"})  # fmt: skip
    unknown = await rig.hub.verify_as(callback.rsplit("/", 1)[0] + "/0" * 16, **{"hub.mode": "subscribe",
                                      "hub.topic": rig.feed_url, "hub.challenge": "x"})  # fmt: skip
    assert other_topic[0] == 404 and unknown[0] == 404


async def test_a_lease_is_renewed_a_day_before_it_ends_and_a_denial_stops_asking(rig: Rig) -> None:
    rig.hub.lease_s = 2 * 86400
    await subscribed(rig)
    feed = rig.store.feeds()[0]
    assert not rig.subscriber.due(feed)
    rig.clock[0] = feed.websub_until - 3600  # an hour left
    assert rig.subscriber.due(feed)
    await rig.subscriber.ensure(feed)
    await until(lambda: len(rig.hub.subscriptions) == 2)
    assert len(rig.hub.requests) == 2 and rig.store.feeds()[0].websub_until > feed.websub_until
    assert rig.hub.requests[1]["hub.secret"] == rig.hub.requests[0]["hub.secret"]  # a renewal keeps it
    status, _ = await rig.hub.verify_as(rig.hub.requests[0]["hub.callback"], **{"hub.mode": "denied",
                                        "hub.topic": rig.feed_url, "hub.reason": "no"})  # fmt: skip
    assert status == 200 and rig.store.feeds()[0].websub_state == "denied"
    assert not rig.subscriber.due(rig.store.feeds()[0])


@pytest.mark.parametrize(
    ("headers", "body", "found"),
    [
        ({"link": '<https://hub.example.org/>; rel="hub", <https://f.example.org/x>; rel="self"'}, b"", True),
        ({}, b'<feed xmlns="http://www.w3.org/2005/Atom"><link href="/hub" rel="hub"/></feed>', True),
        ({}, b'<rss><channel><atom:link rel="hub" href="javascript:alert(1)"/></channel></rss>', False),
        ({}, b"<rss><channel><title>no hub</title></channel></rss>", False),
    ],
    ids=["link-header", "atom-relative", "not-http", "none"],
)
def test_hub_discovery(headers: dict[str, str], body: bytes, found: bool) -> None:
    discovery = discover(body, headers, "https://f.example.org/feed")
    assert (discovery is not None) == found
    if discovery is not None:
        assert discovery.hub.startswith("https://hub.example.org/") or discovery.hub == "https://f.example.org/hub"


def test_signatures_are_checked_with_each_method_and_never_pass_without_a_secret() -> None:
    import hashlib
    import hmac

    body = b"<rss/>"
    for method in ("sha1", "sha256", "sha512"):
        good = hmac.new(b"s3cret", body, getattr(hashlib, method)).hexdigest()
        assert signature_ok("s3cret", body, f"{method}={good}")
        assert not signature_ok("s3cret", body + b" ", f"{method}={good}")
    assert not signature_ok("", body, "sha256=" + hmac.new(b"", body, hashlib.sha256).hexdigest())
    assert not signature_ok("s3cret", body, "md5=abc") and not signature_ok("s3cret", body, "")
