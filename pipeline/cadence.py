"""When to poll a feed next: learned from when it publishes, within what its server and host allow.

A feed that publishes every twenty minutes is polled every ten; one that published nothing for a day is polled a few
times a day. Each feed keeps the mean gap between polls that found new items (``Feed.cadence_s``, an exponentially
weighted mean: the newest gap weighs :data:`NEW_WEIGHT`) and when it last found one (``Feed.last_new``, Unix
seconds). The next poll comes after half the expected gap, or after a quarter of the time the feed has been quiet
when that is longer (a feed that stopped publishing backs off by itself), never sooner than the floor
(``POLL_FLOOR_MINUTES``) nor later than the ceiling. The server's ``Cache-Control: max-age`` and ``Retry-After``
still come first (the watcher's rules). Until a feed has found new items twice, it is polled at the base interval
(``POLL_INTERVAL_MINUTES``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from domain.records import Feed

NEW_WEIGHT = 0.3
ACTIVE_SHARE = 0.5
"""Poll twice per expected gap between new items: an item waits a quarter of the gap on average."""
QUIET_SHARE = 0.25


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
        quiet = max(now - feed.last_new, 0.0)
        wanted = max(feed.cadence_s * ACTIVE_SHARE, quiet * QUIET_SHARE)
        return min(max(wanted, self.floor_s), self.ceiling_s)
