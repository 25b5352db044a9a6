"""Publication-to-alert latency: how long after an article is published does its clash alert reach the channel?

    python benchmarks/latency.py [--feeds 12] [--days 1] [--seed 7] [--skip-model]

Two measured parts, added per item:

1. **Waiting for the poll.** A day of publishing is replayed on the watcher's own clock (it schedules on a clock it
   is given): feeds served by a real aiohttp server under public-looking names that resolve to 127.0.0.1 here only
   (``tests.public_dns``), items appearing at random times at each feed's rate (busier by day), some feeds sending
   ``Cache-Control: max-age``, every feed answering 304 to a matching ETag. The real watcher fetches, parses,
   dedupes and schedules; its sweep runs every 30 s of the replayed day; the model is left out of this part (a
   recorder notes when each item was taken). The wait is the time from an item's publication to the poll that
   found it. The same day is replayed three times: with the fixed interval every bot used before (the baseline:
   ``POLL_INTERVAL_MINUTES``, jittered), with adaptive polling (:mod:`pipeline.cadence`), and with every feed
   polled at the floor all day (the bound: no rule that keeps the floor and ``Cache-Control`` waits less).
2. **Pushed instead of polled.** Twenty items published through a real WebSub subscription (a local hub that
   verifies intent and signs, ``tests/websub_hub.py``, and the subscriber's callback): from the hub's publish to
   the watcher taking the item.
3. **The model and the outbox.** The seed articles (the Korean report and the English page) are served as a feed
   to the whole bot (the default model unless ``MODEL_PATH`` says otherwise) running against the Discord emulator
   in real time: from the poll that takes them to each alert message Discord receives.

Printed: the median and 95th percentile from publication to alert for both polling rules and for a pushed feed,
with the poll wait's
share and the model's share, and the polls each rule made (what a feed's server pays).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.article import ArticleOutcome, ArticleReport
from domain.records import Article, Feed, FeedItem
from ingest.http import make_session
from pipeline.watcher import FeedWatcher, WatchPolicy
from storage.files.store import Store
from tests import public_dns

DAY_S = 24 * 3600.0
SWEEP_S = 30.0
START = datetime(2026, 11, 30, tzinfo=UTC).timestamp()
RATES = (30.0, 30.0, 12.0, 12.0, 6.0, 6.0, 3.0, 3.0, 2.0, 1.0, 1.0, 0.5)
"""Items a day, per feed: wire services to a blog that posts every other day."""
MAX_AGE = {2: 900, 5: 1800}
"""Feeds that send ``Cache-Control: max-age`` (seconds), by index."""


def publication_times(rate_per_day: float, days: float, rng: random.Random) -> list[float]:
    """A Poisson process whose rate doubles between 07:00 and 22:00 (UTC) and halves at night."""
    times, now, end = [], START, START + days * DAY_S
    while True:
        now += rng.expovariate(2 * rate_per_day / DAY_S)
        if now >= end:
            return times
        hour = datetime.fromtimestamp(now, UTC).hour
        if rng.random() < (1.0 if 7 <= hour < 22 else 0.25):
            times.append(now)


@dataclass
class Day:
    """The replayed day: what each feed has published by the clock's time."""

    published: list[list[float]]
    clock: float = START
    polls: int = 0

    def xml(self, feed: int) -> tuple[bytes, str]:
        items = [t for t in self.published[feed] if t <= self.clock]
        entries = "".join(
            f"<item><guid>f{feed}-{t:.0f}</guid><title>Item {t:.0f} of feed {feed}</title>"
            f"<link>http://news.example.com/{feed}/{t:.0f}</link>"
            f"<pubDate>{format_datetime(datetime.fromtimestamp(t, UTC), usegmt=True)}</pubDate>"
            f"<description>AI policy news.</description></item>"
            for t in reversed(items[-30:])
        )
        body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {feed}</title>{entries}</channel></rss>'
        return body.encode(), f'"{feed}-{len(items)}"'


async def serve_day(day: Day) -> tuple[web.AppRunner, int]:
    async def handle(request: web.Request) -> web.Response:
        feed = int(request.match_info["n"])
        day.polls += 1
        body, etag = day.xml(feed)
        headers = {"ETag": etag}
        if feed in MAX_AGE:
            headers["Cache-Control"] = f"max-age={MAX_AGE[feed]}"
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        return web.Response(body=body, headers={**headers, "Content-Type": "application/rss+xml"})

    app = web.Application()
    app.router.add_get("/feed/{n}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, runner.addresses[0][1]


@dataclass
class Taken:
    """Stands in for the model in part 1: notes when each item was taken, on the replayed clock."""

    day: Day
    at: dict[str, float] = field(default_factory=dict)

    async def analyse(self, item: FeedItem) -> ArticleOutcome:
        self.at[item.url] = self.day.clock
        return ArticleOutcome(ArticleReport(item.url, item.title, "en", relevant=False), Article.of(item, "x"))


async def replay(published: list[list[float]], policy: WatchPolicy, days: float) -> tuple[list[float], int]:
    """The poll waits (seconds) of every item published after the first polls, and the polls made."""
    day = Day(published)
    runner, port = await serve_day(day)
    taken = Taken(day)
    try:
        with tempfile.TemporaryDirectory(prefix="stancewatch-latency-") as tmp:
            store = Store.open(Path(tmp), seed=False)
            for n in range(len(published)):
                url = f"http://feeds-{n}.example.org:{port}/feed/{n}"
                store.save_feed(Feed(url=url, key=url))
            async with make_session(allow_private=True) as session:
                watcher = FeedWatcher(
                    store, taken, session, None, allow_private=True, policy=policy,  # type: ignore[arg-type]
                    rng=random.Random(1), clock=lambda: day.clock,
                )  # fmt: skip
                while day.clock < START + days * DAY_S:
                    await watcher.poll_due(day.clock)
                    await watcher.drain()
                    day.clock += SWEEP_S
                await watcher.stop()
            store.close()
    finally:
        await runner.cleanup()
    waits = []
    for feed, times in enumerate(published):
        for t in times:
            url = f"http://news.example.com/{feed}/{t:.0f}"
            if url in taken.at:
                waits.append(taken.at[url] - t)
    return waits, day.polls


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


async def model_share() -> list[float]:
    """Seconds from the poll that takes each seed article to its alert reaching the emulated Discord."""
    import discord
    import yarl

    from bot import running_bot
    from cli.demo import ENGLISH_PAGE, ITEMS
    from domain.records import Subscription
    from ingest.parse import html_to_text
    from settings import Secret, Settings
    from tests.discord_emulator import ALERTS, GUILD_ID, serve_emulator

    articles = [(ITEMS[1]["title"], ITEMS[1]["content"]), (ITEMS[0]["title"], html_to_text(ENGLISH_PAGE))]
    served: dict[str, Any] = {"items": []}

    async def feed(_: web.Request) -> web.Response:
        entries = "".join(
            f"<item><guid>{n}</guid><title>{title}</title><link>http://news.example.com/{n}</link>"
            f"<description><![CDATA[{text}]]></description></item>"
            for n, (title, text) in served["items"]
        )
        return web.Response(body=f'<rss version="2.0"><channel><title>F</title>{entries}</channel></rss>'.encode())

    app = web.Application()
    app.router.add_get("/seed.xml", feed)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://feeds.example.org:{runner.addresses[0][1]}/seed.xml"
    try:
        async with serve_emulator() as emu:
            discord.http.Route.BASE = f"{emu.base}/api/v10"
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(f"ws{emu.base[4:]}/gateway")
            with tempfile.TemporaryDirectory(prefix="stancewatch-latency-bot-") as tmp:
                base = Settings.from_env()
                settings = Settings(
                    **{**base.__dict__, "discord_token": Secret("emulated.bot.token"), "dev_guild_id": GUILD_ID,
                       "data_dir": Path(tmp), "database_url": Secret(""), "allow_private_feeds": True},
                )  # fmt: skip
                async with running_bot(settings) as bot:
                    task = asyncio.create_task(bot.start(settings.discord_token.value))
                    await asyncio.wait_for(bot.wait_until_ready(), 120)
                    await bot.store.run(bot.store.add_subscription, Subscription(ALERTS, GUILD_ID))
                    await bot.store.run(bot.store.save_feed, Feed(url=url, key=url))
                    await bot.store.commit()
                    await bot.watcher.poll(url)  # the first fetch: nothing there yet
                    served["items"] = list(enumerate(articles))
                    shares: list[float] = []
                    started = time.perf_counter()
                    recorder = asyncio.create_task(record_alerts(emu, ALERTS, started, shares))
                    await bot.watcher.poll(url)
                    await bot.watcher.drain()
                    await asyncio.sleep(5)  # the outbox posts what the last article queued
                    recorder.cancel()
                    await bot.close()
                    await task
    finally:
        await runner.cleanup()
    return shares


async def pushed_waits(count: int) -> list[float]:
    """Seconds from a hub publishing an item to the watcher taking it, through a real subscription: the feed
    server, a local hub that verifies intent and signs (``tests/websub_hub.py``), the subscriber's callback."""
    from pipeline.websub import WebSubSubscriber
    from tests.websub_hub import serve_hub

    taken: asyncio.Queue[tuple[str, float]] = asyncio.Queue()

    class Stamp:
        async def analyse(self, item: FeedItem) -> ArticleOutcome:
            taken.put_nowait((item.title, time.perf_counter()))
            return ArticleOutcome(ArticleReport(item.url, item.title, "en", relevant=False), Article.of(item, "x"))

    def document(hub: str, topic: str, titles: list[str]) -> bytes:
        items = "".join(f"<item><guid>{t}</guid><title>{t}</title><link>http://news.example.com/{t}</link></item>"
                        for t in titles)  # fmt: skip
        return (
            '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>P</title>'
            f'<atom:link rel="hub" href="{hub}"/><atom:link rel="self" href="{topic}"/>{items}</channel></rss>'
        ).encode()

    served: dict[str, bytes] = {}
    feed_app = web.Application()
    feed_app.router.add_get("/pushed.xml", lambda _: web.Response(body=served["body"]))
    feed_runner = web.AppRunner(feed_app, access_log=None)
    await feed_runner.setup()
    await web.TCPSite(feed_runner, "127.0.0.1", 0).start()
    topic = f"http://feeds.example.org:{feed_runner.addresses[0][1]}/pushed.xml"
    waits = []
    with tempfile.TemporaryDirectory(prefix="stancewatch-latency-push-") as tmp:
        store = Store.open(Path(tmp), seed=False)
        async with serve_hub() as hub, make_session(allow_private=True) as session:
            served["body"] = document(hub.url, topic, ["p0"])
            watcher = FeedWatcher(store, Stamp(), session, None, allow_private=True)  # type: ignore[arg-type]
            subscriber = WebSubSubscriber(store, watcher, session, "")
            callback = web.AppRunner(subscriber.app(), access_log=None)
            await callback.setup()
            await web.TCPSite(callback, "127.0.0.1", 0).start()
            subscriber.callback_url = f"http://bot.example.net:{callback.addresses[0][1]}"
            watcher.on_hub = subscriber.ensure
            await watcher.poll(topic)
            await asyncio.gather(*hub._tasks)  # the hub's verification of intent
            assert any(s.verified for s in hub.subscriptions), hub.verifications
            titles = ["p0"]
            for n in range(1, count + 1):
                titles.insert(0, f"p{n}")
                started = time.perf_counter()
                await hub.publish(topic, document(hub.url, topic, titles))
                title, at = await asyncio.wait_for(taken.get(), 30)
                assert title == f"p{n}", title
                waits.append(at - started)
            await watcher.stop()
            await callback.cleanup()
        store.close()
    await feed_runner.cleanup()
    return waits


async def record_alerts(emu: Any, channel: int, started: float, shares: list[float]) -> None:
    """Note the time of each alert message Discord receives in ``channel``, and of each edit (a report joining an
    alert already posted), until cancelled."""
    seen = 0
    while True:
        now = len([m for m in emu.messages.get(channel, []) if m["embeds"]]) + len(emu.message_edits)
        shares += [time.perf_counter() - started] * (now - seen)
        seen = now
        await asyncio.sleep(0.1)


async def run(feeds: int, days: float, seed: int, skip_model: bool) -> None:
    undo = public_dns.install()
    rng = random.Random(seed)
    published = [publication_times(RATES[n % len(RATES)], days, rng) for n in range(feeds)]
    print(f"{feeds} feeds, {sum(map(len, published))} items in {days:g} day(s) (seed {seed}); sweep every 30 s")
    base = WatchPolicy()
    rules = {
        "baseline: fixed 10-min interval": WatchPolicy(floor_s=base.interval_s, ceiling_s=base.interval_s),
        "adaptive (pipeline/cadence.py)": base,
        "bound: every feed at the floor": WatchPolicy(floor_s=base.floor_s, ceiling_s=base.floor_s),
    }
    waits = {}
    for name, policy in rules.items():
        started = time.perf_counter()
        waits[name], polls = await replay(published, policy, days)
        took = time.perf_counter() - started
        print(f"  replayed {name}: {polls} polls, {len(waits[name])} items found ({took:.0f} s)")
    pushed = waits["WebSub push (pipeline/websub.py)"] = await pushed_waits(20)
    print(f"  pushed 20 items through a local hub: median {statistics.median(pushed) * 1000:.0f} ms to the watcher")
    shares = [] if skip_model else await model_share()
    undo()
    model = statistics.median(shares) if shares else 0.0
    print(f"\nModel and outbox (the seed articles, {len(shares)} alert(s)): " + ", ".join(f"{s:.1f} s" for s in shares))
    print(f"\n{'rule':34s} {'median':>8s} {'p95':>8s}   {'poll or push wait (median)':>26s}   {'model (median)':>14s}")
    for name, found in waits.items():
        total = [w + shares[i % len(shares)] for i, w in enumerate(found)] if shares else found
        print(
            f"{name:34s} {span(statistics.median(total)):>8s} {span(percentile(total, 0.95)):>8s}   "
            f"{span(statistics.median(found)):>26s}   {span(model):>14s}"
        )


def span(seconds: float) -> str:
    """``3.1 min`` from a minute up, ``12.3 s`` below."""
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=12)
    parser.add_argument("--days", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-model", action="store_true", help="only the polling part (no model, no Discord)")
    args = parser.parse_args()
    asyncio.run(run(args.feeds, args.days, args.seed, args.skip_model))


if __name__ == "__main__":
    main()
