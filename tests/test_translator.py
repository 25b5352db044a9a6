"""Every slash command, parameter and choice has a valid Korean name and description."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import pytest

from app import open_app
from bot import EXTENSIONS, StancewatchBot
from cogs.translator import KoreanTranslator
from settings import Settings
from storage.files.store import Store
from tests.fakes import ClashingModel


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[StancewatchBot]:
    """The bot with every extension loaded, never connected: its command tree is what Discord would receive."""
    store = Store.open(tmp_path / "data")
    engine = ClashingModel()
    async with open_app(Settings(), store=store, engine=engine) as app, StancewatchBot(app) as loaded:  # type: ignore[arg-type]
        for extension in EXTENSIONS:
            await loaded.load_extension(extension)
        yield loaded
    store.close()


def valid_name(name: str) -> bool:
    return 1 <= len(name) <= 32 and name == name.lower() and all(c.isalnum() or c in "-_'" for c in name)


def check(payload: dict[str, Any], where: str, problems: list[str]) -> None:
    korean_name = (payload.get("name_localizations") or {}).get("ko")
    if not korean_name or not valid_name(korean_name):
        problems.append(f"{where}: name {korean_name!r}")
    if payload["description"] != "…" and not (payload.get("description_localizations") or {}).get("ko"):
        problems.append(f"{where}: description {payload['description']!r}")
    for choice in payload.get("choices", []):
        if not (choice.get("name_localizations") or {}).get("ko"):
            problems.append(f"{where}: choice {choice['name']!r}")
    names = [(o.get("name_localizations") or {}).get("ko") for o in payload.get("options", [])]
    if len(names) != len(set(names)):
        problems.append(f"{where}: two options share a Korean name")
    for option in payload.get("options", []):
        check(option, f"{where} {option['name']}", problems)


async def test_every_command_is_translated_to_korean(bot: StancewatchBot) -> None:
    translator = KoreanTranslator()
    problems: list[str] = []
    commands = bot.tree.get_commands()
    assert len(commands) >= 8
    for command in commands:
        check(await command.get_translated_payload(bot.tree, translator), f"/{command.name}", problems)
    assert problems == []


async def test_admin_only_commands_are_hidden_from_members_by_default(bot: StancewatchBot) -> None:
    """Discord hides a command from members who lack its default permissions; the code checks them as well."""
    commands = {c.name: c.to_dict(bot.tree) for c in bot.tree.get_commands()}
    manage_channels, manage_guild = discord.Permissions(manage_channels=True), discord.Permissions(manage_guild=True)
    for name, permissions in (
        ("subscribe", manage_channels),
        ("unsubscribe", manage_channels),
        ("manage-people", manage_guild),
        ("manage-stances", manage_guild),
        ("manage-feeds", manage_guild),
    ):
        assert int(commands[name]["default_member_permissions"]) == permissions.value, name
        assert commands[name]["contexts"] == [0], name  # guild only
    assert commands["subscriptions"]["default_member_permissions"] is None  # anyone may list them
    for public in ("person", "stance", "feed", "ask", "status"):  # anyone may look things up
        assert commands[public]["default_member_permissions"] is None, public
    assert {c["name"] for c in commands["feed"]["options"]} == {"list", "status"}
    assert {c["name"] for c in commands["stance"]["options"]} == {"list"}
