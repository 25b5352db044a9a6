"""Store benchmark: Stancewatch's store against plain TinyDB doing the same work.

    python benchmarks/storage.py [--identities 100000] [--positions 10000] [--batch 1000]

Both start from the same data: 100,000 seen article identities and 10,000 positions.
Measured: start-up (open and load everything), one identity lookup, and recording a
batch of 1,000 new articles (their identities and their archived records) including
the durable write. Plain TinyDB uses its own JSONStorage, ``Query`` lookups and
``insert_multiple`` (its fastest way to add many records: one file rewrite a call).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storage.records import Article, Person, Position, Question, to_dict
from storage.store import Store

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


def bench_store(root: Path, identities: list[str], stored: list[Position], batch: int) -> dict[str, float]:
    store = Store.open(root, seed=False)
    store.import_data(
        {
            "people": [to_dict(Person(f"person-{i}", f"Person {i}")) for i in range(500)],
            "questions": [to_dict(Question(f"question-{i}", f"Question {i}?")) for i in range(20)],
            "positions": [to_dict(p) for p in stored],
        }
    )
    store.mark_seen(identities)
    store.close()
    startup = timed(lambda: Store(root))
    store = Store(root)
    probes = random.Random(1).sample(identities, 1000)
    lookup = timed(lambda: [store.seen(p) for p in probes]) / len(probes)
    fresh = articles(len(identities), batch)

    def record() -> None:
        store.mark_seen(a.identity for a in fresh)
        for article in fresh:
            store.record_article(article, [])
        store.flush()

    recording = timed(record)
    assert store.seen(fresh[-1].identity) and len(store.positions()) == len(stored)
    return {"startup": startup, "lookup": lookup, "record": recording}


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
    args = parser.parse_args()
    identities = [f"guid:{i:012x}:{i}" for i in range(args.identities)]
    stored = positions(args.positions)
    with tempfile.TemporaryDirectory(prefix="stancewatch-bench-") as tmp:
        ours = bench_store(Path(tmp) / "store", identities, stored, args.batch)
        plain = bench_tinydb(Path(tmp), identities, stored, args.batch)
    print(f"{args.identities} identities, {args.positions} positions, batch of {args.batch} new articles")
    print(f"{'':28s} {'Stancewatch':>14s} {'plain TinyDB':>14s} {'ratio':>8s}   target")
    rows = [
        ("start-up (load everything)", "startup", 1.0, "s", "< 2 s"),
        ("identity lookup", "lookup", 1e6, "us", "< 10 us"),
        ("record 1,000 articles", "record", 1000.0, "ms", "< 300 ms"),
    ]
    for label, key, scale, unit, target in rows:
        a, b = ours[key] * scale, plain[key] * scale
        print(f"{label:28s} {a:11.2f} {unit:2s} {b:11.2f} {unit:2s} {b / a:7.1f}x   {target}")


if __name__ == "__main__":
    main()
