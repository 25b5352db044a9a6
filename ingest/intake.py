"""The intake decision: which of a feed's items are new, which to mark seen, and which to queue for analysis.

A pure function of the parsed items and what the store has seen (reader's ``make_intents`` decides in the same way
before anything is stored); the watcher applies the decision in one store transaction.

An item is new when neither its identity nor its canonical link was ever seen, so an edited item, a feed that
changes all its guids, and one article reached through two feeds are each processed once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from domain.records import FeedItem
from ingest.parse import link_identity


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


def decide_intake(items: list[FeedItem], feed_url: str, *, seen: Callable[[str], bool], limit: int) -> Intake:
    """Decide a poll's intake; ``items`` newest first, as feeds list them; ``limit`` caps what is queued."""
    links = Counter(item.url for item in items)
    claimed: set[str] = set()
    new: list[tuple[FeedItem, list[str]]] = []
    for item in items:
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
