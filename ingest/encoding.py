"""Decide a feed's character encoding the way a careful reader would, and hand parsers UTF-8.

Order: a byte-order mark wins; then the HTTP charset and the XML declaration; then
detection. When the header and the declaration disagree, the bytes decide: the
candidate that decodes them strictly wins, UTF-8 first (valid multi-byte UTF-8 is
almost never an accident), and detection breaks a tie between single-byte codecs.
Korean sites often label CP949 text "EUC-KR"; CP949 is a superset, so it is used for both.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_PROLOG = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']", re.I)
_PROLOG_ANY = re.compile(r"^(\s*<\?xml[^>]*?encoding\s*=\s*[\"'])[A-Za-z0-9._:-]+([\"'])", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.I)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.I)
_ALIASES = {
    "euc-kr": "cp949",
    "euc_kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "ksc5601": "cp949",
    "x-windows-949": "cp949",
}


def normalise(name: str) -> str | None:
    """The Python codec for a declared charset name, or None when Python does not know it."""
    lowered = name.strip().lower()
    lowered = _ALIASES.get(lowered, lowered)
    try:
        return codecs.lookup(lowered).name
    except LookupError:
        return None


def header_charset(content_type: str) -> str | None:
    match = _HEADER_CHARSET.search(content_type)
    return normalise(match.group(1)) if match else None


def prolog_charset(body: bytes) -> str | None:
    match = _PROLOG.match(body[:512])
    return normalise(match.group(1).decode("ascii")) if match else None


def decode(body: bytes, content_type: str = "") -> tuple[str, str]:
    """Return ``(text, codec)`` for a feed body; never raises on bad bytes (they become U+FFFD)."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(name, errors="replace"), name
    declared = [c for c in dict.fromkeys((header_charset(content_type), prolog_charset(body))) if c]
    if len(declared) == 1 and _decodes(body, declared[0]):
        return body.decode(declared[0]), declared[0]
    if ("utf-8" in declared or not declared) and _decodes(body, "utf-8"):
        return body.decode("utf-8"), "utf-8"
    fitting = [c for c in declared if _decodes(body, c)]
    if len(fitting) == 1:
        return body.decode(fitting[0]), fitting[0]
    best = charset_normalizer.from_bytes(body, cp_isolation=fitting or None).best()
    detected = normalise(best.encoding) if best is not None else None
    name = detected or (fitting[0] if fitting else declared[0] if declared else "utf-8")
    return body.decode(name, errors="replace"), name


def meta_charset(body: bytes) -> str | None:
    """The charset an HTML page declares in ``<meta charset>`` or ``<meta http-equiv=Content-Type>``."""
    match = _META_CHARSET.search(body[:4096])
    return normalise(match.group(1).decode("ascii")) if match else None


def decode_page(body: bytes, content_type: str = "") -> str:
    """An HTML page's text, decoded as carefully as a feed: BOM, header, ``<meta>``, then the bytes decide."""
    if header_charset(content_type) is None and (declared := meta_charset(body)):
        content_type = f"text/html; charset={declared}"
    text, _ = decode(body, content_type)
    return text


def to_utf8_xml(body: bytes, content_type: str = "") -> bytes:
    """The body re-encoded as UTF-8, with its XML declaration (if any) saying so."""
    text, _ = decode(body, content_type)
    return _PROLOG_ANY.sub(r"\1utf-8\2", text, count=1).encode("utf-8")


def _decodes(body: bytes, codec: str) -> bool:
    try:
        body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return False
    return True
