"""The intake decision: which of a feed's items are new, which to mark seen, and which to queue for analysis.

A pure function of the parsed items and what the store has seen (reader's ``make_intents`` decides in the same way
before anything is stored); the watcher applies the decision in one store transaction.

An item is new when neither its identity nor its canonical link was ever seen, so an edited item, a feed that
changes all its guids, and one article reached through two feeds are each processed once. "Newest" means newest by
publication date (:func:`newest_first`), not by where a feed happens to list an item.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from domain.records import FeedItem
from ingest.links import link_identity


@dataclass(frozen=True)
class Intake:
    """What to do with one poll's items."""

    seen: list[str]
    """Every identity and link identity of the new items, to mark seen (the excess over the cap included)."""
    queue: list[FeedItem]
    """The new items to analyse, oldest first."""
    keys: dict[str, list[str]]
    """Each queued item's identities (its own, and its link's when it has one), by item identity."""
    excess: int
    """New items over the cap: recorded as seen, never posted."""


def newest_first(items: list[FeedItem]) -> list[FeedItem]:
    """``items`` (in document order) newest first: by publication date where items have one.

    Dated items are ordered by date; the document's own direction breaks ties and places undated items. That
    direction is read from the dated items (a feed that appends at the bottom lists them oldest first), and is
    newest-first, as most feeds write, when too few items are dated to tell.
    """
    dated = [item.published for item in items if item.published]
    rising = sum(a < b for a, b in itertools.pairwise(dated))
    falling = sum(a > b for a, b in itertools.pairwise(dated))
    listed = list(reversed(items)) if rising > falling else list(items)
    if len(dated) < len(items):
        return listed
    order = sorted(range(len(listed)), key=lambda n: (listed[n].published, -n), reverse=True)  # ISO 8601 UTC stamps
    return [listed[n] for n in order]


def decide_intake(items: list[FeedItem], feed_url: str, *, seen: Callable[[str], bool], limit: int) -> Intake:
    """Decide a poll's intake from ``items`` in document order; ``limit`` caps what is queued, newest kept."""
    links = Counter(item.url for item in items)
    claimed: set[str] = set()
    new: list[tuple[FeedItem, list[str]]] = []
    for item in newest_first(items):
        keys = [item.identity]
        if item.url and links[item.url] == 1 and item.url != feed_url:
            keys.append(link_identity(item.url))
        if any(k in claimed or seen(k) for k in keys):
            continue
        claimed.update(keys)
        new.append((item, keys))
    chosen = new[:limit]
    return Intake(
        seen=[k for _, keys in new for k in keys],
        queue=[item for item, _ in reversed(chosen)],
        keys={item.identity: keys for item, keys in chosen},
        excess=len(new) - len(chosen),
    )
