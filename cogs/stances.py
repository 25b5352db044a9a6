"""``/stance list`` for everyone; ``/manage-stances`` for the moderators who store, confirm and remove positions."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from discord import app_commands
from discord.ext import commands

from cogs.cards import plain
from cogs.common import (
    Interaction,
    TrackedPerson,
    UserError,
    admin_group,
    choices,
    manage_server,
    reply_ephemeral,
)
from domain.records import Position, from_dict, to_dict

if TYPE_CHECKING:
    from bot import StancewatchBot


def slug(text: str) -> str:
    return re.sub(r"\W+", "-", text.casefold()).strip("-")  # \w takes Hangul too


class Stances(commands.Cog):
    stance = app_commands.Group(name="stance", description="Stored positions of tracked people")
    manage = admin_group("manage-stances", "Store, confirm and remove positions")

    def __init__(self, bot: StancewatchBot) -> None:
        self.bot = bot

    @stance.command(name="list", description="List a person's stored positions.")
    @app_commands.describe(person="A tracked person (autocompletes)")
    async def stance_list(self, interaction: Interaction, person: TrackedPerson) -> None:
        store = self.bot.store
        positions = await store.run(store.positions, person.id)
        proposed = await store.run(store.positions, person.id, status="proposed")
        lines = [f"`{p.id}` {p.date} ({p.stance}) {plain(p.claim)} <{plain(p.source())}>" for p in positions]
        if proposed:
            lines.append("Proposed from articles (moderators: /manage-stances confirm, or /manage-stances remove):")
            lines += [f"`{p.id}` {p.date} {plain(p.claim)} <{plain(p.source())}>" for p in proposed]
        await reply_ephemeral(interaction, ("\n".join(lines) or f"No positions stored for {person.name}.")[:2000])

    @manage.command(name="confirm", description="Confirm a position the bot proposed from an article.")
    @manage_server
    @app_commands.describe(position_id="the proposed position's id", stance="which way the position goes")
    async def stance_confirm(
        self, interaction: Interaction, position_id: str, stance: Literal["favor", "against", "mixed"]
    ) -> None:
        store = self.bot.store
        confirmed = await store.run(store.confirm_position, position_id.strip(), stance, str(interaction.user.id))
        if confirmed is None:
            raise UserError(f"No proposed position has the id {position_id!r}.")
        await store.commit()
        await reply_ephemeral(interaction, f"Confirmed `{confirmed.id}` ({stance}); it is now judged against.")

    @stance_confirm.autocomplete("position_id")
    async def proposed_autocomplete(self, interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
        proposed = await self.bot.store.run(self.bot.store.positions, status="proposed")
        return choices([(f"{p.claim[:80]}", p.id) for p in proposed], current)

    @manage.command(name="add", description="Store a position a person took.")
    @manage_server
    @app_commands.rename(date_="date")
    @app_commands.describe(
        person="A tracked person (autocompletes)",
        question="The question it answers (autocompletes)",
        stance="For, against or mixed",
        claim="The position in one sentence",
        source_url="Where it was said or done",
        date_="YYYY-MM-DD, YYYY-MM or YYYY",
    )
    async def stance_add(
        self,
        interaction: Interaction,
        person: TrackedPerson,
        question: str,
        stance: Literal["favor", "against", "mixed"],
        claim: str,
        source_url: str,
        date_: str,
    ) -> None:
        store = self.bot.store
        precision = {4: "year", 7: "month"}.get(len(date_), "day")
        position = Position(
            id=f"{person.id}-{slug(question)[:24]}-{date_}",
            person=person.id,
            question=question,
            stance=stance,
            claim=claim.strip(),
            source_url=source_url.strip(),
            date=date_.strip(),
            date_precision=precision,  # type: ignore[arg-type]
            origin=f"discord:{interaction.user.id}",
        )
        from_dict(Position, to_dict(position), "position")  # validates every field, with a clear message
        await store.run(store.add_position, position)
        await store.commit()
        await reply_ephemeral(interaction, f"Stored `{position.id}`.")

    @stance_add.autocomplete("question")
    async def question_autocomplete(self, interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
        return choices([(q.text, q.id) for q in await self.bot.store.run(self.bot.store.questions)], current)

    @manage.command(name="remove", description="Remove a stored or proposed position by id.")
    @manage_server
    @app_commands.describe(position_id="The position's id, as /stance list shows it")
    async def stance_remove(self, interaction: Interaction, position_id: app_commands.Range[str, 1, 100]) -> None:
        store = self.bot.store
        if not await store.run(store.remove_position, position_id):
            raise UserError(f"No position has the id {position_id!r}.")
        await store.commit()
        await reply_ephemeral(interaction, f"Removed `{position_id}`.")


async def setup(bot: StancewatchBot) -> None:
    await bot.add_cog(Stances(bot))
