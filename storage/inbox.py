"""Items accepted for processing and not yet finished, kept in a journal so that a restart resumes them.

Accepting appends the items; finishing appends their identities. Loading replays
both and compacts to the unfinished items, so the file stays as small as the queue.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from storage.journal import Journal


class Inbox:
    def __init__(self, path: Path) -> None:
        self.journal = Journal(path, "inbox")
        self._items: dict[str, dict[str, Any]] = {}
        self._pending: list[dict[str, Any]] = []
        records, _ = self.journal.load()
        for record in records:
            if "item" in record:
                self._items[record["item"]["identity"]] = record["item"]
            else:
                self._items.pop(record["done"], None)
        if records:
            self.journal.rewrite([{"item": item} for item in self._items.values()])

    def add(self, items: Iterable[dict[str, Any]]) -> None:
        for item in items:
            self._items[item["identity"]] = item
            self._pending.append({"item": item})

    def done(self, identity: str) -> None:
        if self._items.pop(identity, None) is not None:
            self._pending.append({"done": identity})

    def items(self) -> list[dict[str, Any]]:
        return list(self._items.values())

    def flush(self) -> None:
        self.journal.append(self._pending)
        self._pending.clear()
