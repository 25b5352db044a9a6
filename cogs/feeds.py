"""``/feed``: moderators add, remove, inspect and resume watched feeds."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from discord import app_commands
from discord.ext import commands

from cogs.common import Interaction, UserError, reply_ephemeral, require_manage_server
from pipeline.netguard import check_url
from storage.records import Feed

if TYPE_CHECKING:
    from bot import StancewatchBot


class Feeds(commands.Cog):
    feed = app_commands.Group(name="feed", description="Watched news feeds")

    def __init__(self, bot: StancewatchBot) -> None:
        self.bot = bot

    @feed.command(name="add", description="Watch an RSS or Atom feed.")
    async def feed_add(self, interaction: Interaction, url: str) -> None:
        require_manage_server(interaction)
        url = url.strip()
        check_url(url, allow_private=self.bot.settings.allow_private_feeds)
        store = self.bot.store
        if await store.run(store.feed, url) is not None:
            raise UserError(f"{url} is already watched.")
        await store.run(store.save_feed, Feed(url=url, added_by=interaction.user.id, key=url))
        await store.run(store.flush)
        await reply_ephemeral(
            interaction, f"Watching {url}. Its current items count as seen; new ones will be processed."
        )

    @feed.command(name="remove", description="Stop watching a feed.")
    async def feed_remove(self, interaction: Interaction, url: str) -> None:
        require_manage_server(interaction)
        store = self.bot.store
        if not await store.run(store.remove_feed, url.strip()):
            raise UserError(f"{url} is not watched.")
        await store.run(store.flush)
        await reply_ephemeral(interaction, f"Stopped watching {url}.")

    @feed.command(name="list", description="List watched feeds with their state.")
    async def feed_list(self, interaction: Interaction) -> None:
        feeds = await self.bot.store.run(self.bot.store.feeds)
        lines = [
            f"{'⏸ ' if f.paused else ''}{f.url} — last fetch {f.last_fetch or 'never'}"
            + (f", last error: {f.last_error}" if f.last_error else "")
            for f in feeds
        ]
        await reply_ephemeral(interaction, ("\n".join(lines) or "No feeds yet; use /feed add.")[:2000])

    @feed.command(name="resume", description="Resume a feed that was paused after repeated failures.")
    async def feed_resume(self, interaction: Interaction, url: str) -> None:
        require_manage_server(interaction)
        store = self.bot.store
        feed = await store.run(store.feed, url.strip())
        if feed is None:
            raise UserError(f"{url} is not watched.")
        await store.run(store.save_feed, dataclasses.replace(feed, paused=False, failures=0, next_poll=0.0))
        await store.run(store.flush)
        await reply_ephemeral(interaction, f"Resumed {url}.")


async def setup(bot: StancewatchBot) -> None:
    await bot.add_cog(Feeds(bot))
