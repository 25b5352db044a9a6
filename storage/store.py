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
import dataclasses
import json
import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from tinydb import Query, TinyDB

from storage.archive import ArticleArchive
from storage.durable import DurableJSONStorage, StorageError, atomic_write_text
from storage.exchange import EXPORT_FORMAT, dump_export
from storage.identities import IdentityLog
from storage.inbox import Inbox
from storage.lock import DataDirLock
from storage.migrations import HOT_FILE, last_backup, migrate
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
    Stance,
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
# The hot file is rewritten on every commit, so its size is bounded by design (the README states these limits).
HOT_LIMITS = {"people": 2_000, "questions": 500, "positions": 20_000}


class Store:
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

    def find_person(self, name: str) -> Person | None:
        """Find a person by id, canonical name or alias, ignoring case."""
        wanted = name.strip().casefold()
        for person in self._people.all():
            if wanted == person.id or wanted in (n.casefold() for n in person.names()):
                return person
        return None

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

    def add_position(self, position: Position) -> None:
        if self.person(position.person) is None:
            raise RecordError(f"position {position.id}.person", f"unknown person {position.person!r}")
        if self.question(position.question) is None:
            raise RecordError(f"position {position.id}.question", f"unknown question {position.question!r}")
        with self._lock:
            self._positions.put(position)

    def confirm_position(self, position_id: str, stance: Stance, by: str) -> Position | None:
        """Make a proposed position active with the stance a moderator gave; None when none is proposed."""
        with self._lock:
            current = self._positions.get(position_id)
            if current is None or current.status != "proposed":
                return None
            confirmed = dataclasses.replace(
                current, stance=stance, status="active", origin=f"{current.origin}; confirmed by {by}"
            )
            self._positions.put(confirmed)
            return confirmed

    def remove_position(self, position_id: str) -> bool:
        with self._lock:
            return self._positions.remove(position_id)

    # -- import / export -------------------------------------------------------------

    def import_data(self, data: Any) -> dict[str, int]:
        """Validate every record first, then merge them all; a bad record changes nothing.

        A person whose name or alias matches a stored person under another id is the
        same person: the two are merged and the incoming positions follow.
        """
        if not isinstance(data, dict):
            raise RecordError("file", "expected an object with people, questions and positions")
        for section in ("people", "questions", "positions", "judgements"):
            if not isinstance(data.get(section, []), list):
                raise RecordError(section, f"must be a list of records, got {type(data[section]).__name__}")
        people = [from_dict(Person, row, f"people[{i}]") for i, row in enumerate(data.get("people", []))]
        questions = [from_dict(Question, row, f"questions[{i}]") for i, row in enumerate(data.get("questions", []))]
        positions = [from_dict(Position, row, f"positions[{i}]") for i, row in enumerate(data.get("positions", []))]
        judgements = [from_dict(Judgement, row, f"judgements[{i}]") for i, row in enumerate(data.get("judgements", []))]
        for section, records in (("people", people), ("questions", questions), ("positions", positions)):
            _refuse_duplicate_ids(section, [r.id for r in records])
        for section, table, incoming in (
            ("people", self._people, people),
            ("questions", self._questions, questions),
            ("positions", self._positions, positions),
        ):
            total = len(table) + sum(1 for r in incoming if r.id not in table)
            if total > HOT_LIMITS[section]:
                raise RecordError(section, f"would hold {total} records; the store keeps at most {HOT_LIMITS[section]}")
        matches = {p.id: self._same_person(p) for p in people}
        renamed = {incoming: match.id for incoming, match in matches.items() if match is not None}
        positions = [dataclasses.replace(p, person=renamed.get(p.person, p.person)) for p in positions]
        person_ids = set(self._people_ids()) | {renamed.get(p.id, p.id) for p in people}
        question_ids = {q.id for q in self.questions()} | {q.id for q in questions}
        for i, pos in enumerate(positions):
            if pos.person not in person_ids:
                raise RecordError(f"positions[{i}].person", f"unknown person {pos.person!r}")
            if pos.question not in question_ids:
                raise RecordError(f"positions[{i}].question", f"unknown question {pos.question!r}")
        with self._lock:
            for person in people:
                self._people.put(self._merged_with_existing(person, renamed.get(person.id, person.id)))
            self._questions.put_many(questions)
            self._positions.put_many(positions)
            self._archive.add_judgements(judgements)
        return {"people": len(people), "questions": len(questions), "positions": len(positions)}

    def _people_ids(self) -> list[str]:
        return [p.id for p in self._people.all()]

    def _same_person(self, incoming: Person) -> Person | None:
        """A stored person with another id whose names overlap the incoming one's."""
        if incoming.id in self._people:
            return None
        names = {n.casefold() for n in incoming.names()}
        for person in self._people.all():
            if names & {n.casefold() for n in person.names()}:
                return person
        return None

    def _merged_with_existing(self, person: Person, target_id: str) -> Person:
        """Merge an incoming person into the stored one it matches, keeping every alias."""
        existing = self.person(target_id)
        if existing is None:
            return person
        names = [*existing.aliases, *(n for n in person.names() if n != existing.name)]
        return Person(
            existing.id,
            existing.name if target_id != person.id else person.name,
            list(dict.fromkeys(n for n in names if n != existing.name)),
            person.role or existing.role,
            person.wikidata or existing.wikidata,
        )

    def export_data(self) -> dict[str, Any]:
        return {
            "format": EXPORT_FORMAT,
            "people": [to_dict(p) for p in self.people()],
            "questions": [to_dict(q) for q in self.questions()],
            "positions": [to_dict(p) for p in self.positions(status=None)],
            "judgements": [to_dict(j) for j in self.judgements()],
        }

    def export_file(self, path: Path) -> None:
        atomic_write_text(path, dump_export(self.export_data()))

    # -- seen identities and the inbox ---------------------------------------------

    def seen(self, identity: str) -> bool:
        return identity in self._seen

    def mark_seen(self, identities: Iterable[str]) -> None:
        """Remember identities; they are kept a year, so that old items are never posted again."""
        with self._lock:
            self._seen.add(identities)

    def accept(self, items: Iterable[dict[str, Any]]) -> None:
        """Queue items for processing; they stay here until :meth:`done`, across restarts."""
        with self._lock:
            self._inbox.add(items)

    def done(self, identity: str) -> None:
        with self._lock:
            self._inbox.done(identity)

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
        with self._lock:
            self._feeds.put(feed)

    def move_feed(self, feed: Feed, new_url: str) -> Feed:
        """Follow a permanent redirect: the feed and its subscriptions take the new URL, keeping their key."""
        moved = dataclasses.replace(feed, url=new_url, key=feed.scope)
        with self._lock:
            self._feeds.remove(feed.url)
            self._feeds.put(moved)
            for sub in self.subscriptions():
                if sub.target_kind == "feed" and sub.target == feed.url:
                    self._subs.remove(sub.key())
                    self._subs.put(dataclasses.replace(sub, target=new_url))
        return moved

    def remove_feed(self, url: str) -> bool:
        """Stop watching a feed; subscriptions that followed only this feed go with it."""
        with self._lock:
            for sub in self.subscriptions():
                if sub.target_kind == "feed" and sub.target == url:
                    self._subs.remove(sub.key())
            return self._feeds.remove(url)

    # -- outbox ----------------------------------------------------------------------

    def enqueue(self, channel_id: int, payload: dict[str, Any]) -> int:
        """Write a message to the outbox before it is sent; returns its outbox id."""
        with self._lock:
            return self._hot.table("outbox").insert(
                {"channel_id": channel_id, "payload": payload, "message_id": 0, "queued": time.time()}
            )

    def pending(self) -> list[tuple[int, int, dict[str, Any]]]:
        """Undelivered messages in the order they were queued."""
        rows = self._hot.table("outbox").search(Query().message_id == 0)
        return [(row.doc_id, row["channel_id"], row["payload"]) for row in sorted(rows, key=lambda r: r.doc_id)]

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


def _refuse_duplicate_ids(section: str, ids: list[str]) -> None:
    """Two records with one id in one file: the second would silently replace the first."""
    first: dict[str, int] = {}
    for index, record_id in enumerate(ids):
        if record_id in first:
            raise RecordError(
                f"{section}[{index}].id", f"{record_id!r} is already the id of {section}[{first[record_id]}]"
            )
        first[record_id] = index


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


def load_starter_pack() -> Any:
    """The curated starter stances shipped with the project."""
    text = resources.files("storage").joinpath("starter_stances.json").read_text(encoding="utf-8")
    return json.loads(text)
