"""An append-only JSON-lines file: a commit appends its records and fsyncs, instead of rewriting everything.

For data that only grows between compactions (seen identities, the processing
inbox), rewriting the whole file on every commit costs time in proportion to
everything ever stored; appending costs only what changed. A crash mid-append leaves
a torn last line, which :meth:`Journal.load` drops, so a reader sees the state
before or after each commit; any other unreadable line is an error naming the file
and line. :meth:`Journal.rewrite` compacts with the same atomic replace as the
other store files.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from domain.errors import StorageError
from storage.atomic import atomic_write_text, fsync_dir


class Journal:
    def __init__(self, path: Path, kind: str, version: int = 1) -> None:
        self.path = path
        self.header = {"format": f"stancewatch-{kind}", "version": version}

    def load(self) -> tuple[list[dict[str, Any]], bool]:
        """Every record, and whether a torn last line (an interrupted append) was dropped."""
        try:
            raw = self.path.read_text(encoding="utf-8", errors="surrogateescape")
        except FileNotFoundError:
            return [], False
        except OSError as exc:
            raise StorageError(f"Cannot read {self.path}: {exc.strerror}.") from exc
        lines = raw.split("\n")
        torn = bool(lines[-1])  # a complete journal ends with a newline
        records = []
        for number, line in enumerate(lines[:-1], start=1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                raise StorageError(
                    f"{self.path} line {number} is not valid JSON; move the file aside to start it afresh."
                ) from None
            if not isinstance(record, dict):
                raise StorageError(f"{self.path} line {number} is not a record (a JSON object).")
            if number == 1 and record.get("format") == self.header["format"]:
                if record.get("version", 1) > self.header["version"]:
                    raise StorageError(f"{self.path} was written by a newer Stancewatch.")
                continue
            records.append(record)
        return records, torn

    def append(self, records: list[dict[str, Any]]) -> None:
        """Append records durably (one write, one fsync), after cutting off a torn last line if there is one."""
        if not records:
            return
        created = not self.path.exists()
        empty = created or self._repair_tail()
        lines = [self.header] if empty else []
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in [*lines, *records])
        with self.path.open("a", encoding="utf-8") as handle:
            size = handle.tell()
            try:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            except OSError as exc:
                _cut_back(handle.fileno(), size)
                raise StorageError(f"Cannot write {self.path}: {exc.strerror}; the last commit was not saved.") from exc
        if created:
            fsync_dir(self.path.parent)

    def _repair_tail(self) -> bool:
        """Truncate to the last complete line (an append joined onto a torn line would corrupt both); empty?"""
        with self.path.open("r+b") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size == 0:
                return True
            handle.seek(size - 1)
            if handle.read(1) == b"\n":
                return False
            handle.seek(max(0, size - (1 << 20)))  # a line is far shorter than this
            tail = handle.read()
            keep = size - len(tail) + tail.rfind(b"\n") + 1 if b"\n" in tail else 0
            handle.truncate(keep)
            handle.flush()
            os.fsync(handle.fileno())
            return keep == 0

    def rewrite(self, records: list[dict[str, Any]]) -> None:
        """Replace the journal with ``records`` atomically (compaction)."""
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in [self.header, *records])
        atomic_write_text(self.path, text)


def _cut_back(fd: int, size: int) -> None:
    """Drop a partly written append (a full disk), so that the next append starts on a clean line."""
    with contextlib.suppress(OSError):  # if this fails too, loading drops the torn line
        os.ftruncate(fd, size)
