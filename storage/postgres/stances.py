"""People, questions and positions: a table each, the record whole in ``data``."""

from __future__ import annotations

from psycopg.types.json import Jsonb

from domain.records import Person, Position, PositionStatus, Question, storable, to_dict
from storage.postgres.connection import PostgresConnection


class PostgresStances(PostgresConnection):
    def people(self) -> list[Person]:
        return self._records(Person, "SELECT data FROM people ORDER BY id")

    def person(self, person_id: str) -> Person | None:
        return self._record(Person, "SELECT data FROM people WHERE id = %s", (person_id,))

    def add_person(self, person: Person) -> None:
        person = storable(person)
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
            ((q.id, Jsonb(to_dict(q))) for q in map(storable, questions)),
        )

    def positions(self, person: str | None = None, *, status: PositionStatus | None = "active") -> list[Position]:
        return self._records(
            Position,
            "SELECT data FROM positions WHERE (%(person)s::text IS NULL OR person = %(person)s)"
            " AND (%(status)s::text IS NULL OR status = %(status)s) ORDER BY id",
            {"person": person, "status": status},
        )

    def position_count(self) -> int:
        row = self._one("SELECT count(*) FROM positions")
        return int(row[0]) if row else 0

    def position(self, position_id: str) -> Position | None:
        return self._record(Position, "SELECT data FROM positions WHERE id = %s", (position_id,))

    def _put_positions(self, positions: list[Position]) -> None:
        self._many(
            "INSERT INTO positions (id, person, status, data) VALUES (%s, %s, %s, %s) ON CONFLICT (id)"
            " DO UPDATE SET person = EXCLUDED.person, status = EXCLUDED.status, data = EXCLUDED.data",
            ((p.id, p.person, p.status, Jsonb(to_dict(p))) for p in map(storable, positions)),
        )

    def remove_position(self, position_id: str) -> bool:
        return self._exec("DELETE FROM positions WHERE id = %s", (position_id,)) > 0
