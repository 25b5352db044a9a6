"""Fetching and parsing through a real aiohttp server, reached under public-looking names (``tests.public_dns``)."""

import calendar
import contextlib
import gzip

import pytest

from benchmarks.feed_conformance import CASES, Case, stancewatch_field
from domain.errors import FeedError
from domain.names import mentioned_people, sentences_naming
from domain.records import Person
from ingest.dates import parse_date
from ingest.encoding import decode
from ingest.http import fetch, make_session
from ingest.links import canonical_link
from ingest.netguard import UnsafeURLError, check_url, is_public
from ingest.parse import MAX_ITEMS, parse_document, parse_feed
from tests.conftest import FeedServer, Route, rss


async def test_fetch_and_parse_rss(feed_server: FeedServer) -> None:
    feed_server.routes["/feed"] = Route(rss(("a", "AI law", "Text"), ("b", "Other", "More")))
    async with make_session(allow_private=True) as session:
        fetched = await fetch(session, feed_server.url("/feed"), allow_private=True)
    items = parse_feed(fetched.body, fetched.url)
    assert [i.title for i in items] == ["AI law", "Other"]
    assert items[0].identity.startswith("guid:") and items[0].identity.endswith(":a")


async def test_a_public_name_that_resolves_to_loopback_is_refused_unless_allowed(feed_server: FeedServer) -> None:
    feed_server.routes["/feed"] = Route(rss(("a", "t", "d")))
    async with make_session(allow_private=False) as session:
        with pytest.raises(FeedError, match="resolves to a private or local address"):
            await fetch(session, feed_server.url("/feed"), allow_private=False)
    assert feed_server.hits.get("/feed") is None


async def test_loopback_addresses_are_refused_unless_allowed_and_read_by_feedparser(feed_server: FeedServer) -> None:
    """The one test served from 127.0.0.1 itself: the guard refuses it, and an allowed one takes the fallback."""
    loopback = f"http://127.0.0.1:{feed_server.port}"
    feed_server.routes["/local"] = Route(rss(("a", "t", "d", f"{loopback}/story")), parser="feedparser")
    async with make_session(allow_private=False) as session:
        with pytest.raises(FeedError, match="private or local address"):
            await fetch(session, f"{loopback}/local", allow_private=False)
    assert feed_server.hits.get("/local") is None
    async with make_session(allow_private=True) as session:
        fetched = await fetch(session, f"{loopback}/local", allow_private=True)
    parsed = parse_document(fetched.body, fetched.url)
    assert (parsed.parser, parsed.reason) == ("feedparser", "links to private hosts")
    assert parsed.items[0].url == f"{loopback}/story"


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
    with pytest.raises(FeedError, match="is not a readable RSS, Atom or JSON feed"):
        parse_feed(b"\x00\x01 this is no XML <<<", "http://x/feed")
    # A truncated feed keeps what could be recovered rather than losing it.
    assert [i.title for i in parse_feed(b"<rss><channel><item><title>cut</title>", "http://x/feed")] == ["cut"]
    with pytest.raises(FeedError, match="is an HTML page, not a feed"):
        parse_feed(b"<!doctype html><html><body><p>Hello</p></body></html>", "http://x/page")


def test_repeated_guids_fall_back_to_links() -> None:
    items = parse_feed(rss(("same", "one", "d", "http://x/1"), ("same", "two", "d", "http://x/2")), "http://x/feed")
    assert [i.identity for i in items] == ["link:http://x/1", "link:http://x/2"]


def test_guids_are_scoped_by_feed() -> None:
    one = parse_feed(rss(("1", "one", "d")), "http://a/feed", scope="http://a/feed")
    two = parse_feed(rss(("1", "other", "d")), "http://b/feed", scope="http://b/feed")
    assert one[0].identity != two[0].identity


FORMATS = {
    "rss091": '<?xml version="1.0"?><rss version="0.91"><channel><title>T</title><link>http://e.com</link>'
    "<item><title>AI bill</title><link>http://e.com/1</link><description>Text</description></item></channel></rss>",
    "rss10": '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
    'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
    '<channel rdf:about="http://e.com"><title>R</title></channel><item rdf:about="http://e.com/1">'
    "<title>AI bill</title><link>http://e.com/1</link><description>Text</description>"
    "<dc:date>2026-11-01</dc:date></item></rdf:RDF>",
    "atom03": '<?xml version="1.0"?><feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>A</title>'
    '<entry><title>AI bill</title><link rel="alternate" type="text/html" href="http://e.com/1"/><id>tag:1</id>'
    "<issued>2026-11-01T10:00:00Z</issued><modified>2026-11-01T10:00:00Z</modified>"
    '<content type="text/html" mode="escaped">&lt;p&gt;Text&lt;/p&gt;</content></entry></feed>',
    "atom10": '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
    '<entry><title>AI bill</title><link href="http://e.com/1"/><id>tag:1</id><updated>2026-11-01T10:00:00Z</updated>'
    '<content type="html">&lt;p&gt;Text&lt;/p&gt;</content></entry></feed>',
    "jsonfeed": '{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": [{"id": "1", '
    '"url": "http://e.com/1", "title": "AI bill", "content_html": "<p>Text</p>", '
    '"date_published": "2026-11-01T10:00:00Z"}]}',
}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_feed_format(name: str) -> None:
    [entry] = parse_feed(FORMATS[name].encode(), "http://e.com/feed")
    assert (entry.title, entry.url, entry.text) == ("AI bill", "http://e.com/1", "Text")


def test_parser_falls_back_when_links_to_local_hosts_are_blanked() -> None:
    # feedparser-rs blanks links to loopback hosts; the fallback keeps them for deployments that allow them.
    [entry] = parse_feed(rss(("g", "t", "d", "http://127.0.0.1:8080/story")), "http://127.0.0.1:8080/feed")
    assert entry.url == "http://127.0.0.1:8080/story"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Sat, 28 Nov 2026 10:00:00 GMT", "2026-11-28T10:00:00Z"),
        ("2026-11-28T19:00:00+09:00", "2026-11-28T10:00:00Z"),
        ("2026-11-20", "2026-11-20T00:00:00Z"),
        ("Mo, 23 Nov 2026 10:00:00 +0100", "2026-11-23T09:00:00Z"),
        ("Thu, 05 mars 2026 10:00:00 +0100", "2026-03-05T09:00:00Z"),
        ("2026년 11월 28일 19:00", "2026-11-28T10:00:00Z"),
        ("2026.11.28 오후 7:00", "2026-11-28T10:00:00Z"),
        ("Sat, 01 Jan 2099 00:00:00 GMT", ""),  # far in the future: no date (only a slight skew is clamped)
        ("", ""),
        ("not a date", ""),
    ],
)
def test_dates(raw: str, expected: str) -> None:
    now = calendar.timegm((2026, 11, 28, 12, 0, 0, 0, 0, 0))
    assert parse_date(raw, now=now) == expected


@pytest.mark.parametrize(
    ("body", "content_type", "codec"),
    [
        ("\ufeff<rss>인공지능</rss>".encode(), "text/xml; charset=iso-8859-1", "utf-8"),  # the BOM wins
        ('<?xml version="1.0" encoding="euc-kr"?><rss>인공지능</rss>'.encode("cp949"), "text/xml", "cp949"),
        (
            '<?xml version="1.0" encoding="euc-kr"?><rss>인공지능</rss>'.encode("cp949"),
            "text/xml; charset=utf-8",
            "cp949",
        ),
        ("<rss>Регулирование</rss>".encode("koi8-r"), "text/xml; charset=koi8-r", "koi8-r"),
        ('<?xml version="1.0" encoding="utf-8"?><rss>Café</rss>'.encode(), "text/xml; charset=iso-8859-1", "utf-8"),
    ],
)
def test_encoding_decisions(body: bytes, content_type: str, codec: str) -> None:
    text, chosen = decode(body, content_type)
    assert chosen == codec
    assert "\ufffd" not in text


def test_canonical_link_drops_tracking() -> None:
    assert canonical_link("HTTPS://Example.COM/a?utm_source=x&id=3&fbclid=y#top") == "https://example.com/a?id=3"


def test_alias_matching_in_korean_and_english() -> None:
    musk = Person("elon-musk", "Elon Musk", ["Musk", "머스크", "일론 머스크"])
    assert mentioned_people("일론 머스크는 GPU를 샀다.", [musk]) == [musk]
    assert mentioned_people("Muskrat habitats are shrinking.", [musk]) == []
    assert sentences_naming("AI news. 머스크가 서명했다. 다른 문장.", musk) == ["머스크가 서명했다."]


@pytest.mark.parametrize(
    "address",
    [
        "100.100.100.200",  # carrier-grade NAT, where some clouds keep their metadata service
        "100.64.0.1",
        "2002:a00:1::",  # 6to4 of 10.0.0.1
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "fec0::1",  # site-local
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b:1::1",  # local-use NAT64
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "169.254.169.254",
        "fe80::1%eth0",
        "fc00::1",
        "192.0.0.1",
        "198.18.0.1",
        "240.0.0.1",
        "224.0.0.1",
        "ff02::1",
        "0.0.0.0",
        "::",
        "not an address",
    ],
)
def test_addresses_that_are_not_globally_routable_are_refused(address: str) -> None:
    assert not is_public(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700::1111", "2002:808:808::", "64:ff9b::808:808"])
def test_public_addresses_pass(address: str) -> None:
    assert is_public(address)


def test_a_huge_feed_is_read_up_to_the_item_cap_without_the_slow_fallback() -> None:
    items = "".join(
        f"<item><guid>g{i}</guid><title>T{i}</title><link>http://e.com/{i}</link></item>" for i in range(20_000)
    )
    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>{items}</channel></rss>'.encode()
    parsed = parse_feed(body, "https://e.com/feed")
    assert len(parsed) == MAX_ITEMS and parsed[0].title == "T0"
    malformed = body.replace(b"<title>T5</title>", b"<title>T5 & broken</title>")  # forces the fallback
    assert len(parse_feed(malformed, "https://e.com/feed")) == MAX_ITEMS


def test_one_bad_link_costs_only_its_own_item() -> None:
    body = rss(("", "Bad", "text", "http://example.c[o.test/"), ("good", "Good", "text"))
    parsed = parse_feed(body, "https://e.com/feed")
    assert [p.title for p in parsed] == ["Bad", "Good"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Mon, 26 January 2004 16:31:00 PT", "2004-01-27T00:31:00Z"),  # named zones once read as UTC
        ("Mon, 26 Jan 2004 16:31:00 ET", "2004-01-26T21:31:00Z"),
        ("Mon, 26 Jan 2004 16:31:00 AT", "2004-01-26T20:31:00Z"),
        ("Mon, 26 Jan 2004 16:31:00 MEST", "2004-01-26T14:31:00Z"),
        ("Mon, 26 Jan 2004 16:31:00 -01:01", "2004-01-26T17:32:00Z"),
        ("Fri, 2006/09/15 08:19:53 EDT", "2006-09-15T12:19:53Z"),  # once read as a Korean date, 13 hours off
        ("2003-12-31T25:14:55Z", ""),  # impossible dates once became real ones
        ("9999-12-31T23:59:59-99:99", ""),
        ("Sun, 99 Jun 2009 12:00:00 GMT", ""),
        ("2003-12-31T10:14:55+zz:00", ""),
        ("2999-01-01T00:00:00Z", ""),  # far in the future: no date, not "now"
        ("Tue, 11 Apr 2023 09:00:00 +0900", "2023-04-11T00:00:00Z"),
        ("2023년 4월 11일 오후 3시 20분", "2023-04-11T06:20:00Z"),
        ("2023.04.11 09:00", "2023-04-11T00:00:00Z"),
    ],
)
def test_feed_dates_as_feedparser_reads_them_or_none(raw: str, expected: str) -> None:
    assert parse_date(raw, now=2_000_000_000) == expected


def test_a_date_slightly_in_the_future_is_clamped_to_now() -> None:
    assert parse_date("2023-04-11T10:00:00Z", now=1681206000) == "2023-04-11T09:40:00Z"


def feed_of(item_xml: str, namespaces: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0" {namespaces}><channel><title>T</title>'
        f"{item_xml}</channel></rss>"
    ).encode()


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("AT&amp;T", "AT&T"),
        ("&#38;", "&"),
        ("Q&amp;A session", "Q&A session"),
        ("<![CDATA[Q&A: AI <rules>]]>", "Q&A: AI"),  # text that looks like a tag is dropped, deliberately
    ],
)
def test_titles_hold_the_text_a_reader_sees(title: str, expected: str) -> None:
    [item] = parse_feed(feed_of(f"<item><title>{title}</title><link>http://e.com/1</link></item>"), "https://e.com/f")
    assert item.title == expected


def test_atom_html_titles_are_unescaped() -> None:
    atom = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title>'
        b'<entry><title type="html">AT&amp;amp;T</title><id>tag:e.com,2023:1</id><link href="/a"/></entry></feed>'
    )
    [item] = parse_feed(atom, "https://e.com/feed")
    assert item.title == "AT&T" and item.url == "https://e.com/a"


@pytest.mark.parametrize("entry_id", ["right", "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a", "tag:e.com,2023:1"])
def test_an_atom_id_that_is_not_a_url_is_never_the_article_url(entry_id: str) -> None:
    atom = (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title>'
        f"<entry><title>No link</title><id>{entry_id}</id></entry></feed>"
    ).encode()
    [item] = parse_feed(atom, "https://blog.example.org/")
    assert item.url == ""


@pytest.mark.parametrize("element", ["dcterms:issued", "dcterms:modified", "dcterms:created"])
def test_dcterms_dates_are_read(element: str) -> None:
    body = feed_of(
        f"<item><title>a</title><link>http://e.com/1</link><{element}>2003-12-31T10:14:55Z</{element}></item>",
        'xmlns:dcterms="http://purl.org/dc/terms/"',
    )
    [item] = parse_feed(body, "https://e.com/f")
    assert item.published == "2003-12-31T10:14:55Z"


def test_namespaced_rss_is_read_not_silently_empty() -> None:
    body = (
        b'<?xml version="1.0"?><r:rss xmlns:r="http://backend.userland.com/rss2" version="2.0"><r:channel>'
        b"<r:title>T</r:title><r:item><r:title>Namespaced</r:title><r:link>http://e.com/n</r:link></r:item>"
        b"</r:channel></r:rss>"
    )
    items = parse_feed(body, "https://e.com/f")
    assert [i.title for i in items] == ["Namespaced"]


def test_base64_atom_content_is_decoded() -> None:
    atom = (
        b'<?xml version="1.0"?><feed xmlns="http://purl.org/atom/ns#" version="0.3"><title>x</title><entry>'
        b'<title type="text/html" mode="base64">RXhhbXBsZSA8Yj5BdG9tPC9iPg==</title>'
        b'<link rel="alternate" href="http://e.com/a"/><id>http://e.com/a</id></entry></feed>'
    )
    [item] = parse_feed(atom, "https://e.com/feed")
    assert item.title == "Example Atom"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
@pytest.mark.parametrize("declared", ["utf-16", "utf-32", ""])
def test_utf16_and_utf32_feeds_without_a_bom(codec: str, declared: str) -> None:
    prolog = f'<?xml version="1.0" encoding="{declared}"?>' if declared else '<?xml version="1.0"?>'
    document = feed_of("<item><title>머스크 GPU</title><link>http://e.com/1</link></item>").decode()
    body = (prolog + document.split("?>", 1)[1]).encode(codec)
    [item] = parse_feed(body, "https://e.com/f")
    assert item.title == "머스크 GPU"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_conformance_case(case: Case) -> None:
    assert stancewatch_field(case) == case.expected


@pytest.mark.parametrize("reference", ["&#55296;", "&#xDFFF;", "&#1114112;", "&#x110000;"])
def test_a_reference_to_no_character_is_a_replacement_not_a_crash(reference: str) -> None:
    """Found by the fuzzer: feedparser's loose parser raised UnicodeEncodeError on ``<item>&#55296;``."""
    body = f"<rss version='2.0'><channel><item><title>a{reference}b</title><link>http://x.example/1</link></item>"
    [item] = parse_feed(body.encode(), "https://example.com/feed.xml", "")
    assert item.title == "a\ufffdb"
    with contextlib.suppress(FeedError):  # the fuzzer's own case: any answer but a crash
        parse_feed(f"<item>{reference}".encode(), "https://example.com/feed.xml", "")
