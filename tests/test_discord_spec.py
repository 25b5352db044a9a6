"""The documented limits the emulator enforces beside Discord's OpenAPI file: each refused as Discord would.

The OpenAPI file allows a string choice value of 6,000 characters and says nothing of command naming, option order
or the 4,000-character budget of a command; Discord's documentation states each (``DOCUMENTED``, with sources).
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.discord_emulator import APP_ID, GUILD_ID, Emulator, serve_emulator
from tests.discord_spec import DOCUMENTED, command_problems, spec
from tests.test_translator import bot  # noqa: F401 (the fixture: the real tree with every cog)

CALLBACK = "/interactions/1/token-1/callback"


def choices(n: int, value: str = "feed-0123456789ab") -> dict[str, Any]:
    return {"type": 8, "data": {"choices": [{"name": f"choice {i}", "value": value} for i in range(n)]}}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (choices(1, "https://feeds.example.org/" + "a" * 130), "choices.0.value: 156 characters, more than 100"),
        (choices(1, "x" * 100), ""),
        (choices(26), "*"),  # the schema's own maxItems: 25 (reported as the closest of its branches)
        ({"type": 8, "data": {"choices": [{"name": "", "value": "v"}]}}, "*"),
    ],
    ids=["long-value", "value-at-the-limit", "26-choices", "empty-name"],
)
def test_autocomplete_answers_are_held_to_discords_choice_limits(body: dict[str, Any], problem: str) -> None:
    found = spec().problems("POST", CALLBACK, body)
    assert (found != [] and found[0].startswith(problem.strip("*"))) if problem else found == [], found


def command(**overrides: Any) -> dict[str, Any]:
    option = {"type": 3, "name": "url", "description": "A feed", "required": True}
    return {"name": "manage-feeds", "description": "Feeds", "type": 1, "options": [option], **overrides}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (command(), ""),
        (command(name="Manage-Feeds"), "Manage-Feeds: name 'Manage-Feeds' is not 1-32 lower-case"),
        (
            command(options=[{"type": 3, "name": "a", "description": "d"}, {"type": 3, "name": "b", "description": "d",
                                                                            "required": True}]),
            "manage-feeds.b: a required option after an optional one",
        ),
        (
            command(options=[{"type": 3, "name": "a", "description": "d", "autocomplete": True,
                              "choices": [{"name": "one", "value": "1"}]}]),
            "manage-feeds.a: choices and autocomplete together",
        ),
        (
            command(options=[{"type": 3, "name": "a", "description": "d",
                              "choices": [{"name": f"c{i}", "value": "v" * 99} for i in range(25)] * 2}]),
            "manage-feeds.a.choices: 50 choices",
        ),
        (
            command(options=[{"type": 3, "name": f"o{i}", "description": "d" * 100,
                              "choices": [{"name": f"c{j}", "value": "v" * 90} for j in range(5)]} for i in range(9)]),
            "manage-feeds: 5075 characters of names, descriptions and values, more than 4,000",
        ),
    ],
    ids=["fine", "upper-case", "required-after-optional", "choices-and-autocomplete", "too-many-choices", "4000"],
)  # fmt: skip
def test_command_registration_is_held_to_the_documented_rules(body: dict[str, Any], problem: str) -> None:
    found = command_problems(body)
    assert (found != [] and found[0].startswith(problem)) if problem else found == [], found


async def test_every_command_the_bot_registers_keeps_the_documented_rules(bot: Any) -> None:  # noqa: F811
    payloads = [c.to_dict(bot.tree) for c in bot.tree.get_commands()]
    assert [p for payload in payloads for p in command_problems(payload)] == []


async def test_the_emulator_refuses_a_long_choice_value_as_discord_does() -> None:
    emulator: Emulator
    async with serve_emulator() as emulator:
        emulator.violations_expected = True
        async with aiohttp.ClientSession() as session:
            url = f"{emulator.base}/api/v10{CALLBACK}"
            async with session.post(url, json=choices(1, "https://feeds.example.org/" + "a" * 130)) as refused:
                assert refused.status == 400 and (await refused.json())["code"] == 50035
            commands = f"{emulator.base}/api/v10/applications/{APP_ID}/guilds/{GUILD_ID}/commands"
            async with session.put(commands, json=[command(name="Feeds")]) as bad_name:
                assert bad_name.status == 400
        found = [problems[0][:18] for _, _, problems in emulator.violations]
        assert found == ["choices.0.value: 1", "Feeds: name 'Feeds"]


def test_every_documented_limit_names_its_source() -> None:
    assert len(DOCUMENTED) >= 10
    assert all(source.startswith("https://discord.com/developers/docs/") for source in DOCUMENTED.values())


def forum_post(name: str = "Elon Musk: pause", tags: int = 1, description: str = "d") -> dict[str, Any]:
    message = {"embeds": [{"title": "t", "description": description}]}
    return {"name": name, "applied_tags": [str(9000 + n) for n in range(tags)], "message": message}


@pytest.mark.parametrize(
    ("method", "path", "body", "problem"),
    [
        ("POST", "/channels/3005/threads", forum_post(), ""),
        ("POST", "/channels/3005/threads", forum_post(name="x" * 101), "name: "),
        ("POST", "/channels/3005/threads", forum_post(tags=6), "applied_tags: "),
        ("POST", "/channels/3005/threads", forum_post(description="x" * 4097), "embeds.0.description: more than"),
        ("PATCH", "/channels/3005", {"available_tags": [{"name": "Possible clash"}]}, ""),
        ("PATCH", "/channels/3005", {"available_tags": [{"name": "x" * 21}]}, "available_tags.0.name: more than 20"),
        ("PATCH", "/channels/3005", {"available_tags": [{"name": f"t{n}"} for n in range(21)]}, "available_tags: "),
        ("PATCH", "/channels/3007", {"applied_tags": [str(n) for n in range(6)]}, "*"),
        ("POST", "/channels/3001/messages/10001/threads", {"name": "x" * 100, "auto_archive_duration": 10080}, ""),
        ("POST", "/channels/3001/messages/10001/threads", {"name": "x" * 101}, "name: "),
    ],
    ids=[
        "post",
        "long-name",
        "six-tags",
        "long-embed",
        "tag",
        "long-tag",
        "21-tags",
        "six-applied",
        "thread",
        "long-thread-name",
    ],
)
def test_threads_forum_posts_and_tags_are_held_to_discords_limits(
    method: str, path: str, body: dict[str, Any], problem: str
) -> None:
    """A post's name within 100 characters and at most 5 tags, its message within a message's limits; a forum at
    most 20 tags of at most 20 characters (Discord's documentation; the OpenAPI file allows 50)."""
    found = spec().problems(method, path, body)
    if not problem:
        assert found == []
    else:
        assert found and (problem == "*" or any(p.startswith(problem) for p in found)), found
