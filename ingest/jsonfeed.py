"""JSON Feed documents read with the types JSON Feed 1.1 gives each field, before a parser sees them.

The spec (https://jsonfeed.org/version/1.1) says an item's ``id`` "is presented as a string. If the id is presented
as a number or other type, a JSON Feed reader must coerce it to a string". feedparser-rs drops such an id instead,
and the item then falls back to a hash of its text, so an edited item came back as new. Every other field of a
wrong type is left out, as a reader that ignores what it cannot use would: a number as ``url`` is no link.
"""

from __future__ import annotations

import json
from typing import Any

_STRINGS = (
    "url", "external_url", "title", "content_html", "content_text", "summary", "image", "banner_image",
    "date_published", "date_modified", "language",
)  # fmt: skip
_FEED_STRINGS = ("version", "title", "home_page_url", "feed_url", "description", "language", "icon", "favicon")


def normalised(body: bytes) -> bytes:
    """``body`` with JSON Feed's field types enforced; ``body`` itself when it is no JSON object with ``items``."""
    try:
        document = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return body
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        return body
    feed = {k: v for k, v in document.items() if k not in _FEED_STRINGS or isinstance(v, str)}
    feed["items"] = [_item(item) for item in document["items"] if isinstance(item, dict)]
    return json.dumps(feed, ensure_ascii=False).encode()


def _item(item: dict[str, Any]) -> dict[str, Any]:
    fixed = {k: v for k, v in item.items() if k not in _STRINGS or isinstance(v, str)}
    identity = _coerced_id(item.get("id"))
    if identity:
        fixed["id"] = identity
    else:
        fixed.pop("id", None)
    if "tags" in fixed:
        tags = fixed["tags"]
        fixed["tags"] = [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []
    return fixed


def _coerced_id(value: Any) -> str:
    """A string id as it is; a number or boolean as JSON writes it (``123``, ``1.5``, ``true``); else none."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return ""
