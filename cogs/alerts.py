"""Posts clash alerts and summaries to subscribed channels, exactly once, through the store's outbox.

Each message is written to the outbox before it is sent and marked delivered with
its message id after, so a restart sends what was pending and never repeats what
was delivered. A channel the bot may no longer post in pauses its subscriptions.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from cogs.common import NO_MENTIONS
from pipeline.alerts import DESCRIPTION_LIMIT, AlertCard, clip
from pipeline.feeds import FeedItem
from pipeline.process import ArticleReport
from storage.records import Subscription

if TYPE_CHECKING:
    from bot import StancewatchBot

log = logging.getLogger(__name__)
UNDELIVERABLE = -1


def embed_for(payload: dict[str, Any]) -> discord.Embed:
    if payload["kind"] == "notice":
        return discord.Embed(
            title=payload["title"], description=clip(payload["text"], DESCRIPTION_LIMIT), colour=0xE0A030
        )
    if payload["kind"] == "summary":
        embed = discord.Embed(title=clip(payload["title"], 256), url=payload["url"], colour=0x3B7DD8)
        embed.description = clip(payload["summary"], DESCRIPTION_LIMIT)
        embed.set_footer(text="Summary written by a local language model: check the article before quoting it.")
        return embed
    card = AlertCard.from_payload(payload["card"])
    embed = discord.Embed(title=card.title, url=card.url, colour=card.colour)
    for name, value in card.fields:
        embed.add_field(name=name, value=value, inline=False)
    embed.set_footer(text=card.footer)
    return embed


class Alerts(commands.Cog):
    def __init__(self, bot: StancewatchBot) -> None:
        self.bot = bot
        self._sending = asyncio.Lock()

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        await self.deliver_pending()

    @commands.Cog.listener()
    async def on_article_report(self, item: FeedItem, report: ArticleReport) -> None:
        await self.deliver_pending()  # the watcher already queued the report's messages in the outbox

    @commands.Cog.listener()
    async def on_feed_paused(self, feed_url: str, reason: str) -> None:
        await self.deliver_pending()

    async def deliver_pending(self) -> None:
        store = self.bot.store
        async with self._sending:
            for outbox_id, channel_id, payload in await store.run(store.pending):
                message_id = await self._send(channel_id, payload)
                if message_id is None:
                    continue  # transient failure: stays in the outbox for the next round
                await store.run(store.mark_delivered, outbox_id, message_id)
                await store.run(store.flush)

    async def _send(self, channel_id: int, payload: dict[str, Any]) -> int | None:
        try:
            channel = self.bot.get_channel(channel_id) or await self.bot.fetch_channel(channel_id)
            send = getattr(channel, "send", None)
            if send is None:
                return await self._undeliverable(channel_id, "the channel cannot hold messages")
            message = await send(embed=embed_for(payload), allowed_mentions=NO_MENTIONS)
            return int(message.id)
        except discord.Forbidden:
            return await self._undeliverable(channel_id, "the bot may not post there")
        except discord.NotFound:
            return await self._undeliverable(channel_id, "the channel is gone")
        except discord.HTTPException as exc:
            log.warning("Could not post to channel %s yet: %s", channel_id, exc)
            return None

    async def _undeliverable(self, channel_id: int, reason: str) -> int:
        await self.bot.store.run(self._pause_channel, channel_id, reason)
        log.warning("Paused subscriptions of channel %s: %s", channel_id, reason)
        return UNDELIVERABLE

    def _pause_channel(self, channel_id: int, reason: str) -> None:
        store = self.bot.store
        for sub in store.subscriptions(channel_id):
            store.add_subscription(Subscription(**{**sub.__dict__, "paused_reason": reason}))
        store.flush()


async def setup(bot: StancewatchBot) -> None:
    await bot.add_cog(Alerts(bot))
