"""Feed edge cases with the field a reader sees, scored for Stancewatch's ``parse_feed`` and for feedparser.

    python benchmarks/feed_conformance.py

Written for this project after feedparser's own test categories (entities, Atom ids, dcterms, time zones,
impossible dates, namespaced RSS, base64, encodings, character references in links). ``tests/test_feeds.py`` runs
every case against ``parse_feed`` and ``tests/test_feed_kinds.py`` through both parsers; run as a script, this
prints for each case the path production takes (which parser, and why feedparser when it is feedparser) and the
field as each parser alone reads it. ``benchmarks/feeds.py`` prints the totals.
"""

from __future__ import annotations

import calendar
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import feedparser

if __package__ in (None, ""):  # run as a script: the project root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain.errors import FeedError
from ingest.parse import Parser, parse_document, parse_feed

FEED_URL = "https://blog.example.org/"


@dataclass(frozen=True)
class Case:
    name: str
    body: bytes
    field: str  # "title", "link" or "published" of the first item
    expected: str


def rss(item: str, namespaces: str = "", encoding: str = "utf-8") -> bytes:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0" {namespaces}><channel><title>T</title>'
        f"{item}</channel></rss>"
    ).encode(encoding)


def dated(date: str) -> bytes:
    return rss(f"<item><title>d</title><link>http://e.com/d</link><pubDate>{date}</pubDate></item>")


def atom(entry: str, namespace: str = "http://www.w3.org/2005/Atom") -> bytes:
    return f'<?xml version="1.0"?><feed xmlns="{namespace}"><title>x</title><entry>{entry}</entry></feed>'.encode()


DCTERMS = 'xmlns:dcterms="http://purl.org/dc/terms/"'
CASES = [
    Case(
        "entity in RSS title", rss("<item><title>AT&amp;T</title><link>http://e.com/1</link></item>"), "title", "AT&T"
    ),
    Case("numeric entity title", rss("<item><title>&#38;</title><link>http://e.com/1</link></item>"), "title", "&"),
    Case("CDATA title with a tag", rss("<item><title><![CDATA[Q&A: AI <rules>]]></title></item>"), "title", "Q&A: AI"),
    Case("Atom html title", atom('<title type="html">AT&amp;amp;T</title><id>tag:e,1</id>'), "title", "AT&T"),
    Case("Atom id is no link", atom("<title>t</title><id>right</id>"), "link", ""),
    Case("Atom urn id is no link", atom("<title>t</title><id>urn:uuid:1225c695</id>"), "link", ""),
    Case("Atom relative link", atom('<title>t</title><id>tag:e,1</id><link href="/a"/>'), "link", f"{FEED_URL}a"),
    Case(
        "base64 Atom 0.3 title",
        atom('<title type="text/html" mode="base64">RXhhbXBsZSA8Yj5BdG9tPC9iPg==</title>', "http://purl.org/atom/ns#"),
        "title",
        "Example Atom",
    ),
    Case(
        "namespaced RSS",
        b'<?xml version="1.0"?><r:rss xmlns:r="http://backend.userland.com/rss2" version="2.0"><r:channel>'
        b"<r:title>T</r:title><r:item><r:title>Namespaced</r:title></r:item></r:channel></r:rss>",
        "title",
        "Namespaced",
    ),
    *(
        Case(
            f"dcterms:{name}",
            rss(f"<item><title>a</title><dcterms:{name}>2003-12-31T10:14:55Z</dcterms:{name}></item>", DCTERMS),
            "published",
            "2003-12-31T10:14:55Z",
        )
        for name in ("issued", "modified", "created")
    ),
    Case("zone PT", dated("Mon, 26 January 2004 16:31:00 PT"), "published", "2004-01-27T00:31:00Z"),
    Case("zone ET", dated("Mon, 26 Jan 2004 16:31:00 ET"), "published", "2004-01-26T21:31:00Z"),
    Case("zone MEST", dated("Mon, 26 Jan 2004 16:31:00 MEST"), "published", "2004-01-26T14:31:00Z"),
    Case("offset -01:01", dated("Mon, 26 Jan 2004 16:31:00 -01:01"), "published", "2004-01-26T17:32:00Z"),
    Case("slashed date EDT", dated("Fri, 2006/09/15 08:19:53 EDT"), "published", "2006-09-15T12:19:53Z"),
    Case("hour 25", dated("2003-12-31T25:14:55Z"), "published", ""),
    Case("offset -99:99", dated("9999-12-31T23:59:59-99:99"), "published", ""),
    Case("day 99", dated("Sun, 99 Jun 2009 12:00:00 GMT"), "published", ""),
    Case("Korean date", dated("2023년 4월 11일 오후 3시 20분"), "published", "2023-04-11T06:20:00Z"),
    Case(
        "UTF-16 without BOM",
        rss("<item><title>머스크 GPU</title></item>", encoding="utf-16").removeprefix(b"\xff\xfe"),
        "title",
        "머스크 GPU",
    ),
    Case("EUC-KR declared", rss("<item><title>머스크 GPU</title></item>", encoding="euc-kr"), "title", "머스크 GPU"),
    Case(
        "&amp; in an Atom link",
        atom('<title>t</title><id>tag:e,1</id><link href="https://git.example.org/c/?id=1&amp;h=main"/>'),
        "link",
        "https://git.example.org/c/?id=1&h=main",
    ),
    Case(
        "&#38; in an Atom link",
        atom('<title>t</title><id>tag:e,1</id><link href="https://forum.example.net/t?f=3&#38;t=42"/>'),
        "link",
        "https://forum.example.net/t?f=3&t=42",
    ),
    Case(
        "Google Alerts redirector",
        atom(
            '<title>t</title><id>tag:e,1</id><link href="https://www.google.com/url?rct=j&amp;sa=t&amp;'
            'url=https://news.example.com/ai-bill&amp;ct=ga&amp;usg=AbC"/>'
        ),
        "link",
        "https://news.example.com/ai-bill",
    ),
    Case(
        "untitled microblog post",
        rss(
            "<item><link>https://social.example.org/@jane/1</link><description>We will not pause.</description></item>"
        ),
        "title",
        "We will not pause.",
    ),
]


def stancewatch_field(case: Case, parser: Parser | None = None) -> str:
    """The case's field as Stancewatch reads it: the production path, or one parser forced."""
    try:
        items = parse_document(case.body, FEED_URL, parser=parser).items if parser else parse_feed(case.body, FEED_URL)
    except FeedError:
        return "(error)"
    item = items[0] if items else None
    return {"title": item.title, "link": item.url, "published": item.published}[case.field] if item else "(none)"


def path_taken(case: Case) -> str:
    """Which parser production runs on the case, and why feedparser when it does."""
    try:
        parsed = parse_document(case.body, FEED_URL)
    except FeedError:
        return "(no feed)"
    return f"{parsed.parser} ({parsed.reason})" if parsed.reason else parsed.parser


def feedparser_field(case: Case) -> str:
    parsed = feedparser.parse(case.body, response_headers={"content-location": FEED_URL})
    if not parsed.entries:
        return "(none)"
    entry = parsed.entries[0]
    if case.field == "published":
        stamp = entry.get("published_parsed") or entry.get("updated_parsed") or entry.get("created_parsed")
        try:
            return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(calendar.timegm(stamp))) if stamp else ""
        except (ValueError, OverflowError):
            return "(error)"
    return str(entry.get(case.field) or "")


def conformance(reader: Callable[[Case], str]) -> tuple[int, list[str]]:
    """Fields right, and the names of the cases missed."""
    missed = [case.name for case in CASES if reader(case) != case.expected]
    return len(CASES) - len(missed), missed


def paths_summary() -> str:
    paths = [path_taken(case).split(" ")[0] for case in CASES]
    rs, fallback = paths.count("feedparser-rs"), paths.count("feedparser")
    return f"{rs} of {len(CASES)} cases take feedparser-rs, {fallback} take feedparser (reasons listed per case)"


def report() -> None:
    """One line a case: the path taken, whether it is right, and the field from each parser alone."""
    print(f"{'case':28s} {'path production takes':34s} ok  feedparser-rs alone / feedparser alone")
    for case in CASES:
        right = "yes" if stancewatch_field(case) == case.expected else "NO"
        alone = [stancewatch_field(case, p)[-34:] for p in ("feedparser-rs", "feedparser")]
        print(f"{case.name[:28]:28s} {path_taken(case):34s} {right:3s} {alone[0]!r} / {alone[1]!r}")
    print(f"\n{paths_summary()}")
    for name, reader in (("Stancewatch parse_feed", stancewatch_field), ("feedparser", feedparser_field)):
        right, missed = conformance(reader)
        print(f"  {name:24s} {right:3d} / {len(CASES)} right   missed: {', '.join(missed) or '-'}")


if __name__ == "__main__":
    report()
