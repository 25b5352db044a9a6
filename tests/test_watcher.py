"""The feed watcher against the adversarial fixture set, over a real local server and real store files.

The article pipeline is faked (it records what it was given) so that each case runs in
milliseconds; ``test_cli``'s demo drives the same watcher through the real model. Every
case polls a healthy control feed beside the one under test and checks it kept going.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import hashlib
import itertools
import logging
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from analysis.article import ArticleOutcome, ArticleReport
from cogs.alerts import embed_for
from delivery.messages import ArticleSummary, FeedPaused, from_payload
from domain.clash import Clash
from domain.records import Article, Feed, FeedItem, Subscription
from ingest.http import make_session
from pipeline.watcher import FeedWatcher, WatchPolicy
from storage.files.store import Store
from tests.conftest import FeedServer, Route, rss

LONG = "Lawmakers debated AI safety rules at length. " * 12  # over the snippet limit: no page fetch


@dataclass
class RecordingPipeline:
    """Stands in for the model: records each item and can raise a clash for chosen titles."""

    items: list[FeedItem] = field(default_factory=list)
    clash_titles: set[str] = field(default_factory=set)
    gate: asyncio.Event | None = None

    async def analyse(self, item: FeedItem) -> ArticleOutcome:
        if self.gate is not None:
            await self.gate.wait()
        self.items.append(item)
        report = ArticleReport(item.url, item.title, "en", relevant=True, summary=f"Summary of {item.title}.")
        if item.title in self.clash_titles:
            report.clashes.append(clash_for(item))
        return ArticleOutcome(report, Article(item.identity, item.url, feed=item.feed_url, title=item.title))

    @property
    def titles(self) -> list[str]:
        return [i.title for i in self.items]


def clash_for(item: FeedItem) -> Clash:
    return Clash(
        person_id="elon-musk",
        person="Elon Musk",
        question_id="pause-frontier-ai",
        question="Should frontier AI development be paused?",
        position_id="musk-pause",
        position_claim="Signed the pause letter.",
        position_date="2023-03-22",
        position_source="https://futureoflife.org/open-letter/pause-giant-ai-experiments/",
        statement=f"{item.title}.",
        statement_quote="",
        article_url=item.url,
        article_title=item.title,
        article_date=item.published,
        verdict="inconsistent",
        confidence=0.9,
        reason="Buying GPUs contradicts a pause.",
        model="test",
        prompt_version="test",
    )


@dataclass
class Rig:
    server: FeedServer
    store: Store
    session: aiohttp.ClientSession
    pipeline: RecordingPipeline
    policy: WatchPolicy
    notices: list[tuple[str, str]] = field(default_factory=list)

    def watcher(self) -> FeedWatcher:
        async def on_report(item: FeedItem, report: ArticleReport) -> None:
            return None

        async def on_notice(url: str, reason: str) -> None:
            self.notices.append((url, reason))

        return FeedWatcher(
            self.store,
            self.pipeline,  # type: ignore[arg-type]
            self.session,
            on_report,
            allow_private=True,
            policy=self.policy,
            on_notice=on_notice,
            rng=random.Random(7),
        )

    def add(self, path: str, route: Route) -> str:
        self.server.routes[path] = route
        url = self.server.url(path)
        if self.store.feed(url) is None:
            self.store.save_feed(Feed(url=url, key=url))
        return url

    async def poll(self, watcher: FeedWatcher | None = None) -> dict[str, str]:
        """Poll every feed once and wait for the workers; returns each feed's error ('' when fine)."""
        w = watcher or self.watcher()
        results = await w.poll_all()
        await w.drain()
        if watcher is None:
            await w.stop()
        return {r.url: r.error for r in results}


@pytest.fixture
async def rig(feed_server: FeedServer, tmp_path: Path) -> AsyncIterator[Rig]:
    store = Store.open(tmp_path / "data", seed=False)
    async with make_session(allow_private=True, timeout_s=2) as session:
        r = Rig(feed_server, store, session, RecordingPipeline(), WatchPolicy(interval_s=600))
        r.add("/control", Route(rss(("c1", "Control one", LONG))))
        yield r
    store.close()


async def control_kept_going(rig: Rig) -> None:
    rig.server.routes["/control"] = Route(rss(("c2", "Control two", LONG), ("c1", "Control one", LONG)))
    errors = await rig.poll()
    assert errors[rig.server.url("/control")] == ""
    assert "Control two" in rig.pipeline.titles


def item(guid: str, title: str, text: str = LONG) -> tuple[str, str, str]:
    return (guid, title, text)


def linked(guid: str, title: str) -> tuple[str, str, str, str]:
    return (guid, title, LONG, f"http://example.com/story/{title}")


# -- identity and deduplication -------------------------------------------------------


async def test_first_fetch_records_everything_and_posts_nothing(rig: Rig) -> None:
    url = rig.add("/big", Route(rss(*(item(f"g{i}", f"Item {i}") for i in range(200)))))
    errors = await rig.poll()
    assert errors[url] == ""
    assert rig.pipeline.items == []
    assert all(rig.store.seen(f"link:http://example.com/g{i}") for i in range(200))
    await control_kept_going(rig)


async def test_first_fetch_can_post_the_newest_n(rig: Rig) -> None:
    rig.policy = WatchPolicy(initial_items=3)
    rig.add("/big", Route(rss(*(item(f"g{i}", f"Item {i}") for i in range(200)))))
    await rig.poll()
    assert sorted(rig.pipeline.titles) == ["Control one", "Item 0", "Item 1", "Item 2"]
    assert rig.pipeline.titles.index("Item 2") < rig.pipeline.titles.index("Item 0")  # oldest first


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        # missing guid: the link is the identity
        ([item("", "A"), item("", "B")], [item("", "C"), item("", "A"), item("", "B")], ["C"]),
        # repeated guids: guids are not trusted, links are
        ([linked("x", "A"), linked("x", "B")], [linked("x", "C"), linked("x", "A"), linked("x", "B")], ["C"]),
        # every guid changed, same links: nothing new
        ([linked("a", "A"), linked("b", "B")], [linked("a2", "A"), linked("b2", "B")], []),
        # edited item (same guid, new title and body) and reordered items: nothing new
        ([item("a", "A"), item("b", "B")], [item("b", "B"), item("a", "A edited", LONG + " Update.")], []),
    ],
    ids=["missing-guid", "repeated-guid", "all-guids-changed", "edited-and-reordered"],
)
async def test_identity_cases(rig: Rig, before: list[Any], after: list[Any], expected: list[str]) -> None:
    url = rig.add("/f", Route(rss(*before)))
    await rig.poll()
    rig.server.routes["/f"] = Route(rss(*after))
    errors = await rig.poll()
    assert errors[url] == ""
    assert [t for t in rig.pipeline.titles if not t.startswith("Control")] == expected
    await control_kept_going(rig)


async def test_tracking_parameters_do_not_make_an_item_new(rig: Rig) -> None:
    def feed(query: str) -> bytes:
        return (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>A</title>'
            f"<link>https://News.example.com/a?id=1&amp;{query}#top</link><description>{LONG}</description>"
            "</item></channel></rss>"
        ).encode()

    url = rig.add("/f", Route(feed("utm_source=rss&amp;utm_medium=feed")))
    await rig.poll()
    rig.server.routes["/f"] = Route(feed("fbclid=abc&amp;gclid=x&amp;xtor=RSS-1"))
    assert (await rig.poll())[url] == ""
    assert rig.store.seen("link:https://news.example.com/a?id=1")
    assert "A" not in rig.pipeline.titles


async def test_same_article_through_two_feeds_is_processed_once(rig: Rig) -> None:
    rig.add("/one", Route(rss()))
    rig.add("/two", Route(rss()))
    await rig.poll()
    rig.server.routes["/one"] = Route(rss(item("guid-one", "Shared story")))  # links http://example.com/guid-one
    rig.server.routes["/two"] = Route(  # its own guid, the same article behind a tracking link
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><guid>other-9</guid>'
        "<title>Shared story</title><link>http://EXAMPLE.com/guid-one?utm_source=two</link>"
        f"<description>{LONG}</description></item></channel></rss>".encode()
    )
    await rig.poll()
    assert rig.pipeline.titles.count("Shared story") == 1


async def test_cap_on_new_items_records_the_excess(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    rig.policy = WatchPolicy(max_new_per_poll=20)
    url = rig.add("/f", Route(rss(item("old", "Old"))))
    await rig.poll()
    rig.server.routes["/f"] = Route(rss(*(item(f"n{i}", f"New {i}") for i in range(30)), item("old", "Old")))
    with caplog.at_level(logging.WARNING):
        await rig.poll()
    assert len([t for t in rig.pipeline.titles if t.startswith("New")]) == 20
    assert all(rig.store.seen(f"link:http://example.com/n{i}") for i in range(30))
    assert any("10 new items over the cap of 20" in r.getMessage() and url in r.getMessage() for r in caplog.records)


async def test_clash_reaches_the_outbox_once_across_a_restart(rig: Rig, tmp_path: Path) -> None:
    url = rig.add("/f", Route(rss()))
    rig.store.add_subscription(Subscription(channel_id=42, guild_id=1, receive="both"))
    await rig.poll()
    rig.pipeline.clash_titles = {"Musk buys GPUs"}
    rig.server.routes["/f"] = Route(rss(item("gpu", "Musk buys GPUs")))
    await rig.poll()
    kinds = sorted(p["kind"] for _, channel, p in rig.store.pending() if channel == 42)
    assert kinds == ["clash", "summary"]
    rig.store.close()
    rig.store = Store.open(tmp_path / "data", seed=False)  # a restart
    await rig.poll()
    assert rig.pipeline.titles.count("Musk buys GPUs") == 1
    assert sum(1 for _, _, p in rig.store.pending() if p["kind"] == "clash") == 1
    assert rig.store.feed(url) is not None


async def test_items_accepted_before_a_crash_are_processed_after_it(rig: Rig, tmp_path: Path) -> None:
    rig.add("/f", Route(rss()))
    await rig.poll()
    rig.server.routes["/f"] = Route(rss(item("n1", "While busy")))
    rig.pipeline.gate = asyncio.Event()  # the model never finishes: the process "dies" mid-article
    watcher = rig.watcher()
    await watcher.poll_all()
    await watcher.stop()
    assert rig.pipeline.titles == []
    rig.store.close()
    rig.store = Store.open(tmp_path / "data", seed=False)  # restart: the inbox survived on disk
    rig.pipeline.gate = None
    restarted = rig.watcher()
    await restarted.start()
    await restarted.drain()
    await restarted.stop()
    assert rig.pipeline.titles == ["While busy"]
    rig.server.routes["/f"] = Route(rss(item("n2", "While down"), item("n1", "While busy")))
    await rig.poll()  # published while the bot was down: processed on the next poll
    assert rig.pipeline.titles == ["While busy", "While down"]


# -- dates and encodings --------------------------------------------------------------


async def test_dates_date_only_missing_and_future(rig: Rig) -> None:
    rig.policy = WatchPolicy(initial_items=10)
    soon = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 3600))  # clock skew, not a forgery
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        "<item><guid>d</guid><title>Date only</title><pubDate>2026-11-20</pubDate>"
        f"<description>{LONG}</description></item>"
        f"<item><guid>m</guid><title>Missing</title><description>{LONG}</description></item>"
        f"<item><guid>f</guid><title>Future</title><pubDate>{soon}</pubDate>"
        f"<description>{LONG}</description></item>"
        f"<item><guid>k</guid><title>German</title><pubDate>Mo, 23 Nov 2026 10:00:00 +0100</pubDate>"
        f"<description>{LONG}</description></item>"
        "</channel></rss>"
    ).encode()
    rig.add("/d", Route(feed))
    before = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
    await rig.poll()
    dates = {i.title: i.published for i in rig.pipeline.items}
    assert dates["Date only"] == "2026-11-20T00:00:00Z"
    assert dates["Missing"] == ""
    assert before <= dates["Future"] <= time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    assert dates["German"] == "2026-11-23T09:00:00Z"


@pytest.mark.parametrize(
    ("body", "content_type", "title"),
    [
        (
            rss(item("k", "머스크, AI 규제 법안에 반대"), encoding="euc-kr"),
            "application/rss+xml",
            "머스크, AI 규제 법안에 반대",
        ),
        (rss(item("k", "똠방각하 인공지능"), encoding="cp949"), "text/xml; charset=utf-8", "똠방각하 인공지능"),
        (
            rss(item("k", "Регулирование ИИ"), encoding="koi8-r", prolog=False),
            "text/xml; charset=koi8-r",
            "Регулирование ИИ",
        ),
        (rss(item("k", "Café politique IA")), "text/xml; charset=iso-8859-1", "Café politique IA"),
    ],
    ids=["euc-kr-prolog-only", "header-says-utf8-bytes-cp949", "koi8-r-header", "header-latin1-prolog-utf8"],
)
async def test_encodings(rig: Rig, body: bytes, content_type: str, title: str) -> None:
    rig.policy = WatchPolicy(initial_items=1)
    rig.add("/enc", Route(body, headers={"Content-Type": content_type}))
    await rig.poll()
    assert title in rig.pipeline.titles


async def test_gzip_feed(rig: Rig) -> None:
    rig.policy = WatchPolicy(initial_items=1)
    body = gzip.compress(rss(item("z", "Zipped")))
    rig.add("/gz", Route(body, headers={"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"}))
    await rig.poll()
    assert "Zipped" in rig.pipeline.titles


# -- fetching: redirects, errors, politeness ------------------------------------------


async def test_301_moves_the_feed_and_its_subscriptions_302_does_not(rig: Rig) -> None:
    old = rig.add("/old", Route(b"", 301, {"Location": "/mid"}))
    rig.server.routes["/mid"] = Route(b"", 308, {"Location": "/new"})
    rig.server.routes["/new"] = Route(rss(item("a", "A")))
    rig.store.add_subscription(Subscription(channel_id=5, guild_id=1, target_kind="feed", target=old))
    temp = rig.add("/temp", Route(b"", 302, {"Location": "/new2"}))
    rig.server.routes["/new2"] = Route(rss(item("b", "B")))
    await rig.poll()
    new = rig.server.url("/new")
    assert rig.store.feed(old) is None and rig.store.feed(new) is not None
    assert [s.target for s in rig.store.subscriptions(5)] == [new]
    assert rig.store.feed(temp) is not None and rig.store.feed(rig.server.url("/new2")) is None
    rig.server.routes["/new"] = Route(rss(item("c", "C"), item("a", "A")))
    await rig.poll()  # guid identities survived the move: only C is new
    assert [t for t in rig.pipeline.titles if not t.startswith("Control")] == ["C"]


@pytest.mark.parametrize(
    ("route", "message"),
    [
        (Route(b"", 301, {"Location": "/bad"}), "redirected more than 10 times"),
        (Route(b"<rss>" + b"x" * (15 * 1024 * 1024), parser="feedparser"), "larger than the 10 MiB limit"),
        (Route(b"\x00\x01\x02 binary garbage <<<"), "not a readable RSS, Atom or JSON feed"),
        (
            Route(b'<!doctype html><html><head><link rel="alternate" type="application/rss+xml" href="/rss"></head>'),
            "is an HTML page, not a feed. It links a feed at",
        ),
        (Route(b"", status=0), "did not answer in time"),
        (Route(b"Server error", status=500), "answered HTTP 500"),
    ],
    ids=["redirect-loop", "15-mib-body", "not-xml", "html-page", "slow-server", "http-500"],
)
async def test_failures_are_recorded_and_other_feeds_keep_going(rig: Rig, route: Route, message: str) -> None:
    url = rig.add("/bad", route)
    errors = await rig.poll()
    assert message in errors[url]
    feed = rig.store.feed(url)
    assert feed is not None and feed.failures == 1 and message in feed.last_error
    await control_kept_going(rig)


async def test_malformed_xml_is_recovered_not_lost(rig: Rig) -> None:
    rig.policy = WatchPolicy(initial_items=5)
    broken = f"<rss><channel><item><title>Fish & Chips AI</title><description>{LONG}<b>unclosed</description>"
    rig.add("/broken", Route(broken.encode(), parser="feedparser"))
    await rig.poll()
    assert any(t.startswith("Fish") for t in rig.pipeline.titles)


async def test_retry_after_and_max_age_set_the_next_poll(rig: Rig) -> None:
    busy = rig.add("/busy", Route(b"slow down", 429, {"Retry-After": "7200"}))
    cached = rig.add("/cached", Route(rss(item("a", "A")), headers={"Cache-Control": "max-age=3000"}))
    capped = rig.add("/capped", Route(rss(item("b", "B")), headers={"Cache-Control": "public, max-age=999999"}))
    now = time.time()
    errors = await rig.poll()
    done = time.time()  # bounds from both ends of the poll: a slow machine widens the window, never breaks it
    assert "HTTP 429" in errors[busy]
    feeds = {f.url: f for f in rig.store.feeds()}
    assert feeds[busy].next_poll >= now + 7200
    assert now + 3000 <= feeds[cached].next_poll <= done + 3600
    assert now + 3600 <= feeds[capped].next_poll <= done + 3600
    polled = await rig.watcher().poll_due(now + 3700)  # the sweeper skips the busy feed until its time
    assert busy not in {r.url for r in polled} and cached in {r.url for r in polled}


async def test_backoff_grows_then_pauses_with_one_notice_per_channel(rig: Rig) -> None:
    rig.policy = WatchPolicy(interval_s=600, pause_after=4)
    url = rig.add("/down", Route(b"oops", status=500))
    rig.store.add_subscription(Subscription(channel_id=7, guild_id=1, target_kind="feed", target=url))
    rig.store.add_subscription(Subscription(channel_id=8, guild_id=1))  # "everything" follows every feed
    rig.store.add_subscription(Subscription(channel_id=9, guild_id=1, target_kind="person", target="elon-musk"))
    delays = []
    for _ in range(4):
        started = time.time()
        watcher = rig.watcher()
        await watcher.poll(url)
        ended = time.time()
        feed = rig.store.feed(url)
        assert feed is not None
        delays.append((feed.next_poll - ended, feed.next_poll - started))  # the delay lies between the two
    assert all(a[1] < b[0] for a, b in itertools.pairwise(delays)) and delays[3][1] <= 24 * 3600
    assert delays[0][1] >= 600 * 0.8 and delays[0][0] <= 600 and delays[3][1] >= 600 * 8 * 0.8
    feed = rig.store.feed(url)
    assert feed is not None and feed.paused and "HTTP 500" in feed.last_error
    notices = [(channel, from_payload(p)) for _, channel, p in rig.store.pending() if p["kind"] == "feed_paused"]
    assert sorted(channel for channel, _ in notices) == [7, 8]
    assert all(
        message == FeedPaused(url, f"it failed 4 times in a row; last error: {feed.last_error}")
        for _, message in notices
    )
    assert all("/manage-feeds resume" in (embed_for(message).description or "") for _, message in notices)
    assert rig.notices == [(url, feed.last_error)]
    assert url not in {r.url for r in await rig.watcher().poll_all()}  # paused feeds are not polled
    assert len([1 for _, _, p in rig.store.pending() if p["kind"] == "feed_paused"]) == 2  # never twice


async def test_conditional_get_and_user_agent(rig: Rig) -> None:
    url = rig.add("/etag", Route(rss(item("a", "A")), etag='"v1"'))
    await rig.poll()
    await rig.poll()
    sent = [headers for path, headers in rig.server.requests if path == "/etag"]
    assert "If-None-Match" not in sent[0]
    assert sent[1]["If-None-Match"] == '"v1"'
    assert sent[0]["User-Agent"].startswith("Stancewatch/")
    feed = rig.store.feed(url)
    assert feed is not None and feed.failures == 0 and feed.etag == '"v1"'


async def test_per_host_limit_holds_with_many_feeds(rig: Rig) -> None:
    for i in range(12):
        rig.add(f"/many{i}", Route(rss(item(f"m{i}", f"M{i}"))))
    await rig.poll()
    assert rig.server.most_in_flight <= 2


async def test_snippet_feed_fetches_the_article_page(rig: Rig) -> None:
    rig.policy = WatchPolicy(initial_items=2)
    page = (
        "<html><head><title>Story</title></head><body><nav>Menu Home About</nav><article><h1>Story</h1>"
        + "".join(f"<p>Paragraph {i}: the senator said frontier AI needs a licence regime.</p>" for i in range(12))
        + "</article><footer>Copyright</footer></body></html>"
    )
    rig.server.routes["/story"] = Route(page.encode(), headers={"Content-Type": "text/html; charset=utf-8"})
    snippet_feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        f"<item><guid>s</guid><title>Snippet</title><link>{rig.server.url('/story')}</link>"
        "<description>Short teaser.</description></item>"
        f"<item><guid>g</guid><title>Gone</title><link>{rig.server.url('/missing')}</link>"
        "<description>Teaser of a page that is gone.</description></item></channel></rss>"
    ).encode()
    rig.add("/snip", Route(snippet_feed))
    await rig.poll()
    texts = {i.title: i.text for i in rig.pipeline.items}
    assert "Paragraph 11" in texts["Snippet"] and "Menu Home" not in texts["Snippet"]
    assert texts["Gone"] == "Teaser of a page that is gone."  # extraction failed: the feed's text is kept


async def test_a_hostile_feed_is_that_feed_s_failure_and_the_sweep_finishes(rig: Rig) -> None:
    """Exceptions other than FeedError (a bad Retry-After, a broken redirect, a lone surrogate) once escaped the
    sweep: the feed never backed off and was refetched on every sweep."""
    hostile = [
        rig.add("/retry", Route(b"busy", 429, {"Retry-After": "\u00b2"})),
        rig.add("/redirect", Route(b"", 301, {"Location": "http://[::1"})),
        rig.add("/surrogate", Route(rss(("s1", "Bad &#55296; title", LONG)), parser="feedparser")),
    ]
    for round_number in (1, 2):
        errors = await rig.poll()
        assert errors[rig.server.url("/control")] == ""
        for url in hostile:
            feed = rig.store.feed(url)
            assert feed is not None
            if errors[url]:
                assert feed.failures == round_number and feed.next_poll > time.time()
    assert all(errors[url] for url in hostile[:2])
    await control_kept_going(rig)


KOREAN_PAGE = (
    "<html><head>{meta}<title>기사</title></head><body><article><h1>머스크의 GPU</h1>"
    + "".join(
        f"<p>{i}. 일론 머스크가 AI 개발 중단 서한에 서명한 지 몇 주 만에 트위터가 GPU 약 1만 개를 구입했다.</p>"
        for i in range(12)
    )
    + "</article></body></html>"
)


@pytest.mark.parametrize(
    ("codec", "header", "meta"),
    [
        ("euc-kr", "text/html; charset=euc-kr", ""),
        ("cp949", "text/html; charset=EUC-KR", ""),
        ("euc-kr", "text/html", '<meta charset="euc-kr">'),
        ("euc-kr", "text/html", '<meta http-equiv="Content-Type" content="text/html; charset=euc-kr">'),
        ("euc-kr", "text/html", ""),  # nothing declared: the bytes decide
        ("utf-8", "text/html", ""),
    ],
)
async def test_korean_article_pages_are_decoded_by_their_charset(rig: Rig, codec: str, header: str, meta: str) -> None:
    """Once decoded as UTF-8 only: 583 replacement characters and no Hangul replaced the feed's teaser."""
    rig.policy = WatchPolicy(initial_items=2)
    rig.server.routes["/ko"] = Route(KOREAN_PAGE.format(meta=meta).encode(codec), headers={"Content-Type": header})
    feed = rss(("k", "머스크", "짧은 요약.", rig.server.url("/ko")))
    rig.add("/kofeed", Route(feed))
    await rig.poll()
    [text] = [i.text for i in rig.pipeline.items if i.title == "머스크"]
    assert "트위터가 GPU 약 1만 개를 구입했다" in text and "\ufffd" not in text


# -- item 11 of issue 22: one slow feed holds nothing ---------------------------------------------


async def until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Wait until ``condition()`` holds (a hang guard, never a timing assertion)."""
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


async def test_a_poll_has_one_deadline_for_every_hop_and_the_body(rig: Rig) -> None:
    """Before: ten hops answered just inside each request's time-out kept one poll busy for over two minutes."""
    for hop in range(10):
        rig.server.routes[f"/hop{hop}"] = Route(b"", status=302, headers={"Location": f"/hop{hop + 1}"}, delay=0.4)
    url = rig.add("/hop0", Route(b"", status=302, headers={"Location": "/hop1"}, delay=0.4))
    rig.policy = dataclasses.replace(rig.policy, poll_deadline_s=1.0)
    errors = await rig.poll()
    assert errors[url] == f"{url} took longer than 1 s (redirects and body together)."
    assert rig.server.hits.get("/hop5", 0) == 0  # given up long before the chain's end
    await control_kept_going(rig)


async def test_a_sweep_never_waits_for_a_slow_feed(rig: Rig) -> None:
    slow = rig.add("/slow", Route(rss(("s1", "Slow one", LONG)), delay=30))
    watcher = rig.watcher()
    assert await watcher.sweep(now=float("inf")) == 2  # the control feed and the slow one, started, not awaited
    control = rig.server.url("/control")
    await until(lambda: rig.server.hits.get("/control", 0) == 1 and control not in watcher._polling)
    rig.server.routes["/control"] = Route(rss(("c2", "Control two", LONG), ("c1", "Control one", LONG)))
    known = rig.store.feed(control)
    assert known is not None
    rig.store.save_feed(dataclasses.replace(known, next_poll=0))
    assert await watcher.sweep() == 1  # the control feed again; the slow one is still in flight
    await until(lambda: "Control two" in rig.pipeline.titles)
    assert rig.server.hits["/slow"] == 1 and slow in watcher._polling
    await watcher.stop()


# Feeds as the world serves them (tests/feeds/), served through the whole watcher.

FEEDS = Path(__file__).parent / "feeds"


def served(rig: Rig, name: str) -> bytes:
    """A fixture document with its article links pointing at the test server under their own public names."""
    text = (FEEDS / name).read_text(encoding="utf-8")
    for host in ("news.example.com", "git.example.org", "press.example.org", "social.example.org"):
        text = text.replace(f"https://{host}/", f"http://{host}:{rig.server.port}/")
    return text.encode()


def press_releases(numbers: range) -> bytes:
    """A press office's feed that appends at the bottom: release N published on 1 November plus N hours."""
    items = "".join(
        f"<item><title>Release {n}</title><link>https://press.example.org/r/{n}</link><guid>r{n}</guid>"
        f"<pubDate>Sun, 01 Nov 2026 {n:02d}:00:00 GMT</pubDate><description>{LONG}</description></item>"
        for n in numbers
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Press</title>{items}</channel></rss>'.encode()


async def test_an_oldest_first_feed_posts_its_newest_items(rig: Rig) -> None:
    rig.policy = WatchPolicy(initial_items=2)
    rig.add("/press", Route(served(rig, "oldest-first.rss")))
    await rig.poll()
    assert sorted(t for t in rig.pipeline.titles if t.startswith("Release")) == ["Release 4", "Release 5"]

    rig.policy = WatchPolicy(initial_items=2, max_new_per_poll=3)
    rig.add("/office", Route(press_releases(range(1, 6))))
    await rig.poll()  # first fetch: the two newest
    rig.server.routes["/office"] = Route(press_releases(range(1, 11)))  # five new ones, at the bottom
    await rig.poll()
    office = [t for t in rig.pipeline.titles if t.startswith("Release") and t not in {"Release 4", "Release 5"}]
    assert office[-3:] == ["Release 8", "Release 9", "Release 10"]  # the newest three, posted oldest first
    assert "Release 6" not in office and "Release 7" not in office  # over the cap: seen, never posted
    assert rig.store.seen("guid:" + hashlib.sha256(rig.server.url("/office").encode()).hexdigest()[:12] + ":r6")


async def test_two_alert_feeds_with_one_article_process_it_once_from_the_article_page(rig: Rig) -> None:
    rig.policy = WatchPolicy(initial_items=1)
    page = f"<html><body><article><p>{LONG * 2}</p></article></body></html>"
    rig.server.routes["/ai-bill"] = Route(page.encode())
    rig.add("/alerts-1", Route(served(rig, "google-alerts-1.atom")))
    rig.add("/alerts-2", Route(served(rig, "google-alerts-2.atom")))
    await rig.poll()
    [item] = [i for i in rig.pipeline.items if "AI bill" in i.title]
    assert item.url == f"http://news.example.com:{rig.server.port}/ai-bill"
    assert rig.server.hits.get("/ai-bill") == 1 and rig.server.hits.get("/url") is None  # never the redirector


async def test_a_snippet_link_with_character_references_fetches_the_right_page(rig: Rig) -> None:
    rig.policy = WatchPolicy(initial_items=2)
    rig.server.routes["/linux/commit/"] = Route(b"<html><body><p>" + LONG.encode() + b"</p></body></html>")
    rig.add("/cgit", Route(served(rig, "cgit-commits.atom")))
    await rig.poll()
    assert sorted(rig.server.queries["/linux/commit/"]) == ["id=135f0a2e&h=main", "id=9a8b7c6d&h=main&ofs=50"]
    assert all(i.url.count("&amp;") == 0 for i in rig.pipeline.items)


async def test_an_untitled_post_reaches_the_card_with_a_title_and_its_link(rig: Rig) -> None:
    rig.policy = WatchPolicy(initial_items=2)
    rig.add("/jane", Route(served(rig, "mastodon.rss")))
    await rig.poll()
    post = next(i for i in rig.pipeline.items if "frontier AI" in i.text)
    assert post.title.startswith("We will not support any pause on frontier AI research.")
    embed = embed_for(ArticleSummary(post.title, post.url, "Jane says her lab ordered GPUs."))
    assert embed.title and embed.url == post.url
    untitled = embed_for(ArticleSummary("", post.url, "A summary."))  # a row stored before titles were made
    assert untitled.title == "social.example.org/@jane/113456789012345678" and untitled.url == post.url


async def test_items_naming_a_tracked_person_are_processed_first(rig: Rig) -> None:
    from domain.records import Person

    rig.store.add_person(Person("elon-musk", "Elon Musk"))
    rig.policy = dataclasses.replace(rig.policy, workers=1)
    watcher = rig.watcher()
    rig.add("/news", Route(rss(item("old", "Old story"))))
    await rig.poll(watcher)  # the first fetch marks what is there as seen
    rig.server.routes["/news"] = Route(
        rss(item("n3", "Elon Musk buys GPUs"), item("n2", "Rail strike"), item("n1", "Council budget"))
    )
    rig.pipeline.items.clear()
    await rig.poll(watcher)
    assert rig.pipeline.titles[0] == "Elon Musk buys GPUs"  # published last, processed first
    assert sorted(rig.pipeline.titles[1:]) == ["Council budget", "Rail strike"]
    await watcher.stop()


async def test_the_next_poll_follows_the_feeds_learned_cadence(rig: Rig) -> None:
    """Polled at the base interval until learned; a feed that publishes at every poll comes down to the floor."""
    watcher = rig.watcher()
    url = rig.add("/busy", Route(rss(item("b0", "Busy 0"))))
    await rig.poll(watcher)
    first = rig.store.feed(url)
    assert first is not None and first.cadence_s == 0 and first.next_poll - time.time() > 0.85 * 600
    for n in range(1, 4):
        rig.server.routes["/busy"] = Route(rss(*(item(f"b{k}", f"Busy {k}") for k in range(n + 1))))
        await rig.poll(watcher)
    learned = rig.store.feed(url)
    assert learned is not None and 0 < learned.cadence_s < 60  # polled seconds apart here
    assert learned.next_poll - time.time() == pytest.approx(rig.policy.floor_s, rel=0.15)
    await watcher.stop()


async def test_the_watcher_schedules_on_the_clock_it_is_given(rig: Rig) -> None:
    """A benchmark replays a day on a clock of its own: polls are leased and scheduled on that clock."""
    day = 1_900_000_000.0
    watcher = FeedWatcher(
        rig.store, rig.pipeline, rig.session, None, allow_private=True,  # type: ignore[arg-type]
        policy=rig.policy, rng=random.Random(1), clock=lambda: day,
    )  # fmt: skip
    [result] = await watcher.poll_due()
    polled = rig.store.feed(result.url)
    assert polled is not None and day + 0.85 * 600 < polled.next_poll < day + 1.15 * 600
    assert await watcher.poll_due() == []  # not due again on that clock
    await watcher.stop()
