"""One accepted feed item, from fetch to outbox: the walk every article takes, read top to bottom in
:func:`update_item`.

The analysis decides (:class:`analysis.article.ArticleOutcome`) and writes nothing; :func:`commit_article` then
writes everything the article leads to in one unit of work on the store thread: its records, the proposals, the
alert claims, the outbox messages and the inbox completion. A crash therefore keeps all of it or none.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import aiohttp

from analysis.article import ArticleAnalysis, ArticleOutcome, ArticleReport
from delivery.routing import route_report
from domain.records import FeedItem, Position
from ingest.articles import article_text
from storage.interfaces import StanceStore
from storage.operations import HOT_LIMITS

MAX_PROPOSALS_PER_QUESTION = 20
"""Unconfirmed proposals kept per person and question; the oldest make room for a new one."""
log = logging.getLogger(__name__)


def _room_for(store: StanceStore, proposal: Position) -> bool:
    """Make room for ``proposal``: prune its person's oldest unconfirmed proposals on the question past the bound;
    False when the store is full of other positions (the proposal is left out, and logged)."""
    waiting = [p for p in store.positions(proposal.person, status="proposed") if p.question == proposal.question]
    waiting.sort(key=lambda p: (p.published or p.date, p.id))
    for oldest in waiting[: max(0, len(waiting) - MAX_PROPOSALS_PER_QUESTION + 1)]:
        store.remove_position(oldest.id)
    if store.position_count() >= HOT_LIMITS["positions"]:
        log.warning(
            "The store holds %d positions, its limit: proposal %s left out", HOT_LIMITS["positions"], proposal.id
        )
        return False
    return True


class ItemTaken(Exception):
    """Another process holds the item now (this one outlived its lease): its work here is dropped, not stored."""


@dataclass(frozen=True)
class Lease:
    """Who holds an inbox item while it is processed, and for how long (seconds) each hold lasts."""

    owner: str
    seconds: float


async def update_item(
    item: FeedItem,
    *,
    store: StanceStore,
    analysis: ArticleAnalysis,
    session: aiohttp.ClientSession,
    lease: Lease,
    allow_private: bool,
) -> ArticleReport:
    """Fetch the article's page when the feed carries only a snippet, analyse it, and commit what it leads to.

    Raises :class:`ItemTaken` when another process took the item meanwhile, and whatever the page fetch, the model
    or the store raised (the caller decides whether to retry; nothing was written).
    """
    text = await article_text(session, item, allow_private=allow_private)
    outcome = await analysis.analyse(dataclasses.replace(item, text=text))
    return await store.run(commit_article, store, item, outcome, lease)


def commit_article(store: StanceStore, item: FeedItem, outcome: ArticleOutcome, lease: Lease) -> ArticleReport:
    """On the store thread, one unit of work: the holder records the outcome, queues its messages, finishes the item.

    Returns the report with only the clashes this commit claimed (an alert is claimed once, ever).
    """
    if not store.take_item(item.identity, lease.owner, lease.seconds):
        raise ItemTaken(item.identity)
    report = record_outcome(store, outcome)
    route_report(store, item.feed_url, report)
    store.done(item.identity)
    return report


def record_outcome(store: StanceStore, outcome: ArticleOutcome) -> ArticleReport:
    """Store the article, its statements and judgements and the new proposals; claim the alerts not yet claimed."""
    store.record_article(outcome.article, outcome.judgements, outcome.statements)
    for proposal in outcome.proposals:
        if store.position(proposal.id) is None and _room_for(store, proposal):
            store.add_position(proposal)
    clashes = [c for c in outcome.report.clashes if store.claim_alert(c.judgement_id)]
    return dataclasses.replace(outcome.report, clashes=clashes)
