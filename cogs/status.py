"""``/status``: what the bot runs on and how its feeds are doing."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from discord import app_commands
from discord.ext import commands

from analysis.learning import ServerLearning, server_learning
from cogs.common import Interaction, reply_ephemeral

if TYPE_CHECKING:
    from bot import StancewatchBot


class Status(commands.Cog):
    def __init__(self, bot: StancewatchBot) -> None:
        self.bot = bot

    def effect_line(self, learned: ServerLearning) -> str:
        """The server's measured effect, or that it is being measured (in the background, at the model's lowest
        priority: a judgement a review, a minute or so for dozens of reviews on a CPU)."""
        if not learned.active:
            return ""
        effect = self.bot.analysis.learning.effect(self.bot.analysis.judge, learned)
        if effect is not None:
            return effect.describe()
        return "Its effect on this server's own reviews is being measured; ask again in a few minutes."

    @app_commands.command(description="Show the model, device, queue and feeds.")
    async def status(self, interaction: Interaction) -> None:
        info = self.bot.engine.info
        feeds = await self.bot.store.run(self.bot.store.feeds)
        paused = sum(1 for f in feeds if f.paused)
        last = self.bot.watcher.last_poll
        uptime = datetime.now() - self.bot.started
        lines = [
            f"Model: {info.model_name} on {info.device}",
            f"Judge profile: {self.bot.analysis.judge.profile.name}",
            f"LLM queue depth: {self.bot.engine.queue_depth}",
            f"Articles waiting: {self.bot.watcher.queue_depth} ({self.bot.watcher.retrying} to retry)",
            f"Articles given up since start: {self.bot.watcher.failed} (archived as failed)",
            f"Feeds: {len(feeds)} ({paused} paused)",
            f"Last poll: {datetime.fromtimestamp(last).isoformat(timespec='seconds') if last else 'not yet'}",
            f"Uptime: {str(uptime).split('.')[0]}",
        ]
        if interaction.guild is not None:
            learned = await self.bot.store.run(server_learning, self.bot.store, interaction.guild.id)
            lines.append(f"Learning: {learned.describe()} {self.effect_line(learned)}".rstrip())
        await reply_ephemeral(interaction, "\n".join(lines))


async def setup(bot: StancewatchBot) -> None:
    await bot.add_cog(Status(bot))
