"""Subscriptions, alert claims (unique across processes) and the outbox, delivered by shard."""

from __future__ import annotations

import time
from collections.abc import Collection
from typing import Any

from psycopg.types.json import Jsonb

from domain.records import ModeratorReview, PostedClash, ReviewDesk, Subscription, storable, storable_json, to_dict
from storage.postgres.connection import NOTIFY_CHANNEL, PostgresConnection


class PostgresDelivery(PostgresConnection):
    def subscriptions(self, channel_id: int | None = None) -> list[Subscription]:
        return self._records(
            Subscription,
            "SELECT data FROM subscriptions WHERE %(channel)s::bigint IS NULL OR channel_id = %(channel)s"
            " ORDER BY channel_id, target_kind, target",
            {"channel": channel_id},
        )

    def add_subscription(self, sub: Subscription) -> bool:
        """Add or update a subscription; True when it is new."""
        sub = storable(sub)
        row = self._one(
            "INSERT INTO subscriptions (channel_id, target_kind, target, data) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (channel_id, target_kind, target) DO UPDATE SET data = EXCLUDED.data"
            " RETURNING xmax = 0",
            (*sub.key(), Jsonb(to_dict(sub))),
        )
        return bool(row and row[0])

    def remove_subscription(self, channel_id: int, target_kind: str, target: str) -> bool:
        return (
            self._exec(
                "DELETE FROM subscriptions WHERE channel_id = %s AND target_kind = %s AND target = %s",
                (channel_id, target_kind, target),
            )
            > 0
        )

    def claim_alert(self, judgement_id: str) -> bool:
        """Record that a (position, statement) pair is alerted; False if it ever was before, by any process."""
        return self._exec("INSERT INTO alerted (id) VALUES (%s) ON CONFLICT DO NOTHING", (judgement_id,)) == 1

    def is_alerted(self, judgement_id: str) -> bool:
        return self._one("SELECT 1 FROM alerted WHERE id = %s", (judgement_id,)) is not None

    def enqueue(self, channel_id: int, payload: dict[str, Any], guild_id: int = 0) -> int:
        """Queue a message and wake every process (NOTIFY is sent when the transaction commits)."""
        row = self._one(
            "INSERT INTO outbox (channel_id, guild_id, payload, queued) VALUES (%s, %s, %s, %s) RETURNING id",
            (channel_id, guild_id, Jsonb(storable_json(payload)), time.time()),
        )
        self._exec("SELECT pg_notify(%s, 'outbox')", (NOTIFY_CHANNEL,))
        assert row is not None
        return int(row[0])

    def pending(
        self, shard_count: int | None = None, shard_ids: Collection[int] | None = None
    ) -> list[tuple[int, int, dict[str, Any]]]:
        """Undelivered messages in the order they were queued; with shards, only those of their guilds."""
        rows = self._rows(
            "SELECT id, channel_id, payload FROM outbox WHERE message_id = 0 AND (%(ids)s::int[] IS NULL"
            " OR ((guild_id >> 22) %% %(count)s)::int = ANY(%(ids)s)) ORDER BY id",
            {"ids": list(shard_ids) if shard_count and shard_ids is not None else None, "count": shard_count or 1},
        )
        return [(int(i), int(c), p) for i, c, p in rows]

    def mark_delivered(self, outbox_id: int, message_id: int) -> None:
        self._exec("UPDATE outbox SET message_id = %s WHERE id = %s", (message_id, outbox_id))

    def mark_failed(self, outbox_id: int, reason: str) -> None:
        """Discord refused this message for good (a 4xx other than 429): never retried, the reason kept."""
        self._exec("UPDATE outbox SET message_id = -1, failure = %s WHERE id = %s", (reason, outbox_id))

    def outbox_payload(self, outbox_id: int) -> dict[str, Any] | None:
        row = self._one("SELECT payload FROM outbox WHERE id = %s", (outbox_id,))
        return dict(row[0]) if row else None

    def outbox_message(self, outbox_id: int) -> int | None:
        """The Discord message an outbox row became: 0 while queued, -1 when refused, None for no such row."""
        row = self._one("SELECT message_id FROM outbox WHERE id = %s", (outbox_id,))
        return int(row[0]) if row else None

    def posted_clashes(self, person: str, position: str, since: str) -> list[PostedClash]:
        """The alerts on ``person`` that list ``position``, queued at ``since`` (ISO 8601 UTC) or later."""
        return self._records(
            PostedClash,
            "SELECT data FROM posted_clashes WHERE person = %s AND opened >= %s AND data->'positions' ? %s"
            " ORDER BY outbox_id",
            (person, since, position),
        )

    def posted_clash(self, outbox_id: int) -> PostedClash | None:
        found = self._records(PostedClash, "SELECT data FROM posted_clashes WHERE outbox_id = %s", (outbox_id,))
        return found[0] if found else None

    def save_posted_clash(self, posted: PostedClash) -> None:
        posted = storable(posted)
        self._exec(
            "INSERT INTO posted_clashes (outbox_id, person, opened, data) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (outbox_id) DO UPDATE SET data = EXCLUDED.data",
            (posted.outbox_id, posted.person, posted.opened, Jsonb(to_dict(posted))),
        )

    def record_review(self, review: ModeratorReview) -> None:
        """Keep a moderator's review in its server; a later one of the same alert there replaces it."""
        review = storable(review)
        self._exec(
            "INSERT INTO moderator_reviews (guild_id, judgement_id, at, data) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (guild_id, judgement_id) DO UPDATE SET at = EXCLUDED.at, data = EXCLUDED.data",
            (review.guild_id, review.judgement_id, review.at, Jsonb(to_dict(review))),
        )

    def moderator_reviews(self, guild_id: int | None = None) -> list[ModeratorReview]:
        """Every server's reviews (or one server's), oldest first."""
        return self._records(
            ModeratorReview,
            "SELECT data FROM moderator_reviews WHERE %(guild)s::bigint IS NULL OR guild_id = %(guild)s"
            " ORDER BY at, guild_id, judgement_id",
            {"guild": guild_id},
        )

    def review_desk(self, guild_id: int) -> ReviewDesk | None:
        row = self._one("SELECT channel_id FROM review_desks WHERE guild_id = %s", (guild_id,))
        return ReviewDesk(guild_id, int(row[0])) if row else None

    def set_review_desk(self, guild_id: int, channel_id: int | None) -> None:
        """Set the server's review channel, or with ``None`` stop holding its alerts."""
        if channel_id is None:
            self._exec("DELETE FROM review_desks WHERE guild_id = %s", (guild_id,))
        else:
            self._exec(
                "INSERT INTO review_desks (guild_id, channel_id) VALUES (%s, %s)"
                " ON CONFLICT (guild_id) DO UPDATE SET channel_id = EXCLUDED.channel_id",
                (guild_id, channel_id),
            )

    def lock_clash(self, person: str, position: str) -> None:
        """Serialise, until this transaction ends, every process routing a clash of ``person`` on ``position``:
        the second sees the first's alert and joins it, so two processes never post two alerts for one clash."""
        self._exec("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"clash:{person}:{position}",))
