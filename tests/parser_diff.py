"""The differential check: every test document read by both parsers, and any disagreement explained.

A document feedparser-rs reads on its own (no fallback reason) must give the same title, link, identity and date
for every item whichever parser reads it: a disagreement there is a bug in one of them that the bot would pass on.
A document that takes feedparser has a fallback reason, and the disagreement is that reason: one row of
:data:`DELIBERATE`, which the README's parser-difference table repeats.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import FeedError
from ingest.parse import ParsedFeed, parse_document

FIELDS = ("identity", "url", "title", "published")

DELIBERATE = {
    "malformed": "feedparser-rs stops or guesses at the error; feedparser's loose parser recovers the items",
    "unknown format": "feedparser-rs names no format; feedparser reads what it can or says it is no feed",
    "links to private hosts": "feedparser-rs blanks them; a deployment that allows private feeds needs them",
    "namespaced RSS": "feedparser-rs reads <r:item> as no item at all",
    "dcterms dates": "feedparser-rs drops dcterms:issued, :modified and :created",
    "base64 content": 'feedparser-rs hands Atom 0.3 mode="base64" text over still encoded',
    "feedburner:origLink": "feedparser-rs drops the FeedBurner namespace that holds the article's own link",
}
"""Why feedparser reads a document, by :func:`ingest.parse.fallback_reason`; JSON Feed is feedparser-rs's alone."""


@dataclass(frozen=True)
class Reading:
    parser: str
    reason: str
    differences: list[str]


def _read(body: bytes, url: str, content_type: str, parser: str | None) -> ParsedFeed | str:
    try:
        return parse_document(body, url, content_type, parser=parser)  # type: ignore[arg-type]
    except FeedError as exc:
        return f"FeedError: {exc}"


def read_both(body: bytes, url: str, content_type: str = "") -> Reading | None:
    """The path production takes and the fields the parsers disagree on; None when neither reads a feed."""
    auto = _read(body, url, content_type, None)
    rs, fp = _read(body, url, content_type, "feedparser-rs"), _read(body, url, content_type, "feedparser")
    if isinstance(auto, str):
        return None
    return Reading(auto.parser, auto.reason, _compare(rs, fp))


def _compare(rs: ParsedFeed | str, fp: ParsedFeed | str) -> list[str]:
    if isinstance(rs, str) or isinstance(fp, str):
        return [] if rs == fp else [f"document: feedparser-rs {_short(rs)} / feedparser {_short(fp)}"]
    found = []
    if len(rs.items) != len(fp.items):
        found.append(f"items: feedparser-rs {len(rs.items)} / feedparser {len(fp.items)}")
    for n, (a, b) in enumerate(zip(rs.items, fp.items, strict=False)):
        for name in FIELDS:
            if getattr(a, name) != getattr(b, name):
                found.append(f"item {n} {name}: feedparser-rs {getattr(a, name)!r} / feedparser {getattr(b, name)!r}")
    return found


def _short(value: ParsedFeed | str) -> str:
    return value[:80] if isinstance(value, str) else f"{len(value.items)} items"


def check(body: bytes, url: str, content_type: str = "", *, parser: str = "feedparser-rs") -> Reading | None:
    """Assert the document takes ``parser`` and that the parsers agree unless a fallback reason explains why not."""
    reading = read_both(body, url, content_type)
    if reading is None:
        return None
    assert reading.parser == parser, f"{url} was read by {reading.parser} ({reading.reason}), expected {parser}"
    if reading.parser == "feedparser-rs":
        assert not reading.differences, f"{url}: the parsers disagree: {reading.differences[:5]}"
    else:
        assert reading.reason in DELIBERATE, f"{url}: feedparser read it for an unlisted reason {reading.reason!r}"
    return reading
