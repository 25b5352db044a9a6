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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ParamSpec, TypeVar

from tinydb import TinyDB
from tinydb.table import Document

from domain.errors import StorageError
from domain.records import (
    Article,
    Feed,
    Judgement,
    ModeratorReview,
    Person,
    Position,
    PostedClash,
    Question,
    RecordError,
    ReviewDesk,
    Statement,
    Subscription,
    from_dict,
    to_dict,
)
from storage.files.archive import FileArchive
from storage.files.delivery import FileDelivery
from storage.files.durable import DurableJSONStorage
from storage.files.feeds import FileFeeds
from storage.files.identities import IdentityLog
from storage.files.inbox import Inbox
from storage.files.lock import DataDirLock
from storage.files.migrations import HOT_FILE, last_backup, migrate
from storage.files.month_archive import ArticleArchive
from storage.files.stances import FileStances
from storage.files.tables import IndexedTable
from storage.interfaces import Snapshot
from storage.operations import StoreOperations, load_starter_pack

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")
COMMIT_LINGER_S = 0.005
OUTBOX_KEEP_S = 7 * 86400
LAST_GOOD = "last-good"
LAST_GOOD_GENERATIONS = 3


class Store(FileStances, FileFeeds, FileDelivery, FileArchive, StoreOperations):
    """The default backend: TinyDB files in one data directory, for one bot process (a lock enforces it).

    Each area's calls live in ``storage/files/``; this class loads, flushes and copies the state they share.
    """

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
        self._leases = {}
        self._item_leases = {}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self._next_flush: asyncio.Future[None] | None = None
        self._flushers: set[asyncio.Task[None]] = set()
        self._commit_lock: asyncio.Lock | None = None

    def _load(self, data_dir: Path, identity_days: int) -> None:
        _refuse_a_lost_hot_file(data_dir)
        _refuse_an_interrupted_copy(data_dir)
        if not self.read_only:
            migrate(data_dir)
        try:
            self._hot = TinyDB(data_dir / HOT_FILE, storage=DurableJSONStorage)
            storage = self._hot.storage
            assert isinstance(storage, DurableJSONStorage)
            if storage.read() is None and not self.read_only:  # written at once: from now on, no file is a loss
                storage.write({})
                storage.flush()
            self._people = IndexedTable(self._hot, "people", Person, lambda p: p.id)
            self._questions = IndexedTable(self._hot, "questions", Question, _id)
            self._positions = IndexedTable(self._hot, "positions", Position, _id)
            self._feeds = IndexedTable(self._hot, "feeds", Feed, lambda f: f.url)
            self._subs = IndexedTable(self._hot, "subscriptions", Subscription, Subscription.key)
            self._posted = IndexedTable(self._hot, "posted_clashes", PostedClash, lambda p: p.outbox_id)
            self._desks = IndexedTable(self._hot, "review_desks", ReviewDesk, lambda d: d.guild_id)
            self._reviews = IndexedTable(self._hot, "moderator_reviews", ModeratorReview, lambda r: r.key)
            self._seen = IdentityLog(data_dir / "identities.log", keep_days=identity_days)
            self._inbox = Inbox(data_dir / "inbox.log")
            self._archive = ArticleArchive(data_dir / "archive")
            alerted = [row.get("id") for row in self._hot.table("alerted").all()]
            if not all(isinstance(judgement, str) for judgement in alerted):
                raise StorageError(f"{storage.path}: the alerted table holds an id that is not text.")
        except (StorageError, RecordError) as exc:
            raise StorageError(f"{exc} {_restore_hint(data_dir)}") from exc
        self._alerted = {str(judgement) for judgement in alerted}
        self._seen.add(item["identity"] for item in self._inbox.items())  # queued means seen, crash or not
        self._keep_last_good(just_loaded=True)

    @classmethod
    def open(cls, data_dir: Path, *, seed: bool = True, read_only: bool = False) -> Store:
        """Open (or create) the store; a brand-new store is seeded with the starter stance pack."""
        store = cls(data_dir, read_only=read_only)
        if seed and not store._people:
            store.import_data(load_starter_pack())
            store.flush()
        return store

    def _keep_last_good(self, *, just_loaded: bool = False) -> None:
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
        problem = "" if just_loaded else _load_problem(hot)  # a file that just loaded needs no second parse
        if problem:  # never possible while every write is validated; checked so that a copy is only one that loads
            log.error("%s does not load (%s); the last good copy is left as it was", hot, problem)
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
                **self._repository_snapshot(),
                "seen": [{"identity": i, "day": d} for d, ids in self._seen.days().items() for i in ids],
                "inbox": self._inbox.items(),
                "alerted": [{"id": i} for i in sorted(self._alerted)],
                "outbox": [{"id": row.doc_id, "failure": "", "guild_id": 0, **row} for row in outbox],
                "articles": [to_dict(a) for a in articles],
                "statements": [to_dict(s) for s in statements],
                "judgements": [to_dict(j) for j in judgements],
                "posted_clashes": [to_dict(p) for p in self._posted.all()],
                "review_desks": [to_dict(d) for d in self._desks.all()],
                "moderator_reviews": [to_dict(r) for r in self._reviews.all()],
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
            self._posted.put_many(
                from_dict(PostedClash, r, "posted_clashes") for r in snapshot.get("posted_clashes", [])
            )
            self._desks.put_many(from_dict(ReviewDesk, r, "review_desks") for r in snapshot.get("review_desks", []))
            reviews = snapshot.get("moderator_reviews", [])
            self._reviews.put_many(from_dict(ModeratorReview, r, "moderator_reviews") for r in reviews)
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
            opened = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(cutoff))
            for stale in [p.outbox_id for p in self._posted.all() if p.opened < opened]:
                self._posted.remove(stale)
        return {"article_bodies": bodies, "outbox": len(old)}


def _id(record: Question | Position) -> str:
    return record.id


HOT_TABLES: dict[str, type] = {
    "people": Person,
    "questions": Question,
    "positions": Position,
    "feeds": Feed,
    "subscriptions": Subscription,
}


def _load_problem(hot: Path) -> str:
    """Why the hot file at ``hot`` would not load, or "" when it would (the records checked as at start-up)."""
    try:
        data = DurableJSONStorage(hot).read() or {}
        for table, cls in HOT_TABLES.items():
            for doc_id, doc in data.get(table, {}).items():
                from_dict(cls, doc, f"{table} document {doc_id}")
    except (StorageError, RecordError) as exc:
        return str(exc)
    return ""


COPYING = "COPY-IN-PROGRESS"
"""A marker ``store copy`` writes first and removes last: a directory holding it is no store to open."""


def _refuse_an_interrupted_copy(data_dir: Path) -> None:
    if (data_dir / COPYING).exists():
        raise StorageError(
            f"{data_dir} holds a copy that never finished (it was interrupted); delete the folder and copy again."
        )


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
