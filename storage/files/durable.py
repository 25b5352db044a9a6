"""A TinyDB storage that survives crashes and does not rewrite the file on every change.

TinyDB's own ``JSONStorage`` rewrites its file in place on every write, so a crash
mid-write leaves a truncated file, and every insert costs a full rewrite. Here the
data lives in memory, changes mark it dirty, and :meth:`DurableJSONStorage.flush`
writes it once: to a temporary file in the same directory, fsynced, then
``os.replace``d over the old one, then the directory fsynced. A reader therefore
always sees either the old file or the new one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from domain.errors import StorageError
from storage.atomic import atomic_write_text

SCHEMA_VERSION = 2
_META_TABLE = "_meta"


class DurableJSONStorage(Storage):
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._data: dict[str, dict[str, Any]] | None = self._load()
        self._dirty = False

    def _load(self) -> dict[str, dict[str, Any]] | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except UnicodeDecodeError as exc:
            raise StorageError(f"{self.path} is not UTF-8 text (byte {exc.start} is not valid).") from None
        except OSError as exc:
            raise StorageError(f"Cannot read {self.path}: {exc.strerror}.") from exc
        if not text.strip():
            return None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StorageError(
                f"{self.path} is not valid JSON (line {exc.lineno}, column {exc.colno}); "
                "restore it from a backup or move it aside to start empty."
            ) from exc
        if not isinstance(data, dict):
            raise StorageError(f"{self.path} does not hold a TinyDB database (top level is not an object).")
        for table, documents in data.items():
            if not isinstance(documents, dict):
                raise StorageError(f"{self.path}: table {table!r} is not an object of documents.")
            for doc_id, document in documents.items():
                if not ((doc_id.isdigit() or table == _META_TABLE) and isinstance(document, dict)):
                    raise StorageError(f"{self.path}: table {table!r} document {doc_id!r} is not a numbered object.")
        version = data.get(_META_TABLE, {}).get("schema", {}).get("version", SCHEMA_VERSION)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise StorageError(
                f"{self.path}: its schema version {version!r} is not a whole number from 1; "
                "restore the file from a backup, or set it to the number it was written with."
            )
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"{self.path} was written by a newer Stancewatch (schema {version}, this one reads {SCHEMA_VERSION})."
            )
        return data

    def read(self) -> dict[str, dict[str, Any]] | None:
        return self._data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self._data = data
        self._dirty = True

    def flush(self) -> None:
        """Persist pending changes atomically; a no-op when nothing changed."""
        if not self._dirty or self._data is None:
            return
        self._data.setdefault(_META_TABLE, {})["schema"] = {"version": SCHEMA_VERSION}
        payload = json.dumps(self._data, ensure_ascii=False, separators=(",", ":"))
        atomic_write_text(self.path, payload)
        self._dirty = False
