"""Fetching and parsing through a real aiohttp server on 127.0.0.1."""

import gzip

import pytest

from pipeline.feeds import FeedError, canonical_link, fetch, make_session, parse_feed
from pipeline.netguard import UnsafeURLError, check_url
from pipeline.people import mentioned_people, sentences_naming
from storage.records import Person
from tests.conftest import FeedServer, Route, rss


async def test_fetch_and_parse_rss(feed_server: FeedServer) -> None:
    feed_server.routes["/feed"] = Route(rss(("a", "AI law", "Text"), ("b", "Other", "More")))
    async with make_session(allow_private=True) as session:
        fetched = await fetch(session, feed_server.url("/feed"), allow_private=True)
    items = parse_feed(fetched.body, fetched.url)
    assert [i.title for i in items] == ["AI law", "Other"]
    assert items[0].identity == "guid:a"


async def test_private_addresses_are_refused_unless_allowed(feed_server: FeedServer) -> None:
    feed_server.routes["/feed"] = Route(rss(("a", "t", "d")))
    async with make_session(allow_private=False) as session:
        with pytest.raises(FeedError, match="private or local"):
            await fetch(session, feed_server.url("/feed"), allow_private=False)
    assert feed_server.hits.get("/feed") is None


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/feed", "http://10.0.0.1/feed", "http://169.254.169.254/latest", "http://[::1]/", "nonsense"],
)
def test_check_url_refuses(url: str) -> None:
    with pytest.raises(UnsafeURLError):
        check_url(url, allow_private=False)


async def test_redirect_to_private_host_is_refused(feed_server: FeedServer) -> None:
    feed_server.routes["/hop"] = Route(b"", 302, {"Location": "http://169.254.169.254/meta"})
    async with make_session(allow_private=False) as session:
        with pytest.raises(FeedError, match="private or local"):
            # Only the first hop is allowed (the test server itself); the redirect target is checked again.
            await fetch(session, feed_server.url("/hop"), allow_private=False)


async def test_redirect_loop_stops(feed_server: FeedServer) -> None:
    feed_server.routes["/loop"] = Route(b"", 301, {"Location": "/loop"})
    async with make_session(allow_private=True) as session:
        with pytest.raises(FeedError, match="redirected more than 10 times"):
            await fetch(session, feed_server.url("/loop"), allow_private=True)


async def test_body_size_cap(feed_server: FeedServer) -> None:
    feed_server.routes["/big"] = Route(b"x" * (2 * 1024 * 1024))
    async with make_session(allow_private=True) as session:
        with pytest.raises(FeedError, match="larger than the 1 MiB limit"):
            await fetch(session, feed_server.url("/big"), allow_private=True, max_bytes=1024 * 1024)


async def test_gzip_body(feed_server: FeedServer) -> None:
    feed_server.routes["/gz"] = Route(gzip.compress(rss(("a", "t", "d"))), headers={"Content-Encoding": "gzip"})
    async with make_session(allow_private=True) as session:
        fetched = await fetch(session, feed_server.url("/gz"), allow_private=True)
    assert parse_feed(fetched.body, fetched.url)[0].title == "t"


def test_euc_kr_declared_in_prolog() -> None:
    items = parse_feed(rss(("k", "머스크 AI 규제", "인공지능 정책"), encoding="euc-kr"), "http://x/feed")
    assert items[0].title == "머스크 AI 규제"


def test_malformed_and_html_are_clear_errors() -> None:
    with pytest.raises(FeedError, match="is not a readable RSS or Atom feed"):
        parse_feed(b"\x00\x01 this is no XML <<<", "http://x/feed")
    # A truncated feed keeps what could be recovered rather than losing it.
    assert [i.title for i in parse_feed(b"<rss><channel><item><title>cut</title>", "http://x/feed")] == ["cut"]
    with pytest.raises(FeedError, match="is not"):
        parse_feed(b"<!doctype html><html><body><p>Hello</p></body></html>", "http://x/page")


def test_repeated_guids_fall_back_to_links() -> None:
    items = parse_feed(rss(("same", "one", "d"), ("same", "two", "d")), "http://x/feed")
    assert all(i.identity.startswith("link:") for i in items)


def test_canonical_link_drops_tracking() -> None:
    assert canonical_link("HTTPS://Example.COM/a?utm_source=x&id=3&fbclid=y#top") == "https://example.com/a?id=3"


def test_alias_matching_in_korean_and_english() -> None:
    musk = Person("elon-musk", "Elon Musk", ["Musk", "머스크", "일론 머스크"])
    assert mentioned_people("일론 머스크는 GPU를 샀다.", [musk]) == [musk]
    assert mentioned_people("Muskrat habitats are shrinking.", [musk]) == []
    assert sentences_naming("AI news. 머스크가 서명했다. 다른 문장.", musk) == ["머스크가 서명했다."]
