"""Seen article identities, kept in an append-only journal, a year by default.

Measured in ``benchmarks/feeds.py``: with the identities inside a TinyDB file every
commit rewrote the whole set, and flushing took most of a poll round. Here a commit
appends one line a day with the identities first seen since the last commit.
Loading compacts the journal into one line a day and drops days past the retention
(after that an item could be posted again, so the default is long).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from storage.files.journal import Journal

COMPACT_AFTER_LINES = 1000


class IdentityLog:
    def __init__(self, path: Path, *, keep_days: int = 365) -> None:
        self.journal = Journal(path, "identities")
        self.keep_days = keep_days
        self._by_day: dict[str, list[str]] = {}
        self._seen: set[str] = set()
        self._pending: dict[str, list[str]] = {}
        records, torn = self.journal.load()
        for record in records:
            fresh = [i for i in record["ids"] if i not in self._seen]
            self._by_day.setdefault(record["day"], []).extend(fresh)
            self._seen.update(fresh)
        if torn or len(records) > COMPACT_AFTER_LINES or any(d < self._cutoff() for d in self._by_day):
            self.compact()

    def __contains__(self, identity: str) -> bool:
        return identity in self._seen

    def __len__(self) -> int:
        return len(self._seen)

    def add(self, identities: Iterable[str], day: str | None = None) -> int:
        """Remember identities (as first seen on ``day``, default today); returns how many were new."""
        day = day or time.strftime("%Y-%m-%d", time.gmtime())
        fresh = [i for i in dict.fromkeys(identities) if i not in self._seen]
        if fresh:
            self._seen.update(fresh)
            self._by_day.setdefault(day, []).extend(fresh)
            self._pending.setdefault(day, []).extend(fresh)
        return len(fresh)

    def days(self) -> dict[str, list[str]]:
        """Every identity kept, by the day it was first seen."""
        return {day: list(ids) for day, ids in self._by_day.items()}

    def flush(self) -> None:
        self.journal.append([{"day": d, "ids": ids} for d, ids in self._pending.items()])
        self._pending.clear()

    def compact(self) -> None:
        """Rewrite the journal as one line a day, without the days past the retention."""
        cutoff = self._cutoff()
        for day in [d for d in self._by_day if d < cutoff]:
            self._seen.difference_update(self._by_day.pop(day))
        self.journal.rewrite([{"day": d, "ids": ids} for d, ids in sorted(self._by_day.items())])
        self._pending.clear()

    def _cutoff(self) -> str:
        return time.strftime("%Y-%m-%d", time.gmtime(time.time() - self.keep_days * 86400))
