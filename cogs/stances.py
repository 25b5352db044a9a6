"""``/stance list`` for everyone; ``/manage-stances`` for the moderators who store, confirm and remove positions,
and who add questions of their own (the model drafts both sides; the judge reads them once a moderator confirms)."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Literal

from discord import app_commands
from discord.ext import commands

from analysis.learning import reset_marker, server_learning
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
from domain.records import Position, Question, from_dict, to_dict
from llm.tasks.sides import draft_sides

if TYPE_CHECKING:
    from bot import StancewatchBot

log = logging.getLogger(__name__)


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
        return await self.question_choices(current)

    async def question_choices(self, current: str) -> list[app_commands.Choice[str]]:
        return choices([(q.text, q.id) for q in await self.bot.store.run(self.bot.store.questions)], current)

    @manage.command(name="question", description="Add a question of your own; the model drafts its two sides.")
    @manage_server
    @app_commands.describe(
        text="The question, answered yes or no (e.g. Should AI chips be export-controlled?)",
        keywords="Words that mark a statement as about it, comma-separated (optional)",
    )
    async def question_add(
        self,
        interaction: Interaction,
        text: app_commands.Range[str, 8, 200],
        keywords: app_commands.Range[str, 0, 300] = "",
    ) -> None:
        store = self.bot.store
        question_id = slug(text)[:60]
        if not question_id:
            raise UserError("A question needs words: write it as a yes-or-no question.")
        if await store.run(store.question, question_id) is not None:
            raise UserError(f"The question `{question_id}` exists; see its sides with /manage-stances sides.")
        await interaction.response.defer(ephemeral=True, thinking=True)  # the draft takes the model seconds
        examples = await store.run(store.questions)
        draft = await draft_sides(self.bot.engine, text.strip(), examples)
        words = [w.strip() for w in keywords.split(",") if w.strip()]
        question = Question(question_id, text.strip(), words, draft=draft.as_record() if draft else {})
        await store.run(store.save_question, from_dict(Question, to_dict(question), "question"))
        await store.commit()
        await reply_ephemeral(interaction, f"Stored the question `{question_id}`.\n" + sides_text(question))

    @manage.command(name="sides", description="Show, confirm or edit the two sides the judge reads for a question.")
    @manage_server
    @app_commands.describe(
        question="The question (autocompletes)",
        confirm="Confirm the model's draft as it stands",
        supports="What a person says or does for a yes answer (replaces the draft's)",
        opposes="What a person says or does for a no answer (replaces the draft's)",
        supports_ko="The same in Korean",
        opposes_ko="The same in Korean",
    )
    async def question_sides(
        self,
        interaction: Interaction,
        question: str,
        confirm: bool = False,
        supports: app_commands.Range[str, 10, 240] = "",
        opposes: app_commands.Range[str, 10, 240] = "",
        supports_ko: app_commands.Range[str, 4, 240] = "",
        opposes_ko: app_commands.Range[str, 4, 240] = "",
    ) -> None:
        store = self.bot.store
        stored = await store.run(store.question, question)
        if stored is None:
            raise UserError(f"No question has the id {question!r}; add one with /manage-stances question.")
        edits = {"en": (supports, opposes), "ko": (supports_ko, opposes_ko)}
        if not confirm and not any(any(pair) for pair in edits.values()):
            await reply_ephemeral(interaction, sides_text(stored))
            return
        confirmed = confirmed_sides(stored, edits)
        await store.run(store.save_question, from_dict(Question, to_dict(confirmed), "question"))
        await store.commit()
        await reply_ephemeral(interaction, "Confirmed; the judge reads these sides now.\n" + sides_text(confirmed))

    @question_sides.autocomplete("question")
    async def sides_autocomplete(self, interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await self.question_choices(current)

    @manage.command(name="learning", description="Show or reset what this server's judge learned from reviews.")
    @manage_server
    @app_commands.describe(action="show, or reset to the shipped judge (reviews stay exportable)")
    async def learning(self, interaction: Interaction, action: Literal["show", "reset"] = "show") -> None:
        if interaction.guild is None:
            raise UserError("Learning is kept per server: use this command in a server.")
        store, guild = self.bot.store, interaction.guild.id
        if action == "reset":
            at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            marker = reset_marker(guild, f"{interaction.user.name} ({interaction.user.id})", at)
            await store.run(store.record_review, marker)
            await store.commit()
            log.info("Server %s: learning reset by %s", guild, marker.by)
        learned = await store.run(server_learning, store, guild)
        await reply_ephemeral(interaction, ("Reset. " if action == "reset" else "") + learned.describe())

    @manage.command(name="remove", description="Remove a stored or proposed position by id.")
    @manage_server
    @app_commands.describe(position_id="The position's id, as /stance list shows it")
    async def stance_remove(self, interaction: Interaction, position_id: app_commands.Range[str, 1, 100]) -> None:
        store = self.bot.store
        if not await store.run(store.remove_position, position_id):
            raise UserError(f"No position has the id {position_id!r}.")
        await store.commit()
        await reply_ephemeral(interaction, f"Removed `{position_id}`.")


def confirmed_sides(question: Question, edits: dict[str, tuple[str, str]]) -> Question:
    """The question with its sides confirmed: each language's draft, with what the moderator wrote in its place.

    :class:`UserError` when English ends up without both sides (the judge reads English).
    """
    sides = {lang: (pair.get("supports", ""), pair.get("opposes", "")) for lang, pair in question.draft.items()}
    sides.setdefault("en", (question.supports, question.opposes))
    for lang, (supports, opposes) in edits.items():
        old_supports, old_opposes = sides.get(lang, ("", ""))
        sides[lang] = (supports.strip() or old_supports, opposes.strip() or old_opposes)
    english = sides.pop("en")
    if not all(english):
        raise UserError("Both sides need an English description: give supports and opposes.")
    translations = {lang: {"supports": s, "opposes": o} for lang, (s, o) in sides.items() if s and o}
    return replace(question, supports=english[0], opposes=english[1], side_translations=translations, draft={})


def sides_text(question: Question) -> str:
    """What a moderator reads about a question's sides: the confirmed ones, the draft awaiting them, how to act."""
    lines = [f"**{plain(question.text)}**"]
    if question.supports and question.opposes:
        lines += ["Confirmed (the judge reads these):", *side_lines(question.supports, question.opposes)]
        for lang, pair in question.side_translations.items():
            lines += side_lines(pair["supports"], pair["opposes"], lang)
    for lang, pair in question.draft.items():
        if lang == "en":
            lines.append("Drafted by the model, not read by the judge until confirmed:")
        lines += side_lines(pair["supports"], pair["opposes"], lang)
    if question.draft:
        lines.append(f"Confirm: /manage-stances sides question:{question.id} confirm:True, or give your own wording.")
    elif not question.supports:
        lines.append("No sides yet: the model gave no usable draft. Write them with /manage-stances sides.")
    return "\n".join(lines)


def side_lines(supports: str, opposes: str, lang: str = "en") -> list[str]:
    tag = "" if lang == "en" else f" ({lang})"
    return [f"- yes side{tag}: the person {plain(supports)}", f"- no side{tag}: the person {plain(opposes)}"]


async def setup(bot: StancewatchBot) -> None:
    await bot.add_cog(Stances(bot))
