"""``store copy``: move every record to another backend, and prove the copy equal before saying so."""

from __future__ import annotations

import json

from domain.errors import StorageError
from storage.interfaces import Snapshot, StanceStore


def copy_store(source: StanceStore, target: StanceStore) -> dict[str, int]:
    """Copy ``source`` into the empty ``target``, then compare both table by table; returns the counts copied."""
    if any(target.snapshot().values()):
        raise StorageError(f"{target.describe()} already holds records; copy only into an empty store.")
    snapshot = source.snapshot()
    target.restore(snapshot)
    target.flush()
    copied = _canonical(target.snapshot())
    differ = [table for table, rows in _canonical(snapshot).items() if copied.get(table) != rows]
    if differ:
        raise StorageError(
            f"The copy in {target.describe()} differs from {source.describe()} in {', '.join(differ)}; "
            "the source is unchanged, so empty the target and copy again."
        )
    return {table: len(rows) for table, rows in snapshot.items()}


def _canonical(snapshot: Snapshot) -> dict[str, list[str]]:
    """Each table as sorted JSON lines: equal whatever order a backend returns its rows in."""
    return {table: sorted(json.dumps(row, sort_keys=True) for row in rows) for table, rows in snapshot.items()}
