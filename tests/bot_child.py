"""The real bot, unmodified but for where Discord is, which model answers and test feeds' names: for the kill test.

    python -m tests.bot_child EMULATOR_BASE_URL

Settings come from the environment as for ``bot.py run``.
"""

from __future__ import annotations

import sys

import discord
import yarl

import app
import cli
from settings import Settings
from tests import public_dns
from tests.fakes import ClashingModel


async def fake_backend(settings: Settings) -> ClashingModel:
    return ClashingModel()


if __name__ == "__main__":
    base = sys.argv[1]
    discord.http.Route.BASE = f"{base}/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(f"ws{base[4:]}/gateway")
    app.load_backend = fake_backend  # type: ignore[assignment]
    public_dns.install()
    sys.exit(cli.main(["run"]))
