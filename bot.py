"""The Discord bot: the :class:`StancewatchBot` subclass and its command tree, over the app :mod:`app` builds.

The command line lives in :mod:`cli`; ``python bot.py COMMAND`` still works, handing over to it (see the end).
"""

from __future__ import annotations

import contextlib
import logging
import runpy
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import discord
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from discord import app_commands
from discord.ext import commands

from analysis.article import ArticleReport
from app import App, open_app
from cogs.common import UserError, reply_ephemeral
from cogs.translator import KoreanTranslator
from domain.errors import FeedError
from domain.records import FeedItem, RecordError
from ingest.netguard import UnsafeURLError
from settings import Settings

log = logging.getLogger("stancewatch")
EXTENSIONS = (
    "cogs.alerts",
    "cogs.subscriptions",
    "cogs.ask",
    "cogs.stances",
    "cogs.people",
    "cogs.feeds",
    "cogs.status",
)


USER_ERRORS = (UserError, RecordError, UnsafeURLError, FeedError)


class StancewatchTree(app_commands.CommandTree["StancewatchBot"]):
    """Turns every command failure into one short ephemeral message and, when unexpected, one log line."""

    async def on_error(
        self, interaction: discord.Interaction[StancewatchBot], error: app_commands.AppCommandError
    ) -> None:
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        if isinstance(cause, USER_ERRORS):
            message = str(cause)
        elif isinstance(cause, app_commands.CommandOnCooldown):
            message = f"Slow down: try again in {cause.retry_after:.0f} s."
        elif isinstance(cause, app_commands.CheckFailure):
            message = str(cause) or "You are not allowed to use this command here."
        else:
            log.error("Command /%s failed", _command_name(interaction), exc_info=cause)
            message = "Something went wrong on our side; the error was logged."
        try:
            await reply_ephemeral(interaction, message)
        except discord.HTTPException as exc:  # the interaction expired (10062) or Discord refused the reply
            log.warning("Could not tell the user why /%s failed: %s", _command_name(interaction), exc)


def _command_name(interaction: discord.Interaction[Any]) -> str:
    return interaction.command.qualified_name if interaction.command else "?"


class StancewatchBot(commands.AutoShardedBot):
    """The Discord layer: cogs over the app (store, model, analysis, feed watcher) that :func:`app.open_app` builds."""

    def __init__(self, app: App) -> None:
        settings = app.settings
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            tree_cls=StancewatchTree,
            allowed_mentions=discord.AllowedMentions.none(),
            shard_count=settings.shard_count,
            # None (all shards here) is discord.py's own default, though its Options type says list[int]
            shard_ids=list(settings.shard_ids) if settings.shard_ids is not None else None,  # type: ignore[arg-type]
        )
        self.settings = settings
        self.store = app.store
        self.engine = app.engine
        self.session = app.session
        self.analysis = app.analysis
        self.watcher = app.watcher
        self.websub = app.websub
        self.watcher.on_report = self._on_report
        self.watcher.on_notice = self._on_notice
        self.started = datetime.now()
        self.scheduler = AsyncIOScheduler()

    async def setup_hook(self) -> None:
        await self.watcher.start()
        if self.websub is not None:
            await self.websub.start(*self.settings.websub_listen)
        # One sweeper: each feed carries its own jittered next-poll time, so polls spread over the interval.
        self.scheduler.add_job(
            self.watcher.sweep,
            "interval",
            seconds=self.settings.feed_sweep_seconds,
            jitter=5,
            next_run_time=datetime.now(),
            max_instances=1,
            coalesce=True,
        )
        self.scheduler.add_job(self._prune, "interval", hours=24, next_run_time=datetime.now())
        self.scheduler.start()
        await self.tree.set_translator(KoreanTranslator())
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        if self.settings.dev_guild_id:
            guild = discord.Object(self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)

    async def _prune(self) -> None:
        """Apply the retention (article bodies, old outbox entries) once a day."""
        pruned = await self.store.run(self.store.prune)
        await self.store.commit()
        log.info("Retention: dropped %(article_bodies)d article bodies, %(outbox)d outbox entries", pruned)

    async def _on_report(self, item: FeedItem, report: ArticleReport) -> None:
        self.dispatch("article_report", item, report)

    async def _on_notice(self, feed_url: str, reason: str) -> None:
        self.dispatch("feed_paused", feed_url, reason)

    async def close(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.watcher.stop()
        if self.websub is not None:
            await self.websub.stop()
        await super().close()


@contextlib.asynccontextmanager
async def running_bot(settings: Settings) -> AsyncIterator[StancewatchBot]:
    """The bot over a freshly built app; the bot closes first, then what it ran on, in reverse order."""
    async with open_app(settings) as app, StancewatchBot(app) as bot:
        yield bot


if __name__ == "__main__":  # the launcher's shim: ``python bot.py COMMAND`` runs ``python -m cli COMMAND``
    runpy.run_module("cli", run_name="__main__", alter_sys=True)
