"""The PostgreSQL backend's connection: pool, transactions, migrations and wake-ups, which every area shares.

Selected by ``DATABASE_URL``. Each :meth:`PostgresConnection.run` is one database transaction on
a pooled connection, on a worker thread: the store calls made inside it find that
connection in a thread-local and share the transaction, and it commits when the function
returns (or rolls back when it raises). Feeds are polled under leases taken with
``FOR UPDATE SKIP LOCKED``, so two processes never poll one feed at once and a dead
process's feeds are taken over when its leases expire. The schema is a numbered list of
SQL files in ``storage/sql``, applied at start under an advisory lock and recorded in
``schema_migrations``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from importlib import resources
from typing import Any, LiteralString, ParamSpec, TypeVar, cast

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from domain.errors import StorageError, StoreUnavailable
from domain.records import from_dict
from settings import redact, url_secrets

Query = LiteralString | sql.SQL | sql.Composed
P = ParamSpec("P")
T = TypeVar("T")
R = TypeVar("R")
_MIGRATION = re.compile(r"^(\d{4})_(\w+)\.sql$")
LOCK_MIGRATE = 0x53570001  # advisory lock keys: one process migrates, one seeds
LOCK_SEED = 0x53570002
NOTIFY_CHANNEL = "stancewatch"
TABLES = (
    "people", "questions", "positions", "feeds", "seen", "inbox", "subscriptions", "alerted", "outbox", "articles",
    "statements", "judgements", "posted_clashes", "review_desks", "moderator_reviews",
)  # fmt: skip
log = logging.getLogger(__name__)


def describe_url(url: str) -> str:
    """Where a database is, without its password (URLs reach logs and error messages)."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "PostgreSQL (an unreadable DATABASE_URL)"
    host = parts.get("host") or "localhost"
    where = host if str(host).startswith("/") else f"{host}:{parts.get('port') or 5432}"
    return f"PostgreSQL database {parts.get('dbname') or parts.get('user') or '?'} on {where}"


def migrations() -> list[tuple[int, str, str]]:
    folder = resources.files("storage.postgres").joinpath("sql")
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION.match(entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    return sorted(found)


class PostgresConnection:
    def __init__(
        self, url: str, *, body_days: int = 90, identity_days: int = 365, read_only: bool = False, workers: int = 4
    ) -> None:
        self.url = url
        self.body_days = body_days
        self.identity_days = identity_days
        self.read_only = read_only
        options = {"options": "-c default_transaction_read_only=on"} if read_only else {}
        try:  # one plain connection first, so that a wrong URL or a stopped server is one clear sentence
            psycopg.connect(url, connect_timeout=10, **options).close()  # type: ignore[arg-type]
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StorageError(f"Cannot connect to {describe_url(url)}: {redact(reason, url_secrets(url))}.") from None
        self._pool = ConnectionPool(url, min_size=1, max_size=workers, kwargs=options, open=True, name="stancewatch")
        self._local = threading.local()
        self._listener: psycopg.AsyncConnection[Any] | None = None
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="store")
        try:
            if not read_only:
                self._migrate()
            self._check_schema()
        except BaseException:
            self.close()
            raise

    def _check_schema(self) -> None:
        """Refuse, in one sentence each, a database this release cannot use: never a raw ``UndefinedTable`` later."""
        where = describe_url(self.url)
        rows = self._rows("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
        present = {name for (name,) in rows}
        if "schema_migrations" not in present:
            raise StorageError(
                f"{where} holds no Stancewatch tables yet: start the bot (or `bot.py stances import`) once "
                "to create them."
            )
        missing = sorted(set(TABLES) - present)
        if missing:
            raise StorageError(
                f"{where} lacks the tables {', '.join(missing)} although its migrations are recorded: "
                "restore it from a backup, or use an empty database."
            )

    def _migrate(self) -> None:
        try:
            self._apply_migrations()
        except psycopg.errors.InsufficientPrivilege:
            raise StorageError(
                f"{describe_url(self.url)}: the role may not create tables; grant it CREATE on the schema "
                "(or run Stancewatch once as the database's owner)."
            ) from None
        except (psycopg.errors.UndefinedColumn, psycopg.errors.DatatypeMismatch, psycopg.errors.NotNullViolation):
            raise StorageError(
                f"{describe_url(self.url)} holds a schema_migrations table of another tool; "
                "give Stancewatch a database (or a schema, through search_path) of its own."
            ) from None

    def _apply_migrations(self) -> None:
        with self._atomic() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_MIGRATE,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations"
                " (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            applied = {version for (version,) in conn.execute("SELECT version FROM schema_migrations")}
            if not all(isinstance(v, int) for v in applied):
                raise psycopg.errors.DatatypeMismatch("schema_migrations.version is not a number")
            known = migrations()
            newest = max((v for v, _, _ in known), default=0)
            if applied and max(applied) > newest:
                raise StorageError(
                    f"{describe_url(self.url)} was migrated by a newer Stancewatch "
                    f"(schema {max(applied)}, this one knows {newest})."
                )
            for version, name, text in known:
                if version not in applied:
                    conn.execute(sql.SQL(cast(LiteralString, text)))
                    conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (version, name))

    def schema_versions(self) -> list[int]:
        return [v for (v,) in self._rows("SELECT version FROM schema_migrations ORDER BY version")]

    # -- the unit of work -----------------------------------------------------------------

    @contextmanager
    def _atomic(self) -> Iterator[psycopg.Connection[Any]]:
        """The current thread's transaction, or a new one that commits when the outermost block ends."""
        current: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        with self._pool.connection() as conn:
            self._local.conn = conn
            try:
                yield conn
            finally:
                self._local.conn = None

    def _transaction(self, fn: Callable[[], R]) -> R:
        try:
            with self._atomic():
                return fn()
        except (psycopg.OperationalError, PoolTimeout) as exc:
            # The server went away (restart, AdminShutdown, a cut connection): nothing was committed, and the
            # pool replaces the broken connection, so the same call can simply be made again later.
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            reason = redact(reason, url_secrets(self.url))
            raise StoreUnavailable(f"{self.describe()} could not be reached: {reason}.") from exc

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn`` as one transaction on a worker thread, off the event loop.

        Raises :class:`domain.errors.StoreUnavailable` when the database cannot be reached or drops the
        connection (the transaction is rolled back); callers keep their work and retry it.
        """
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._transaction, functools.partial(fn, *args, **kwargs))

    async def commit(self) -> None:
        """Nothing to do: every :meth:`run` committed when it returned."""

    def flush(self) -> None:
        """Nothing to do: every transaction is durable when it commits."""

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self._pool.close()
        if self._listener is not None and not self._listener.closed:
            self._listener.pgconn.finish()  # the async connection's socket, closed from any thread

    def describe(self) -> str:
        return describe_url(self.url)

    async def wait_for_change(self, timeout: float) -> None:
        """Return when another process commits work for this one (LISTEN/NOTIFY), or after ``timeout``.

        The timeout is the fallback: a lost listening connection only makes the wake-up as slow as polling.
        """
        try:
            if self._listener is None or self._listener.closed:
                self._listener = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
                await self._listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(NOTIFY_CHANNEL)))
            async for _ in self._listener.notifies(timeout=timeout, stop_after=1):
                return
        except psycopg.Error as exc:
            log.warning("Listening for other processes' changes failed (%s); polling instead", exc)
            self._listener = None
            await asyncio.sleep(timeout)

    def _rows(self, query: Query, params: Any = ()) -> list[tuple[Any, ...]]:
        with self._atomic() as conn:
            return conn.execute(query, params).fetchall()

    def _one(self, query: Query, params: Any = ()) -> tuple[Any, ...] | None:
        with self._atomic() as conn:
            return conn.execute(query, params).fetchone()

    def _exec(self, query: Query, params: Any = ()) -> int:
        with self._atomic() as conn:
            return conn.execute(query, params).rowcount

    def _many(self, query: Query, rows: Iterable[Any]) -> None:
        with self._atomic() as conn, conn.cursor() as cursor:
            cursor.executemany(query, list(rows))

    def _records(self, cls: type[R], query: Query, params: Any = ()) -> list[R]:
        return [from_dict(cls, data, cls.__name__) for (data,) in self._rows(query, params)]

    def _record(self, cls: type[R], query: Query, params: Any = ()) -> R | None:
        row = self._one(query, params)
        return from_dict(cls, row[0], cls.__name__) if row else None

    # -- stances --------------------------------------------------------------------------

    # -- feeds, seen identities, inbox ------------------------------------------------------

    # -- archive ------------------------------------------------------------------------------

    # -- delivery -----------------------------------------------------------------------------

    # -- retention and copies -------------------------------------------------------------------
