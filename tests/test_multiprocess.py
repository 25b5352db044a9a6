"""Three real bot processes, three gateway shards, one PostgreSQL: one is SIGKILLed while it polls, and still every
clash alert reaches its channel exactly once, and the dead process's feeds are polled again once its leases end."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest

from domain.records import Feed, Subscription
from storage.postgres import PostgresStore
from tests.conftest import PYTHON, ROOT, FeedServer, Route, rss
from tests.discord_emulator import Emulator, serve_emulator
from tests.fakes import ARTICLE
from tests.test_kill import clash_alerts

SHARDS = 3
FEEDS = 6
ARTICLES = 2
LEASE_S = 6
GUILDS = [(3000 + shard) << 22 for shard in range(SHARDS)]  # guild k's events go to shard k
CHANNELS = [5000 + shard for shard in range(SHARDS)]


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with serve_emulator() as emu:
        for guild, channel in zip(GUILDS, CHANNELS, strict=True):
            emu.guilds[guild] = [(channel, f"alerts-{channel}")]
        yield emu


def alerts(emu: Emulator, channel: int) -> Counter[str]:
    """In how many messages posted to ``channel`` each article's clash shows (see ``tests.test_kill``)."""
    return clash_alerts(emu, channel)


def leases(url: str) -> dict[str, tuple[str, float]]:
    """Feed → (holder, lease end as a Unix time) for every feed under a live lease."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT url, lease_owner, extract(epoch FROM lease_until) FROM feeds WHERE lease_until > now()"
        ).fetchall()
    return {feed: (owner, float(until)) for feed, owner, until in rows}


async def test_three_shards_share_the_feeds_and_survive_a_kill(
    emulator: Emulator, feed_server: FeedServer, database_url: str, tmp_path: Path
) -> None:
    store = PostgresStore.open(database_url)
    for f in range(FEEDS):
        items = [(f"f{f}a{i}", f"Musk buys GPUs {f}-{i}", ARTICLE) for i in range(ARTICLES)]
        feed_server.routes[f"/feed{f}"] = Route(rss(*items), delay=2.0)  # a poll takes two seconds: time to die in
        store.save_feed(Feed(url=feed_server.url(f"/feed{f}"), key=feed_server.url(f"/feed{f}")))
    for guild, channel in zip(GUILDS, CHANNELS, strict=True):
        store.add_subscription(Subscription(channel_id=channel, guild_id=guild, receive="clashes"))
    store.close()
    env = {
        **os.environ, "DISCORD_TOKEN": "emulated.bot.token", "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path / "unused"), "ALLOW_PRIVATE_FEEDS": "true", "FEED_INITIAL_ITEMS": str(ARTICLES),
        "LOG_LEVEL": "WARNING", "ALERT_THRESHOLD": "0.3", "SHARD_COUNT": str(SHARDS),
        "FEED_LEASE_SECONDS": str(LEASE_S), "FEED_SWEEP_SECONDS": "1",
    }  # fmt: skip

    async def start(shard: int) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            PYTHON, "-m", "tests.bot_child", emulator.base, cwd=ROOT, env={**env, "SHARD_IDS": str(shard)},
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip

    children = {shard: await start(shard) for shard in range(SHARDS)}
    try:
        # Kill whichever process holds feeds first, while its polls are in flight.
        held = await emulator.wait_for(lambda: leases(database_url), timeout=120)
        holder = next(iter(held.values()))[0]
        pid = int(holder.split(":")[1])
        [victim] = [shard for shard, child in children.items() if child.pid == pid]
        children[victim].kill()
        await children[victim].wait()
        orphaned = {feed: until for feed, (owner, until) in held.items() if owner == holder}
        assert orphaned
        children[victim] = await start(victim)  # a restart policy brings the shard back; its old leases still hold

        def repolled() -> bool:
            paths = {feed.removeprefix(feed_server.base): until for feed, until in orphaned.items()}
            return all(any(t > until for t in feed_server.times.get(p, [])) for p, until in paths.items())

        await emulator.wait_for(repolled, timeout=LEASE_S * 5)
        for feed, until in orphaned.items():  # never polled by two processes at once: only after the lease ended
            during = [t for t in feed_server.times[feed.removeprefix(feed_server.base)] if t <= until]
            assert len(during) <= 1, (feed, during)

        def all_delivered() -> bool:
            return all(len(alerts(emulator, channel)) == FEEDS * ARTICLES for channel in CHANNELS)

        await emulator.wait_for(all_delivered, timeout=240)
        await asyncio.sleep(2)  # long enough for a duplicate to show
    finally:
        for child in children.values():
            child.kill()
            await child.wait()
    assert sorted(set(emulator.shards)) == [(shard, SHARDS) for shard in range(SHARDS)]
    for channel in CHANNELS:
        posted = alerts(emulator, channel)
        assert len(posted) == FEEDS * ARTICLES and set(posted.values()) == {1}, (channel, posted)
