"""Feeds, seen identities and the inbox: leased with ``FOR UPDATE SKIP LOCKED``, so processes share them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from psycopg.types.json import Jsonb

from domain.records import Feed, storable, storable_json, to_dict
from storage.postgres.connection import PostgresConnection


class PostgresFeeds(PostgresConnection):
    def feeds(self) -> list[Feed]:
        return self._records(Feed, "SELECT data FROM feeds ORDER BY url")

    def feed(self, url: str) -> Feed | None:
        return self._record(Feed, "SELECT data FROM feeds WHERE url = %s", (url,))

    def save_feed(self, feed: Feed) -> None:
        """Store a feed's state; saving it after a poll also ends the poller's lease."""
        feed = storable(feed)
        self._exec(
            "INSERT INTO feeds (url, next_poll, paused, data) VALUES (%s, %s, %s, %s) ON CONFLICT (url) DO UPDATE"
            " SET next_poll = EXCLUDED.next_poll, paused = EXCLUDED.paused, data = EXCLUDED.data,"
            " lease_owner = NULL, lease_until = NULL",
            (feed.url, feed.next_poll, feed.paused, Jsonb(to_dict(feed))),
        )

    def _delete_feed(self, url: str) -> bool:
        return self._exec("DELETE FROM feeds WHERE url = %s", (url,)) > 0

    def lease_feeds(self, owner: str, now: float, lease_s: float, limit: int = 1000) -> list[Feed]:
        """Take the due feeds that no live process holds, for ``lease_s`` seconds; others skip them meanwhile."""
        feeds = self._records(
            Feed,
            "UPDATE feeds SET lease_owner = %(owner)s, lease_until = now() + make_interval(secs => %(lease)s)"
            " WHERE url IN (SELECT url FROM feeds WHERE NOT paused AND next_poll <= %(now)s"
            " AND (lease_until IS NULL OR lease_until < now()) ORDER BY next_poll LIMIT %(limit)s"
            " FOR UPDATE SKIP LOCKED) RETURNING data",
            {"owner": owner, "lease": lease_s, "now": now, "limit": limit},
        )
        return sorted(feeds, key=lambda f: f.next_poll)

    def seen(self, identity: str) -> bool:
        return self._one("SELECT 1 FROM seen WHERE identity = %s", (identity,)) is not None

    def mark_seen(self, identities: Iterable[str]) -> set[str]:
        """Remember identities; returns those this call marked first. The database decides: of two transactions
        marking the same identity at once, the second waits for the first and marks nothing."""
        rows = self._rows(
            "INSERT INTO seen (identity, day) SELECT unnest(%s::text[]), current_date"
            " ON CONFLICT DO NOTHING RETURNING identity",
            (storable_json(list(dict.fromkeys(identities))),),
        )
        return {identity for (identity,) in rows}

    def accept(self, items: Iterable[dict[str, Any]], owner: str = "", lease_s: float = 0.0) -> None:
        """Queue items, held by ``owner`` for ``lease_s`` (none: free for any process to take)."""
        self._many(
            "INSERT INTO inbox (identity, item, lease_owner, lease_until) VALUES (%s, %s, %s,"
            " CASE WHEN %s::text <> '' THEN now() + make_interval(secs => %s) END)"
            " ON CONFLICT (identity) DO UPDATE SET item = EXCLUDED.item",
            ((item["identity"], Jsonb(item), owner or None, owner, lease_s) for item in map(storable_json, items)),
        )

    def take_inbox(self, owner: str, lease_s: float, limit: int = 100) -> list[dict[str, Any]]:
        """Take queued items that nobody holds (a dead process's, once its lease ran out), oldest first."""
        rows = self._rows(
            "UPDATE inbox SET lease_owner = %(owner)s, lease_until = now() + make_interval(secs => %(lease)s)"
            " WHERE identity IN (SELECT identity FROM inbox WHERE lease_until IS NULL OR lease_until < now()"
            " ORDER BY seq LIMIT %(limit)s FOR UPDATE SKIP LOCKED) RETURNING seq, item",
            {"owner": owner, "lease": lease_s, "limit": limit},
        )
        return [item for _, item in sorted(rows, key=lambda row: row[0])]

    def take_item(self, identity: str, owner: str, lease_s: float) -> bool:
        """Hold a queued item for ``owner`` again; False when it is finished or another live process holds it."""
        return (
            self._exec(
                "UPDATE inbox SET lease_owner = %(owner)s, lease_until = now() + make_interval(secs => %(lease)s)"
                " WHERE identity = %(identity)s AND (lease_owner = %(owner)s OR lease_until IS NULL"
                " OR lease_until < now())",
                {"owner": owner, "lease": lease_s, "identity": identity},
            )
            == 1
        )

    def done(self, identity: str) -> None:
        self._exec("DELETE FROM inbox WHERE identity = %s", (identity,))

    def inbox(self) -> list[dict[str, Any]]:
        return [item for (item,) in self._rows("SELECT item FROM inbox ORDER BY seq")]
