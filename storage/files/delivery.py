"""Subscriptions, alert claims and the outbox, in the hot file."""

from __future__ import annotations

import time
from collections.abc import Collection
from typing import Any

from tinydb import Query

from domain.records import ModeratorReview, PostedClash, ReviewDesk, Subscription, storable_json
from storage.files.state import FileState
from storage.operations import shard_of


class FileDelivery(FileState):
    def is_alerted(self, judgement_id: str) -> bool:
        return judgement_id in self._alerted

    def subscriptions(self, channel_id: int | None = None) -> list[Subscription]:
        return [s for s in self._subs.all() if channel_id is None or s.channel_id == channel_id]

    def add_subscription(self, sub: Subscription) -> bool:
        """Add or update a subscription; True when it is new."""
        with self._lock:
            return self._subs.put(sub)

    def remove_subscription(self, channel_id: int, target_kind: str, target: str) -> bool:
        with self._lock:
            return self._subs.remove((channel_id, target_kind, target))

    def claim_alert(self, judgement_id: str) -> bool:
        """Record that a (position, statement) pair is alerted; False if it ever was before."""
        with self._lock:
            if judgement_id in self._alerted:
                return False
            self._hot.table("alerted").insert({"id": judgement_id})
            self._alerted.add(judgement_id)
            return True

    def enqueue(self, channel_id: int, payload: dict[str, Any], guild_id: int = 0) -> int:
        """Write a message to the outbox before it is sent; returns its outbox id."""
        with self._lock:
            return self._hot.table("outbox").insert(
                {
                    "channel_id": channel_id,
                    "guild_id": guild_id,
                    "payload": storable_json(payload),
                    "message_id": 0,
                    "queued": time.time(),
                }
            )

    def pending(
        self, shard_count: int | None = None, shard_ids: Collection[int] | None = None
    ) -> list[tuple[int, int, dict[str, Any]]]:
        """Undelivered messages in the order they were queued; with shards, only those of their guilds."""
        rows = sorted(self._hot.table("outbox").search(Query().message_id == 0), key=lambda r: r.doc_id)
        if shard_count and shard_ids is not None:
            rows = [r for r in rows if shard_of(r.get("guild_id", 0), shard_count) in shard_ids]
        return [(row.doc_id, row["channel_id"], row["payload"]) for row in rows]

    def mark_delivered(self, outbox_id: int, message_id: int) -> None:
        with self._lock:
            self._hot.table("outbox").update({"message_id": message_id}, doc_ids=[outbox_id])

    def mark_failed(self, outbox_id: int, reason: str) -> None:
        """Discord refused this message for good (a 4xx other than 429): never retried, the reason kept."""
        with self._lock:
            self._hot.table("outbox").update({"message_id": -1, "failure": reason}, doc_ids=[outbox_id])

    def outbox_payload(self, outbox_id: int) -> dict[str, Any] | None:
        row = self._hot.table("outbox").get(doc_id=outbox_id)
        return dict(row["payload"]) if isinstance(row, dict) else None

    def outbox_message(self, outbox_id: int) -> int | None:
        """The Discord message an outbox row became: 0 while queued, -1 when refused, None for no such row."""
        row = self._hot.table("outbox").get(doc_id=outbox_id)
        return int(row["message_id"]) if isinstance(row, dict) else None

    def posted_clashes(self, person: str, position: str, since: str) -> list[PostedClash]:
        """The alerts on ``person`` that list ``position``, queued at ``since`` (ISO 8601 UTC) or later."""
        return [p for p in self._posted.all() if p.person == person and position in p.positions and p.opened >= since]

    def posted_clash(self, outbox_id: int) -> PostedClash | None:
        return self._posted.get(outbox_id)

    def save_posted_clash(self, posted: PostedClash) -> None:
        with self._lock:
            self._posted.put(posted)

    def lock_clash(self, person: str, position: str) -> None:
        """One process owns a file store (its lock file): nothing to serialise."""

    def review_desk(self, guild_id: int) -> ReviewDesk | None:
        return self._desks.get(guild_id)

    def record_review(self, review: ModeratorReview) -> None:
        """Keep a moderator's review in its server; a later one of the same alert there replaces it."""
        with self._lock:
            self._reviews.put(review)

    def moderator_reviews(self, guild_id: int | None = None) -> list[ModeratorReview]:
        """Every server's reviews (or one server's), oldest first."""
        reviews = [r for r in self._reviews.all() if guild_id is None or r.guild_id == guild_id]
        return sorted(reviews, key=lambda r: (r.at, r.guild_id, r.judgement_id))

    def set_review_desk(self, guild_id: int, channel_id: int | None) -> None:
        """Set the server's review channel, or with ``None`` stop holding its alerts."""
        with self._lock:
            if channel_id is None:
                self._desks.remove(guild_id)
            else:
                self._desks.put(ReviewDesk(guild_id, channel_id))
