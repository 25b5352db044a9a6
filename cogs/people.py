"""``/person show`` for everyone, and ``/manage-people`` for the admins who choose whom to track.

They are two commands because Discord applies default permissions per top-level command: a reader may look a
person up without seeing the commands that change who is tracked.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.cards import DESCRIPTION_LIMIT, FIELD_LIMIT, clip, link
from cogs.common import (
    NO_MENTIONS,
    Interaction,
    TrackedPerson,
    UserError,
    admin_group,
    manage_server,
    reply_ephemeral,
)
from cogs.stances import slug
from domain.records import Person
from drawing.timeline import PersonRecord, TimelineCache, person_record

if TYPE_CHECKING:
    from bot import StancewatchBot

STANCE_WORDS = {"favor": "in favour", "against": "against", "mixed": "mixed"}
PICTURE = "timeline.png"


def person_embed(record: PersonRecord) -> discord.Embed:
    person, counts = record.person, record.timeline.counts
    about = " · ".join(part for part in (person.role, ", ".join(person.aliases)) if part)
    embed = discord.Embed(title=clip(record.timeline.title, 256), description=clip(about, DESCRIPTION_LIMIT))
    for label, position in record.current[:20]:
        value = (
            f"{STANCE_WORDS[position.stance]}, {position.date}: {link(clip(position.claim, 200), position.source())}"
        )
        embed.add_field(name=clip(label, 256), value=clip(value, FIELD_LIMIT), inline=False)
    embed.add_field(
        name="Record",
        value=(
            f"{counts['statements']} statements judged · {counts['clashes']} clashes alerted · "
            f"{counts['confirmed']} confirmed · {counts['dismissed']} dismissed"
        ),
        inline=False,
    )
    embed.set_image(url=f"attachment://{PICTURE}")
    embed.set_footer(text="▲ in favour ▼ against ◆ mixed (hollow: proposed) · ● consistent ■ clash")
    return embed


class People(commands.Cog):
    person = app_commands.Group(name="person", description="Tracked people's records")
    people = admin_group("manage-people", "Choose whom to track, and by which names")

    def __init__(self, bot: StancewatchBot) -> None:
        self.bot = bot
        self.timelines = TimelineCache()

    @person.command(name="show", description="A person's stances, clashes and timeline.")
    @app_commands.describe(person="A tracked person (autocompletes)")
    async def person_show(self, interaction: Interaction, person: TrackedPerson) -> None:
        store = self.bot.store
        await interaction.response.defer(thinking=True)  # the picture may take a moment: acknowledge first
        language = await self._language(interaction)
        record = await store.run(person_record, store, person.id, language)
        picture = await asyncio.to_thread(self.timelines.get, record.timeline)
        await interaction.followup.send(
            embed=person_embed(record),
            file=discord.File(io.BytesIO(picture), filename=PICTURE),
            allowed_mentions=NO_MENTIONS,
        )

    async def _language(self, interaction: Interaction) -> str:
        """The channel's summary language when it subscribed, else the asker's Discord language."""
        store = self.bot.store
        subs = await store.run(store.subscriptions, interaction.channel_id) if interaction.channel_id else []
        if subs:
            return subs[0].language
        return "ko" if str(interaction.locale).startswith("ko") else "en"

    @people.command(name="add", description="Track a person, with aliases separated by commas.")
    @manage_server
    @app_commands.describe(name="The person's full name", aliases="Other names, in any language, separated by commas")
    async def people_add(
        self,
        interaction: Interaction,
        name: app_commands.Range[str, 1, 100],
        aliases: app_commands.Range[str, 0, 500] = "",
    ) -> None:
        name = name.strip()
        if not name:
            raise UserError("Give the person's name.")
        person = Person(slug(name), name, [a.strip() for a in aliases.split(",") if a.strip()])
        if not person.id:
            raise UserError("A name needs at least one letter or digit.")
        await self.bot.store.run(self._add_new, person)
        await self.bot.store.commit()
        await reply_ephemeral(interaction, f"Tracking {person.name} as `{person.id}`.")

    def _add_new(self, person: Person) -> None:
        """On the store thread: store ``person`` unless its id or one of its names already belongs to someone."""
        store = self.bot.store
        for name in (person.id, *person.names()):
            existing = store.person(name) or store.find_person(name)
            if existing is not None:
                raise UserError(
                    f"{name!r} already belongs to {existing.name} (`{existing.id}`); "
                    "use /manage-people aliases to change a tracked person."
                )
        store.add_person(person)

    @people.command(name="aliases", description="Add names a tracked person is known by.")
    @manage_server
    @app_commands.describe(person="A tracked person (autocompletes)", aliases="Names separated by commas")
    async def people_aliases(
        self,
        interaction: Interaction,
        person: TrackedPerson,
        aliases: app_commands.Range[str, 0, 500],
    ) -> None:
        store = self.bot.store
        added = [a.strip() for a in aliases.split(",") if a.strip() and a.strip() not in person.names()]
        if not added:
            raise UserError(f"{person.name} is already known by those names.")
        await store.run(store.add_person, dataclasses.replace(person, aliases=[*person.aliases, *added]))
        await store.commit()
        await reply_ephemeral(interaction, f"{person.name} is now also known as {', '.join(added)}.")


async def setup(bot: StancewatchBot) -> None:
    await bot.add_cog(People(bot))
