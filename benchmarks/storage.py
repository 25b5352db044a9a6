"""Store benchmark: both Stancewatch backends against plain TinyDB doing the same work, in one run.

    python benchmarks/storage.py [--identities 100000] [--positions 10000] [--batch 1000] [--feeds 10000]

All start from the same data: 100,000 seen article identities and 10,000 positions.
Measured: start-up (open and load everything), one identity lookup, and recording a
batch of 1,000 new articles (their identities and their archived records) including
the durable write. Plain TinyDB uses its own JSONStorage, ``Query`` lookups and
``insert_multiple`` (its fastest way to add many records: one file rewrite a call).
Then feed leases: 10,000 due feeds taken in batches of 100 by 1, 2 and 3 processes at
once (PostgreSQL; TinyDB, one process by design, takes them alone).

PostgreSQL is ``TEST_DATABASE_URL``'s server, or a throwaway one (as the tests do).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain.records import Article, Feed, Person, Position, Question, to_dict
from storage import open_store
from storage.interfaces import StanceStore
from tests.postgres import fresh_database, postgres_server

BODY = "The senator said frontier AI models should need a licence before release. " * 25


def positions(count: int) -> list[Position]:
    return [
        Position(
            f"pos-{i}",
            f"person-{i % 500}",
            f"question-{i % 20}",
            "favor",
            f"Person {i % 500} said something on question {i % 20} (claim {i}).",
            f"https://example.com/source/{i}",
            "2024-05-01",
        )
        for i in range(count)
    ]


def articles(start: int, count: int) -> list[Article]:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return [
        Article(f"link:https://news.example.com/{i}", f"https://news.example.com/{i}", fetched=now, text=BODY)
        for i in range(start, start + count)
    ]


def timed(fn: Callable[[], Any], repeat: int = 1) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - started) / repeat


def bench_store(location: str | Path, identities: list[str], stored: list[Position], batch: int) -> dict[str, float]:
    store = open_store(location, seed=False)
    store.import_data(
        {
            "people": [to_dict(Person(f"person-{i}", f"Person {i}")) for i in range(500)],
            "questions": [to_dict(Question(f"question-{i}", f"Question {i}?")) for i in range(20)],
            "positions": [to_dict(p) for p in stored],
        }
    )
    for start in range(0, len(identities), 10_000):
        store.mark_seen(identities[start : start + 10_000])
    store.close()
    startup = timed(lambda: open_store(location, seed=False).close())
    store = open_store(location, seed=False)
    probes = random.Random(1).sample(identities, 1000)
    lookup = timed(lambda: [store.seen(p) for p in probes]) / len(probes)
    fresh = articles(len(identities), batch)

    def record() -> None:
        store.mark_seen(a.identity for a in fresh)
        for article in fresh:
            store.record_article(article, [])

    async def transaction() -> None:
        await store.run(record)  # one transaction (PostgreSQL) or one group commit (files)
        await store.commit()

    recording = timed(lambda: asyncio.run(transaction()))
    assert store.seen(fresh[-1].identity) and len(store.positions()) == len(stored)
    store.close()
    return {"startup": startup, "lookup": lookup, "record": recording}


def lease_all(location: str | Path, owner: str, start: Any, out: Any) -> None:
    """One process: take due feeds a hundred at a time until none is left; report how many it took."""
    store: StanceStore = open_store(location, seed=False)
    start.wait()
    taken = 0
    while batch := store.lease_feeds(owner, now=1e12, lease_s=600, limit=100):
        taken += len(batch)
    out.put(taken)
    store.close()


def bench_leases(location: str | Path, feeds: int, processes: int) -> float:
    """Feeds leased a second, all processes together (each lease is one transaction)."""
    store = open_store(location, seed=False)
    for i in range(feeds):
        store.save_feed(Feed(url=f"https://feed{i}.example/rss"))
    store.close()
    context = multiprocessing.get_context("spawn")
    start, out = context.Barrier(processes + 1), context.Queue()
    workers = [context.Process(target=lease_all, args=(location, f"p{i}", start, out)) for i in range(processes)]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    taken = sum(out.get() for _ in workers)
    elapsed = time.perf_counter() - began
    for worker in workers:
        worker.join()
    assert taken == feeds, f"{taken} of {feeds} feeds leased"
    return feeds / elapsed


def bench_tinydb(root: Path, identities: list[str], stored: list[Position], batch: int) -> dict[str, float]:
    path = root / "plain.json"
    db = TinyDB(path)
    db.table("positions").insert_multiple(to_dict(p) for p in stored)
    db.table("seen").insert_multiple({"id": i} for i in identities)
    db.close()
    startup = timed(lambda: len(TinyDB(path).table("seen")))
    db = TinyDB(path)
    seen = db.table("seen")
    probes = random.Random(1).sample(identities, 20)
    lookup = timed(lambda: [seen.contains(Query().id == p) for p in probes]) / len(probes)
    fresh = articles(len(identities), batch)

    def record() -> None:
        seen.insert_multiple({"id": a.identity} for a in fresh)
        db.table("articles").insert_multiple(to_dict(a) for a in fresh)

    recording = timed(record)
    return {"startup": startup, "lookup": lookup, "record": recording}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--identities", type=int, default=100_000)
    parser.add_argument("--positions", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--feeds", type=int, default=10_000)
    args = parser.parse_args()
    identities = [f"guid:{i:012x}:{i}" for i in range(args.identities)]
    stored = positions(args.positions)
    with tempfile.TemporaryDirectory(prefix="stancewatch-bench-") as tmp, postgres_server() as server:
        ours = bench_store(Path(tmp) / "store", identities, stored, args.batch)
        with fresh_database(server) as url:
            pg = bench_store(url, identities, stored, args.batch)
        plain = bench_tinydb(Path(tmp), identities, stored, args.batch)
        tiny_leases = bench_leases(Path(tmp) / "leases", args.feeds, 1)
        pg_leases = {}
        for processes in (1, 2, 3):
            with fresh_database(server) as url:
                pg_leases[processes] = bench_leases(url, args.feeds, processes)
    print(f"{args.identities} identities, {args.positions} positions, batch of {args.batch} new articles")
    print(f"{'':28s} {'TinyDB store':>14s} {'PostgreSQL':>14s} {'plain TinyDB':>14s}   target")
    rows = [
        ("start-up (load everything)", "startup", 1.0, "s", "< 2 s"),
        ("identity lookup", "lookup", 1e6, "us", "< 10 us"),
        ("record 1,000 articles", "record", 1000.0, "ms", "< 300 ms"),
    ]
    for label, key, scale, unit, target in rows:
        a, b, c = ours[key] * scale, pg[key] * scale, plain[key] * scale
        print(f"{label:28s} {a:11.2f} {unit:2s} {b:11.2f} {unit:2s} {c:11.2f} {unit:2s}   {target}")
    print(f"\nLeasing {args.feeds} due feeds, 100 a transaction (feeds a second, all processes together)")
    print(f"{'TinyDB, 1 process':28s} {tiny_leases:11.0f}")
    for processes, rate in pg_leases.items():
        scaling = rate / pg_leases[1]
        print(f"{f'PostgreSQL, {processes} process(es)':28s} {rate:11.0f}   {scaling:.2f}x of one process")


if __name__ == "__main__":
    main()
