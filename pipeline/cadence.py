"""When to poll a feed next: learned from when it publishes, within what its server allows.

Each feed keeps the mean gap between polls that found new items (``Feed.cadence_s``, an exponentially weighted
mean: the newest gap weighs :data:`NEW_WEIGHT`) and when it last found one (``Feed.last_new``, Unix seconds). Its
expected gap is that mean, or half the time it has been quiet when that is longer (a feed that stopped publishing
backs off by itself). The interval grows with the square root of the expected gap: for a given number of polls,
that spends them where items arrive and so minimises the mean wait of all items (the interval T_i minimising
sum(rate_i * T_i / 2) with sum(1 / T_i) fixed is proportional to 1 / sqrt(rate_i)). A feed that publishes once a
day is polled at the base interval (``POLL_INTERVAL_MINUTES``), one that publishes every 40 minutes about five
times as often, held at the floor (``POLL_FLOOR_MINUTES``); nothing waits longer than the ceiling. Until a feed
has found new items twice it is polled at the base interval. The server's ``Cache-Control: max-age`` and
``Retry-After`` still come first (the watcher's rules). ``benchmarks/latency.py`` measures the effect.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from domain.records import Feed

NEW_WEIGHT = 0.3
REFERENCE_S = 24 * 3600.0
"""The expected gap at which a feed is polled at the base interval: one item a day."""


@dataclass(frozen=True)
class Cadence:
    """The polling bounds, in seconds: ``base_s`` before anything is learned, never under ``floor_s`` nor over
    ``ceiling_s``."""

    base_s: float = 600.0
    floor_s: float = 300.0
    ceiling_s: float = 6 * 3600.0

    def learned(self, feed: Feed, now: float, new_items: int) -> Feed:
        """``feed`` after a poll at ``now`` that found ``new_items`` new items (the first fetch's count none)."""
        if not new_items:
            return feed
        if not feed.last_new:
            return dataclasses.replace(feed, last_new=now)
        gap = max(now - feed.last_new, 0.0)
        cadence = gap if not feed.cadence_s else (1 - NEW_WEIGHT) * feed.cadence_s + NEW_WEIGHT * gap
        return dataclasses.replace(feed, cadence_s=cadence, last_new=now)

    def interval(self, feed: Feed, now: float) -> float:
        """Seconds until ``feed``'s next poll, from its learned cadence (see the module's docstring)."""
        if not feed.cadence_s:
            return min(max(self.base_s, self.floor_s), self.ceiling_s)
        expected = max(feed.cadence_s, (now - feed.last_new) / 2)
        wanted = self.base_s * math.sqrt(max(expected, 0.0) / REFERENCE_S)
        return min(max(wanted, self.floor_s), self.ceiling_s)
