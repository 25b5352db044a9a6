"""The stance store: people, questions, positions, feeds, subscriptions, and what was seen and said.

Where each thing lives, and why:

- ``stancewatch.json`` (TinyDB, :class:`DurableJSONStorage`): the small hot state every
  poll and command needs: people, questions, positions, feeds, subscriptions, alert
  claims and the outbox. Mirrored in memory and indexed (:class:`IndexedTable`).
- ``identities.log`` and ``inbox.log``: append-only journals of seen article
  identities (kept a year) and of accepted, unfinished articles.
- ``archive/YYYY-MM.json``: processed articles and judgements, a file a month; article
  bodies are dropped after ``body_days`` (90).

Changes stay in memory until :meth:`Store.flush` (or the grouped :meth:`Store.commit`)
writes each changed file once, atomically. The store is synchronous; async code goes
through :meth:`Store.run`, which executes on the store's single worker thread, so file
I/O never touches the event loop and there is only ever one writer. At start-up the
schema is migrated (after a backup), and a file that cannot be read is reported with
the last good copy to restore.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import threading
import time
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from tinydb import Query, TinyDB
from tinydb.table import Document

from storage.archive import ArticleArchive
from storage.durable import DurableJSONStorage, StorageError
from storage.identities import IdentityLog
from storage.inbox import Inbox
from storage.interfaces import Snapshot
from storage.lock import DataDirLock
from storage.migrations import HOT_FILE, last_backup, migrate
from storage.operations import StoreOperations, load_starter_pack, shard_of
from storage.records import (
    Article,
    Feed,
    Judgement,
    Person,
    Position,
    PositionStatus,
    Question,
    RecordError,
    Review,
    Statement,
    Subscription,
    from_dict,
    to_dict,
)
from storage.tables import IndexedTable

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")
COMMIT_LINGER_S = 0.005
OUTBOX_KEEP_S = 7 * 86400
LAST_GOOD = "last-good"
LAST_GOOD_GENERATIONS = 3


class Store(StoreOperations):
    """The default backend: TinyDB files in one data directory, for one bot process (a lock enforces it)."""

    def __init__(
        self, data_dir: Path, *, body_days: int = 90, identity_days: int = 365, read_only: bool = False
    ) -> None:
        """``read_only`` (``stances export``, ``scan``) takes no lock and never writes, so it may run beside the bot."""
        self.data_dir = data_dir
        self.body_days = body_days
        self.read_only = read_only
        data_dir.mkdir(parents=True, exist_ok=True)
        self._writer = DataDirLock(data_dir)
        if not read_only:
            self._writer.acquire()
        try:
            self._load(data_dir, identity_days)
        except BaseException:
            self._writer.release()
            raise
        self._lock = threading.RLock()
        self._leases: dict[str, float] = {}
        self._item_leases: dict[str, tuple[str, float]] = {}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self._next_flush: asyncio.Future[None] | None = None
        self._flushers: set[asyncio.Task[None]] = set()
        self._commit_lock: asyncio.Lock | None = None

    def _load(self, data_dir: Path, identity_days: int) -> None:
        _refuse_a_lost_hot_file(data_dir)
        if not self.read_only:
            migrate(data_dir)
        try:
            self._hot = TinyDB(data_dir / HOT_FILE, storage=DurableJSONStorage)
            storage = self._hot.storage
            assert isinstance(storage, DurableJSONStorage)
            if storage.read() is None and not self.read_only:  # written at once: from now on, no file is a loss
                storage.write({})
                storage.flush()
            self._people: IndexedTable[str, Person] = IndexedTable(self._hot, "people", Person, lambda p: p.id)
            self._questions: IndexedTable[str, Question] = IndexedTable(self._hot, "questions", Question, _id)
            self._positions: IndexedTable[str, Position] = IndexedTable(self._hot, "positions", Position, _id)
            self._feeds: IndexedTable[str, Feed] = IndexedTable(self._hot, "feeds", Feed, lambda f: f.url)
            self._subs: IndexedTable[tuple[int, str, str], Subscription] = IndexedTable(
                self._hot, "subscriptions", Subscription, Subscription.key
            )
            self._seen = IdentityLog(data_dir / "identities.log", keep_days=identity_days)
            self._inbox = Inbox(data_dir / "inbox.log")
            self._archive = ArticleArchive(data_dir / "archive")
        except (StorageError, RecordError) as exc:
            raise StorageError(f"{exc} {_restore_hint(data_dir)}") from exc
        self._alerted: set[str] = {row["id"] for row in self._hot.table("alerted").all()}
        self._seen.add(item["identity"] for item in self._inbox.items())  # queued means seen, crash or not
        self._keep_last_good()

    @classmethod
    def open(cls, data_dir: Path, *, seed: bool = True, read_only: bool = False) -> Store:
        """Open (or create) the store; a brand-new store is seeded with the starter stance pack."""
        store = cls(data_dir, read_only=read_only)
        if seed and not store._people:
            store.import_data(load_starter_pack())
            store.flush()
        return store

    def _keep_last_good(self) -> None:
        """Copy the hot file after a clean load or close, so that a later corruption has a copy to restore.

        The last ``LAST_GOOD_GENERATIONS`` copies are kept, so a copy taken of a store that had just lost most of
        its records never replaces the only good one; such a shrink is logged.
        """
        hot = self.data_dir / HOT_FILE
        if self.read_only or not hot.exists():
            return
        folder = self.data_dir / "backups"
        newest = folder / LAST_GOOD / HOT_FILE
        if newest.exists() and newest.read_bytes() == hot.read_bytes():
            return
        if newest.exists() and hot.stat().st_size < newest.stat().st_size // 2:
            log.warning("%s shrank to less than half of its last good copy; older copies are kept in %s", hot, folder)
        for generation in range(LAST_GOOD_GENERATIONS - 1, 0, -1):
            older = folder / (LAST_GOOD if generation == 1 else f"{LAST_GOOD}.{generation - 1}")
            if older.exists():
                shutil.rmtree(folder / f"{LAST_GOOD}.{generation}", ignore_errors=True)
                older.rename(folder / f"{LAST_GOOD}.{generation}")
        (folder / LAST_GOOD).mkdir(parents=True, exist_ok=True)
        shutil.copy2(hot, folder / LAST_GOOD / HOT_FILE)

    # -- concurrency ---------------------------------------------------------------

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a store call on the store's worker thread, off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))

    def flush(self) -> None:
        """Write every pending change durably (one atomic rewrite or append per changed file)."""
        if self.read_only:
            return
        with self._lock:
            # Inbox first: a crash between the two appends leaves an item queued (and so seen, see _load), never
            # seen without being queued, which would lose it.
            self._inbox.flush()
            self._seen.flush()
            self._archive.flush()
            storage = self._hot.storage
            assert isinstance(storage, DurableJSONStorage)
            storage.flush()

    async def commit(self) -> None:
        """Flush durably, sharing one write among every caller within a few milliseconds (group commit).

        A caller's changes are made before it calls ``commit``; the flush it waits
        for starts after that, so it covers them. Many small commits (one per
        article, one per polled feed) thus cost one write per batch, not one each.
        """
        if self._next_flush is None:
            self._next_flush = asyncio.get_running_loop().create_future()
            task = asyncio.create_task(self._flush_batch(self._next_flush))
            self._flushers.add(task)
            task.add_done_callback(self._flushers.discard)
        await asyncio.shield(self._next_flush)

    async def _flush_batch(self, done: asyncio.Future[None]) -> None:
        await asyncio.sleep(COMMIT_LINGER_S)
        if self._commit_lock is None:
            self._commit_lock = asyncio.Lock()
        async with self._commit_lock:
            self._next_flush = None  # callers from now on wait for the next batch
            try:
                await self.run(self.flush)
            except Exception as exc:
                done.set_exception(exc)
            else:
                done.set_result(None)

    def close(self) -> None:
        self.flush()
        self._executor.shutdown(wait=True)
        self._keep_last_good()
        self._writer.release()

    def _atomic(self) -> threading.RLock:
        return self._lock

    def describe(self) -> str:
        return f"TinyDB files in {self.data_dir}"

    async def wait_for_change(self, timeout: float) -> None:
        """One process writes here, and it wakes its own workers directly: only the timeout is left to wait for."""
        await asyncio.sleep(timeout)

    def snapshot(self) -> Snapshot:
        with self._lock:
            articles, statements, judgements = self._archive.everything()
            outbox = self._hot.table("outbox").all()
            return {
                "people": [to_dict(p) for p in self.people()],
                "questions": [to_dict(q) for q in self.questions()],
                "positions": [to_dict(p) for p in self.positions(status=None)],
                "feeds": [to_dict(f) for f in self.feeds()],
                "subscriptions": [to_dict(s) for s in self.subscriptions()],
                "seen": [{"identity": i, "day": d} for d, ids in self._seen.days().items() for i in ids],
                "inbox": self._inbox.items(),
                "alerted": [{"id": i} for i in sorted(self._alerted)],
                "outbox": [{"id": row.doc_id, "failure": "", "guild_id": 0, **row} for row in outbox],
                "articles": [to_dict(a) for a in articles],
                "statements": [to_dict(s) for s in statements],
                "judgements": [to_dict(j) for j in judgements],
            }

    def restore(self, snapshot: Snapshot) -> None:
        """Load a snapshot into this empty store (``store copy``); outbox ids are kept, review buttons name them."""
        with self._lock:
            self._people.put_many(from_dict(Person, r, "people") for r in snapshot["people"])
            self._questions.put_many(from_dict(Question, r, "questions") for r in snapshot["questions"])
            self._positions.put_many(from_dict(Position, r, "positions") for r in snapshot["positions"])
            self._feeds.put_many(from_dict(Feed, r, "feeds") for r in snapshot["feeds"])
            self._subs.put_many(from_dict(Subscription, r, "subscriptions") for r in snapshot["subscriptions"])
            days: dict[str, list[str]] = {}
            for row in snapshot["seen"]:
                days.setdefault(row["day"], []).append(row["identity"])
            for day, ids in sorted(days.items()):
                self._seen.add(ids, day)
            self._inbox.add(snapshot["inbox"])
            self._hot.table("alerted").insert_multiple({"id": row["id"]} for row in snapshot["alerted"])
            self._alerted.update(row["id"] for row in snapshot["alerted"])
            outbox = self._hot.table("outbox")
            for row in snapshot["outbox"]:
                fields = {k: v for k, v in row.items() if k != "id" and (k != "failure" or v)}
                outbox.insert(Document(fields, doc_id=row["id"]))
            self._archive.restore(
                [from_dict(Article, r, "articles") for r in snapshot["articles"]],
                [from_dict(Statement, r, "statements") for r in snapshot["statements"]],
                [from_dict(Judgement, r, "judgements") for r in snapshot["judgements"]],
            )

    def prune(self) -> dict[str, int]:
        """Apply the retention: article bodies past ``body_days``, delivered outbox entries past a week."""
        with self._lock:
            bodies = self._archive.prune_bodies(self.body_days)
            cutoff = time.time() - OUTBOX_KEEP_S
            outbox = self._hot.table("outbox")
            old = [row.doc_id for row in outbox.all() if row["message_id"] and row["queued"] < cutoff]
            if old:
                outbox.remove(doc_ids=old)
        return {"article_bodies": bodies, "outbox": len(old)}

    # -- people, questions, positions ----------------------------------------------

    def people(self) -> list[Person]:
        return self._people.all()

    def person(self, person_id: str) -> Person | None:
        return self._people.get(person_id)

    def questions(self) -> list[Question]:
        return self._questions.all()

    def question(self, question_id: str) -> Question | None:
        return self._questions.get(question_id)

    def positions(self, person: str | None = None, *, status: PositionStatus | None = "active") -> list[Position]:
        """Positions of ``person`` (default: everyone) with ``status`` (None: any)."""
        return [
            p
            for p in self._positions.all()
            if (person is None or p.person == person) and (status is None or p.status == status)
        ]

    def position(self, position_id: str) -> Position | None:
        return self._positions.get(position_id)

    def add_person(self, person: Person) -> None:
        with self._lock:
            self._people.put(person)

    def _put_questions(self, questions: list[Question]) -> None:
        with self._lock:
            self._questions.put_many(questions)

    def _put_positions(self, positions: list[Position]) -> None:
        with self._lock:
            self._positions.put_many(positions)

    def remove_position(self, position_id: str) -> bool:
        with self._lock:
            return self._positions.remove(position_id)

    # -- seen identities and the inbox ---------------------------------------------

    def seen(self, identity: str) -> bool:
        return identity in self._seen

    def mark_seen(self, identities: Iterable[str]) -> None:
        """Remember identities; they are kept a year, so that old items are never posted again."""
        with self._lock:
            self._seen.add(identities)

    def accept(self, items: Iterable[dict[str, Any]], owner: str = "", lease_s: float = 0.0) -> None:
        """Queue items for processing, held by ``owner`` for ``lease_s``; kept until :meth:`done`, across restarts."""
        with self._lock:
            items = list(items)
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

    # -- articles, judgements, alerts -------------------------------------------------

    def record_article(
        self, article: Article, judgements: list[Judgement], statements: Iterable[Statement] = ()
    ) -> None:
        with self._lock:
            self._archive.record(article, judgements, statements)

    def statements(self, person: str) -> list[Statement]:
        """What articles attributed to ``person``, oldest first."""
        return self._archive.statements(person)

    def article(self, identity: str) -> Article | None:
        return self._archive.article(identity)

    def judgements(self, person: str | None = None) -> list[Judgement]:
        return self._archive.judgements(person)

    def _add_judgements(self, judgements: list[Judgement]) -> None:
        with self._lock:
            self._archive.add_judgements(judgements)

    def judgement(self, judgement_id: str) -> Judgement | None:
        return self._archive.judgement(judgement_id)

    def review(self, judgement_id: str, review: Review, by: str) -> Judgement | None:
        """Record a moderator's confirmation or dismissal of a judgement; None when unknown."""
        with self._lock:
            return self._archive.review(judgement_id, review, by)

    def claim_alert(self, judgement_id: str) -> bool:
        """Record that a (position, statement) pair is alerted; False if it ever was before."""
        with self._lock:
            if judgement_id in self._alerted:
                return False
            self._hot.table("alerted").insert({"id": judgement_id})
            self._alerted.add(judgement_id)
            return True

    # -- subscriptions -------------------------------------------------------------

    def subscriptions(self, channel_id: int | None = None) -> list[Subscription]:
        return [s for s in self._subs.all() if channel_id is None or s.channel_id == channel_id]

    def add_subscription(self, sub: Subscription) -> bool:
        """Add or update a subscription; True when it is new."""
        with self._lock:
            return self._subs.put(sub)

    def remove_subscription(self, channel_id: int, target_kind: str, target: str) -> bool:
        with self._lock:
            return self._subs.remove((channel_id, target_kind, target))

    # -- feeds -----------------------------------------------------------------------

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

    # -- outbox ----------------------------------------------------------------------

    def enqueue(self, channel_id: int, payload: dict[str, Any], guild_id: int = 0) -> int:
        """Write a message to the outbox before it is sent; returns its outbox id."""
        with self._lock:
            return self._hot.table("outbox").insert(
                {
                    "channel_id": channel_id,
                    "guild_id": guild_id,
                    "payload": payload,
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


def _id(record: Question | Position) -> str:
    return record.id


def _refuse_a_lost_hot_file(data_dir: Path) -> None:
    """A missing or empty hot file in a directory that held a store is a loss to restore, never a fresh start."""
    hot = data_dir / HOT_FILE
    if hot.exists() and hot.stat().st_size > 0:
        return
    traces = [
        name
        for name in ("identities.log", "inbox.log", "archive", "backups")
        if (data_dir / name).is_file() or any((data_dir / name).glob("*"))
    ]
    if traces:
        state = "empty" if hot.exists() else "missing"
        raise StorageError(
            f"{hot} is {state}, yet {data_dir} holds a store ({', '.join(traces)}). {_restore_hint(data_dir)}"
        )


def _restore_hint(data_dir: Path) -> str:
    good = data_dir / "backups" / LAST_GOOD / HOT_FILE
    if good.exists():
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(good.stat().st_mtime))
        return f"The last good copy of {HOT_FILE} is {good} (from {stamp})."
    backup = last_backup(data_dir)
    return f"The last backup is {backup}." if backup else "There is no backup to restore."
