"""Parsing feed documents (RSS 0.9x/1.0/2.0, Atom 0.3/1.0, JSON Feed) into feed items with stable identities.

Bytes in, :class:`domain.records.FeedItem` out, no I/O: :mod:`ingest.http` retrieves the documents.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urljoin

import feedparser
import feedparser_rs
from lxml import html as lxml_html

from domain.errors import FeedError
from domain.records import FeedItem, storable_json
from ingest.dates import parse_date
from ingest.encoding import to_utf8_xml
from ingest.jsonfeed import normalised as normalised_json
from ingest.links import canonical_link, decode_references, link_name, unwrap_redirector

MAX_ITEMS = 1000
"""Items read from one document: a feed is its latest news, not an archive; 100,000 items once cost 29 s."""
_LIMITS = feedparser_rs.ParserLimits(max_entries=MAX_ITEMS)
_ITEM_START = re.compile(rb"<(?:\w+:)?(?:item|entry)[\s>]")
_DCTERMS = b"purl.org/dc/terms"  # feedparser-rs drops dcterms:issued, :modified and :created dates
_BASE64_MODE = b'mode="base64"'
_ORIGLINK = b"origLink"


def _rs_keeps_references() -> bool:
    """Whether this feedparser-rs hands an Atom ``<link href>`` over with its references undecoded (0.7 does).

    Asked of the library itself, so an upgrade that decodes them is never decoded twice.
    """
    probe = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>p</title><entry><title>p</title><id>urn:p</id>'
        b'<link href="https://probe.example.org/?a=1&amp;b=2"/></entry></feed>'
    )
    return "&amp;" in str(feedparser_rs.parse(probe).entries[0].get("link") or "")


RS_KEEPS_REFERENCES = _rs_keeps_references()
_CHARREF = re.compile(rb"&#(x[0-9a-fA-F]{1,8}|[0-9]{1,10});")


def _valid_charrefs(data: bytes) -> bytes:
    """References to surrogates or past U+10FFFF become U+FFFD: feedparser's loose parser crashes on them."""

    def fixed(match: re.Match[bytes]) -> bytes:
        ref = match.group(1)
        value = int(ref[1:], 16) if ref[:1] == b"x" else int(ref)
        return b"&#65533;" if 0xD800 <= value <= 0xDFFF or value > 0x10FFFF else match.group(0)

    return _CHARREF.sub(fixed, data)


Parser = Literal["feedparser-rs", "feedparser"]


@dataclass(frozen=True)
class ParsedFeed:
    """A document's items in document order, the parser that read them, and why feedparser did when it did."""

    items: list[FeedItem]
    parser: Parser
    reason: str = ""


def parse_feed(body: bytes, feed_url: str, content_type: str = "", *, scope: str = "") -> list[FeedItem]:
    """An RSS 0.9x/1.0/2.0, Atom 0.3/1.0 or JSON Feed document's items, in document order (:func:`parse_document`)."""
    return parse_document(body, feed_url, content_type, scope=scope).items


def parse_document(
    body: bytes, feed_url: str, content_type: str = "", *, scope: str = "", parser: Parser | None = None
) -> ParsedFeed:
    """Parse a feed document into items with stable identities; :class:`FeedError` when it is no feed.

    feedparser-rs parses (about 25x faster than feedparser, measured in ``benchmarks/feeds.py``). feedparser's
    forgiving parser takes over for what feedparser-rs misreads (:func:`fallback_reason`); ``parser`` forces one,
    for the differential test. Whichever reads the document, each field is decoded exactly once and identities come
    from the decoded, canonical values, so a document that switches parser never brings old items back. Guid
    identities are scoped by ``scope`` (the feed's stable key) because two feeds may both number their items 1, 2, 3.
    """
    is_json = _looks_like_json(body)
    # Always bytes: given a str that looks like a URL, feedparser-rs would fetch it itself.
    data = normalised_json(body) if is_json else to_utf8_xml(body, content_type)
    parsed: Any = None
    reason = ""
    if parser != "feedparser" or is_json:  # feedparser 6 reads no JSON Feed
        parsed = feedparser_rs.parse_with_limits(data, limits=_LIMITS)
        reason = "" if is_json or parser == "feedparser-rs" else fallback_reason(parsed, data)
    if parsed is None or reason:
        parsed = feedparser.parse(
            io.BytesIO(_valid_charrefs(_first_items(data, MAX_ITEMS))),
            response_headers={"content-type": "text/xml; charset=utf-8"},
        )
        used: Parser = "feedparser"
    else:
        used = "feedparser-rs"
    if not parsed.entries:
        if not parsed.get("version"):
            raise FeedError(_not_a_feed(body, feed_url))
        return ParsedFeed([], used, reason)
    raw_hrefs = used == "feedparser-rs" and str(parsed.get("version") or "").startswith("atom") and RS_KEEPS_REFERENCES
    return ParsedFeed(_items(parsed.entries[:MAX_ITEMS], feed_url, scope, decode=raw_hrefs), used, reason)


def fallback_reason(parsed: Any, data: bytes) -> str:
    """Why feedparser must read a document feedparser-rs read as ``parsed``, or "" when feedparser-rs read it right."""
    capped = "limit exceeded" in str(parsed.get("bozo_exception") or "").lower()
    checks = (
        (bool(parsed.get("bozo")) and not capped, "malformed"),
        (not parsed.get("version"), "unknown format"),
        (_blanked_links(parsed), "links to private hosts"),  # blanked by feedparser-rs; allowed deployments need them
        (not parsed.entries and _ITEM_START.search(data) is not None, "namespaced RSS"),  # <r:item> read as nothing
        (_DCTERMS in data and not any(e.get("published") or e.get("updated") for e in parsed.entries), "dcterms dates"),
        (_BASE64_MODE in data, "base64 content"),  # Atom 0.3 mode="base64": handed over still encoded
        (_ORIGLINK in data, "feedburner:origLink"),  # feedparser-rs drops the namespace that holds the article link
    )
    return next((why for failed, why in checks if failed), "")


def _items(entries: list[Any], feed_url: str, scope: str, *, decode: bool) -> list[FeedItem]:
    guids = [str(entry.get("id") or "").strip() for entry in entries]
    written = [_absolute(feed_url, _article_link(entry, decode=decode)) for entry in entries]
    links = [unwrap_redirector(link) for link in written]
    canonical = [_canonical_or_blank(link) for link in links]
    guid_counts, link_counts = Counter(guids), Counter(canonical)
    trust_guids = all(g and guid_counts[g] == 1 for g in guids)
    digest = hashlib.sha256((scope or feed_url).encode()).hexdigest()[:12]
    items = []
    for entry, guid, link, canon, as_written in zip(entries, guids, links, canonical, written, strict=True):
        title = html_to_text(str(entry.get("title") or ""))
        text = _entry_text(entry)
        if trust_guids and guid not in {as_written, link}:  # a guid that is the link names the article by its link
            identity = f"guid:{digest}:{guid}"
        elif canon and link_counts[canon] == 1:
            identity = f"link:{canon}"
        else:
            identity = "hash:" + hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()[:32]
        published = parse_date(str(entry.get("published") or entry.get("updated") or entry.get("created") or ""))
        shown = title or display_title(text, link)
        fields = (identity, link, shown, text, published, feed_url)  # no link: the item says so
        items.append(FeedItem(*storable_json(fields)))  # a feed's NUL (A&#0;B) would refuse the item on PostgreSQL
    return items


def display_title(text: str, link: str, *, limit: int = 80) -> str:
    """A title for an item that has none (microblog posts): its text's first words, cut on a word boundary.

    Never empty: an item with no text either is named by its link, and one with neither is "Untitled item".
    """
    words = " ".join(text.split())
    if not words:
        return link_name(link) or "Untitled item"
    if len(words) <= limit:
        return words
    cut = words[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 3 else cut).rstrip(" ,.;:-") + "…"


def _article_link(entry: Any, *, decode: bool) -> str:
    """The entry's article link; an id standing in for a missing link only when it is itself an http(s) URL.

    FeedBurner's ``origLink`` (the article) wins over its ``feedproxy`` link. Both parsers copy an Atom ``<id>``
    into ``link`` when there is none, so ``<id>right</id>`` became ``https://blog.example.org/right``; a ``urn:`` or
    ``tag:`` id is never an article URL either. ``decode``: the parser left attribute references undecoded.
    """
    original = str(entry.get("feedburner_origlink") or "").strip()
    if original.startswith(("http://", "https://")):
        return original
    link = str(entry.get("link") or "").strip()
    if entry.get("guidislink") and link == str(entry.get("id") or "").strip():  # an RSS guid, a link only if absolute
        return link if link.startswith(("http://", "https://")) else ""
    if entry.get("links") or link.startswith(("http://", "https://")):
        return decode_references(link) if decode else link
    return ""


def _absolute(base: str, link: str) -> str:
    if not link or link.startswith(("http://", "https://")):
        return link
    try:
        return urljoin(base, link)
    except ValueError:
        return ""


def _canonical_or_blank(link: str) -> str:
    """An unparseable link (``http://example.c[o.test/``) costs its own item its link identity, nothing more."""
    try:
        return canonical_link(link) if link else ""
    except ValueError:
        return ""


def _first_items(data: bytes, limit: int) -> bytes:
    """The document cut before its ``limit + 1``-th item or entry, for the forgiving parser (it reads on)."""
    starts = [m.start() for m in _ITEM_START.finditer(data)]
    return data[: starts[limit]] if len(starts) > limit else data


def _blanked_links(parsed: Any) -> bool:
    return any(getattr(link, "href", None) == "" for entry in parsed.entries for link in entry.get("links") or [])


def _looks_like_json(body: bytes) -> bool:
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def _not_a_feed(body: bytes, feed_url: str) -> str:
    """Say why a document is not a feed, pointing at the real feed when an HTML page links one."""
    head = body[:65536].decode("utf-8", errors="replace")
    if re.search(r"<html|<!doctype html", head, re.I):
        match = re.search(r"<link[^>]+type=[\"']application/(?:rss|atom)\+xml[\"'][^>]*>", head, re.I) or re.search(
            r"<link[^>]+rel=[\"']alternate[\"'][^>]*(?:rss|atom)[^>]*>", head, re.I
        )
        href = re.search(r"href=[\"']([^\"']+)", match.group(0)) if match else None
        hint = f" It links a feed at {urljoin(feed_url, href.group(1))}." if href else ""
        return f"{feed_url} is an HTML page, not a feed.{hint}"
    return f"{feed_url} is not a readable RSS, Atom or JSON feed."


def _entry_text(entry: Any) -> str:
    contents = [str(_value(c)) for c in entry.get("content") or []]
    best = max([*contents, str(entry.get("summary") or "")], key=len)
    return html_to_text(best)


def _value(content: Any) -> Any:
    """A content block's text: feedparser gives dicts, feedparser-rs gives objects."""
    return content.get("value", "") if isinstance(content, dict) else getattr(content, "value", "") or ""


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment, keeping paragraph breaks."""
    if "<" not in fragment:
        return _clean(html.unescape(fragment))  # feedparser-rs hands titles over HTML-escaped: AT&amp;T
    marked = re.sub(r"(?i)<br\s*/?>|</(p|div|li|h[1-6])>", "\n", fragment)
    try:
        text = lxml_html.fromstring(f"<div>{marked}</div>").text_content()
    except (ValueError, lxml_html.etree.ParserError):
        text = re.sub(r"<[^>]+>", " ", marked)
    return "\n".join(_clean(line) for line in text.splitlines() if line.strip())


def _clean(text: str) -> str:
    """Collapse runs of spaces and tabs within each line."""
    return "\n".join(" ".join(line.split()) for line in text.split("\n")).strip()
