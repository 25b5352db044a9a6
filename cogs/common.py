"""What every cog shares: the refusal type, permission checks and the ephemeral reply."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from cogs.cards import clip
from domain.records import Feed, Person

if TYPE_CHECKING:
    from bot import StancewatchBot
    from storage.interfaces import StanceStore

    Interaction = discord.Interaction[StancewatchBot]
else:
    Interaction = discord.Interaction

NO_MENTIONS = discord.AllowedMentions.none()


class UserError(app_commands.AppCommandError):
    """A refusal worth one ephemeral sentence to the user; never logged as a failure.

    An :class:`~discord.app_commands.AppCommandError`, so that one raised while an argument is transformed reaches
    the tree's error handler as it is, not wrapped as a ``TransformerError``.
    """


def admin_group(name: str, description: str) -> app_commands.Group:
    """A top-level group for moderators: Discord hides it from members without Manage Server, in servers only.

    Default permissions apply per top-level command, so what everyone may use lives in a group of its own.
    """
    return app_commands.Group(
        name=name,
        description=description,
        default_permissions=discord.Permissions(manage_guild=True),
        allowed_contexts=app_commands.AppCommandContext(guild=True),
    )


async def tracked_person(store: StanceStore, name: str) -> Person:
    """The tracked person a name, alias or id means, or a refusal repeating what was typed."""
    found = await store.run(store.find_person, name)
    if found is None:
        raise UserError(f"I know no person called {name!r}.")
    return found


class PersonTransformer(app_commands.Transformer):
    """A tracked person, typed as a name, an alias or an id: the one lookup and the one autocomplete for people."""

    @property
    def max_value(self) -> int:
        return 100  # characters: no name is longer, and a refusal repeats what was typed

    async def transform(self, interaction: discord.Interaction[Any], value: Any) -> Person:
        return await tracked_person(interaction.client.store, str(value))

    async def autocomplete(  # type: ignore[override]
        self, interaction: discord.Interaction[Any], value: str
    ) -> list[app_commands.Choice[str]]:
        store = interaction.client.store
        return choices([(p.name, p.id) for p in await store.run(store.people)], str(value))


TrackedPerson = app_commands.Transform[Person, PersonTransformer]
"""A command parameter that is a tracked person (resolved, or refused in one sentence, before the command runs)."""


class PostableChannelTransformer(app_commands.Transformer):
    """A channel alerts can go to: text, announcement or forum. Media channels (16) are left out: discord.py offers
    them with forums, and Discord's OpenAPI file knows no such channel type."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return [discord.ChannelType.text, discord.ChannelType.news, discord.ChannelType.forum]

    async def transform(self, interaction: discord.Interaction[Any], value: Any) -> app_commands.AppCommandChannel:
        return value


PostableChannel = app_commands.Transform[app_commands.AppCommandChannel, PostableChannelTransformer]
"""A command parameter naming where to post: a text, announcement or forum channel of the server."""

manage_server = app_commands.checks.has_permissions(manage_guild=True)
"""Checked when the command runs, not only through ``default_permissions``, which server admins can override."""


def require_manage_server(interaction: discord.Interaction[Any]) -> None:
    """For a check that depends on an argument (another channel): checks that do not are :data:`manage_server`."""
    if interaction.guild is None or not interaction.permissions.manage_guild:
        raise UserError("You need the Manage Server permission to do that.")


def require_manage_channels(interaction: discord.Interaction[Any]) -> None:
    if interaction.guild is None or not interaction.permissions.manage_channels:
        raise UserError("You need the Manage Channels permission in this channel to do that.")


CONTENT_LIMIT = 2000
"""Discord's limit for a message's content: a refusal that repeats a user's long input is cut to fit."""


async def reply_ephemeral(interaction: discord.Interaction[Any], message: str, **kwargs: Any) -> None:
    message = clip(message, CONTENT_LIMIT)
    if interaction.response.is_done():
        await interaction.followup.send(message, ephemeral=True, allowed_mentions=NO_MENTIONS, **kwargs)
    else:
        await interaction.response.send_message(message, ephemeral=True, allowed_mentions=NO_MENTIONS, **kwargs)


CHOICE_LIMIT = 25
CHOICE_TEXT_LIMIT = 100
"""At most 25 choices, and a choice's name and string value at most 100 characters each (Discord's documented
limits; its OpenAPI file allows a value of 6,000): values are therefore short stable keys, never what users typed."""


def choices(values: list[tuple[str, str]], current: str) -> list[app_commands.Choice[str]]:
    """Autocomplete choices, as (label, key) pairs, whose label contains what the user typed.

    A label is cut to Discord's 100 characters on a word boundary; a key longer than 100 characters is a bug in the
    caller, and is left out rather than sent for Discord to refuse the whole answer.
    """
    typed = current.casefold()
    found = [
        app_commands.Choice(name=clip(label, CHOICE_TEXT_LIMIT) or key, value=key)
        for label, key in values
        if typed in label.casefold() and 0 < len(key) <= CHOICE_TEXT_LIMIT
    ]
    return found[:CHOICE_LIMIT]


async def watched_feed(store: StanceStore, value: str) -> Feed:
    """The watched feed a choice's key (:attr:`Feed.ref`) or a typed URL names, or a refusal in one sentence."""
    value = value.strip()
    feeds = await store.run(store.feeds)
    found = next((f for f in feeds if value in (f.ref, f.url)), None)
    if found is None:
        raise UserError(f"{value} is not a watched feed; see /feed list.")
    return found
