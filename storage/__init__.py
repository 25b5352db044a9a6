"""Persistence: the store interfaces (:mod:`storage.interfaces`) and their two backends.

:func:`open_store` picks the backend from where the data is: a PostgreSQL URL
(``DATABASE_URL``) or a data directory of TinyDB files (the default).
"""

from __future__ import annotations

from pathlib import Path

from settings import is_database_url
from storage.interfaces import StanceStore


def open_store(location: str | Path, *, seed: bool = True, read_only: bool = False) -> StanceStore:
    """Open the store at ``location`` (a PostgreSQL URL, else a directory); seeded with the starter pack when new."""
    if is_database_url(location):
        assert isinstance(location, str)
        from storage.postgres import PostgresStore  # psycopg is loaded only by those who use it

        return PostgresStore.open(location, seed=seed, read_only=read_only)
    from storage.files.store import Store

    return Store.open(Path(location), seed=seed, read_only=read_only)
