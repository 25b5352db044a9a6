"""``/subscribe``, ``/unsubscribe`` and ``/subscriptions``: which channel hears about what."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import discord
from discord import app_commands
from discord.ext import commands

from cogs.cards import plain
from cogs.common import (
    Interaction,
    PostableChannel,
    UserError,
    choices,
    reply_ephemeral,
    require_manage_channels,
    require_manage_server,
    tracked_person,
    watched_feed,
)
from delivery.digest import zone_of
from domain.records import Subscription
from domain.words import keyword_phrases

if TYPE_CHECKING:
    from bot import StancewatchBot


def describe(sub: Subscription) -> str:
    what = "everything" if sub.target_kind == "all" else f"{sub.target_kind} {plain(sub.target)}"
    paused = f" — paused: {plain(sub.paused_reason)}" if sub.paused_reason else ""
    review = ", review required" if sub.review == "required" else ""
    if sub.receive == "digest":
        zone = sub.timezone or f"{zone_of(sub)}, the language's"
        review += f", daily at {sub.digest_hour:02d}:00 ({zone})"
    words = "".join(
        f", {name} {', '.join(plain(p) for p in phrases)}"
        for name, phrases in (("only with", sub.include), ("never with", sub.exclude))
        if phrases
    )
    return f"<#{sub.channel_id}>: {what}, {sub.receive}, min confidence {sub.min_confidence:.2f}{review}{words}{paused}"


def keyword_filter(given: str | None, option: str) -> list[str]:
    """The phrases of an ``include`` or ``exclude`` option; a filter that can never match is refused."""
    if given is None:
        return []
    phrases = keyword_phrases(given)
    if not phrases:
        raise UserError(
            f"The {option} filter holds no word or phrase: write them between commas, e.g. ai act, 인공지능."
        )
    return phrases


def known_zone(given: str | None) -> str:
    """An IANA time zone name as given, or "" for the language's; an unknown one is refused in one sentence."""
    if given is None:
        return ""
    try:
        ZoneInfo(given.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(
            f"I know no time zone {given.strip()!r}: use a name such as Asia/Seoul or Europe/Berlin."
        ) from None
    return given.strip()


def label(sub: Subscription) -> str:
    """A subscription as an autocomplete choice shows it: plain text (a choice renders no markdown or mentions)."""
    what = "everything" if sub.target_kind == "all" else f"{sub.target_kind} {sub.target}"
    return f"{sub.receive}: {what}"


class Subscriptions(commands.Cog):
    def __init__(self, bot: StancewatchBot) -> None:
        self.bot = bot

    # Discord hides these from members without Manage Channels (server admins can adjust it in Integrations);
    # the check in code stays, since those defaults can be changed.
    @app_commands.command(description="Receive clash alerts or summaries in a channel.")
    @app_commands.default_permissions(manage_channels=True)
    @app_commands.guild_only()
    @app_commands.describe(
        kind="What to follow: everything, a person, a question or a feed",
        target="A person or question id (autocompletes), or a feed URL; empty for everything",
        receive="Clash alerts, article summaries, or both",
        min_confidence="Only alerts at or above this confidence (0-1)",
        language="Language of summaries (default: the server's)",
        channel="Where to post (default: here); in a forum, a post per alert and one a day for summaries",
        review="required: clash alerts wait in the review channel until a moderator confirms them",
        include="Only what mentions one of these words or phrases, comma-separated (e.g. ai act, 인공지능)",
        exclude="Never what mentions one of these, comma-separated (e.g. rumour)",
        digest_hour="With receive digest: the local hour it is posted (0-23, default 8)",
        timezone="With receive digest: a time zone such as Asia/Seoul (default: the language's)",
    )
    async def subscribe(
        self,
        interaction: Interaction,
        kind: Literal["all", "person", "question", "feed"] = "all",
        target: str = "",
        receive: Literal["clashes", "summaries", "both", "digest"] = "clashes",
        min_confidence: app_commands.Range[float, 0.0, 1.0] = 0.0,
        language: Literal["en", "ko"] | None = None,
        channel: PostableChannel | None = None,
        review: Literal["none", "required"] = "none",
        include: app_commands.Range[str, 1, 500] | None = None,
        exclude: app_commands.Range[str, 1, 500] | None = None,
        digest_hour: app_commands.Range[int, 0, 23] = 8,
        timezone: app_commands.Range[str, 1, 64] | None = None,
    ) -> None:
        if channel is not None and channel.id != interaction.channel_id:
            require_manage_server(interaction)
            if interaction.guild is None or interaction.guild.get_channel(channel.id) is None:
                raise UserError(f"Channel {channel.id} is gone or hidden from me; pick another channel.")
        else:
            require_manage_channels(interaction)
        target = await self._validated_target(kind, target.strip())
        channel_id = channel.id if channel is not None else interaction.channel_id
        if channel_id is None or interaction.guild_id is None:
            raise UserError("Subscriptions work in server channels only.")
        locale = language or ("ko" if str(interaction.guild_locale or "").startswith("ko") else "en")
        store = self.bot.store
        if review == "required" and await store.run(store.review_desk, interaction.guild_id) is None:
            raise UserError("Set a review channel first with /review-channel; held alerts wait there.")
        included, excluded = keyword_filter(include, "include"), keyword_filter(exclude, "exclude")
        zone = known_zone(timezone)
        sub = Subscription(
            channel_id, interaction.guild_id, kind, target, receive, float(min_confidence), locale, review=review,
            include=included, exclude=excluded, digest_hour=digest_hour, timezone=zone,
        )  # fmt: skip
        is_new = await store.run(store.add_subscription, sub)
        await store.commit()
        await reply_ephemeral(interaction, ("Subscribed " if is_new else "Updated ") + describe(sub))

    async def _validated_target(self, kind: str, target: str) -> str:
        store = self.bot.store
        if kind == "all":
            return ""
        if not target:
            raise UserError(f"Name the {kind} to follow.")
        if kind == "person":
            return (await tracked_person(store, target)).id
        if kind == "question":
            if await store.run(store.question, target) is None:
                raise UserError(f"I know no question {target!r}.")
            return target
        return (await watched_feed(store, target)).url

    @subscribe.autocomplete("target")
    async def target_autocomplete(self, interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
        store = self.bot.store
        kind = getattr(interaction.namespace, "kind", None)
        people = [(p.name, p.id) for p in await store.run(store.people)] if kind in (None, "person") else []
        questions = [(q.text, q.id) for q in await store.run(store.questions)] if kind in (None, "question") else []
        feeds = [(f.url, f.ref) for f in await store.run(store.feeds)] if kind in (None, "feed") else []
        return choices(people + questions + feeds, current)

    @app_commands.command(name="review-channel", description="Set where alerts that need review wait.")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(channel="The review channel; empty to stop holding alerts")
    async def review_channel(self, interaction: Interaction, channel: discord.TextChannel | None = None) -> None:
        if interaction.guild_id is None:
            raise UserError("A review channel belongs to a server.")
        store = self.bot.store
        await store.run(store.set_review_desk, interaction.guild_id, channel.id if channel else None)
        await store.commit()
        if channel is None:
            await reply_ephemeral(interaction, "No review channel: alerts that needed review are now posted directly.")
        else:
            await reply_ephemeral(interaction, f"Alerts that need review now wait in <#{channel.id}>.")

    @app_commands.command(description="Stop one of this channel's subscriptions.")
    @app_commands.default_permissions(manage_channels=True)
    @app_commands.guild_only()
    @app_commands.checks.has_permissions(manage_channels=True)
    @app_commands.describe(subscription="One of this channel's subscriptions (autocompletes)")
    async def unsubscribe(self, interaction: Interaction, subscription: app_commands.Range[str, 1, 2100]) -> None:
        store = self.bot.store
        mine = await store.run(store.subscriptions, interaction.channel_id)
        typed = subscription.strip()  # a choice's key, or kind:target typed out
        found = next((s for s in mine if typed in (s.ref, f"{s.target_kind}:{s.target}")), None)
        if found is None:
            raise UserError("This channel has no such subscription; see /subscriptions.")
        removed = await store.run(store.remove_subscription, found.channel_id, found.target_kind, found.target)
        if not removed:
            raise UserError("This channel has no such subscription; see /subscriptions.")
        await store.commit()
        await reply_ephemeral(interaction, "Unsubscribed.")

    @unsubscribe.autocomplete("subscription")
    async def unsubscribe_autocomplete(self, interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
        subs = await self.bot.store.run(self.bot.store.subscriptions, interaction.channel_id)
        return choices([(label(s), s.ref) for s in subs], current)

    @app_commands.command(name="subscriptions", description="List this channel's (or the server's) subscriptions.")
    @app_commands.describe(server="List the whole server's subscriptions")
    async def list_subscriptions(self, interaction: Interaction, server: bool = False) -> None:
        subs = await self.bot.store.run(self.bot.store.subscriptions)
        mine = [
            s
            for s in subs
            if (s.guild_id == interaction.guild_id if server else s.channel_id == interaction.channel_id)
        ]
        text = "\n".join(describe(s) for s in mine) or "No subscriptions here yet; use /subscribe."
        await reply_ephemeral(interaction, text[:2000])


async def setup(bot: StancewatchBot) -> None:
    await bot.add_cog(Subscriptions(bot))
