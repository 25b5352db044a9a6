"""``/feed`` shows watched feeds to everyone; ``/manage-feeds`` lets moderators add, remove and resume them."""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING

from discord import app_commands
from discord.ext import commands

from cogs.cards import plain
from cogs.common import Interaction, UserError, admin_group, choices, manage_server, reply_ephemeral, watched_feed
from domain.errors import FeedError
from domain.records import Feed
from ingest.articles import probe_feed
from ingest.netguard import check_url

if TYPE_CHECKING:
    from bot import StancewatchBot


NO_FEEDS = "No feeds yet; a moderator adds them with /manage-feeds add."


class Feeds(commands.Cog):
    feed = app_commands.Group(name="feed", description="Watched news feeds")
    manage = admin_group("manage-feeds", "Add, remove and resume watched feeds")

    def __init__(self, bot: StancewatchBot) -> None:
        self.bot = bot

    @manage.command(name="add", description="Watch an RSS, Atom or JSON feed.")
    @manage_server
    @app_commands.describe(url="The feed's address (http or https)")
    async def feed_add(self, interaction: Interaction, url: app_commands.Range[str, 1, 2048]) -> None:
        url = url.strip()
        check_url(url, allow_private=self.bot.settings.allow_private_feeds)
        store = self.bot.store
        if await store.run(store.feed, url) is not None:
            raise UserError(f"{url} is already watched.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            items = await probe_feed(self.bot.session, url, allow_private=self.bot.settings.allow_private_feeds)
        except FeedError as exc:
            raise UserError(f"Not added: {exc}") from None
        await store.run(store.save_feed, Feed(url=url, added_by=interaction.user.id, key=url))
        await store.commit()
        await reply_ephemeral(
            interaction, f"Watching {url} ({items} items now; they count as seen, new ones will be processed)."
        )

    @manage.command(name="remove", description="Stop watching a feed.")
    @manage_server
    @app_commands.describe(url="A watched feed (autocompletes)")
    async def feed_remove(self, interaction: Interaction, url: app_commands.Range[str, 1, 2048]) -> None:
        store = self.bot.store
        feed = await watched_feed(store, url)
        if not await store.run(store.remove_feed, feed.url):
            raise UserError(f"{feed.url} is not watched.")
        await store.commit()
        await reply_ephemeral(interaction, f"Stopped watching {plain(feed.url)}.")

    @feed.command(name="list", description="List watched feeds with their state.")
    async def feed_list(self, interaction: Interaction) -> None:
        feeds = await self.bot.store.run(self.bot.store.feeds)
        lines = [
            f"{'⏸ ' if f.paused else ''}{plain(f.url)} — last fetch {f.last_fetch or 'never'}"
            + (f", last error: {plain(f.last_error)}" if f.last_error else "")
            for f in feeds
        ]
        await reply_ephemeral(interaction, "\n".join(lines) or NO_FEEDS)

    @manage.command(name="resume", description="Resume a feed that was paused after repeated failures.")
    @manage_server
    @app_commands.describe(url="A watched feed (autocompletes)")
    async def feed_resume(self, interaction: Interaction, url: app_commands.Range[str, 1, 2048]) -> None:
        store = self.bot.store
        feed = await watched_feed(store, url)
        await store.run(store.save_feed, dataclasses.replace(feed, paused=False, failures=0, next_poll=0.0))
        await store.commit()
        await reply_ephemeral(interaction, f"Resumed {plain(feed.url)}.")

    @feed.command(name="status", description="Each feed's last fetch, last error, next poll and state.")
    async def feed_status(self, interaction: Interaction) -> None:
        feeds = await self.bot.store.run(self.bot.store.feeds)
        lines = [status_line(f, time.time()) for f in feeds]
        await reply_ephemeral(interaction, "\n".join(lines) or NO_FEEDS)

    @feed_remove.autocomplete("url")
    @feed_resume.autocomplete("url")
    async def url_autocomplete(self, interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
        return choices([(f.url, f.ref) for f in await self.bot.store.run(self.bot.store.feeds)], current)


def status_line(feed: Feed, now: float) -> str:
    """One line a feed: paused or when it polls next, when it last fetched, and its last error."""
    if feed.paused:
        state = "⏸ paused (a moderator resumes it with /manage-feeds resume)"
    elif feed.next_poll <= now:
        state = "polls now"
    else:
        state = f"next poll in {max(1, round((feed.next_poll - now) / 60))} min"
    line = f"{plain(feed.url)}: {state}; last fetch {feed.last_fetch or 'never'}"
    if feed.last_error:  # a server's redirect Location or error text: never markdown that reaches the channel
        line += f"; last error ({feed.failures} in a row): {plain(feed.last_error)}"
    return line


async def setup(bot: StancewatchBot) -> None:
    await bot.add_cog(Feeds(bot))
