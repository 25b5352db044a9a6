"""Items accepted for processing and not yet finished, kept in a journal so that a restart resumes them.

Accepting appends the items; finishing appends their identities. Loading replays
both and compacts to the unfinished items, so the file stays as small as the queue.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from domain.errors import StorageError
from storage.files.journal import Journal


class Inbox:
    def __init__(self, path: Path) -> None:
        self.journal = Journal(path, "inbox")
        self._items: dict[str, dict[str, Any]] = {}
        self._pending: list[dict[str, Any]] = []
        records, _ = self.journal.load()
        for number, record in enumerate(records, start=2):
            item, done = record.get("item"), record.get("done")
            if isinstance(item, dict) and isinstance(item.get("identity"), str):
                self._items[item["identity"]] = item
            elif isinstance(done, str):
                self._items.pop(done, None)
            else:
                raise StorageError(f"{path} record {number} is neither an accepted item nor a finished identity.")
        if records:
            self.journal.rewrite([{"item": item} for item in self._items.values()])

    def add(self, items: Iterable[dict[str, Any]]) -> None:
        for item in items:
            self._items[item["identity"]] = item
            self._pending.append({"item": item})

    def done(self, identity: str) -> None:
        if self._items.pop(identity, None) is not None:
            self._pending.append({"done": identity})

    def __contains__(self, identity: str) -> bool:
        return identity in self._items

    def items(self) -> list[dict[str, Any]]:
        return list(self._items.values())

    def flush(self) -> None:
        self.journal.append(self._pending)
        self._pending.clear()
