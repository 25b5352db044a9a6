"""A TinyDB table mirrored in memory and indexed by key.

TinyDB answers a lookup by scanning every document through its query objects, and
rebuilds the table on each write (measured: 16 ms a lookup at 2,000 records). Here
records are validated at load and at every write (one rule set,
:func:`domain.records.validate`), read from a dict, and written into TinyDB's storage by
document id, so lookups and writes cost a dict access and the file format stays TinyDB's.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

from tinydb import TinyDB

from domain.records import from_dict, storable, to_dict

R = TypeVar("R")
K = TypeVar("K", bound=Hashable)


class IndexedTable(Generic[K, R]):
    def __init__(self, db: TinyDB, name: str, cls: type[R], key: Callable[[R], K]) -> None:
        self.name = name
        self._db = db
        self._table = db.table(name)
        self._key = key
        self._records: dict[K, R] = {}
        self._doc_ids: dict[K, int] = {}
        documents = self._table.all()
        for doc in documents:
            record = from_dict(cls, dict(doc), f"{name} document {doc.doc_id}")
            self._records[key(record)] = record
            self._doc_ids[key(record)] = doc.doc_id
        self._next_id = max((doc.doc_id for doc in documents), default=0) + 1

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, key: K) -> bool:
        return key in self._records

    def get(self, key: K) -> R | None:
        return self._records.get(key)

    def all(self) -> list[R]:
        return list(self._records.values())

    def put(self, record: R) -> bool:
        """Insert or replace by key; True when the key is new."""
        record = storable(record)  # checked before anything changes: a record that would not load is refused
        key = self._key(record)
        new = key not in self._doc_ids
        self._write({self._doc_id(key): to_dict(record)})
        self._records[key] = record
        return new

    def put_many(self, records: Iterable[R]) -> None:
        """Insert or replace many records with one storage write."""
        batch = {self._key(r): r for r in map(storable, records)}  # all checked before the first change
        self._write({self._doc_id(k): to_dict(r) for k, r in batch.items()})
        self._records.update(batch)

    def remove(self, key: K) -> bool:
        doc_id = self._doc_ids.pop(key, None)
        if doc_id is None:
            return False
        del self._records[key]
        self._write({doc_id: None})
        return True

    def _doc_id(self, key: K) -> int:
        """The key's document id, a new one (the largest so far plus one, as TinyDB numbers) for a new key."""
        if key not in self._doc_ids:
            self._doc_ids[key] = self._next_id
            self._next_id += 1
        return self._doc_ids[key]

    def _write(self, documents: dict[int, dict[str, object] | None]) -> None:
        """Put documents (None: remove them) into the storage's table by id, in one read and one write.

        TinyDB's own ``insert``, ``update`` and ``remove`` convert every document id of the table on each call, so
        archiving 5,000 articles one by one cost quadratic time on the store thread (a third of it in the
        new-items round of ``benchmarks/feeds.py``); this costs one dict write a document. The storage layer is
        TinyDB's own (``read``/``write`` of the whole document), so the file is unchanged.
        """
        storage = self._db.storage
        data = storage.read() or {}
        table = data.setdefault(self.name, {})
        for doc_id, document in documents.items():
            if document is None:
                table.pop(str(doc_id), None)
            else:
                table[str(doc_id)] = document
        storage.write(data)
        self._table.clear_cache()
