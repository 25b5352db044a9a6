"""WebSub, the subscriber's side of the W3C Recommendation (https://www.w3.org/TR/websub/): discovery, the
subscription request, and the signature on what a hub delivers.

A feed names its hub in an HTTP ``Link`` header or in the document (``<link rel="hub" href="…"/>``, Atom or the
``atom:link`` of RSS), beside its own canonical URL (``rel="self"``), the topic to subscribe to. Only the first
kilobytes of a document are read for them: they are channel-level elements, before the items.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urljoin

HEAD_BYTES = 16_384
"""How much of a feed document is searched for its hub and self links."""
LEASE_S = 10 * 24 * 3600
"""The lease asked of a hub (it may grant another, which the verification says)."""
DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
"""The signature methods the Recommendation names for ``X-Hub-Signature``."""

_LINK_ELEMENT = re.compile(rb"<(?:[A-Za-z0-9_]+:)?link\b[^>]*>", re.IGNORECASE)
_ATTRIBUTE = re.compile(rb"""\b(rel|href)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_LINK_HEADER = re.compile(r"""<([^>]*)>\s*((?:;\s*[^;,]+)*)""")
_REL = re.compile(r"""rel\s*=\s*"?([^";,]+)"?""", re.IGNORECASE)


@dataclass(frozen=True)
class Discovery:
    """Where to subscribe (``hub``) and to what (``topic``: the feed's self URL, else the URL it was fetched at)."""

    hub: str
    topic: str


def discover(body: bytes, headers: Mapping[str, str], url: str) -> Discovery | None:
    """The hub and topic a feed fetched from ``url`` names (``Link`` header first, then the document); None when
    it names no http(s) hub."""
    links = _header_links(headers.get("link", "")) + _document_links(body[:HEAD_BYTES])
    hub = next((urljoin(url, href) for rel, href in links if rel == "hub"), "")
    topic = next((urljoin(url, href) for rel, href in links if rel == "self"), "") or url
    if not hub.startswith(("http://", "https://")):
        return None
    return Discovery(hub, topic)


def _header_links(value: str) -> list[tuple[str, str]]:
    found = []
    for target, params in _LINK_HEADER.findall(value):
        rel = _REL.search(params)
        for name in rel.group(1).split() if rel else []:
            found.append((name.lower(), target.strip()))
    return found


def _document_links(head: bytes) -> list[tuple[str, str]]:
    found = []
    for element in _LINK_ELEMENT.findall(head):
        attributes = {m.group(1).lower(): (m.group(2) or m.group(3) or b"") for m in _ATTRIBUTE.finditer(element)}
        href = attributes.get(b"href", b"").decode("utf-8", "replace").strip()
        for rel in attributes.get(b"rel", b"").decode("ascii", "replace").lower().split():
            if href:
                found.append((rel, href))
    return found


def subscription_form(callback: str, topic: str, secret: str, mode: str = "subscribe") -> dict[str, str]:
    """The form a subscriber POSTs to the hub (``hub.secret`` only over https hubs is the Recommendation's advice;
    the caller decides)."""
    form = {"hub.callback": callback, "hub.mode": mode, "hub.topic": topic, "hub.lease_seconds": str(LEASE_S)}
    if secret:
        form["hub.secret"] = secret
    return form


def signature_ok(secret: str, body: bytes, header: str) -> bool:
    """Whether ``X-Hub-Signature`` (``method=hexdigest``) is the HMAC of ``body`` under ``secret``; a content
    delivery without a valid one is ignored (the Recommendation: acknowledged, never acted on)."""
    method, _, signature = header.strip().partition("=")
    digest = DIGESTS.get(method.lower())
    if digest is None or not secret or not signature:
        return False
    expected = hmac.new(secret.encode(), body, digest).hexdigest()
    return hmac.compare_digest(expected, signature.strip().lower())
