"""SIGKILL the real bot process at random moments while it processes a feed of clashes, many times, then let it
finish against the Discord emulator: every clash reaches the channel exactly once."""

from __future__ import annotations

import asyncio
import os
import random
import re
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from domain.records import Feed, Subscription
from storage.files.store import Store
from tests.conftest import PYTHON, ROOT, FeedServer, Route, rss
from tests.discord_emulator import ALERTS, GUILD_ID, Emulator, serve_emulator
from tests.fakes import ARTICLE

ARTICLES = 6
ARTICLE_LINK = re.compile(r"http://example\.com/[\w-]+")  # the feed's item links (tests.conftest.rss)
KILLS = 12


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with serve_emulator() as emu:
        yield emu


def clash_alerts(emu: Emulator, channel: int = ALERTS) -> Counter[str]:
    """In how many posted messages each article's clash shows, by the article links in the cards.

    Clashes on one position join one alert (its message is edited to list them, and past a card's room the rest go
    in a reply below it), so each article's clash must show in exactly one message, whatever the kills did.
    """
    posted: Counter[str] = Counter()
    for message in emu.messages.get(channel, []):
        cards = [e for e in message.get("embeds") or [] if "clash" in (e.get("title") or "")]
        posted.update(set(ARTICLE_LINK.findall(str(cards))))
    return posted


async def test_every_clash_alert_is_delivered_exactly_once_across_kills(
    emulator: Emulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    feed_server.routes["/feed"] = Route(rss(*[(f"g{i}", f"Musk buys GPUs {i}", ARTICLE) for i in range(ARTICLES)]))
    store = Store.open(data)
    store.save_feed(Feed(url=feed_server.url("/feed"), key=feed_server.url("/feed")))
    store.add_subscription(Subscription(channel_id=ALERTS, guild_id=GUILD_ID, receive="clashes"))
    store.close()
    env = {
        **os.environ, "DISCORD_TOKEN": "emulated.bot.token", "DATA_DIR": str(data), "ALLOW_PRIVATE_FEEDS": "true",
        "FEED_INITIAL_ITEMS": str(ARTICLES), "LOG_LEVEL": "WARNING", "ALERT_THRESHOLD": "0.3",
    }  # fmt: skip

    async def start() -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            PYTHON, "-m", "tests.bot_child", emulator.base, cwd=ROOT, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip

    rng = random.Random(11)
    for _ in range(KILLS):
        child = await start()
        await asyncio.sleep(rng.uniform(0.5, 4.0))  # start-up, polling, processing, delivery: anywhere
        child.kill()
        await child.wait()
    child = await start()
    try:
        for _ in range(600):  # until every article's alert is in, then a little longer to catch a duplicate
            if len(clash_alerts(emulator)) == ARTICLES:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(2)
    finally:
        child.kill()
        await child.wait()
    posted = clash_alerts(emulator)
    assert len(posted) == ARTICLES, posted
    assert set(posted.values()) == {1}, posted
