"""Kinds of feed the world serves that went wrong, each with the right value, read by the parser production runs.

The documents in ``tests/feeds/`` are shaped like the real ones (cgit, phpBB, Google Alerts, FeedBurner, a Korean
alert service, Mastodon, micro.blog, a press office appending at the bottom); ``test_watcher`` serves several of
them through the whole watcher. Every document here also goes through the differential check (``parser_diff``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.feed_conformance import CASES, FEED_URL, Case
from domain.records import FeedItem
from ingest.intake import decide_intake, newest_first
from ingest.links import canonical_link, decode_references, link_identity, unwrap_redirector
from ingest.parse import display_title, parse_document
from tests import parser_diff

FEEDS = Path(__file__).parent / "feeds"
FIXTURES = sorted(FEEDS.iterdir())
URL = "https://feeds.example.org/feed"


def read(name: str) -> list[FeedItem]:
    parsed = parse_document((FEEDS / name).read_bytes(), f"https://feeds.example.org/{name}")
    return parsed.items


# The differential test: every fixture and every conformance case, both parsers.


@pytest.mark.parametrize("path", FIXTURES, ids=[p.name for p in FIXTURES])
def test_every_fixture_feed_reads_alike_in_both_parsers(path: Path) -> None:
    expected = "feedparser" if path.name == "feedburner.rss" else "feedparser-rs"
    reading = parser_diff.check(path.read_bytes(), f"https://feeds.example.org/{path.name}", parser=expected)
    assert reading is not None


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_conformance_case_is_read_by_both_parsers(case: Case) -> None:
    reading = parser_diff.read_both(case.body, FEED_URL)
    assert reading is not None
    if reading.parser == "feedparser-rs":
        assert reading.differences == []
    else:
        assert reading.reason in parser_diff.DELIBERATE


def test_a_document_that_switches_parser_keeps_its_identities() -> None:
    """One malformed entry, or a dcterms date appearing, moves a feed to feedparser: no old item may come back."""
    items = "".join(
        f"<item><title>AT&amp;T story {n}</title><link>https://news.example.com/s?id={n}&amp;p=1</link>"
        f"<description>Text {n} &lt;b&gt;bold&lt;/b&gt;</description></item>"
        for n in range(3)
    )
    head = '<?xml version="1.0"?><rss version="2.0" {ns}><channel><title>T</title>'
    clean = (head.format(ns="") + items + "</channel></rss>").encode()
    broken = (head.format(ns="") + items + "<item><title>Fish & Chips</title></item></channel></rss>").encode()
    dcterms = head.format(ns='xmlns:dcterms="http://purl.org/dc/terms/"') + items.replace(
        "</item>", "<dcterms:modified>2026-11-01T00:00:00Z</dcterms:modified></item>", 1
    )
    before = parse_document(clean, URL)
    assert before.parser == "feedparser-rs"
    for switched in (broken, (dcterms + "</channel></rss>").encode()):
        after = parse_document(switched, URL)
        assert after.parser == "feedparser"
        assert [i.identity for i in after.items[:3]] == [i.identity for i in before.items]


# 1. Character references in attribute values: decoded exactly once.


def test_atom_link_references_are_decoded_once_on_the_feedparser_rs_path() -> None:
    first, second = read("cgit-commits.atom")
    assert first.url == "https://git.example.org/linux/commit/?id=135f0a2e&h=main"
    assert second.url == "https://git.example.org/linux/commit/?id=9a8b7c6d&h=main&ofs=50"  # &#38; and &#x26;
    assert link_identity(first.url) == "link:https://git.example.org/linux/commit/?id=135f0a2e&h=main"


def test_forum_links_relative_to_xml_base_are_decoded_once() -> None:
    [post] = read("phpbb-forum.atom")
    assert post.url == "https://forum.example.net/viewtopic.php?f=3&t=4242&p=99017#p99017"
    assert post.identity == "link:https://forum.example.net/viewtopic.php?f=3&t=4242&p=99017"
    assert post.title == "Senate AI bill: compute thresholds & audits"


@pytest.mark.parametrize("parser", ["feedparser-rs", "feedparser"])
def test_an_escaped_ampersand_stays_one_ampersand_reference(parser: str) -> None:
    """``&amp;amp;`` in the document is the text ``&amp;``: decoding it twice would make it ``&``."""
    doc = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><title>e</title><id>urn:e</id>'
        b'<link href="https://git.example.org/log?q=a&amp;amp;b"/></entry></feed>'
    )
    [item] = parse_document(doc, URL, parser=parser).items  # type: ignore[arg-type]
    assert item.url == "https://git.example.org/log?q=a&amp;b"


def test_decode_references_reads_only_xml_references() -> None:
    assert decode_references("?a=1&amp;b=2&#38;c=3&#x26;d=4") == "?a=1&b=2&c=3&d=4"
    assert decode_references("?a=1&copy=2&lang=ko") == "?a=1&copy=2&lang=ko"  # HTML would make it ©=2
    assert decode_references("&#55296;&#0;") == "&#55296;&#0;"  # no character: left as written


# 2. Redirector links: the article's own address, and one article across feeds.


def test_google_alerts_links_are_the_article_and_two_alerts_are_one_article() -> None:
    [one], [two] = read("google-alerts-1.atom"), read("google-alerts-2.atom")
    assert one.url == "https://news.example.com/ai-bill"
    assert two.url == "https://news.example.com/ai-bill?utm_source=alerts"
    assert link_identity(one.url) == link_identity(two.url) == "link:https://news.example.com/ai-bill"


def test_korean_google_and_facebook_wrappers_are_unwrapped() -> None:
    korean, shared = read("korean-portal.rss")
    assert korean.url == "https://news.example.com/ko/ai-basic-act"  # google.co.kr, q= percent-encoded
    assert shared.url == "https://news.example.com/explainer?id=7&lang=en"  # l.facebook.com/l.php?u=


def test_feedburner_original_link_wins_over_feedproxy() -> None:
    [item] = read("feedburner.rss")
    assert item.url == "https://wire.example.com/releases/ai-audit-office?lang=en&src=rss"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.google.com/url?q=ai+act&sa=t", "https://www.google.com/url?q=ai+act&sa=t"),  # a search: kept
        ("https://www.google.com/url?url=javascript:alert(1)", "https://www.google.com/url?url=javascript:alert(1)"),
        ("https://google.attacker.example/url?url=https://x.example.org/", "https://google.attacker.example/url?url=https://x.example.org/"),
        ("https://out.reddit.com/t3_abc?url=https%3A%2F%2Fnews.example.com%2Fa&token=x", "https://news.example.com/a"),
        ("https://www.google.com/url?url=https://l.facebook.com/l.php?u%3Dhttps://news.example.com/b", "https://news.example.com/b"),
        ("https://news.example.com/url?url=https://other.example.org/", "https://news.example.com/url?url=https://other.example.org/"),
    ],
)  # fmt: skip
def test_unwrap_redirector(url: str, expected: str) -> None:
    assert unwrap_redirector(url) == expected


# 3. Feeds that are not newest-first: "newest N" means newest by date.


def test_an_oldest_first_feed_is_read_newest_first() -> None:
    items = read("oldest-first.rss")
    assert [i.title for i in newest_first(items)] == [f"Release {n}" for n in (5, 4, 3, 2, 1)]
    intake = decide_intake(items, URL, seen=lambda key: False, limit=3)
    assert [i.title for i in intake.queue] == ["Release 3", "Release 4", "Release 5"]  # posted oldest first
    assert intake.excess == 2 and len(intake.seen) == 10  # the two oldest: seen, never posted


def test_a_shuffled_feed_is_ordered_by_date() -> None:
    hearings = [i.title for i in newest_first(read("shuffled.atom"))]
    assert hearings == ["Hearing D", "Hearing C", "Hearing B", "Hearing A"]


def test_undated_feeds_keep_document_order_and_equal_dates_keep_the_feed_direction() -> None:
    def item(n: int, published: str = "") -> FeedItem:
        return FeedItem(f"id{n}", f"https://news.example.com/{n}", f"T{n}", "x", published, URL)

    undated = [item(n) for n in range(4)]
    assert newest_first(undated) == undated
    same = "2026-11-01T00:00:00Z"
    ascending = [item(0, "2026-10-01T00:00:00Z"), item(1, same), item(2, same), item(3, "2026-11-02T00:00:00Z")]
    assert [i.title for i in newest_first(ascending)] == ["T3", "T2", "T1", "T0"]


# 4. Items without a title: a display title from the text, and a link a card can show.


def test_microblog_posts_get_a_title_from_their_first_words() -> None:
    english, korean = read("mastodon.rss")
    assert english.title == "We will not support any pause on frontier AI research. Today our lab ordered…"
    assert korean.title == "오늘 국회 공청회에서 인공지능 안전 규제에 대해 발언했습니다."
    assert english.url == "https://social.example.org/@jane/113456789012345678"


def test_a_post_with_no_text_either_is_named_by_its_link() -> None:
    first, empty = read("microblog.json")
    assert first.title.startswith("Reading the AI bill tonight.")
    assert empty.title == "micro.example.org/jane/2026/11/05/113456780.html"


@pytest.mark.parametrize(
    ("text", "link", "expected"),
    [
        ("one two three", "", "one two three"),
        ("a" * 200, "", "a" * 79 + "…"),  # no space to cut on: cut on the limit
        ("", "", "Untitled item"),
        ("   \n ", "https://social.example.org/@jane/1", "social.example.org/@jane/1"),
    ],
)
def test_display_title_is_never_empty(text: str, link: str, expected: str) -> None:
    assert display_title(text, link) == expected


# 6. JSON Feed field types, as JSON Feed 1.1 gives them.


def test_json_feed_ids_that_are_numbers_are_strings() -> None:
    notice, half, boolean = read("jsonfeed-types.json")
    assert notice.identity.endswith(":2026110701") and half.identity.endswith(":1.5")
    assert boolean.identity.endswith(":true")
    assert boolean.url == "" and boolean.title == "A boolean id and a number for a URL."  # wrong types left out


def test_an_edited_json_feed_item_with_a_numeric_id_keeps_its_identity() -> None:
    body = (FEEDS / "microblog.json").read_text(encoding="utf-8")
    edited = body.replace("Section 4 on compute audits", "Section 4 on compute audits (updated)")
    before, after = (parse_document(b.encode(), URL).items[0] for b in (body, edited))
    assert before.identity == after.identity and before.text != after.text


def test_canonical_link_still_drops_tracking_after_unwrapping() -> None:
    assert canonical_link(unwrap_redirector(
        "https://www.google.com/url?url=https://News.Example.com/a?utm_medium=email%26id=3"
    )) == "https://news.example.com/a?id=3"  # fmt: skip
