"""The PostgreSQL backend: one database shared by several bot processes (see :mod:`storage.postgres.connection`)."""

from storage.postgres.connection import describe_url, migrations
from storage.postgres.store import PostgresStore

__all__ = ["PostgresStore", "describe_url", "migrations"]
