"""Fuzzing the parsers that read what strangers write: feeds, import files and the store's own files.

The contract: whatever the bytes, the only exceptions are the project's own error types, each with a sentence.
A bounded number of examples a run keeps the suite's time fixed; hypothesis shrinks any failure it finds.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.errors import FeedError, StorageError
from domain.records import RecordError
from ingest.parse import parse_feed
from storage.files.store import Store

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces of real feeds, so that random documents get past the first byte often enough to reach the deeper code.
FEED_PIECES = st.sampled_from(
    [
        '<?xml version="1.0" encoding="utf-8"?>', '<?xml version="1.0" encoding="euc-kr"?>', '<rss version="2.0">',
        "<channel>", "</channel>", "</rss>", "<item>", "</item>", "<title>", "</title>", "<link>", "</link>",
        "<guid>", "</guid>", "<pubDate>", "</pubDate>", '<feed xmlns="http://www.w3.org/2005/Atom">', "</feed>",
        "<entry>", "</entry>", '<link href="', '"/>', "<id>", "</id>", "<updated>", "</updated>", "&amp;", "&#55296;",
        "&#0;", "<![CDATA[", "]]>", "http://[::1", "http://example.c[o.test/", "javascript:alert(1)",
        "Mon, 99 Jun 2009", "2003-12-31T25:14:55Z", "9999-12-31T23:59:59-99:99", "머스크", "\ufeff",
        '{"version": "https://jsonfeed.org/version/1.1", "items": [',
        '{"id": "1", "url": "', '", "title": "', '"}', "]}", "\x00", "\udc80",
    ]
)  # fmt: skip
FEED_TEXT = st.lists(st.one_of(FEED_PIECES, st.text(max_size=20)), max_size=40).map("".join)
FEED_BYTES = st.one_of(
    FEED_TEXT.map(lambda text: text.encode("utf-8", errors="surrogatepass")),
    st.binary(max_size=300),
    FEED_TEXT.map(lambda text: text.encode("utf-16", errors="surrogatepass")),
)

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
RECORD_KEYS = st.sampled_from(["id", "name", "aliases", "person", "question", "stance", "claim", "source_url", "date",
                               "text", "keywords", "role", "status", "quote", "verdict", "confidence"])  # fmt: skip
RECORDS = st.lists(st.dictionaries(RECORD_KEYS, JSON_VALUES, max_size=8) | JSON_VALUES, max_size=4)
IMPORTS = st.one_of(
    JSON_VALUES,
    st.fixed_dictionaries(
        {},
        optional={"people": RECORDS, "questions": RECORDS, "positions": RECORDS, "judgements": RECORDS},
    ),
)


@FUZZ
@given(FEED_BYTES, st.sampled_from(["", "text/xml; charset=euc-kr", "application/json", "text/html; charset=x"]))
def test_parse_feed_raises_only_feed_errors(body: bytes, content_type: str) -> None:
    try:
        items = parse_feed(body, "https://example.com/feed.xml", content_type)
    except FeedError as exc:
        assert str(exc)
        return
    for item in items:
        assert isinstance(item.title, str) and isinstance(item.identity, str) and item.identity


@FUZZ
@given(IMPORTS)
def test_import_raises_only_record_errors_and_changes_nothing_on_error(data: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp), seed=False)
        try:
            store.import_data(data)
        except RecordError as exc:
            assert str(exc) and store.people() == [] and store.questions() == []
        finally:
            store.close()


HOT_DOCUMENTS = st.one_of(
    st.binary(max_size=200),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(
        st.sampled_from(["_meta", "people", "questions", "positions", "feeds", "subscriptions", "outbox", "alerted"]),
        st.dictionaries(
            st.sampled_from(["1", "2", "x", "schema"]), st.dictionaries(RECORD_KEYS, JSON_VALUES, max_size=6)
        ),
        max_size=4,
    ).map(lambda v: json.dumps(v).encode()),
)


@FUZZ
@given(HOT_DOCUMENTS, st.binary(max_size=120))
def test_the_store_loader_raises_only_storage_errors(hot: bytes, inbox: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "stancewatch.json").write_bytes(hot)
        (Path(tmp) / "inbox.log").write_bytes(inbox)
        try:
            Store.open(Path(tmp), seed=False).close()
        except StorageError as exc:
            assert str(exc)
