"""``run`` (the Discord bot) and ``sync`` (register the slash commands globally, then exit)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

import aiohttp
import discord

from bot import running_bot
from settings import Settings


def register(sub: Any) -> None:
    sub.add_parser("run", help="start the Discord bot (needs DISCORD_TOKEN)").set_defaults(func=run)
    sub.add_parser("sync", help="register the slash commands globally, then exit").set_defaults(func=sync)


def run(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_run_bot(settings, sync_only=False))


def sync(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_run_bot(settings, sync_only=True))


async def _run_bot(settings: Settings, *, sync_only: bool) -> int:
    if not settings.discord_token.value:
        print(
            "DISCORD_TOKEN is not set: put your bot token in .env or the environment (see .env.example).",
            file=sys.stderr,
        )
        return 2
    async with running_bot(settings) as bot:
        try:
            if sync_only:
                await bot.login(settings.discord_token.value)
                synced = await bot.tree.sync()
                print(f"Registered {len(synced)} global commands.")
            else:
                await bot.start(settings.discord_token.value)
        except aiohttp.ClientConnectorError as exc:  # DNS, refused, no route: the network, not the bot
            print(f"Discord could not be reached ({exc.host}: {exc.os_error}); check the network.", file=sys.stderr)
            return 2
        except discord.LoginFailure:
            print(
                "Discord refused DISCORD_TOKEN: copy the bot's token again from the Developer Portal.", file=sys.stderr
            )
            return 2
    return 0
