"""Processed articles and judgements, one TinyDB file a month, so that old data costs no rewrites.

A commit appends the records it changed to the month's journal (``YYYY-MM.log``, see
:mod:`storage.files.journal`) instead of rewriting the month: rewriting it on every commit
made archiving quadratic (5,000 new articles took 48.7 s in ``benchmarks/feeds.py``). Once
the journal holds more lines than the month has records (updates: reviews, pruned bodies),
the month is compacted into its TinyDB file (``YYYY-MM.json``, atomically) and the journal
emptied; a crash between the two replays, in order, changes the file already holds, which
changes nothing. Age-based retention works month by month: article bodies older than the
retention (default 90 days) are dropped, keeping the article's metadata and every
judgement, which alerts and ``/ask`` cite.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Generic, TypeVar

from tinydb import TinyDB

from domain.errors import StorageError
from domain.records import Article, Judgement, Review, Statement, from_dict, storable, to_dict
from storage.files.durable import DurableJSONStorage
from storage.files.journal import Journal
from storage.files.tables import IndexedTable

R = TypeVar("R")

_MONTH_FILE = re.compile(r"^(\d{4}-\d{2})\.(?:json|log)$")
COMPACT_AFTER = 1000
"""The fewest journal lines at which a month is compacted (past it: as many lines as the month has records)."""


def month_of(stamp: str) -> str:
    """``YYYY-MM`` of an ISO timestamp, or of now when there is none."""
    return stamp[:7] if re.match(r"^\d{4}-\d{2}", stamp) else time.strftime("%Y-%m", time.gmtime())


class _Logged(Generic[R]):
    """An :class:`IndexedTable` whose changes are also kept, as journal lines, until the month is flushed."""

    def __init__(self, table: IndexedTable[str, R], cls: type[R], pending: list[dict[str, Any]]) -> None:
        self.table = table
        self.cls = cls
        self.pending = pending

    def __len__(self) -> int:
        return len(self.table)

    def get(self, key: str) -> R | None:
        return self.table.get(key)

    def all(self) -> list[R]:
        return self.table.all()

    def put(self, record: R) -> None:
        self.put_many([record])

    def put_many(self, records: Iterable[R]) -> None:
        batch = [storable(r) for r in records]  # checked before the table or the journal changes
        self.table.put_many(batch)
        self.pending.extend({"table": self.table.name, "record": to_dict(r)} for r in batch)

    def remove(self, key: str) -> None:
        if self.table.remove(key):
            self.pending.append({"table": self.table.name, "removed": key})

    def replay(self, line: dict[str, Any], where: str) -> None:
        """Apply one journal line (a record put, or a key removed) to the table, nothing pending."""
        if "removed" in line:
            self.table.remove(line["removed"])
        else:
            self.table.put(from_dict(self.cls, line.get("record"), where))


class _Month:
    def __init__(self, path: Path) -> None:
        self.db = TinyDB(path, storage=DurableJSONStorage)
        self.journal = Journal(path.with_suffix(".log"), "archive-month")
        self.pending: list[dict[str, Any]] = []
        self.articles = self._table("articles", Article, lambda a: a.identity)
        self.judgements = self._table("judgements", Judgement, lambda j: j.id)
        self.statements = self._table("statements", Statement, lambda s: s.id)
        lines, _ = self.journal.load()  # a torn last line (a crash mid-append) is dropped
        tables = {t.table.name: t for t in (self.articles, self.judgements, self.statements)}
        for number, line in enumerate(lines, start=2):
            table = tables.get(str(line.get("table")))
            if table is None:
                raise StorageError(f"{self.journal.path} line {number} names no archive table.")
            table.replay(line, f"{self.journal.path} line {number}")
        self.logged = len(lines)

    def _table(self, name: str, cls: type[R], key: Callable[[R], str]) -> _Logged[R]:
        return _Logged(IndexedTable(self.db, name, cls, key), cls, self.pending)

    def flush(self) -> None:
        """Append the pending changes, or compact the month when its journal has grown past its records."""
        if not self.pending:
            return
        self.journal.append(self.pending)
        self.logged += len(self.pending)
        self.pending.clear()
        if self.logged > max(COMPACT_AFTER, len(self.articles) + len(self.judgements) + len(self.statements)):
            storage = self.db.storage
            assert isinstance(storage, DurableJSONStorage)
            storage.flush()  # every journalled change, atomically: the journal is now a replay of what it holds
            self.journal.rewrite([])
            self.logged = 0


class ArticleArchive:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._months: dict[str, _Month] = {}
        self._article_month: dict[str, str] = {}
        self._judgement_month: dict[str, str] = {}
        self._by_person: dict[str, set[str]] = {}
        self._statements_of: dict[str, dict[str, str]] = {}  # person -> statement id -> month
        months = {m.group(1) for m in map(_MONTH_FILE.match, (p.name for p in directory.iterdir())) if m}
        for month in sorted(months):
            self._index(month, self._open(month))

    def _open(self, month: str) -> _Month:
        if month not in self._months:
            self._months[month] = _Month(self.directory / f"{month}.json")
        return self._months[month]

    def _index(self, month: str, part: _Month) -> None:
        for article in part.articles.all():
            self._article_month[article.identity] = month
        for judgement in part.judgements.all():
            self._judgement_month[judgement.id] = month
            self._by_person.setdefault(judgement.person, set()).add(judgement.id)
        for statement in part.statements.all():
            self._statements_of.setdefault(statement.person, {})[statement.id] = month

    def record(self, article: Article, judgements: list[Judgement], statements: Iterable[Statement] = ()) -> None:
        month = month_of(article.fetched)
        part = self._open(month)
        part.articles.put(article)
        self._article_month[article.identity] = month
        for statement in statements:
            part.statements.put(statement)
            self._statements_of.setdefault(statement.person, {})[statement.id] = month
        self.add_judgements(judgements, month)

    def statements(self, person: str) -> list[Statement]:
        found = [self._months[m].statements.get(i) for i, m in self._statements_of.get(person, {}).items()]
        return sorted((s for s in found if s is not None), key=lambda s: s.date)

    def add_judgements(self, judgements: list[Judgement], month: str | None = None) -> None:
        """Store judgements in ``month`` (default: the month each was made), replacing earlier ones of a pair."""
        for judgement in judgements:
            target = month or month_of(judgement.judged_at)
            previous = self._judgement_month.get(judgement.id)
            if previous is not None and previous != target:
                self._months[previous].judgements.remove(judgement.id)
            self._open(target).judgements.put(judgement)
            self._judgement_month[judgement.id] = target
            self._by_person.setdefault(judgement.person, set()).add(judgement.id)

    def article(self, identity: str) -> Article | None:
        month = self._article_month.get(identity)
        return self._months[month].articles.get(identity) if month else None

    def judgement(self, judgement_id: str) -> Judgement | None:
        month = self._judgement_month.get(judgement_id)
        return self._months[month].judgements.get(judgement_id) if month else None

    def judgements(self, person: str | None = None) -> list[Judgement]:
        ids = self._judgement_month if person is None else self._by_person.get(person, set())
        found = (self.judgement(i) for i in ids)
        return sorted((j for j in found if j is not None), key=lambda j: j.judged_at)

    def review(self, judgement_id: str, review: Review, by: str) -> Judgement | None:
        month = self._judgement_month.get(judgement_id)
        current = self._months[month].judgements.get(judgement_id) if month else None
        if month is None or current is None:
            return None
        updated = dataclasses.replace(current, review=review, reviewed_by=by)
        self._months[month].judgements.put(updated)
        return updated

    def everything(self) -> tuple[list[Article], list[Statement], list[Judgement]]:
        parts = list(self._months.values())
        return (
            [a for p in parts for a in p.articles.all()],
            [s for p in parts for s in p.statements.all()],
            [j for p in parts for j in p.judgements.all()],
        )

    def restore(self, articles: list[Article], statements: list[Statement], judgements: list[Judgement]) -> None:
        """File copied records by month: articles by when they were fetched, statements by their date."""
        for article in articles:
            self._open(month_of(article.fetched)).articles.put(article)
            self._article_month[article.identity] = month_of(article.fetched)
        for statement in statements:
            self._open(month_of(statement.date)).statements.put(statement)
            self._statements_of.setdefault(statement.person, {})[statement.id] = month_of(statement.date)
        self.add_judgements(judgements)

    def prune_bodies(self, older_than_days: int) -> int:
        """Drop the text of articles fetched before the cutoff; returns how many lost their body."""
        cutoff = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - older_than_days * 86400))
        pruned = 0
        for month, part in self._months.items():
            if month > cutoff[:7]:
                continue
            stale = [a for a in part.articles.all() if a.text and (a.fetched or month) < cutoff]
            if stale:
                part.articles.put_many(dataclasses.replace(a, text="") for a in stale)
                pruned += len(stale)
        return pruned

    def flush(self) -> None:
        for part in self._months.values():
            part.flush()

    def __len__(self) -> int:
        return len(self._article_month)
