"""Articles, statements and judgements."""

from __future__ import annotations

from collections.abc import Iterable

from psycopg.types.json import Jsonb

from domain.records import Article, Judgement, Review, Statement, storable, to_dict
from storage.postgres.connection import PostgresConnection


class PostgresArchive(PostgresConnection):
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
            ((a.identity, a.fetched, Jsonb(to_dict(a))) for a in map(storable, articles)),
        )

    def _put_statements(self, statements: list[Statement]) -> None:
        self._many(
            "INSERT INTO statements (id, person, date, data) VALUES (%s, %s, %s, %s) ON CONFLICT (id)"
            " DO UPDATE SET person = EXCLUDED.person, date = EXCLUDED.date, data = EXCLUDED.data",
            ((s.id, s.person, s.date, Jsonb(to_dict(s))) for s in map(storable, statements)),
        )

    def _add_judgements(self, judgements: list[Judgement]) -> None:
        self._many(
            "INSERT INTO judgements (id, person, judged_at, data) VALUES (%s, %s, %s, %s) ON CONFLICT (id)"
            " DO UPDATE SET person = EXCLUDED.person, judged_at = EXCLUDED.judged_at, data = EXCLUDED.data",
            ((j.id, j.person, j.judged_at, Jsonb(to_dict(j))) for j in map(storable, judgements)),
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
