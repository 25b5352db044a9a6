"""What both backends build on their primitives: imports, exports, merging people, moving feeds.

Red-DiscordBot's drivers keep the primitives few and build everything else once; so do these.
A backend implements the reads and the single-record writes of :mod:`storage.interfaces` plus
the abstract methods below; everything here runs inside :meth:`_atomic`, the backend's
transaction, so a compound change is whole or absent.
"""

from __future__ import annotations

import dataclasses
import json
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager
from importlib import resources
from pathlib import Path
from typing import Any

from domain.records import (
    Feed,
    Judgement,
    Person,
    Position,
    PositionStatus,
    Question,
    RecordError,
    Stance,
    Subscription,
    from_dict,
    to_dict,
)
from storage.atomic import atomic_write_text
from storage.exchange import EXPORT_FORMAT, dump_export
from storage.interfaces import Snapshot

# The TinyDB hot file is rewritten on every commit, so its size is bounded by design (the README states these
# limits); PostgreSQL keeps the same bounds so that a store can always be copied back to files.
HOT_LIMITS = {"people": 2_000, "questions": 500, "positions": 20_000}


class StoreOperations(ABC):
    # -- primitives each backend provides ---------------------------------------------

    @abstractmethod
    def _atomic(self) -> AbstractContextManager[Any]:
        """One transaction: every change made inside it is kept together or not at all."""

    @abstractmethod
    def people(self) -> list[Person]: ...
    @abstractmethod
    def person(self, person_id: str) -> Person | None: ...
    @abstractmethod
    def add_person(self, person: Person) -> None: ...
    @abstractmethod
    def questions(self) -> list[Question]: ...
    @abstractmethod
    def question(self, question_id: str) -> Question | None: ...
    @abstractmethod
    def _put_questions(self, questions: list[Question]) -> None: ...
    @abstractmethod
    def positions(self, person: str | None = None, *, status: PositionStatus | None = "active") -> list[Position]: ...
    @abstractmethod
    def position(self, position_id: str) -> Position | None: ...
    @abstractmethod
    def _put_positions(self, positions: list[Position]) -> None: ...
    @abstractmethod
    def judgements(self, person: str | None = None) -> list[Judgement]: ...
    @abstractmethod
    def _add_judgements(self, judgements: list[Judgement]) -> None: ...
    @abstractmethod
    def feeds(self) -> list[Feed]: ...
    @abstractmethod
    def save_feed(self, feed: Feed) -> None: ...
    @abstractmethod
    def _delete_feed(self, url: str) -> bool: ...
    @abstractmethod
    def subscriptions(self, channel_id: int | None = None) -> list[Subscription]: ...
    @abstractmethod
    def add_subscription(self, sub: Subscription) -> bool: ...
    @abstractmethod
    def remove_subscription(self, channel_id: int, target_kind: str, target: str) -> bool: ...

    # -- built on them ------------------------------------------------------------------

    def find_person(self, name: str) -> Person | None:
        """Find a person by id, canonical name or alias, ignoring case."""
        wanted = name.strip().casefold()
        for person in self.people():
            if wanted == person.id or wanted in (n.casefold() for n in person.names()):
                return person
        return None

    @abstractmethod
    def position_count(self) -> int:
        """How many positions the store holds, whatever their status."""

    def save_question(self, question: Question) -> None:
        """Store or replace a question (a moderator's new one, its draft, its confirmed sides); :class:`RecordError`
        when a new one would pass ``HOT_LIMITS["questions"]``."""
        with self._atomic():
            if self.question(question.id) is None and len(self.questions()) >= HOT_LIMITS["questions"]:
                raise RecordError(
                    f"question {question.id}", f"the store keeps at most {HOT_LIMITS['questions']} questions"
                )
            self._put_questions([question])

    def add_position(self, position: Position) -> None:
        """Store or replace a position; :class:`RecordError` when its person or question is unknown, or when a new
        one would pass the store's limit (``HOT_LIMITS``: what the TinyDB hot file and a copy between backends hold)."""
        with self._atomic():
            if self.position(position.id) is None and self.position_count() >= HOT_LIMITS["positions"]:
                raise RecordError(
                    f"position {position.id}", f"the store keeps at most {HOT_LIMITS['positions']} positions"
                )
            if self.person(position.person) is None:
                raise RecordError(f"position {position.id}.person", f"unknown person {position.person!r}")
            if self.question(position.question) is None:
                raise RecordError(f"position {position.id}.question", f"unknown question {position.question!r}")
            self._put_positions([position])

    def confirm_position(self, position_id: str, stance: Stance, by: str) -> Position | None:
        """Make a proposed position active with the stance a moderator gave; None when none is proposed."""
        with self._atomic():
            current = self.position(position_id)
            if current is None or current.status != "proposed":
                return None
            confirmed = dataclasses.replace(
                current, stance=stance, status="active", origin=f"{current.origin}; confirmed by {by}"
            )
            self._put_positions([confirmed])
            return confirmed

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
        with self._atomic():
            stored_people = {p.id: p for p in self.people()}
            for section, stored_ids, incoming in (
                ("people", set(stored_people), people),
                ("questions", {q.id for q in self.questions()}, questions),
                ("positions", {p.id for p in self.positions(status=None)}, positions),
            ):
                total = len(stored_ids) + sum(1 for r in incoming if r.id not in stored_ids)
                if total > HOT_LIMITS[section]:
                    raise RecordError(
                        section, f"would hold {total} records; the store keeps at most {HOT_LIMITS[section]}"
                    )
            matches = {p.id: _same_person(p, stored_people) for p in people}
            renamed = {incoming: match.id for incoming, match in matches.items() if match is not None}
            positions = [dataclasses.replace(p, person=renamed.get(p.person, p.person)) for p in positions]
            person_ids = set(stored_people) | {renamed.get(p.id, p.id) for p in people}
            question_ids = {q.id for q in self.questions()} | {q.id for q in questions}
            for i, pos in enumerate(positions):
                if pos.person not in person_ids:
                    raise RecordError(f"positions[{i}].person", f"unknown person {pos.person!r}")
                if pos.question not in question_ids:
                    raise RecordError(f"positions[{i}].question", f"unknown question {pos.question!r}")
            for person in people:
                target = renamed.get(person.id, person.id)
                self.add_person(_merged(person, self.person(target), target))
            self._put_questions(questions)
            self._put_positions(positions)
            self._add_judgements(judgements)
        return {"people": len(people), "questions": len(questions), "positions": len(positions)}

    def export_data(self) -> dict[str, Any]:
        with self._atomic():
            return {
                "format": EXPORT_FORMAT,
                "people": [to_dict(p) for p in self.people()],
                "questions": [to_dict(q) for q in self.questions()],
                "positions": [to_dict(p) for p in self.positions(status=None)],
                "judgements": [to_dict(j) for j in self.judgements()],
            }

    def export_file(self, path: Path) -> None:
        atomic_write_text(path, dump_export(self.export_data()))

    def _repository_snapshot(self) -> Snapshot:
        """The records both backends keep as whole records; each backend adds its own tables to a snapshot."""
        return {
            "people": [to_dict(p) for p in self.people()],
            "questions": [to_dict(q) for q in self.questions()],
            "positions": [to_dict(p) for p in self.positions(status=None)],
            "feeds": [to_dict(f) for f in self.feeds()],
            "subscriptions": [to_dict(s) for s in self.subscriptions()],
        }

    def move_feed(self, feed: Feed, new_url: str) -> Feed:
        """Follow a permanent redirect: the feed and its subscriptions take the new URL, keeping their key."""
        moved = dataclasses.replace(feed, url=new_url, key=feed.scope)
        with self._atomic():
            self._delete_feed(feed.url)
            self.save_feed(moved)
            for sub in self._following(feed.url):
                self.remove_subscription(*sub.key())
                self.add_subscription(dataclasses.replace(sub, target=new_url))
        return moved

    def remove_feed(self, url: str) -> bool:
        """Stop watching a feed; subscriptions that followed only this feed go with it."""
        with self._atomic():
            for sub in self._following(url):
                self.remove_subscription(*sub.key())
            return self._delete_feed(url)

    def _following(self, url: str) -> Iterator[Subscription]:
        return (s for s in self.subscriptions() if s.target_kind == "feed" and s.target == url)


def shard_of(guild_id: int, shard_count: int) -> int:
    """The gateway shard that receives a guild's events (Discord's formula; direct messages are shard 0)."""
    return (guild_id >> 22) % shard_count


def _refuse_duplicate_ids(section: str, ids: list[str]) -> None:
    """Two records with one id in one file: the second would silently replace the first."""
    first: dict[str, int] = {}
    for index, record_id in enumerate(ids):
        if record_id in first:
            raise RecordError(
                f"{section}[{index}].id", f"{record_id!r} is already the id of {section}[{first[record_id]}]"
            )
        first[record_id] = index


def _same_person(incoming: Person, stored: dict[str, Person]) -> Person | None:
    """A stored person with another id whose names overlap the incoming one's."""
    if incoming.id in stored:
        return None
    names = {n.casefold() for n in incoming.names()}
    for person in stored.values():
        if names & {n.casefold() for n in person.names()}:
            return person
    return None


def _merged(person: Person, existing: Person | None, target_id: str) -> Person:
    """Merge an incoming person into the stored one it matches, keeping every alias."""
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


def load_starter_pack() -> Any:
    """The curated starter stances shipped with the project."""
    text = resources.files("storage").joinpath("starter_stances.json").read_text(encoding="utf-8")
    return json.loads(text)
