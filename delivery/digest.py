"""The daily digest: a channel's alerts and summaries held back and posted once a day, at the subscription's hour.

Routing queues what a digest subscription wants as a :class:`DigestEntry` (an outbox row never sent on its own).
:func:`post_due_digests`, run every sweep, finds each digest channel whose hour has come since its last digest,
turns the entries queued before that hour into one :class:`Digest` and marks them done, in one transaction: a
restart at the digest hour posts it once, and a day with nothing posts nothing. Each alert shows its review state
as it stands when the digest is made.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from delivery.messages import (
    ArticleSummary,
    ClashAlert,
    Digest,
    DigestEntry,
    DigestLine,
    MessageError,
    from_payload,
    to_payload,
)
from domain.records import Subscription
from storage.interfaces import StanceStore

DEFAULT_ZONES = {"ko": "Asia/Seoul", "en": "UTC"}
"""A subscription's time zone when it names none: its language's (Korean: Seoul; English: UTC)."""
HEADINGS = {"en": "Daily digest until {when}", "ko": "{when}까지의 일일 요약"}
REVIEW_STATES = {
    "en": {"confirmed": "confirmed", "dismissed": "dismissed", "unreviewed": "not reviewed"},
    "ko": {"confirmed": "확인됨", "dismissed": "기각됨", "unreviewed": "검토 전"},
}
log = logging.getLogger(__name__)


def zone_of(sub: Subscription) -> ZoneInfo:
    """The subscription's time zone; an unknown name (a zone database without it) falls back to its language's."""
    try:
        return ZoneInfo(sub.timezone or DEFAULT_ZONES.get(sub.language, "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("Channel %s: unknown time zone %r; using its language's", sub.channel_id, sub.timezone)
        return ZoneInfo(DEFAULT_ZONES.get(sub.language, "UTC"))


def last_digest_moment(now: float, hour: int, zone: ZoneInfo) -> datetime:
    """The latest local ``hour``:00 at or before ``now`` (Unix seconds), as an aware datetime."""
    local = datetime.fromtimestamp(now, zone)
    moment = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    return moment if moment <= local else moment - timedelta(days=1)


def post_due_digests(
    store: StanceStore, now: float, shard_count: int | None = None, shard_ids: Collection[int] | None = None
) -> int:
    """Queue every digest whose hour has come (for the guilds of these shards; one process composes a guild's);
    returns how many. Run it on the store's thread, as one transaction."""
    entries: dict[int, list[tuple[int, DigestEntry]]] = {}
    for outbox_id, channel_id, payload in store.pending(shard_count, shard_ids):
        try:
            message = from_payload(payload)
        except MessageError:
            continue
        if isinstance(message, DigestEntry):
            entries.setdefault(channel_id, []).append((outbox_id, message))
    subs = {s.channel_id: s for s in store.subscriptions() if s.receive == "digest" and not s.paused_reason}
    queued = 0
    for channel_id, waiting in sorted(entries.items()):
        sub = subs.get(channel_id)
        if sub is None:
            continue  # the digest subscription was removed: its entries wait, harmless, until it is back
        moment = last_digest_moment(now, sub.digest_hour, zone_of(sub))
        due = [(i, e) for i, e in waiting if e.queued_at <= moment.timestamp()]
        if not due:
            continue
        digest = compose(store, sub, moment, [e for _, e in due])
        digest_id = store.enqueue(channel_id, to_payload(digest), sub.guild_id)
        for outbox_id, _ in due:
            store.mark_delivered(outbox_id, digest_id)  # listed in that digest: never sent alone, never again
        queued += 1
    return queued


def compose(store: StanceStore, sub: Subscription, moment: datetime, entries: list[DigestEntry]) -> Digest:
    """The digest of ``entries``: alerts first (with their review state now), then summaries, each in queue order."""
    language = sub.language if sub.language in HEADINGS else "en"
    states = REVIEW_STATES[language]
    alerts, summaries = [], []
    for entry in sorted(entries, key=lambda e: e.queued_at):
        item = from_payload(entry.item)
        if isinstance(item, ClashAlert):
            for clash in item.clashes:
                judgement = store.judgement(clash.judgement_id)
                state = states[judgement.review if judgement else "unreviewed"]
                title = f"{clash.person}: {clash.question}"
                alerts.append(DigestLine("alert", title, clash.statement, clash.article_url, state))
        elif isinstance(item, ArticleSummary):
            summaries.append(DigestLine("summary", item.title, item.summary, item.url))
    when = f"{moment:%Y-%m-%d %H:%M} ({moment.tzinfo})"
    return Digest(HEADINGS[language].format(when=when), language, tuple(alerts + summaries))
