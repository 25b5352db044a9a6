"""The stance store: people, questions, positions, feeds, subscriptions and what was seen.

Two TinyDB files keep hot and cold data apart: ``stancewatch.json`` holds what every
poll needs (people, positions, feeds, subscriptions, seen article identities, the
outbox) and ``articles.json`` holds article reports and judgements, which grow. Both
use :class:`DurableJSONStorage`, so a change is written once per :meth:`Store.flush`,
atomically. The store is synchronous; async code goes through :meth:`Store.run`, which
executes on the store's single worker thread, so file I/O never touches the event loop
and there is only ever one writer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from tinydb import Query, TinyDB

from storage.durable import DurableJSONStorage, atomic_write_text
from storage.identities import IdentityLog
from storage.inbox import Inbox
from storage.records import (
    Feed,
    Judgement,
    Person,
    Position,
    Question,
    RecordError,
    Subscription,
    from_dict,
    to_dict,
)

P = ParamSpec("P")
COMMIT_LINGER_S = 0.005
T = TypeVar("T")
EXPORT_FORMAT = "stancewatch-stances/1"


class Store:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self._hot = TinyDB(data_dir / "stancewatch.json", storage=DurableJSONStorage)
        self._cold = TinyDB(data_dir / "articles.json", storage=DurableJSONStorage)
        self._lock = threading.RLock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self._seen = IdentityLog(data_dir / "identities.log")
        self._feed_ids: dict[str, int] = {row["url"]: row.doc_id for row in self._hot.table("feeds").all()}
        self._inbox = Inbox(data_dir / "inbox.log")
        self._next_flush: asyncio.Future[None] | None = None
        self._flushers: set[asyncio.Task[None]] = set()
        self._commit_lock: asyncio.Lock | None = None
        self._alerted: set[tuple[str, str]] = {
            (row["position"], row["statement"]) for row in self._hot.table("alerted").all()
        }

    @classmethod
    def open(cls, data_dir: Path, *, seed: bool = True) -> Store:
        """Open (or create) the store; a brand-new store is seeded with the starter stance pack."""
        store = cls(data_dir)
        if seed and not store._hot.table("people"):
            store.import_data(load_starter_pack())
            store.flush()
        return store

    # -- concurrency ---------------------------------------------------------------

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a store call on the store's worker thread, off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))

    def flush(self) -> None:
        """Write every pending change durably (one atomic rewrite per changed file at most)."""
        with self._lock:
            self._seen.flush()
            self._inbox.flush()
            for db in (self._hot, self._cold):
                storage = db.storage
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

    # -- people, questions, positions ----------------------------------------------

    def people(self) -> list[Person]:
        return [from_dict(Person, row, "person") for row in self._hot.table("people").all()]

    def person(self, person_id: str) -> Person | None:
        row = self._hot.table("people").get(Query().id == person_id)
        return from_dict(Person, row, "person") if isinstance(row, dict) else None

    def find_person(self, name: str) -> Person | None:
        """Find a person by id, canonical name or alias, ignoring case."""
        wanted = name.strip().casefold()
        for person in self.people():
            if wanted == person.id or wanted in (n.casefold() for n in person.names()):
                return person
        return None

    def questions(self) -> list[Question]:
        return [from_dict(Question, row, "question") for row in self._hot.table("questions").all()]

    def question(self, question_id: str) -> Question | None:
        row = self._hot.table("questions").get(Query().id == question_id)
        return from_dict(Question, row, "question") if isinstance(row, dict) else None

    def positions(self, person: str | None = None, *, active_only: bool = True) -> list[Position]:
        rows = self._hot.table("positions").all()
        found = [from_dict(Position, row, "position") for row in rows]
        return [
            p for p in found if (person is None or p.person == person) and (not active_only or p.status == "active")
        ]

    def add_person(self, person: Person) -> None:
        with self._lock:
            self._hot.table("people").upsert(to_dict(person), Query().id == person.id)

    def add_position(self, position: Position) -> None:
        if self.person(position.person) is None:
            raise RecordError(f"position {position.id}.person", f"unknown person {position.person!r}")
        if self.question(position.question) is None:
            raise RecordError(f"position {position.id}.question", f"unknown question {position.question!r}")
        with self._lock:
            self._hot.table("positions").upsert(to_dict(position), Query().id == position.id)

    def remove_position(self, position_id: str) -> bool:
        with self._lock:
            return bool(self._hot.table("positions").remove(Query().id == position_id))

    # -- import / export -------------------------------------------------------------

    def import_data(self, data: Any) -> dict[str, int]:
        """Validate every record first, then merge them all; a bad record changes nothing."""
        if not isinstance(data, dict):
            raise RecordError("file", "expected an object with people, questions and positions")
        people = [from_dict(Person, row, f"people[{i}]") for i, row in enumerate(data.get("people", []))]
        questions = [from_dict(Question, row, f"questions[{i}]") for i, row in enumerate(data.get("questions", []))]
        positions = [from_dict(Position, row, f"positions[{i}]") for i, row in enumerate(data.get("positions", []))]
        person_ids = {p.id for p in self.people()} | {p.id for p in people}
        question_ids = {q.id for q in self.questions()} | {q.id for q in questions}
        for i, pos in enumerate(positions):
            if pos.person not in person_ids:
                raise RecordError(f"positions[{i}].person", f"unknown person {pos.person!r}")
            if pos.question not in question_ids:
                raise RecordError(f"positions[{i}].question", f"unknown question {pos.question!r}")
        with self._lock:
            for person in people:
                self.add_person(self._merged_with_existing(person))
            table = self._hot.table("questions")
            for question in questions:
                table.upsert(to_dict(question), Query().id == question.id)
            for pos in positions:
                self._hot.table("positions").upsert(to_dict(pos), Query().id == pos.id)
        return {"people": len(people), "questions": len(questions), "positions": len(positions)}

    def _merged_with_existing(self, person: Person) -> Person:
        """Merge an incoming person with a stored one of the same id, keeping every alias."""
        existing = self.person(person.id)
        if existing is None:
            return person
        aliases = list(dict.fromkeys([*existing.aliases, *person.aliases]))
        return Person(
            person.id, person.name, aliases, person.role or existing.role, person.wikidata or existing.wikidata
        )

    def export_data(self) -> dict[str, Any]:
        return {
            "format": EXPORT_FORMAT,
            "people": [to_dict(p) for p in self.people()],
            "questions": [to_dict(q) for q in self.questions()],
            "positions": [to_dict(p) for p in self.positions(active_only=False)],
        }

    def export_file(self, path: Path) -> None:
        atomic_write_text(path, json.dumps(self.export_data(), ensure_ascii=False, indent=2) + "\n")

    # -- articles and judgements ---------------------------------------------------

    def seen(self, identity: str) -> bool:
        return identity in self._seen

    def mark_seen(self, identities: Iterable[str]) -> None:
        """Remember identities; they are kept a year, so that old items are never posted again."""
        with self._lock:
            self._seen.add(identities)

    # -- the inbox: accepted items not yet processed ---------------------------------

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

    def record_article(self, report: dict[str, Any]) -> None:
        with self._lock:
            self._cold.table("articles").upsert(report, Query().url == report["url"])

    def add_judgements(self, judgements: Iterable[Judgement]) -> None:
        with self._lock:
            self._cold.table("judgements").insert_multiple(to_dict(j) for j in judgements)

    def judgements(self, person: str | None = None) -> list[Judgement]:
        rows = self._cold.table("judgements").all()
        found = [from_dict(Judgement, row, "judgement") for row in rows]
        return [j for j in found if person is None or j.person == person]

    def claim_alert(self, position: str, statement: str) -> bool:
        """Record that (position, statement) is alerted; False if it ever was before."""
        key = (position, statement)
        if key in self._alerted:
            return False
        with self._lock:
            self._hot.table("alerted").insert({"position": position, "statement": statement})
            self._alerted.add(key)
        return True

    # -- subscriptions -------------------------------------------------------------

    def subscriptions(self, channel_id: int | None = None) -> list[Subscription]:
        rows = self._hot.table("subscriptions").all()
        subs = [from_dict(Subscription, row, "subscription") for row in rows]
        return [s for s in subs if channel_id is None or s.channel_id == channel_id]

    def add_subscription(self, sub: Subscription) -> bool:
        """Add or update a subscription; True when it is new."""
        q = Query()
        match = (q.channel_id == sub.channel_id) & (q.target_kind == sub.target_kind) & (q.target == sub.target)
        with self._lock:
            table = self._hot.table("subscriptions")
            is_new = not table.contains(match)
            table.upsert(to_dict(sub), match)
        return is_new

    def remove_subscription(self, channel_id: int, target_kind: str, target: str) -> bool:
        q = Query()
        match = (q.channel_id == channel_id) & (q.target_kind == target_kind) & (q.target == target)
        with self._lock:
            return bool(self._hot.table("subscriptions").remove(match))

    # -- feeds -----------------------------------------------------------------------

    def feeds(self) -> list[Feed]:
        return [from_dict(Feed, row, "feed") for row in self._hot.table("feeds").all()]

    def feed(self, url: str) -> Feed | None:
        doc_id = self._feed_ids.get(url)
        row = self._hot.table("feeds").get(doc_id=doc_id) if doc_id is not None else None
        return from_dict(Feed, row, "feed") if isinstance(row, dict) else None

    def save_feed(self, feed: Feed) -> None:
        with self._lock:
            table = self._hot.table("feeds")
            doc_id = self._feed_ids.get(feed.url)
            if doc_id is None:
                self._feed_ids[feed.url] = table.insert(to_dict(feed))
            else:
                table.update(to_dict(feed), doc_ids=[doc_id])

    def move_feed(self, feed: Feed, new_url: str) -> Feed:
        """Follow a permanent redirect: the feed and its subscriptions take the new URL, keeping their key."""
        moved = dataclasses.replace(feed, url=new_url, key=feed.scope)
        with self._lock:
            self.remove_feed(feed.url)
            self.save_feed(moved)
            for sub in self.subscriptions():
                if sub.target_kind == "feed" and sub.target == feed.url:
                    self.remove_subscription(sub.channel_id, "feed", feed.url)
                    self.add_subscription(dataclasses.replace(sub, target=new_url))
        return moved

    def remove_feed(self, url: str) -> bool:
        with self._lock:
            doc_id = self._feed_ids.pop(url, None)
            return doc_id is not None and bool(self._hot.table("feeds").remove(doc_ids=[doc_id]))

    # -- outbox ----------------------------------------------------------------------

    def enqueue(self, channel_id: int, payload: dict[str, Any]) -> int:
        """Write a message to the outbox before it is sent; returns its outbox id."""
        with self._lock:
            return self._hot.table("outbox").insert(
                {"channel_id": channel_id, "payload": payload, "message_id": 0, "queued": time.time()}
            )

    def pending(self) -> list[tuple[int, int, dict[str, Any]]]:
        rows = self._hot.table("outbox").search(Query().message_id == 0)
        return [(row.doc_id, row["channel_id"], row["payload"]) for row in rows]

    def mark_delivered(self, outbox_id: int, message_id: int) -> None:
        with self._lock:
            self._hot.table("outbox").update({"message_id": message_id}, doc_ids=[outbox_id])


def load_starter_pack() -> Any:
    """The curated starter stances shipped with the project."""
    text = resources.files("storage").joinpath("starter_stances.json").read_text(encoding="utf-8")
    return json.loads(text)
