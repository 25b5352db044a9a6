"""Parsing feed documents (RSS 0.9x/1.0/2.0, Atom 0.3/1.0, JSON Feed) into feed items with stable identities.

Bytes in, :class:`domain.records.FeedItem` out, no I/O: :mod:`ingest.http` retrieves the documents.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
from collections import Counter
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import feedparser
import feedparser_rs
from lxml import html as lxml_html

from domain.errors import FeedError
from domain.records import FeedItem, storable_json
from ingest.dates import parse_date
from ingest.encoding import to_utf8_xml

MAX_ITEMS = 1000
"""Items read from one document: a feed is its latest news, not an archive; 100,000 items once cost 29 s."""
_LIMITS = feedparser_rs.ParserLimits(max_entries=MAX_ITEMS)
_ITEM_START = re.compile(rb"<(?:\w+:)?(?:item|entry)[\s>]")
_DCTERMS = b"purl.org/dc/terms"  # feedparser-rs drops dcterms:issued, :modified and :created dates
_BASE64_MODE = b'mode="base64"'
_TRACKING = re.compile(r"^(utm_.*|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|xtor|igshid|ref_src)$", re.I)


_CHARREF = re.compile(rb"&#(x[0-9a-fA-F]{1,8}|[0-9]{1,10});")


def _valid_charrefs(data: bytes) -> bytes:
    """References to surrogates or past U+10FFFF become U+FFFD: feedparser's loose parser crashes on them."""

    def fixed(match: re.Match[bytes]) -> bytes:
        ref = match.group(1)
        value = int(ref[1:], 16) if ref[:1] == b"x" else int(ref)
        return b"&#65533;" if 0xD800 <= value <= 0xDFFF or value > 0x10FFFF else match.group(0)

    return _CHARREF.sub(fixed, data)


def parse_feed(body: bytes, feed_url: str, content_type: str = "", *, scope: str = "") -> list[FeedItem]:
    """Parse RSS 0.9x/1.0/2.0, Atom 0.3/1.0 or JSON Feed bytes into items with stable identities.

    feedparser-rs parses (about 25x faster than feedparser, measured in
    ``benchmarks/feeds.py``). feedparser's forgiving parser takes over for a document
    feedparser-rs finds malformed, and for one where it blanked a link: it drops links
    to loopback and private hosts, which a deployment that allows such feeds needs.
    Guid identities are scoped by ``scope`` (the feed's stable key) because two feeds
    may both number their items 1, 2, 3.
    """
    # Always bytes: given a str that looks like a URL, feedparser-rs would fetch it itself.
    data = body if _looks_like_json(body) else to_utf8_xml(body, content_type)
    parsed: Any = feedparser_rs.parse_with_limits(data, limits=_LIMITS)
    capped = "limit exceeded" in str(parsed.get("bozo_exception") or "").lower()
    needs_fallback = (
        (parsed.get("bozo") and not capped)
        or not parsed.get("version")
        or _blanked_links(parsed)
        or (not parsed.entries and _ITEM_START.search(data) is not None)  # namespaced RSS: <r:item> read as nothing
        or (_DCTERMS in data and not any(e.get("published") or e.get("updated") for e in parsed.entries))
        or _BASE64_MODE in data  # Atom 0.3 mode="base64": feedparser-rs hands the encoded text over as it is
    )
    if not _looks_like_json(body) and needs_fallback:
        parsed = feedparser.parse(
            io.BytesIO(_valid_charrefs(_first_items(data, MAX_ITEMS))),
            response_headers={"content-type": "text/xml; charset=utf-8"},
        )
    if not parsed.entries:
        if not parsed.get("version"):
            raise FeedError(_not_a_feed(body, feed_url))
        return []
    entries = parsed.entries[:MAX_ITEMS]
    guids = [str(entry.get("id") or "") for entry in entries]
    links = [_absolute(feed_url, _article_link(entry)) for entry in entries]
    canonical = [_canonical_or_blank(link) for link in links]
    guid_counts, link_counts = Counter(guids), Counter(canonical)
    trust_guids = all(g and guid_counts[g] == 1 for g in guids)
    digest = hashlib.sha256((scope or feed_url).encode()).hexdigest()[:12]
    items = []
    for entry, guid, link, canon in zip(entries, guids, links, canonical, strict=True):
        title = html_to_text(str(entry.get("title") or ""))
        text = _entry_text(entry)
        if trust_guids and guid != entry.get("link"):
            identity = f"guid:{digest}:{guid}"
        elif canon and link_counts[canon] == 1:
            identity = f"link:{canon}"
        else:
            identity = "hash:" + hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()[:32]
        published = parse_date(str(entry.get("published") or entry.get("updated") or entry.get("created") or ""))
        fields = (identity, link, title, text, published, feed_url)  # no link: the item says so
        items.append(FeedItem(*storable_json(fields)))  # a feed's NUL (A&#0;B) would refuse the item on PostgreSQL
    return items


def _article_link(entry: Any) -> str:
    """The entry's link; an id standing in for a missing link only when it is itself an http(s) URL.

    Both parsers copy an Atom ``<id>`` into ``link`` when there is none, so ``<id>right</id>`` became
    ``https://blog.example.org/right``; a ``urn:`` or ``tag:`` id is never an article URL either.
    """
    link = str(entry.get("link") or "")
    if entry.get("links") or link.startswith(("http://", "https://")):
        return link
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


def canonical_link(url: str) -> str:
    """Lower-case scheme and host, drop the fragment and tracking parameters."""
    parts = urlsplit(url)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)])
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", query, ""))


def link_identity(url: str) -> str:
    """The identity that recognises one article reached through several feeds."""
    return f"link:{canonical_link(url)}"
