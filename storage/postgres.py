"""The PostgreSQL backend: one database shared by several bot processes.

Selected by ``DATABASE_URL``. Each :meth:`PostgresStore.run` is one database transaction on
a pooled connection, on a worker thread: the store calls made inside it find that
connection in a thread-local and share the transaction, and it commits when the function
returns (or rolls back when it raises). Feeds are polled under leases taken with
``FOR UPDATE SKIP LOCKED``, so two processes never poll one feed at once and a dead
process's feeds are taken over when its leases expire. The schema is a numbered list of
SQL files in ``storage/sql``, applied at start under an advisory lock and recorded in
``schema_migrations``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from importlib import resources
from typing import Any, LiteralString, ParamSpec, TypeVar, cast

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from storage.durable import StorageError
from storage.interfaces import Snapshot
from storage.operations import StoreOperations, load_starter_pack
from storage.records import (
    Article,
    Feed,
    Judgement,
    Person,
    Position,
    PositionStatus,
    Question,
    Review,
    Statement,
    Subscription,
    from_dict,
    to_dict,
)

Query = LiteralString | sql.SQL | sql.Composed
P = ParamSpec("P")
T = TypeVar("T")
R = TypeVar("R")
OUTBOX_KEEP_S = 7 * 86400
_MIGRATION = re.compile(r"^(\d{4})_(\w+)\.sql$")
_LOCK_MIGRATE = 0x53570001  # advisory lock keys: one process migrates, one seeds
_LOCK_SEED = 0x53570002
NOTIFY_CHANNEL = "stancewatch"
log = logging.getLogger(__name__)
TABLES = (
    "people questions positions feeds seen inbox subscriptions alerted outbox articles statements judgements"
).split()


def describe_url(url: str) -> str:
    """Where a database is, without its password (URLs reach logs and error messages)."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "PostgreSQL (an unreadable DATABASE_URL)"
    host = parts.get("host") or "localhost"
    where = host if str(host).startswith("/") else f"{host}:{parts.get('port') or 5432}"
    return f"PostgreSQL database {parts.get('dbname') or parts.get('user') or '?'} on {where}"


def migrations() -> list[tuple[int, str, str]]:
    folder = resources.files("storage").joinpath("sql")
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION.match(entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    return sorted(found)


class PostgresStore(StoreOperations):
    def __init__(
        self, url: str, *, body_days: int = 90, identity_days: int = 365, read_only: bool = False, workers: int = 4
    ) -> None:
        self.url = url
        self.body_days = body_days
        self.identity_days = identity_days
        self.read_only = read_only
        options = {"options": "-c default_transaction_read_only=on"} if read_only else {}
        try:  # one plain connection first, so that a wrong URL or a stopped server is one clear sentence
            psycopg.connect(url, connect_timeout=10, **options).close()  # type: ignore[arg-type]
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StorageError(f"Cannot connect to {describe_url(url)}: {reason}.") from None
        self._pool = ConnectionPool(url, min_size=1, max_size=workers, kwargs=options, open=True, name="stancewatch")
        self._local = threading.local()
        self._listener: psycopg.AsyncConnection[Any] | None = None
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="store")
        if not read_only:
            self._migrate()

    @classmethod
    def open(cls, url: str, *, seed: bool = True, read_only: bool = False) -> PostgresStore:
        """Open the database, migrated; a database without people is seeded with the starter stance pack once."""
        store = cls(url, read_only=read_only)
        if seed and not read_only:
            with store._atomic() as conn:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_SEED,))
                if store._one("SELECT count(*) FROM people") == (0,):
                    store.import_data(load_starter_pack())
        return store

    def _migrate(self) -> None:
        with self._atomic() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_MIGRATE,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations"
                " (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            applied = {version for (version,) in conn.execute("SELECT version FROM schema_migrations")}
            known = migrations()
            newest = max((v for v, _, _ in known), default=0)
            if applied and max(applied) > newest:
                raise StorageError(
                    f"{describe_url(self.url)} was migrated by a newer Stancewatch "
                    f"(schema {max(applied)}, this one knows {newest})."
                )
            for version, name, text in known:
                if version not in applied:
                    conn.execute(sql.SQL(cast(LiteralString, text)))
                    conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (version, name))

    def schema_versions(self) -> list[int]:
        return [v for (v,) in self._rows("SELECT version FROM schema_migrations ORDER BY version")]

    # -- the unit of work -----------------------------------------------------------------

    @contextmanager
    def _atomic(self) -> Iterator[psycopg.Connection[Any]]:
        """The current thread's transaction, or a new one that commits when the outermost block ends."""
        current: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        with self._pool.connection() as conn:
            self._local.conn = conn
            try:
                yield conn
            finally:
                self._local.conn = None

    def _transaction(self, fn: Callable[[], R]) -> R:
        with self._atomic():
            return fn()

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn`` as one transaction on a worker thread, off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._transaction, functools.partial(fn, *args, **kwargs))

    async def commit(self) -> None:
        """Nothing to do: every :meth:`run` committed when it returned."""

    def flush(self) -> None:
        """Nothing to do: every transaction is durable when it commits."""

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self._pool.close()
        if self._listener is not None and not self._listener.closed:
            self._listener.pgconn.finish()  # the async connection's socket, closed from any thread

    def describe(self) -> str:
        return describe_url(self.url)

    async def wait_for_change(self, timeout: float) -> None:
        """Return when another process commits work for this one (LISTEN/NOTIFY), or after ``timeout``.

        The timeout is the fallback: a lost listening connection only makes the wake-up as slow as polling.
        """
        try:
            if self._listener is None or self._listener.closed:
                self._listener = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
                await self._listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(NOTIFY_CHANNEL)))
            async for _ in self._listener.notifies(timeout=timeout, stop_after=1):
                return
        except psycopg.Error as exc:
            log.warning("Listening for other processes' changes failed (%s); polling instead", exc)
            self._listener = None
            await asyncio.sleep(timeout)

    def _rows(self, query: Query, params: Any = ()) -> list[tuple[Any, ...]]:
        with self._atomic() as conn:
            return conn.execute(query, params).fetchall()

    def _one(self, query: Query, params: Any = ()) -> tuple[Any, ...] | None:
        with self._atomic() as conn:
            return conn.execute(query, params).fetchone()

    def _exec(self, query: Query, params: Any = ()) -> int:
        with self._atomic() as conn:
            return conn.execute(query, params).rowcount

    def _many(self, query: Query, rows: Iterable[Any]) -> None:
        with self._atomic() as conn, conn.cursor() as cursor:
            cursor.executemany(query, list(rows))

    def _records(self, cls: type[R], query: Query, params: Any = ()) -> list[R]:
        return [from_dict(cls, data, cls.__name__) for (data,) in self._rows(query, params)]

    def _record(self, cls: type[R], query: Query, params: Any = ()) -> R | None:
        row = self._one(query, params)
        return from_dict(cls, row[0], cls.__name__) if row else None

    # -- stances --------------------------------------------------------------------------

    def people(self) -> list[Person]:
        return self._records(Person, "SELECT data FROM people ORDER BY id")

    def person(self, person_id: str) -> Person | None:
        return self._record(Person, "SELECT data FROM people WHERE id = %s", (person_id,))

    def add_person(self, person: Person) -> None:
        self._exec(
            "INSERT INTO people (id, data) VALUES (%s, %s) ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data",
            (person.id, Jsonb(to_dict(person))),
        )

    def questions(self) -> list[Question]:
        return self._records(Question, "SELECT data FROM questions ORDER BY id")

    def question(self, question_id: str) -> Question | None:
        return self._record(Question, "SELECT data FROM questions WHERE id = %s", (question_id,))

    def _put_questions(self, questions: list[Question]) -> None:
        self._many(
            "INSERT INTO questions (id, data) VALUES (%s, %s) ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data",
            ((q.id, Jsonb(to_dict(q))) for q in questions),
        )

    def positions(self, person: str | None = None, *, status: PositionStatus | None = "active") -> list[Position]:
        return self._records(
            Position,
            "SELECT data FROM positions WHERE (%(person)s::text IS NULL OR person = %(person)s)"
            " AND (%(status)s::text IS NULL OR status = %(status)s) ORDER BY id",
            {"person": person, "status": status},
        )

    def position(self, position_id: str) -> Position | None:
        return self._record(Position, "SELECT data FROM positions WHERE id = %s", (position_id,))

    def _put_positions(self, positions: list[Position]) -> None:
        self._many(
            "INSERT INTO positions (id, person, status, data) VALUES (%s, %s, %s, %s) ON CONFLICT (id)"
            " DO UPDATE SET person = EXCLUDED.person, status = EXCLUDED.status, data = EXCLUDED.data",
            ((p.id, p.person, p.status, Jsonb(to_dict(p))) for p in positions),
        )

    def remove_position(self, position_id: str) -> bool:
        return self._exec("DELETE FROM positions WHERE id = %s", (position_id,)) > 0

    # -- feeds, seen identities, inbox ------------------------------------------------------

    def feeds(self) -> list[Feed]:
        return self._records(Feed, "SELECT data FROM feeds ORDER BY url")

    def feed(self, url: str) -> Feed | None:
        return self._record(Feed, "SELECT data FROM feeds WHERE url = %s", (url,))

    def save_feed(self, feed: Feed) -> None:
        """Store a feed's state; saving it after a poll also ends the poller's lease."""
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

    def mark_seen(self, identities: Iterable[str]) -> None:
        self._many(
            "INSERT INTO seen (identity, day) VALUES (%s, current_date) ON CONFLICT DO NOTHING",
            ((i,) for i in dict.fromkeys(identities)),
        )

    def accept(self, items: Iterable[dict[str, Any]], owner: str = "", lease_s: float = 0.0) -> None:
        """Queue items, held by ``owner`` for ``lease_s`` (none: free for any process to take)."""
        self._many(
            "INSERT INTO inbox (identity, item, lease_owner, lease_until) VALUES (%s, %s, %s,"
            " CASE WHEN %s::text <> '' THEN now() + make_interval(secs => %s) END)"
            " ON CONFLICT (identity) DO UPDATE SET item = EXCLUDED.item",
            ((item["identity"], Jsonb(item), owner or None, owner, lease_s) for item in items),
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

    # -- archive ------------------------------------------------------------------------------

    def record_article(
        self, article: Article, judgements: list[Judgement], statements: Iterable[Statement] = ()
    ) -> None:
        with self._atomic():
            self._put_articles([article])
            self._put_statements(list(statements))
            self._add_judgements(judgements)

    def _put_articles(self, articles: list[Article]) -> None:
        self._many(
            "INSERT INTO articles (identity, fetched, data) VALUES (%s, %s, %s) ON CONFLICT (identity)"
            " DO UPDATE SET fetched = EXCLUDED.fetched, data = EXCLUDED.data",
            ((a.identity, a.fetched, Jsonb(to_dict(a))) for a in articles),
        )

    def _put_statements(self, statements: list[Statement]) -> None:
        self._many(
            "INSERT INTO statements (id, person, date, data) VALUES (%s, %s, %s, %s) ON CONFLICT (id)"
            " DO UPDATE SET person = EXCLUDED.person, date = EXCLUDED.date, data = EXCLUDED.data",
            ((s.id, s.person, s.date, Jsonb(to_dict(s))) for s in statements),
        )

    def _add_judgements(self, judgements: list[Judgement]) -> None:
        self._many(
            "INSERT INTO judgements (id, person, judged_at, data) VALUES (%s, %s, %s, %s) ON CONFLICT (id)"
            " DO UPDATE SET person = EXCLUDED.person, judged_at = EXCLUDED.judged_at, data = EXCLUDED.data",
            ((j.id, j.person, j.judged_at, Jsonb(to_dict(j))) for j in judgements),
        )

    def article(self, identity: str) -> Article | None:
        return self._record(Article, "SELECT data FROM articles WHERE identity = %s", (identity,))

    def statements(self, person: str) -> list[Statement]:
        """What articles attributed to ``person``, oldest first."""
        return self._records(Statement, "SELECT data FROM statements WHERE person = %s ORDER BY date, id", (person,))

    def judgements(self, person: str | None = None) -> list[Judgement]:
        return self._records(
            Judgement,
            "SELECT data FROM judgements WHERE %(person)s::text IS NULL OR person = %(person)s ORDER BY judged_at, id",
            {"person": person},
        )

    def judgement(self, judgement_id: str) -> Judgement | None:
        return self._record(Judgement, "SELECT data FROM judgements WHERE id = %s", (judgement_id,))

    def review(self, judgement_id: str, review: Review, by: str) -> Judgement | None:
        return self._record(
            Judgement,
            "UPDATE judgements SET data = data || jsonb_build_object('review', %s::text, 'reviewed_by', %s::text)"
            " WHERE id = %s RETURNING data",
            (review, by, judgement_id),
        )

    # -- delivery -----------------------------------------------------------------------------

    def subscriptions(self, channel_id: int | None = None) -> list[Subscription]:
        return self._records(
            Subscription,
            "SELECT data FROM subscriptions WHERE %(channel)s::bigint IS NULL OR channel_id = %(channel)s"
            " ORDER BY channel_id, target_kind, target",
            {"channel": channel_id},
        )

    def add_subscription(self, sub: Subscription) -> bool:
        """Add or update a subscription; True when it is new."""
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

    def enqueue(self, channel_id: int, payload: dict[str, Any], guild_id: int = 0) -> int:
        """Queue a message and wake every process (NOTIFY is sent when the transaction commits)."""
        row = self._one(
            "INSERT INTO outbox (channel_id, guild_id, payload, queued) VALUES (%s, %s, %s, %s) RETURNING id",
            (channel_id, guild_id, Jsonb(payload), time.time()),
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

    # -- retention and copies -------------------------------------------------------------------

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
        return {"article_bodies": bodies, "outbox": outbox}

    def snapshot(self) -> Snapshot:
        with self._atomic() as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")  # one consistent picture of every table
            outbox = self._rows(
                "SELECT id, channel_id, guild_id, payload, message_id, failure, queued FROM outbox ORDER BY id"
            )
            return {
                "people": [to_dict(p) for p in self.people()],
                "questions": [to_dict(q) for q in self.questions()],
                "positions": [to_dict(p) for p in self.positions(status=None)],
                "feeds": [to_dict(f) for f in self.feeds()],
                "subscriptions": [to_dict(s) for s in self.subscriptions()],
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
