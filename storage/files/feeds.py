"""Feeds (hot file), seen identities and the inbox (journals); leases live in memory, one process being the only one."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from domain.records import Feed, storable_json
from storage.files.state import FileState


class FileFeeds(FileState):
    def feeds(self) -> list[Feed]:
        return self._feeds.all()

    def feed(self, url: str) -> Feed | None:
        return self._feeds.get(url)

    def save_feed(self, feed: Feed) -> None:
        """Store a feed's state; saving it after a poll also ends the poller's lease."""
        with self._lock:
            self._feeds.put(feed)
            self._leases.pop(feed.url, None)

    def _delete_feed(self, url: str) -> bool:
        with self._lock:
            return self._feeds.remove(url)

    def lease_feeds(self, owner: str, now: float, lease_s: float, limit: int = 1000) -> list[Feed]:
        """The due feeds not already being polled, soonest first, held for ``lease_s`` or until saved.

        Leases live in memory: the data directory's lock makes this process the only poller, and a
        restart forgets them with the process that held them.
        """
        with self._lock:
            clock = time.time()
            due = sorted(
                (
                    f
                    for f in self._feeds.all()
                    if not f.paused and f.next_poll <= now and self._leases.get(f.url, 0.0) < clock
                ),
                key=lambda f: f.next_poll,
            )[:limit]
            self._leases.update((f.url, clock + lease_s) for f in due)
            return due

    def seen(self, identity: str) -> bool:
        return identity in self._seen

    def mark_seen(self, identities: Iterable[str]) -> set[str]:
        """Remember identities (kept a year, so that old items are never posted again); returns those not seen yet."""
        with self._lock:
            fresh = {i for i in storable_json(list(identities)) if i not in self._seen}
            self._seen.add(fresh)
            return fresh

    def accept(self, items: Iterable[dict[str, Any]], owner: str = "", lease_s: float = 0.0) -> None:
        """Queue items for processing, held by ``owner`` for ``lease_s``; kept until :meth:`done`, across restarts."""
        with self._lock:
            items = [storable_json(i) for i in items]
            self._inbox.add(items)
            if owner:
                self._item_leases.update((i["identity"], (owner, time.time() + lease_s)) for i in items)

    def take_inbox(self, owner: str, lease_s: float, limit: int = 100) -> list[dict[str, Any]]:
        """Queued items that nobody holds (leases live in memory: after a restart, all of them), oldest first."""
        with self._lock:
            now = time.time()
            free = [i for i in self._inbox.items() if self._item_leases.get(i["identity"], ("", 0.0))[1] < now]
            self._item_leases.update((i["identity"], (owner, now + lease_s)) for i in free[:limit])
            return free[:limit]

    def take_item(self, identity: str, owner: str, lease_s: float) -> bool:
        """Hold a queued item for ``owner`` again; False when it is finished or someone else holds it."""
        with self._lock:
            now = time.time()
            holder, until = self._item_leases.get(identity, ("", 0.0))
            if identity not in self._inbox or (holder != owner and until >= now):
                return False
            self._item_leases[identity] = (owner, now + lease_s)
            return True

    def done(self, identity: str) -> None:
        with self._lock:
            self._inbox.done(identity)
            self._item_leases.pop(identity, None)

    def inbox(self) -> list[dict[str, Any]]:
        with self._lock:
            return self._inbox.items()
