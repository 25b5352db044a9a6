"""Article links as feeds write them, made into the one address of the article.

Three steps, in this order, for every link a feed item carries:

1. :func:`decode_references`: XML character references left in an attribute value are decoded, once (feedparser-rs
   hands Atom ``<link href>`` over undecoded: ``?id=1&amp;h=main``; :mod:`ingest.parse` knows when).
2. :func:`unwrap_redirector`: a redirector's wrapper (Google Alerts' ``google.com/url?url=…``, Facebook's
   ``l.php?u=…``) gives way to the article address it carries.
3. :func:`canonical_link`: scheme and host lower-cased, fragment and tracking parameters dropped; the result names
   the article across feeds (:func:`link_identity`).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING = re.compile(r"^(utm_.*|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|xtor|igshid|ref_src)$", re.I)
_XML_REFERENCE = re.compile(r"&(amp|lt|gt|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}

_GOOGLE = r"(?:www\.|news\.)?google\.(?:com|[a-z]{2}|co\.[a-z]{2}|com\.[a-z]{2})"
REDIRECTORS: tuple[tuple[re.Pattern[str], str, tuple[str, ...]], ...] = tuple(
    (re.compile(host), path, params)
    for host, path, params in (
        (_GOOGLE, "/url", ("url", "q")),  # Google Alerts and search results, any country domain
        (r"(?:www\.)?bing\.com", "/news/apiclick.aspx", ("url",)),
        (r"lm?\.facebook\.com", "/l.php", ("u",)),
        (r"l\.instagram\.com", "/", ("u",)),
        (r"t\.umblr\.com", "/redirect", ("z",)),
        (r"(?:www\.)?youtube\.com", "/redirect", ("q",)),
        (r"out\.reddit\.com", "/*", ("url",)),
        (r"(?:www\.)?duckduckgo\.com", "/l/", ("uddg",)),
        (r"(?:www\.)?linkedin\.com", "/redir/redirect", ("url",)),
        (r"away\.vk\.com", "/away.php", ("to",)),
        (r"slack-redir\.net", "/link", ("url",)),
    )
)
"""Known redirectors: host (whole-name pattern), path, and the query parameters that carry the target, tried in order.

A path ending in ``*`` matches as a prefix (``out.reddit.com/t3_abc?url=…``), otherwise it must be equal. Sources:
the links these services write into alert feeds and shared posts, as reported in feed readers' bug trackers.
"""


def decode_references(value: str) -> str:
    """``value`` with the five XML entity references and numeric character references decoded, once.

    Only XML's references: ``&copy=2`` in a URL is a parameter, never ``©=2`` as HTML's rules would read it.
    A reference to no character (a surrogate, past U+10FFFF, NUL) is left as written.
    """

    def decoded(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in _NAMED:
            return _NAMED[name]
        code = int(name[2:], 16) if name[1:2] in {"x", "X"} else int(name[1:])
        return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else match.group(0)

    return _XML_REFERENCE.sub(decoded, value) if "&" in value else value


def unwrap_redirector(url: str, *, depth: int = 3) -> str:
    """The article address a known redirector's link carries, or ``url`` itself.

    Unwraps at most ``depth`` nested wrappers; a target that is not an absolute http(s) URL leaves the link as it
    was, so a search link (``google.com/url?q=ai+act``) is never turned into nonsense.
    """
    for _ in range(depth):
        target = _redirect_target(url)
        if not target:
            return url
        url = target
    return url


def _redirect_target(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    host, path = (parts.hostname or "").lower(), parts.path or "/"
    for pattern, path_key, names in REDIRECTORS:
        if not pattern.fullmatch(host) or not _path_matches(path, path_key):
            continue
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        for name in names:
            target = params.get(name, "").strip()
            if target.startswith(("http://", "https://")) and _has_host(target):
                return target
    return ""


def _has_host(url: str) -> bool:
    try:
        return bool(urlsplit(url).hostname)
    except ValueError:
        return False


def _path_matches(path: str, key: str) -> bool:
    return path.startswith(key[:-1]) if key.endswith("*") else path == key


def link_name(url: str, limit: int = 80) -> str:
    """``news.example.com/ai-bill``: a link's host and path, at most ``limit`` characters; "" when it has none.

    What names an item or a card when nothing else does (an untitled post, a title stored empty).
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return f"{parts.hostname or ''}{parts.path.rstrip('/')}"[:limit]


def canonical_link(url: str) -> str:
    """Lower-case scheme and host, drop the fragment and tracking parameters; raises ``ValueError`` if unparseable."""
    parts = urlsplit(url)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)])
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", query, ""))


def link_identity(url: str) -> str:
    """The identity that recognises one article reached through several feeds."""
    return f"link:{canonical_link(url)}"
