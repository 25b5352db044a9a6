"""Articles, statements and judgements, in the monthly archive files."""

from __future__ import annotations

from collections.abc import Iterable

from domain.records import Article, Judgement, Review, Statement, validate
from storage.files.state import FileState


class FileArchive(FileState):
    def record_article(
        self, article: Article, judgements: list[Judgement], statements: Iterable[Statement] = ()
    ) -> None:
        statements = list(statements)
        for record in (article, *judgements, *statements):  # all or nothing: files have no rollback
            validate(record)
        with self._lock:
            self._archive.record(article, judgements, statements)

    def article(self, identity: str) -> Article | None:
        return self._archive.article(identity)

    def statements(self, person: str) -> list[Statement]:
        """What articles attributed to ``person``, oldest first."""
        return self._archive.statements(person)

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
