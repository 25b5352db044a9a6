"""Who receives what: subscriptions matched against an article's outcome, queued as typed outbox messages.

Runs on the store thread inside the unit of work that finishes an article (or records a feed's failure), so a
message is queued exactly once, together with what it reports.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import TYPE_CHECKING

from delivery.messages import (
    MAX_CLASHES_PER_ALERT,
    ArticleSummary,
    ClashAlert,
    ClashUpdate,
    DigestEntry,
    FeedPaused,
    HeldAlert,
    MessageError,
    from_payload,
    to_payload,
)
from domain.clash import JOIN_DAYS, Clash
from domain.records import PostedClash, Subscription
from domain.words import passes_filter

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from analysis.article import ArticleReport
    from storage.interfaces import DeliveryRepository


def subscription_wants(
    sub: Subscription, *, feed_url: str, clash: Clash | None = None, text: str | None = None
) -> bool:
    """Whether a subscription receives this clash (or, with ``clash=None``, this article's summary); ``text``, when
    given, is what its keyword filter reads (None: the filter is not asked, as when choosing summary languages)."""
    if sub.paused_reason:
        return False
    if text is not None and not passes_filter(text, sub.include, sub.exclude):
        return False
    if clash is None:
        return (
            sub.receive in {"summaries", "both", "digest"}
            and sub.target_kind in {"all", "feed"}
            and (sub.target_kind == "all" or sub.target == feed_url)
        )
    if sub.receive not in {"clashes", "both", "digest"} or clash.confidence < sub.min_confidence:
        return False
    if clash.alert_in and sub.guild_id not in clash.alert_in:  # the server's own judge said no (analysis.learning)
        return False
    return {
        "all": True,
        "person": sub.target == clash.person_id,
        "question": sub.target == clash.question_id,
        "feed": sub.target == feed_url,
    }[sub.target_kind]


def route_to_digests(store: DeliveryRepository, feed_url: str, report: ArticleReport, subs: list[Subscription]) -> int:
    """Hold what digest subscriptions want as entries for their channel's next digest (see ``delivery.digest``)."""
    now, queued = time.time(), 0
    summary_text = "\n".join([report.title, report.summary, *report.translations.values()])
    for channel_id in sorted({s.channel_id for s in subs}):
        mine = [s for s in subs if s.channel_id == channel_id]
        clashes = [
            c
            for c in report.clashes
            if any(subscription_wants(s, feed_url=feed_url, clash=c, text=clash_text(c)) for s in mine)
        ]
        items: list[ClashAlert | ArticleSummary] = (
            [ClashAlert(tuple(clashes[:MAX_CLASHES_PER_ALERT]))] if clashes else []
        )
        if (
            report.relevant
            and report.summary
            and any(subscription_wants(s, feed_url=feed_url, text=summary_text) for s in mine)
        ):
            summary = report.translations.get(mine[0].language) or _untranslated(report, mine[0].language)
            items.append(ArticleSummary(report.title, report.url, summary, feed_url))
        for item in items:
            store.enqueue(channel_id, to_payload(DigestEntry(to_payload(item), now)), mine[0].guild_id)
            queued += 1
    return queued


def clash_text(clash: Clash) -> str:
    """What a keyword filter reads of a clash: the statement, its article's title, the question and the person."""
    return "\n".join([clash.statement, clash.article_title, clash.question, clash.person])


def route_report(store: DeliveryRepository, feed_url: str, report: ArticleReport) -> int:
    """Write a report's clash alerts and summary to the outbox of each channel that wants them.

    Runs on the store thread in the same transaction that finishes the article, so a
    message is queued exactly once. Returns the number of messages queued.
    """
    every = store.subscriptions()
    queued = route_to_digests(store, feed_url, report, [s for s in every if s.receive == "digest"])
    subs = [s for s in every if s.receive != "digest"]
    guild_of = {s.channel_id: s.guild_id for s in subs}
    held: dict[tuple[int, str], list[tuple[int, list[Clash]]]] = {}
    for channel_id in sorted(guild_of):
        mine = [s for s in subs if s.channel_id == channel_id]
        wanted = [
            c
            for c in report.clashes
            if any(subscription_wants(s, feed_url=feed_url, clash=c, text=clash_text(c)) for s in mine)
        ]
        by_person: dict[str, list[Clash]] = {}
        for clash in wanted:
            by_person.setdefault(clash.person_id, []).append(clash)
        for person, clashes in by_person.items():  # one alert a person an article, listing every clash
            if _held(store, mine, feed_url, clashes, guild_of[channel_id]):
                held.setdefault((guild_of[channel_id], person), []).append((channel_id, clashes))
            else:
                queued += route_clashes(store, channel_id, guild_of[channel_id], clashes, time.time())
    for (guild_id, _), waiting in held.items():  # one held alert a server and person, for every channel waiting
        desk = store.review_desk(guild_id)
        assert desk is not None  # _held holds only where the server has a review channel
        clashes = list(dict.fromkeys(c for _, mine_ in waiting for c in mine_))
        alert = HeldAlert(tuple(clashes[:MAX_CLASHES_PER_ALERT]), tuple((c, guild_id) for c, _ in waiting))
        store.enqueue(desk.channel_id, to_payload(alert), guild_id)
        queued += 1
    if report.relevant and report.summary:
        text = "\n".join([report.title, report.summary, *report.translations.values()])
        wanting = [s for s in subs if subscription_wants(s, feed_url=feed_url, text=text)]
        for channel_id in sorted({s.channel_id for s in wanting}):
            language = next(s.language for s in wanting if s.channel_id == channel_id)
            summary = report.translations.get(language) or _untranslated(report, language)
            message = ArticleSummary(report.title, report.url, summary, feed_url)
            store.enqueue(channel_id, to_payload(message), guild_of[channel_id])
            queued += 1
    return queued


def _held(
    store: DeliveryRepository, subs: list[Subscription], feed_url: str, clashes: list[Clash], guild_id: int
) -> bool:
    """Whether a channel's clashes wait for review: a subscription that wants them requires it and the server has
    a review channel (without one, /subscribe refuses review; one removed later lets alerts through, logged)."""
    wanting = [
        s for s in subs if any(subscription_wants(s, feed_url=feed_url, clash=c, text=clash_text(c)) for c in clashes)
    ]
    if not any(s.review == "required" for s in wanting):
        return False
    if store.review_desk(guild_id) is None:
        log.warning("Server %s requires review but has no review channel; posting the alert directly", guild_id)
        return False
    return True


def release(store: DeliveryRepository, alert: HeldAlert, outbox_id: int, now: float) -> int:
    """A moderator confirmed a held alert: queue it for every channel that waits for it, once ever (a second
    Confirm, or one after a Dismiss, queues nothing). Returns the number of messages queued."""
    if not store.claim_alert(f"released:{outbox_id}"):
        return 0
    return sum(route_clashes(store, channel, guild, list(alert.clashes), now) for channel, guild in alert.channels)


def withhold(store: DeliveryRepository, outbox_id: int) -> bool:
    """A moderator dismissed a held alert: it is never posted, even if someone confirms it later."""
    return store.claim_alert(f"released:{outbox_id}")


def route_clashes(store: DeliveryRepository, channel_id: int, guild_id: int, clashes: list[Clash], now: float) -> int:
    """One person's new clashes for one channel: each joins the channel's alert on the same position when one was
    queued in the last ``JOIN_DAYS`` days (the alert is then edited to list it), the rest make one new alert.

    Locks each clash first (PostgreSQL: until the transaction ends), in one order, so that two processes never
    both start an alert for one clash. Returns the number of messages queued.
    """
    since = _iso(now - JOIN_DAYS * 86400)
    fresh: list[Clash] = []
    queued = 0
    for clash in sorted(clashes, key=lambda c: c.position_id):
        store.lock_clash(clash.person_id, clash.position_id)
        posted = store.posted_clashes(clash.person_id, clash.position_id, since)
        mine = next((p for p in posted if p.channel_id == channel_id), None)
        if mine is None:
            fresh.append(clash)
        else:
            queued += _join(store, mine, clash)
    if fresh:
        alert = ClashAlert(tuple(fresh[:MAX_CLASHES_PER_ALERT]))
        outbox = store.enqueue(channel_id, to_payload(alert), guild_id)
        positions = sorted({c.position_id for c in alert.clashes})
        store.save_posted_clash(
            PostedClash(outbox, channel_id, guild_id, fresh[0].person_id, positions, _iso(now), outbox)
        )
        queued += 1
    return queued


def _join(store: DeliveryRepository, posted: PostedClash, clash: Clash) -> bool:
    """Queue the edit that adds ``clash`` to a posted alert; False when the alert lists it already."""
    try:
        message = from_payload(store.outbox_payload(posted.latest) or {})
    except MessageError:
        message = None
    shown = message.clashes if isinstance(message, ClashAlert | ClashUpdate) else ()
    if clash.judgement_id in {c.judgement_id for c in shown}:
        return False
    update = ClashUpdate(posted.outbox_id, (*shown, clash))
    latest = store.enqueue(posted.channel_id, to_payload(update), posted.guild_id)
    store.save_posted_clash(dataclasses.replace(posted, latest=latest))
    return True


def _iso(stamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))


def _untranslated(report: ArticleReport, language: str) -> str:
    if language == report.language:
        return report.summary
    name = {"en": "English", "ko": "Korean"}.get(language, language)
    return f"{report.summary}\n\n(The model could not write this summary in {name}.)"


def route_notice(store: DeliveryRepository, feed_url: str, reason: str) -> int:
    """Tell every channel that follows a feed (directly or through "everything") that it was paused."""
    channels = {
        s.channel_id: s.guild_id
        for s in store.subscriptions()
        if not s.paused_reason and (s.target_kind == "all" or (s.target_kind == "feed" and s.target == feed_url))
    }
    payload = to_payload(FeedPaused(feed_url, reason))
    for channel_id in sorted(channels):
        store.enqueue(channel_id, payload, channels[channel_id])
    return len(channels)
