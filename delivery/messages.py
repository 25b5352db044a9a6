"""The messages the outbox carries: a small union of frozen dataclasses, stored as JSON with a kind and a version.

The core queues *what* to say (a clash alert with its clashes, a summary, a paused feed); the Discord layer decides
how it looks when it is sent (``cogs/cards.py``). Rows queued by an earlier release (version 1: a clash alert laid
out as a card, a notice as title and text) are read as they were written, so an upgrade loses nothing queued.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from domain.clash import Clash

VERSION = 2
MAX_CLASHES_PER_ALERT = 6
"""One alert lists at most this many of a person's clashes in one article (the rest are in the archive)."""


class ListsClashes:
    """A message about clashes: moderators review every clash it lists together."""

    clashes: tuple[Clash, ...]

    @property
    def judgement_ids(self) -> list[str]:
        return [c.judgement_id for c in self.clashes]


@dataclass(frozen=True)
class ClashAlert(ListsClashes):
    """One person's clashes in one article; moderators review them together."""

    clashes: tuple[Clash, ...]
    kind: ClassVar[str] = "clash"


@dataclass(frozen=True)
class ClashUpdate(ListsClashes):
    """Later statements joined a posted clash alert: the alert (outbox row ``target``) is to show all of ``clashes``.

    ``clashes`` lists the alert's own clashes first, then each that joined it, in order; ``joined`` how many of
    them are new with this update (posted below the alert when the card has no room left for them).
    """

    target: int
    clashes: tuple[Clash, ...]
    joined: int = 1
    kind: ClassVar[str] = "clash_update"


@dataclass(frozen=True)
class HeldAlert(ListsClashes):
    """A clash alert waiting in a server's review channel: Confirm posts it to ``channels`` (channel, guild pairs),
    whose subscriptions require review; Dismiss posts it nowhere."""

    clashes: tuple[Clash, ...]
    channels: tuple[tuple[int, int], ...]
    kind: ClassVar[str] = "held_clash"


@dataclass(frozen=True)
class ArticleSummary:
    """A relevant article's summary, in the receiving channel's language."""

    title: str
    url: str
    summary: str
    feed: str = ""
    """The feed it came from (a forum channel gets one post a day per feed); "" in rows queued before."""
    kind: ClassVar[str] = "summary"


@dataclass(frozen=True)
class FeedPaused:
    """A feed stopped being polled after failing again and again; a moderator may resume it."""

    feed_url: str
    reason: str
    kind: ClassVar[str] = "feed_paused"


@dataclass(frozen=True)
class Notice:
    """A titled text (version 1 rows; nothing queues new ones)."""

    title: str
    text: str
    kind: ClassVar[str] = "notice"


@dataclass(frozen=True)
class LaidOutAlert:
    """A clash alert queued by version 1, already laid out as a card (the card's fields, as stored)."""

    card: dict[str, Any]
    kind: ClassVar[str] = "clash"

    @property
    def judgement_ids(self) -> list[str]:
        return [str(j) for j in self.card.get("judgements", [])]


@dataclass(frozen=True)
class DigestEntry:
    """An alert or a summary waiting for its channel's daily digest: never sent on its own.

    ``item`` is the waiting message's own payload; ``queued_at`` (Unix seconds) decides which day's digest lists it.
    """

    item: dict[str, Any]
    queued_at: float
    kind: ClassVar[str] = "digest_entry"


@dataclass(frozen=True)
class DigestLine:
    """One line of a digest: an alert (its review state in ``state``) or a summary, with its link."""

    kind: str
    title: str
    text: str
    url: str
    state: str = ""


@dataclass(frozen=True)
class Digest:
    """A channel's day: every alert and summary queued since the last digest, in the subscription's language.

    One outbox row; the Discord layer cuts it into as few messages as Discord's limits allow.
    """

    heading: str
    language: str
    lines: tuple[DigestLine, ...]
    kind: ClassVar[str] = "digest"


Message = (
    ClashAlert | ClashUpdate | HeldAlert | ArticleSummary | FeedPaused | Notice | LaidOutAlert | DigestEntry | Digest
)


class MessageError(ValueError):
    """An outbox row that is no message this release knows."""


def to_payload(
    message: ClashAlert | ClashUpdate | HeldAlert | ArticleSummary | FeedPaused | DigestEntry | Digest,
) -> dict[str, Any]:
    """The JSON object an outbox row stores."""
    fields = dataclasses.asdict(message)
    if isinstance(message, ClashAlert | ClashUpdate | HeldAlert):
        fields["clashes"] = [dataclasses.asdict(c) for c in message.clashes]
    return {"kind": message.kind, "version": VERSION, **fields}


def from_payload(payload: dict[str, Any]) -> Message:
    """The message an outbox row holds, whichever release queued it; :class:`MessageError` when none."""
    kind, version = payload.get("kind"), payload.get("version", 1)
    try:
        if version == 1:
            return _version_1(kind, payload)
        body = {k: v for k, v in payload.items() if k not in {"kind", "version"}}
        if kind == "clash":
            return ClashAlert(tuple(Clash(**c) for c in body["clashes"]))
        if kind == "held_clash":
            channels = tuple((int(c), int(g)) for c, g in body["channels"])
            return HeldAlert(tuple(Clash(**c) for c in body["clashes"]), channels)
        if kind == "clash_update":
            return ClashUpdate(int(body["target"]), tuple(Clash(**c) for c in body["clashes"]), int(body["joined"]))
        if kind == "summary":
            return ArticleSummary(**body)
        if kind == "feed_paused":
            return FeedPaused(**body)
        if kind == "digest_entry":
            return DigestEntry(dict(body["item"]), float(body["queued_at"]))
        if kind == "digest":
            return Digest(body["heading"], body["language"], tuple(DigestLine(**line) for line in body["lines"]))
    except (KeyError, TypeError) as exc:
        raise MessageError(f"an outbox {kind!r} message of version {version} is malformed ({exc})") from None
    raise MessageError(f"no outbox message of kind {kind!r}, version {version}")


def _version_1(kind: object, payload: dict[str, Any]) -> Message:
    if kind == "clash":
        return LaidOutAlert(dict(payload["card"]))
    if kind == "summary":
        return ArticleSummary(payload["title"], payload["url"], payload["summary"])
    if kind == "notice":
        return Notice(payload["title"], payload["text"])
    raise MessageError(f"no outbox message of kind {kind!r}, version 1")
