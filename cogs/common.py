"""What every cog shares: the refusal type, permission checks and the ephemeral reply."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from cogs.cards import clip
from domain.records import Person

if TYPE_CHECKING:
    from bot import StancewatchBot

    Interaction = discord.Interaction[StancewatchBot]
else:
    Interaction = discord.Interaction

NO_MENTIONS = discord.AllowedMentions.none()


class UserError(Exception):
    """A refusal worth one ephemeral sentence to the user; never logged as a failure."""


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


async def known_person(bot: StancewatchBot, name: str, *, hint: str = "") -> Person:
    """The tracked person a name or alias means, or a refusal naming what was typed (``hint``: what to do)."""
    found = await bot.store.run(bot.store.find_person, name)
    if found is None:
        raise UserError(f"I know no person called {name!r}{hint}.")
    return found


def require_manage_server(interaction: discord.Interaction[Any]) -> None:
    """Enforced in code, not only through ``default_permissions``, which server admins can override."""
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


def choices(values: list[tuple[str, str]], current: str) -> list[app_commands.Choice[str]]:
    """Autocomplete choices whose label contains what the user typed (Discord shows at most 25)."""
    typed = current.casefold()
    return [app_commands.Choice(name=label[:100], value=value) for label, value in values if typed in label.casefold()][
        :25
    ]
