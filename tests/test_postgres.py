"""What only the PostgreSQL backend promises: migrations, rollback, and several processes sharing the work."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from domain.errors import StorageError
from domain.records import Article, Feed
from storage import open_store
from storage.postgres import PostgresStore, describe_url, migrations


def test_migrations_are_applied_once_and_recorded(database_url: str) -> None:
    first = PostgresStore.open(database_url)
    first.close()
    again = PostgresStore.open(database_url)
    try:
        assert again.schema_versions() == [v for v, _, _ in migrations()]
        assert again.people()
    finally:
        again.close()


def test_a_database_migrated_by_a_newer_release_is_refused(database_url: str) -> None:
    PostgresStore.open(database_url).close()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_migrations (version, name) VALUES (9999, 'from_the_future')")
    with pytest.raises(StorageError, match="newer Stancewatch"):
        PostgresStore(database_url)


def test_an_unreachable_server_is_one_sentence_without_the_password() -> None:
    url = "postgresql://bot:hunter2@127.0.0.1:1/stancewatch"
    with pytest.raises(StorageError) as caught:
        open_store(url)
    message = str(caught.value)
    assert message.startswith("Cannot connect to PostgreSQL database stancewatch on 127.0.0.1:1")
    assert "hunter2" not in message and "\n" not in message
    assert "hunter2" not in describe_url(url)


async def test_a_unit_of_work_that_fails_leaves_nothing(database_url: str) -> None:
    store = PostgresStore.open(database_url, seed=False)
    try:

        def half_done() -> None:
            store.record_article(Article("id-1", "https://n.example/1"), [])
            store.claim_alert("p:s")
            store.enqueue(1, {"content": "alert"})
            raise RuntimeError("the process failed between two writes")

        with pytest.raises(RuntimeError):
            await store.run(half_done)
        assert store.article("id-1") is None and store.pending() == [] and store.claim_alert("p:s")
    finally:
        store.close()


def test_two_processes_starting_together_seed_the_starter_pack_once(database_url: str) -> None:
    with ThreadPoolExecutor(2) as pool:
        stores = list(pool.map(lambda _: PostgresStore.open(database_url), range(2)))
    try:
        people = stores[0].people()
        assert people and len({p.id for p in people}) == len(people) == len(stores[1].people())
    finally:
        for store in stores:
            store.close()


def _lease_all(url: str, owner: str, start: multiprocessing.synchronize.Barrier, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """One process: lease feeds in small batches until none is left, reporting every one it took."""
    store = PostgresStore(url, workers=1)
    start.wait()
    taken: list[str] = []
    while batch := store.lease_feeds(owner, now=1e12, lease_s=600, limit=7):
        taken.extend(f.url for f in batch)
    out.put(taken)
    store.close()


def test_three_processes_never_lease_one_feed_twice(database_url: str) -> None:
    store = PostgresStore.open(database_url, seed=False)
    urls = {f"https://feed{i}.example/rss" for i in range(600)}
    for url in urls:
        store.save_feed(Feed(url=url))
    context = multiprocessing.get_context("spawn")
    start, out = context.Barrier(3), context.Queue()
    workers = [context.Process(target=_lease_all, args=(database_url, f"p{i}", start, out)) for i in range(3)]
    for worker in workers:
        worker.start()
    taken = [out.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(30)
    store.close()
    every = [url for part in taken for url in part]
    assert sorted(every) == sorted(urls)  # each feed exactly once, none lost
    assert all(part for part in taken), "one process took every feed: the test proved nothing about sharing"


def test_a_transaction_sees_its_own_writes_and_others_see_them_only_after_commit(database_url: str) -> None:
    writer = PostgresStore.open(database_url, seed=False)
    reader = PostgresStore(database_url)
    written, checked = threading.Event(), threading.Event()
    seen_inside: list[bool] = []

    def write() -> None:
        writer.claim_alert("p:1")
        seen_inside.append(not writer.claim_alert("p:1"))
        written.set()
        checked.wait(10)

    thread = threading.Thread(target=lambda: writer._transaction(write))
    thread.start()
    written.wait(10)
    assert reader._one("SELECT count(*) FROM alerted") == (0,)  # not committed yet
    checked.set()
    thread.join(10)
    assert seen_inside == [True] and reader._one("SELECT count(*) FROM alerted") == (1,)
    writer.close()
    reader.close()


async def test_a_message_queued_by_one_process_wakes_another(database_url: str) -> None:
    waiting = PostgresStore.open(database_url, seed=False)
    queuing = PostgresStore(database_url)
    try:
        await waiting.wait_for_change(0.01)  # listening from here on
        woken = asyncio.create_task(waiting.wait_for_change(600))
        await asyncio.sleep(0.2)
        assert not woken.done()
        await queuing.run(queuing.enqueue, 1, {"content": "for another shard"}, 2 << 22)
        await asyncio.wait_for(woken, 60)  # a hang guard: without NOTIFY it would sleep the full 600 s
    finally:
        waiting.close()
        queuing.close()


# -- a database Stancewatch cannot use is one sentence, whatever is wrong with it (issue 22, item 6) ----------


def test_read_only_commands_on_a_database_no_bot_has_opened_say_what_to_do(database_url: str) -> None:
    """Before: ``stances export``, ``ask`` and ``timeline`` failed with ``UndefinedTable``."""
    with pytest.raises(StorageError, match="holds no Stancewatch tables yet: start the bot"):
        open_store(database_url, read_only=True)


def test_a_partial_schema_is_named(database_url: str) -> None:
    open_store(database_url, seed=False).close()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP TABLE judgements")
    with pytest.raises(StorageError, match="lacks the tables judgements although its migrations are recorded"):
        open_store(database_url)


def test_another_tools_schema_migrations_table_is_named(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE schema_migrations (id text PRIMARY KEY, applied timestamptz)")
        conn.execute("INSERT INTO schema_migrations VALUES ('20240101_init', now())")
    with pytest.raises(StorageError, match="schema_migrations table of another tool"):
        open_store(database_url)


def test_a_role_without_create_is_told_what_to_grant(database_url: str) -> None:
    role = f"reader_{abs(hash(database_url)) % 10**8}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"DROP ROLE IF EXISTS {role}")
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f"REVOKE CREATE ON SCHEMA public FROM PUBLIC, {role}")
    parts = urlsplit(database_url)
    url = urlunsplit(parts._replace(netloc=f"{role}@{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}"))
    try:
        with pytest.raises(StorageError, match="may not create tables; grant it CREATE"):
            open_store(url)
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")


ROUNDS = 25


def _route_each_clash(url: str, start: multiprocessing.synchronize.Barrier, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """One process: route the same clashes as its twin, each round starting together, as the bot does (one
    transaction that routes and commits)."""
    from delivery.routing import route_clashes
    from tests.test_alerts import clash

    store = PostgresStore(url, workers=1)
    queued = []
    for n in range(ROUNDS):
        start.wait()
        queued.append(asyncio.run(store.run(route_clashes, store, 7, 1, [clash(n=n)], 1_780_000_000.0 + n)))
    out.put(queued)
    store.close()


def test_two_processes_routing_one_clash_post_one_alert(database_url: str) -> None:
    """Both processes judge the same report at once (a feed two shards both hold, a retried article): for each
    clash one alert is queued, and the other process finds it and adds nothing."""
    from delivery.messages import ClashAlert, from_payload

    store = PostgresStore.open(database_url, seed=False)
    context = multiprocessing.get_context("spawn")
    start, out = context.Barrier(2), context.Queue()
    workers = [context.Process(target=_route_each_clash, args=(database_url, start, out)) for _ in range(2)]
    for worker in workers:
        worker.start()
    queued = [out.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(30)
    alerts = [from_payload(payload) for _, _, payload in store.pending()]
    store.close()
    assert all(isinstance(a, ClashAlert) for a in alerts)
    positions = sorted(c.position_id for a in alerts if isinstance(a, ClashAlert) for c in a.clashes)
    assert positions == sorted(f"elon-musk-pos-{n}" for n in range(ROUNDS))  # each clash once, none lost
    assert [a + b for a, b in zip(*queued, strict=True)] == [1] * ROUNDS
