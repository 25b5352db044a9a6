"""``/ask``: questions about stored stances, answered from the store with numbered sources."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from analysis.ask import MAX_QUESTION, AskResult, ask
from cogs.cards import DESCRIPTION_LIMIT, FIELD_LIMIT, clip, link, plain
from cogs.common import NO_MENTIONS, Interaction, UserError

if TYPE_CHECKING:
    from bot import StancewatchBot


def answer_embed(question: str, result: AskResult) -> discord.Embed:
    """Stored claims may come from articles: every text is shown with markdown escaped, and only http(s) sources
    become links."""
    description = clip(plain(result.text), DESCRIPTION_LIMIT)
    embed = discord.Embed(title=clip(plain(question), 256), description=description, colour=0x3B7DD8)
    if result.sources:
        lines = "\n".join(
            f"\\[{s.number}\\] {plain(s.person)}, {plain(s.date)}: {link(clip(s.claim, 120), s.url)}"
            for s in result.sources
        )
        embed.add_field(name="Sources", value=clip(lines, FIELD_LIMIT), inline=False)
    embed.set_footer(text=footer(result))
    return embed


def footer(result: AskResult) -> str:
    """How the answer was reached, in the asker's language: the stance comes from the sources' sides, and the
    model's only part (which way the question points) is shown with its probability."""
    sure = f"{max(result.reading, 1 - result.reading):.2f}" if result.reading is not None else ""
    if result.language == "ko":
        read = f" · 질문의 방향을 로컬 모델이 확률 {sure}로 판단" if sure else ""
        return f"저장된 출처만으로 답했습니다{read}"
    read = f" · a local model read which way the question points (probability {sure})" if sure else ""
    return f"Answered from stored sources only{read}"


class Ask(commands.Cog):
    def __init__(self, bot: StancewatchBot) -> None:
        self.bot = bot

    @app_commands.command(description="Ask what a person has said or done about AI policy.")
    @app_commands.describe(question="Your question, in English or Korean", private="Only you see the answer")
    @app_commands.checks.cooldown(1, 15.0, key=lambda i: i.user.id)
    async def ask(
        self, interaction: Interaction, question: app_commands.Range[str, 1, 500], private: bool = False
    ) -> None:
        question = question.strip()
        if not question:
            raise UserError("Ask a question, for example: What has Musk said about pausing AI?")
        if len(question) > MAX_QUESTION:
            raise UserError(f"Questions are limited to {MAX_QUESTION} characters.")
        await interaction.response.defer(ephemeral=private, thinking=True)
        result = await ask(self.bot.store, self.bot.engine, question)
        await interaction.followup.send(
            embed=answer_embed(question, result), ephemeral=private, allowed_mentions=NO_MENTIONS
        )


async def setup(bot: StancewatchBot) -> None:
    await bot.add_cog(Ask(bot))
