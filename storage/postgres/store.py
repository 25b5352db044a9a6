"""The PostgreSQL backend as a whole: its four areas, plus retention and whole-store copies."""

from __future__ import annotations

import time

from psycopg.types.json import Jsonb

from domain.records import Article, Feed, ModeratorReview, PostedClash, Statement, Subscription, from_dict, to_dict
from storage.interfaces import Snapshot
from storage.operations import StoreOperations, load_starter_pack
from storage.postgres.archive import PostgresArchive
from storage.postgres.connection import LOCK_SEED
from storage.postgres.delivery import PostgresDelivery
from storage.postgres.feeds import PostgresFeeds
from storage.postgres.stances import PostgresStances

OUTBOX_KEEP_S = 7 * 86400


class PostgresStore(PostgresStances, PostgresFeeds, PostgresDelivery, PostgresArchive, StoreOperations):
    """Several bot processes on one database; each area's calls live in the modules beside this one."""

    @classmethod
    def open(cls, url: str, *, seed: bool = True, read_only: bool = False) -> PostgresStore:
        """Open the database, migrated; a database without people is seeded with the starter stance pack once."""
        store = cls(url, read_only=read_only)
        if seed and not read_only:
            with store._atomic() as conn:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_SEED,))
                if store._one("SELECT count(*) FROM people") == (0,):
                    store.import_data(load_starter_pack())
        return store

    def prune(self) -> dict[str, int]:
        """Apply the retention: article bodies past ``body_days``, delivered messages past a week, old identities."""
        cutoff = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - self.body_days * 86400))
        with self._atomic():
            bodies = self._exec(
                "UPDATE articles SET data = jsonb_set(data, '{text}', '\"\"') WHERE data->>'text' <> ''"
                " AND fetched < %s",
                (cutoff,),
            )
            outbox = self._exec(
                "DELETE FROM outbox WHERE message_id <> 0 AND queued < %s", (time.time() - OUTBOX_KEEP_S,)
            )
            self._exec("DELETE FROM seen WHERE day < current_date - %s", (self.identity_days,))
            opened = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - OUTBOX_KEEP_S))
            self._exec("DELETE FROM posted_clashes WHERE opened < %s", (opened,))
        return {"article_bodies": bodies, "outbox": outbox}

    def snapshot(self) -> Snapshot:
        with self._atomic() as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")  # one consistent picture of every table
            outbox = self._rows(
                "SELECT id, channel_id, guild_id, payload, message_id, failure, queued FROM outbox ORDER BY id"
            )
            return {
                **self._repository_snapshot(),
                "seen": [
                    {"identity": i, "day": d.isoformat()} for i, d in self._rows("SELECT identity, day FROM seen")
                ],
                "inbox": self.inbox(),
                "alerted": [{"id": i} for (i,) in self._rows("SELECT id FROM alerted ORDER BY id")],
                "outbox": [
                    {"id": i, "channel_id": c, "guild_id": g, "payload": p, "message_id": m, "failure": f, "queued": q}
                    for i, c, g, p, m, f, q in outbox
                ],
                "articles": [d for (d,) in self._rows("SELECT data FROM articles ORDER BY identity")],
                "statements": [d for (d,) in self._rows("SELECT data FROM statements ORDER BY id")],
                "judgements": [to_dict(j) for j in self.judgements()],
                "posted_clashes": [d for (d,) in self._rows("SELECT data FROM posted_clashes ORDER BY outbox_id")],
                "review_desks": [
                    {"guild_id": g, "channel_id": c}
                    for g, c in self._rows("SELECT guild_id, channel_id FROM review_desks ORDER BY guild_id")
                ],
                "moderator_reviews": [to_dict(r) for r in self.moderator_reviews()],
            }

    def restore(self, snapshot: Snapshot) -> None:
        """Load a snapshot into this empty database (``store copy``); outbox ids are kept, review buttons name them."""
        with self._atomic() as conn:
            self.import_data({k: snapshot[k] for k in ("people", "questions", "positions", "judgements")})
            for row in snapshot["feeds"]:
                self.save_feed(from_dict(Feed, row, "feeds"))
            for row in snapshot["subscriptions"]:
                self.add_subscription(from_dict(Subscription, row, "subscriptions"))
            self._many(
                "INSERT INTO seen (identity, day) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                ((r["identity"], r["day"]) for r in snapshot["seen"]),
            )
            self.accept(snapshot["inbox"])
            self._many("INSERT INTO alerted (id) VALUES (%s)", ((r["id"],) for r in snapshot["alerted"]))
            self._many(
                "INSERT INTO outbox (id, channel_id, guild_id, payload, message_id, failure, queued)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    (
                        r["id"],
                        r["channel_id"],
                        r["guild_id"],
                        Jsonb(r["payload"]),
                        r["message_id"],
                        r["failure"],
                        r["queued"],
                    )
                    for r in snapshot["outbox"]
                ),
            )
            conn.execute(
                "SELECT setval(pg_get_serial_sequence('outbox', 'id'), coalesce(max(id), 0) + 1, false) FROM outbox"
            )
            self._put_articles([from_dict(Article, r, "articles") for r in snapshot["articles"]])
            self._put_statements([from_dict(Statement, r, "statements") for r in snapshot["statements"]])
            for row in snapshot.get("posted_clashes", []):
                self.save_posted_clash(from_dict(PostedClash, row, "posted_clashes"))
            for row in snapshot.get("review_desks", []):
                self.set_review_desk(int(row["guild_id"]), int(row["channel_id"]))
            for row in snapshot.get("moderator_reviews", []):
                self.record_review(from_dict(ModeratorReview, row, "moderator_reviews"))
