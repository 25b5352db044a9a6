"""People, questions and positions, in the hot file, indexed in memory."""

from __future__ import annotations

from domain.records import Person, Position, PositionStatus, Question
from storage.files.state import FileState


class FileStances(FileState):
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

    def position_count(self) -> int:
        return len(self._positions)

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
