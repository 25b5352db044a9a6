"""Feed-watching benchmark: 1,000 local feeds of 50 items, the watcher against a naive loop.

    python benchmarks/feeds.py [--feeds 1000] [--items 50]

A server process on 127.0.0.1 serves the feeds with ETags. In one run the watcher
(real store files, model excluded) polls all feeds three times: the first fetch, a
round where every feed answers 304, and a round where every feed has 5 new items.
A ticker task records the event loop's largest lag. As a baseline, a naive loop
fetches each feed in turn and parses it with ``feedparser.parse`` on the event loop.
Last, one 50-item feed is parsed by each candidate parser.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import feedparser
import feedparser_rs
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.article import ArticleOutcome, ArticleReport
from app import freeze_startup_objects
from benchmarks.feed_conformance import CASES, conformance, feedparser_field, paths_summary, stancewatch_field
from benchmarks.lag import measure_lag
from domain.records import Article, Feed, FeedItem
from ingest.http import make_session
from ingest.parse import parse_feed
from pipeline.watcher import FeedWatcher, WatchPolicy
from storage.files.store import Store

HOSTS = 20
BODY = "Lawmakers debated rules for frontier AI models, licensing and compute thresholds. " * 8


def feed_xml(feed: int, items: int, new: int) -> bytes:
    entries = "".join(
        f"<item><guid>f{feed}-i{i}</guid><title>Item {i} of feed {feed}</title>"
        f"<link>https://news{feed % 50}.example.com/{feed}/{i}</link>"
        f"<pubDate>Sat, 28 Nov 2026 10:{i % 60:02d}:00 GMT</pubDate><description>{BODY}</description></item>"
        for i in range(items + new - 1, -1, -1)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Feed {feed}</title>'
        f"<link>https://news.example.com/</link><description>d</description>{entries}</channel></rss>"
    ).encode()


def serve(feeds: int, items: int, port_out: Any, round_flag: Any) -> None:
    """The server process: ``round_flag`` 0 serves the base feeds, 1 adds 5 new items to each."""
    bodies = [[feed_xml(i, items, 0), feed_xml(i, items, 5)] for i in range(feeds)]

    async def handle(request: web.Request) -> web.Response:
        index, state = int(request.match_info["n"]), round_flag.value
        etag = f'"{index}-{state}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=bodies[index][state], headers={"ETag": etag, "Content-Type": "application/rss+xml"})

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feed/{n}", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        first = web.TCPSite(runner, "127.0.0.1", 0)
        await first.start()
        port = runner.addresses[0][1]
        for host in range(2, HOSTS + 1):  # every 127.x.y.z is loopback on Linux: one "site" per address
            await web.TCPSite(runner, f"127.0.0.{host}", port).start()
        port_out.value = port
        await asyncio.Event().wait()

    asyncio.run(main())


def wait_for_port(port: Any) -> None:
    while port.value == 0:
        time.sleep(0.05)


class NoModel:
    """The article pipeline with the model excluded: every item is reported as not relevant."""

    def __init__(self) -> None:
        self.count = 0

    async def analyse(self, item: FeedItem) -> ArticleOutcome:
        self.count += 1
        report = ArticleReport(item.url, item.title, "en", relevant=False)
        return ArticleOutcome(report, Article.of(item, fetched="2026-11-30T00:00:00Z"))


def feed_url(port: int, index: int) -> str:
    return f"http://127.0.0.{index % HOSTS + 1}:{port}/feed/{index}"


async def naive_round(port: int, feeds: int) -> None:
    """What many bots do: fetch one feed after another and parse on the event loop."""
    async with aiohttp.ClientSession() as session:
        for i in range(feeds):
            async with session.get(feed_url(port, i)) as resp:
                feedparser.parse(await resp.read())


def parser_figures(items: int) -> list[tuple[str, float]]:
    body = feed_xml(0, items, 0)
    candidates: list[tuple[str, Callable[[], Any]]] = [
        ("feedparser", lambda: feedparser.parse(body)),
        ("feedparser-rs", lambda: feedparser_rs.parse(body)),
        ("parse_feed (feedparser-rs, encoding, identities)", lambda: parse_feed(body, "https://news.example.com/")),
    ]
    try:
        import fastfeedparser

        candidates.insert(2, ("fastfeedparser", lambda: fastfeedparser.parse(body)))
    except ImportError:
        pass
    figures = []
    for name, parse in candidates:
        parse()
        runs = 20
        started = time.perf_counter()
        for _ in range(runs):
            parse()
        figures.append((name, (time.perf_counter() - started) / runs * 1000))
    return figures


async def run(feeds: int, items: int) -> None:
    port, round_flag = multiprocessing.Value("i", 0), multiprocessing.Value("i", 0)
    server = multiprocessing.Process(target=serve, args=(feeds, items, port, round_flag), daemon=True)
    server.start()
    await asyncio.to_thread(wait_for_port, port)
    print(f"{feeds} feeds x {items} items on {HOSTS} local hosts; model excluded; 2 fetches per host at a time")
    try:
        with tempfile.TemporaryDirectory(prefix="stancewatch-bench-") as tmp:
            store = Store.open(Path(tmp), seed=False)
            for i in range(feeds):
                store.save_feed(Feed(url=feed_url(port.value, i), key=feed_url(port.value, i)))
            store.flush()
            pipeline = NoModel()
            async with make_session(allow_private=True) as session:

                async def on_report(item: FeedItem, report: ArticleReport) -> None:
                    return None

                watcher = FeedWatcher(
                    store,
                    pipeline,
                    session,
                    on_report,
                    allow_private=True,
                    policy=WatchPolicy(),  # type: ignore[arg-type]
                )
                freeze_startup_objects()  # as app.open_app does before the bot serves

                async def poll_and_drain() -> None:
                    results = await watcher.poll_all()
                    await watcher.drain()
                    errors = [r.error for r in results if r.error]
                    assert not errors, errors[:3]

                first, first_lag = await measure_lag(poll_and_drain)
                unchanged, unchanged_lag = await measure_lag(poll_and_drain)
                round_flag.value = 1
                fresh, fresh_lag = await measure_lag(poll_and_drain)
                await watcher.stop()
            store.close()
        assert pipeline.count == feeds * 5, pipeline.count
        round_flag.value = 0
        naive, naive_lag = await measure_lag(lambda: naive_round(port.value, feeds))
    finally:
        server.terminate()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"first fetch of all feeds      {first:6.2f} s   loop lag max {first_lag:6.1f} ms")
    print(f"all-304 round                 {unchanged:6.2f} s   loop lag max {unchanged_lag:6.1f} ms   (target < 3 s)")
    print(f"5-new-items round             {fresh:6.2f} s   loop lag max {fresh_lag:6.1f} ms   (target < 10 s)")
    print(f"naive baseline (full round)   {naive:6.2f} s   loop lag max {naive_lag:6.1f} ms")
    print(f"speed-up over naive: 5-new round {naive / fresh:5.1f}x, all-304 round {naive / unchanged:5.1f}x")
    print(f"peak RSS of the benchmark process: {peak_mib:.0f} MiB")
    print(f"\nParsing one {items}-item feed:")
    for name, ms in parser_figures(items):
        print(f"  {name:50s} {ms:7.2f} ms")
    print(f"\nConformance on {len(CASES)} edge cases (benchmarks/feed_conformance.py), fields a reader sees:")
    for name, reader in (("Stancewatch parse_feed", stancewatch_field), ("feedparser", feedparser_field)):
        right, missed = conformance(reader)
        print(f"  {name:24s} {right:3d} / {len(CASES)} right   missed: {', '.join(missed) or '-'}")
    print(f"  {paths_summary()}: python benchmarks/feed_conformance.py")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(run(args.feeds, args.items))


if __name__ == "__main__":
    main()
