"""Posts clash alerts, summaries and notices to subscribed channels, exactly once, through the store's outbox.

Each message is written to the outbox before it is sent and marked delivered with its
message id after, so a restart sends what was pending and never repeats what was
delivered; a message sent just before a crash, before it was marked, carries a nonce
that Discord enforces, so its resend returns the message already posted. Messages leave
in the order they were queued, per channel: a transient failure (5xx, 429, network)
holds back that channel's later messages and retries with growing delays. A message
Discord rejects for good (another 4xx, such as 400 Invalid Form Body) is marked failed
with Discord's code and message and the rest go on. A channel the bot may no longer post
in pauses its subscriptions. Clash alerts carry Confirm and Dismiss buttons that survive
restarts (their custom ids carry the outbox id) and record a moderator's review.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from cogs.cards import (
    DESCRIPTION_LIMIT,
    HOLD_ROOM,
    MAX_CLASHES_PER_CARD,
    THREAD_NAME_LIMIT,
    TITLE_LIMIT,
    TOTAL_LIMIT,
    AlertCard,
    clip,
    plain,
    review_field,
    safe_url,
)
from cogs.common import NO_MENTIONS
from cogs.forums import ForumPoster, state_tag
from delivery.digest import post_due_digests, zone_of
from delivery.messages import (
    ArticleSummary,
    ClashAlert,
    ClashUpdate,
    Digest,
    DigestEntry,
    DigestLine,
    FeedPaused,
    HeldAlert,
    LaidOutAlert,
    Message,
    MessageError,
    Notice,
    from_payload,
)
from delivery.routing import release, withhold
from domain.clash import Clash
from domain.records import ModeratorReview, Review, Subscription
from ingest.links import link_name

if TYPE_CHECKING:
    from bot import StancewatchBot

log = logging.getLogger(__name__)
UNDELIVERABLE = -1
FIRST_RETRY_S = 5.0
MAX_RETRY_S = 300.0
SWEEP_S = 30.0


def embed_for(message: Message) -> discord.Embed:
    """The embed a queued message is posted as; every text from outside is escaped on the way (``cards.plain``)."""
    if isinstance(message, DigestEntry | Digest):
        raise MessageError("a digest is posted by digest_messages, and its entries never alone")
    if isinstance(message, FeedPaused):
        text = (
            f"Stancewatch stopped polling {plain(message.feed_url)} because {plain(message.reason)}. "
            f"A moderator can restart it with /manage-feeds resume url:{plain(message.feed_url)}"
        )
        return discord.Embed(title="Feed paused", description=clip(text, DESCRIPTION_LIMIT), colour=0xE0A030)
    if isinstance(message, Notice):
        return discord.Embed(
            title=clip(plain(message.title), TITLE_LIMIT),
            description=clip(plain(message.text), DESCRIPTION_LIMIT),
            colour=0xE0A030,
        )
    if isinstance(message, ArticleSummary):
        url = safe_url(message.url)
        title = message.title.strip() or (link_name(url) if url else "") or "Untitled item"  # kept from before titles
        embed = discord.Embed(title=clip(plain(title), TITLE_LIMIT), url=url, colour=0x3B7DD8)
        embed.description = clip(plain(message.summary), DESCRIPTION_LIMIT)
        embed.set_footer(text="Summary written by a local language model: check the article before quoting it.")
        return embed
    if isinstance(message, ClashAlert | ClashUpdate | HeldAlert):
        card = AlertCard.for_clashes(list(message.clashes))
    else:
        card = AlertCard.from_payload(message.card)
    embed = discord.Embed(title=card.title, url=safe_url(card.url), colour=card.colour)
    if isinstance(message, HeldAlert):
        embed.description = hold_line(message)
    for name, value in card.fields:
        embed.add_field(name=name, value=value, inline=False)
    embed.set_footer(text=card.footer)
    return embed


def hold_line(alert: HeldAlert) -> str:
    """What a held alert says above its card: where Confirm posts it (at most ``HOLD_ROOM`` characters)."""
    channels = " ".join(f"<#{channel}>" for channel, _ in alert.channels[:5])
    more = f" and {len(alert.channels) - 5} more" if len(alert.channels) > 5 else ""
    return clip(f"Held for review: Confirm posts it to {channels}{more}; Dismiss posts it nowhere.", HOLD_ROOM)


class ReviewButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"stancewatch:review:(?P<action>confirm|dismiss):(?P<outbox>\d+)",
):
    """Confirm or Dismiss on an alert; persistent, because the custom id says which alert it is."""

    def __init__(self, action: str, outbox_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=action.title(),
                style=discord.ButtonStyle.success if action == "confirm" else discord.ButtonStyle.secondary,
                custom_id=f"stancewatch:review:{action}:{outbox_id}",
            )
        )
        self.action = action
        self.outbox_id = outbox_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ReviewButton:
        return cls(match["action"], int(match["outbox"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Acknowledge first, then record, then show: a review is never stored for a click Discord did not take.

        If the final edit fails, the buttons stay and the moderator's next click records the same review again.
        """
        if interaction.guild is None or not interaction.permissions.manage_messages:
            await interaction.response.send_message(
                "Only moderators (Manage Messages) can review alerts.", ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            return
        await interaction.response.defer()
        bot: StancewatchBot = interaction.client
        store = bot.store
        posted = await store.run(store.posted_clash, self.outbox_id)  # with every statement that joined it since
        payload = await store.run(store.outbox_payload, posted.latest if posted else self.outbox_id)
        message = from_payload(payload) if payload else None
        ids = message.judgement_ids if isinstance(message, ClashAlert | ClashUpdate | HeldAlert | LaidOutAlert) else []
        state: Review = "confirmed" if self.action == "confirm" else "dismissed"
        reviewer = f"{interaction.user.name} ({interaction.user.id})"
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        for judgement_id in ids:
            await store.run(store.review, judgement_id, state, reviewer)
            await store.run(
                store.record_review, ModeratorReview(interaction.guild.id, judgement_id, state, reviewer, at)
            )
        if isinstance(message, HeldAlert):  # in the same commit: reviewed and released (or withheld) together
            if state == "confirmed":
                await store.run(release, store, message, self.outbox_id, time.time())
            else:
                await store.run(withhold, store, self.outbox_id)
        await store.commit()
        if isinstance(message, HeldAlert) and state == "confirmed":
            bot.dispatch("alerts_released")
        embed = interaction.message.embeds[0] if interaction.message and interaction.message.embeds else None
        if embed is not None:
            name, value = review_field(state, interaction.user.name)
            embed.add_field(name=name, value=value, inline=False)
        try:
            await interaction.edit_original_response(embed=embed, view=None, allowed_mentions=NO_MENTIONS)
        except discord.NotFound:  # the alert was deleted meanwhile (10008) or the click expired (10062)
            log.info("Review of outbox message %s stored; the message it came from is gone", self.outbox_id)
        if interaction.message is not None and not isinstance(message, HeldAlert):
            when = discord.utils.format_dt(discord.utils.utcnow())
            line = f"{state.title()} by {plain(interaction.user.name)} ({when})."
            await post_in_thread(bot, interaction.message.id, content=line)
        if isinstance(interaction.channel, discord.Thread):  # a forum post: its tag says the review now
            alerts = bot.get_cog("Alerts")
            if isinstance(alerts, Alerts):
                await alerts.retag(interaction.channel, state)


DIGEST_LINE_LIMIT = 400
"""One digest line at most: a statement or a summary is cut there, its link kept."""
DIGEST_LABELS = {"en": ("Clash alerts", "Summaries"), "ko": ("입장 충돌 알림", "요약")}


def digest_line(line: DigestLine) -> str:
    """One item as its digest shows it: the alert's person and question, what was said, its review state and link."""
    url = safe_url(line.url)
    link = f" [↗]({url})" if url else ""
    state = f" ({line.state})" if line.state else ""
    body = clip(f"**{plain(line.title)}**: {plain(line.text)}", DIGEST_LINE_LIMIT - len(link) - len(state))
    return f"• {body}{state}{link}"


def digest_messages(digest: Digest) -> list[list[discord.Embed]]:
    """The digest cut into as few messages as Discord allows: each message at most 6,000 characters in at most 10
    embeds, each embed's description at most 4,096; a section that fills a message goes on in the next."""
    labels = DIGEST_LABELS.get(digest.language, DIGEST_LABELS["en"])
    heading = clip(digest.heading, TITLE_LIMIT)
    messages: list[list[discord.Embed]] = []
    used = 0  # characters in the last message so far

    def room(label: str) -> int:
        return min(DESCRIPTION_LIMIT, TOTAL_LIMIT - used - len(label) - (len(heading) if not messages else 0))

    for label, lines in ((labels[0], "alert"), (labels[1], "summary")):
        text = ""
        for line in (digest_line(ln) for ln in digest.lines if (ln.kind == "alert") == (lines == "alert")):
            if text and len(text) + 1 + len(line) > room(label):
                used = _add_embed(messages, label, text, used, heading)
                text = ""
            if not text and (len(line) > room(label) or (messages and len(messages[-1]) >= 10)):
                messages.append([])  # no room left in this message: the next one
                used = 0
            text = f"{text}\n{line}" if text else line
        if text:
            used = _add_embed(messages, label, text, used, heading)
    return [m for m in messages if m]


def _add_embed(messages: list[list[discord.Embed]], label: str, text: str, used: int, heading: str) -> int:
    embed = discord.Embed(title=label, description=text, colour=0x3B7DD8)
    if not messages:
        messages.append([])
    if not messages[0]:
        embed.set_author(name=heading)
    messages[-1].append(embed)
    return used + len(embed)


THREAD_EXISTS = 160004
"""Discord's code for "A thread has already been created for this message"."""


def thread_name(person: str, question: str) -> str:
    """The alert thread's name: person and question, within Discord's 100 characters, markdown left as text."""
    return clip(f"{person}: {question}", THREAD_NAME_LIMIT)


async def post_in_thread(bot: StancewatchBot, thread_id: int, **message: Any) -> None:
    """Post into an alert's thread (its id is the alert message's); nothing when there is none or it is closed."""
    try:
        await bot.get_partial_messageable(thread_id).send(allowed_mentions=NO_MENTIONS, **message)
    except (discord.NotFound, discord.Forbidden):
        log.info("Alert %s has no open thread; the update stays on the alert itself", thread_id)
    except discord.HTTPException as exc:
        log.warning("Could not post in the thread of alert %s: %s", thread_id, exc)


def _has_component(message: discord.Message, custom_id: str) -> bool:
    """Whether ``message`` carries a button with ``custom_id`` (an alert's buttons name its outbox row)."""
    return any(
        getattr(child, "custom_id", None) == custom_id
        for row in message.components
        for child in getattr(row, "children", [])
    )


def _opens_with(message: discord.Message, embed: discord.Embed) -> bool:
    """Whether ``message`` (a post's starter) shows ``embed``'s title and text."""
    first = message.embeds[0] if message.embeds else None
    return first is not None and (first.title, first.description) == (embed.title, embed.description)


def review_view(outbox_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ReviewButton("confirm", outbox_id))
    view.add_item(ReviewButton("dismiss", outbox_id))
    return view


class Alerts(commands.Cog):
    def __init__(self, bot: StancewatchBot) -> None:
        self.bot = bot
        self.forums = ForumPoster()
        self._threadless: set[int] = set()
        """Channels where starting a thread was refused: logged once each."""
        self._sending = asyncio.Lock()
        self._retry_s = FIRST_RETRY_S
        self._retry: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None]

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(ReviewButton)
        self._sweeper = asyncio.create_task(self._sweep(), name="outbox-sweep")

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(ReviewButton)
        self._sweeper.cancel()
        if self._retry is not None:
            self._retry.cancel()

    async def _sweep(self) -> None:
        """Deliver what other processes queued for this one's guilds: woken by the store, or every sweep at worst."""
        await self.bot.wait_until_ready()
        while True:
            await self.bot.store.wait_for_change(SWEEP_S)
            try:
                await self.post_digests()
                await self.deliver_pending()
            except Exception:  # the next wake-up tries again; the sweep itself must not die
                log.exception("Delivering queued messages failed")

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        await self.deliver_pending()

    @commands.Cog.listener()
    async def on_article_report(self, *_: object) -> None:
        await self.deliver_pending()  # the watcher already queued the report's messages in the outbox

    @commands.Cog.listener()
    async def on_feed_paused(self, *_: object) -> None:
        await self.deliver_pending()

    @commands.Cog.listener()
    async def on_alerts_released(self) -> None:
        await self.deliver_pending()  # a moderator confirmed a held alert: its copies are queued

    async def deliver_pending(self) -> None:
        """Send every undelivered message, oldest first per channel."""
        store = self.bot.store
        async with self._sending:
            held: set[int] = set()
            shards = self.bot.settings.shard_count, self.bot.settings.shard_ids  # this process's guilds only
            for outbox_id, channel_id, payload in await store.run(store.pending, *shards):
                if channel_id in held:
                    continue  # an earlier message to this channel is still waiting: keep the order
                if payload.get("kind") == DigestEntry.kind:
                    continue  # it waits for its channel's digest (delivery.digest)
                message_id = await self._send(outbox_id, channel_id, payload)
                if message_id is None:
                    held.add(channel_id)
                    continue
                await store.run(store.mark_delivered, outbox_id, message_id)
                await store.commit()
            if held:
                self._schedule_retry()
            else:
                self._retry_s = FIRST_RETRY_S

    def _schedule_retry(self) -> None:
        if self._retry is not None and not self._retry.done():
            return
        delay, self._retry_s = self._retry_s, min(self._retry_s * 2, MAX_RETRY_S)
        log.info("Retrying undelivered messages in %.0f s", delay)
        self._retry = asyncio.create_task(self._deliver_after(delay))

    async def _deliver_after(self, delay: float) -> None:
        await asyncio.sleep(delay)
        self._retry = None  # this task is done waiting: the delivery below may schedule the next retry
        await self.deliver_pending()

    async def _send(self, outbox_id: int, channel_id: int, payload: dict[str, Any]) -> int | None:
        try:
            channel = self.bot.get_channel(channel_id) or await self.bot.fetch_channel(channel_id)
            queued = from_payload(payload)
            if isinstance(channel, discord.ForumChannel):
                return await self._to_forum(outbox_id, channel, queued)
            send = getattr(channel, "send", None)
            if send is None:
                return await self._undeliverable(channel_id, "the channel cannot hold messages")
            if isinstance(queued, ClashUpdate):
                return await self._update(outbox_id, channel, queued)
            if isinstance(queued, Digest):
                return await self._send_digest(outbox_id, send, queued)
            reviewable = isinstance(queued, ClashAlert | HeldAlert | LaidOutAlert)
            extra = {"view": review_view(outbox_id)} if reviewable else {}
            # The nonce makes a resend after a crash (sent, then killed before marking it delivered) return the
            # message already posted instead of a second one: Discord enforces it for a few minutes.
            nonce = f"stancewatch-{outbox_id}"
            posted = await send(embed=embed_for(queued), allowed_mentions=NO_MENTIONS, nonce=nonce, **extra)
            if isinstance(queued, ClashAlert):
                await self._start_thread(posted, queued)
            return int(posted.id)
        except MessageError as exc:  # no Discord request could carry it: failed for good, the rest go on
            await self.bot.store.run(self.bot.store.mark_failed, outbox_id, str(exc))
            await self.bot.store.commit()
            log.error("Outbox message %s cannot be sent: %s", outbox_id, exc)
            return UNDELIVERABLE
        except discord.Forbidden:
            return await self._undeliverable(channel_id, "the bot may not post there")
        except discord.NotFound:
            return await self._undeliverable(channel_id, "the channel is gone")
        except discord.HTTPException as exc:
            if exc.status == 401:  # the token, not the message: hold everything until it is valid again
                log.error("Discord refused the bot's token (401); messages wait in the outbox until it is valid")
                return None
            if 400 <= exc.status < 500 and exc.status != 429:
                return await self._rejected(outbox_id, channel_id, exc)
            log.warning("Could not post to channel %s yet: %s", channel_id, exc)
            return None
        except (OSError, TimeoutError) as exc:  # transient: retried, in order
            log.warning("Could not post to channel %s yet: %s", channel_id, exc)
            return None

    async def _update(self, outbox_id: int, channel: Any, update: ClashUpdate) -> int | None:
        """Show the statements that joined a posted alert: the alert is edited to list them all, or, past one card's
        room, they are posted as a reply below it. An alert Discord refused or never got is posted anew, whole."""
        target = await self.bot.store.run(self.bot.store.outbox_message, update.target)
        nonce = f"stancewatch-{outbox_id}"
        if not target or target < 0:
            whole = ClashAlert(update.clashes[-MAX_CLASHES_PER_CARD:])
            view = review_view(outbox_id)
            posted = await channel.send(embed=embed_for(whole), view=view, allowed_mentions=NO_MENTIONS, nonce=nonce)
            return int(posted.id)
        in_forum = isinstance(channel, discord.ForumChannel)  # the alert is a post: its thread holds the message
        holder = self.bot.get_partial_messageable(target, guild_id=channel.guild.id) if in_forum else channel
        if len(update.clashes) <= MAX_CLASHES_PER_CARD:
            message = holder.get_partial_message(target)
            await message.edit(embed=await self._reviewed(ClashAlert(update.clashes)), allowed_mentions=NO_MENTIONS)
            await post_in_thread(self.bot, target, embed=embed_for(ClashAlert(update.clashes[-update.joined :])))
            return int(target)
        joined = ClashAlert(update.clashes[-update.joined :])
        below = discord.MessageReference(message_id=target, channel_id=holder.id, fail_if_not_exists=False)
        posted = await holder.send(embed=embed_for(joined), reference=below, allowed_mentions=NO_MENTIONS, nonce=nonce)
        return int(posted.id)

    async def _send_digest(self, outbox_id: int, send: Any, digest: Digest, *, skip: int = 0) -> int:
        """Each part with a nonce of its own: a resend after a crash finds the parts already posted, not twice.
        ``skip``: the parts already posted some other way (a forum post's starter message)."""
        first = 0
        for part, embeds in enumerate(digest_messages(digest)):
            if part < skip:
                continue
            posted = await send(embeds=embeds, allowed_mentions=NO_MENTIONS, nonce=f"stancewatch-{outbox_id}-{part}")
            first = first or int(posted.id)
        return first or UNDELIVERABLE

    async def _to_forum(self, outbox_id: int, forum: discord.ForumChannel, queued: Message) -> int:
        """A forum gets a post per alert (tagged with its state and person), one post a day per feed for summaries
        (each summary a message in it), and a post for anything else; see :mod:`cogs.forums`."""
        subs = await self.bot.store.run(self.bot.store.subscriptions, forum.id)
        language = subs[0].language if subs else "en"
        if isinstance(queued, ClashUpdate):
            return await self._update(outbox_id, forum, queued) or UNDELIVERABLE
        if isinstance(queued, ArticleSummary):
            return await self._summary_to_forum(outbox_id, forum, queued, subs)
        if isinstance(queued, Digest):
            return await self._digest_to_forum(outbox_id, forum, queued)
        embed = embed_for(queued)
        name, tags = embed.title or "Stancewatch", [state_tag("unreviewed", language)]
        if isinstance(queued, ClashAlert | HeldAlert):
            name = await self._thread_name(queued.clashes[0], language)
            tags.append(queued.clashes[0].person)
        if not isinstance(queued, ClashAlert | HeldAlert | LaidOutAlert):  # a paused feed: a post of its own
            found = await self.forums.find(forum, name, lambda m: _opens_with(m, embed))
            return found or await self.forums.post(forum, name, [], embed=embed)
        custom_id = f"stancewatch:review:confirm:{outbox_id}"  # a resend after a crash finds its post by this
        found = await self.forums.find(forum, name, lambda m: _has_component(m, custom_id))
        return found or await self.forums.post(forum, name, tags, embed=embed, view=review_view(outbox_id))

    async def _digest_to_forum(self, outbox_id: int, forum: discord.ForumChannel, digest: Digest) -> int:
        """A digest is a post: its first part opens it, the rest follow in it."""
        parts = digest_messages(digest)
        if not parts:
            return UNDELIVERABLE
        found = await self.forums.find(forum, digest.heading, lambda m: _opens_with(m, parts[0][0]))
        post = found or await self.forums.post(forum, digest.heading, [], embeds=parts[0])
        if len(parts) > 1:
            await self._send_digest(outbox_id, self.bot.get_partial_messageable(post).send, digest, skip=1)
        return post

    async def _summary_to_forum(
        self, outbox_id: int, forum: discord.ForumChannel, summary: ArticleSummary, subs: list[Subscription]
    ) -> int:
        """The feed's post of the day (the channel's day, in its language's time zone) gets the summary: it opens
        the post, or follows in it; a resend after a crash finds it there, by its link or by its nonce."""
        language = subs[0].language if subs else "en"
        day = datetime.now(zone_of(subs[0]) if subs else UTC).date().isoformat()
        name = f"{link_name(summary.feed) or state_tag('summary', language)} · {day}"
        embed = embed_for(summary)
        post = await self.forums.find(forum, name)
        if post is None:
            return await self.forums.post(forum, name, [state_tag("summary", language)], embed=embed)
        starter = await self.forums.starter(forum, post)
        if starter is not None and starter.embeds and starter.embeds[0].url == embed.url:
            return post  # this summary opened the post
        thread = self.bot.get_partial_messageable(post, guild_id=forum.guild.id)
        sent = await thread.send(embed=embed, allowed_mentions=NO_MENTIONS, nonce=f"stancewatch-{outbox_id}")
        return int(sent.id)

    async def _language(self, channel_id: int) -> str:
        """The language a channel's subscriptions ask for ("en" when it has none)."""
        subs = await self.bot.store.run(self.bot.store.subscriptions, channel_id)
        return subs[0].language if subs else "en"

    async def _thread_name(self, clash: Clash, language: str) -> str:
        """An alert's thread or post name: its person and question, the question in the channel's language."""
        question = await self.bot.store.run(self.bot.store.question, clash.question_id)
        text = (question.translations.get(language) if question else None) or clash.question
        return thread_name(clash.person, text)

    async def retag(self, thread: discord.Thread, state: Review) -> None:
        """A reviewed alert's forum post: its state tag becomes the review's."""
        language = await self._language(thread.parent_id)
        states = ("unreviewed", "confirmed", "dismissed")
        await self.forums.retag(thread, [state_tag(s, language) for s in states], [state_tag(state, language)])

    async def post_digests(self) -> None:
        """Queue every digest whose hour has come, for this process's guilds, then send them."""
        store = self.bot.store
        shards = self.bot.settings.shard_count, self.bot.settings.shard_ids
        if await store.run(post_due_digests, store, time.time(), *shards):
            await store.commit()
            await self.deliver_pending()

    async def _start_thread(self, message: discord.Message | discord.PartialMessage, alert: ClashAlert) -> None:
        """A public thread on the alert, for its reviews and the statements that join it. Where the bot may not
        start one, the alert stands alone: logged once a channel, never a failed alert."""
        name = await self._thread_name(alert.clashes[0], await self._language(message.channel.id))
        try:
            await message.create_thread(name=name, auto_archive_duration=10080)
        except discord.Forbidden:
            if message.channel.id not in self._threadless:
                self._threadless.add(message.channel.id)
                log.warning("Channel %s: no thread on alerts (the bot lacks Create Public Threads)", message.channel.id)
        except discord.HTTPException as exc:  # 160004: a resend after a crash found the thread already there
            if exc.code != THREAD_EXISTS:
                log.warning("Could not start a thread on alert %s: %s", message.id, exc)
        except ValueError:  # a channel outside a server (discord.py: no guild info): no threads there
            log.info("Alert %s is outside a server: no thread", message.id)

    async def _reviewed(self, alert: ClashAlert) -> discord.Embed:
        """The alert's card with the review its first clash got, so an edit that lists a joined statement keeps
        the moderator's Confirm or Dismiss in sight (a review covers every clash its card showed)."""
        embed = embed_for(alert)
        first = await self.bot.store.run(self.bot.store.judgement, alert.clashes[0].judgement_id)
        if first is not None and first.review != "unreviewed":
            name, value = review_field(first.review, first.reviewed_by.rsplit(" (", 1)[0])
            embed.add_field(name=name, value=value, inline=False)
        return embed

    async def _rejected(self, outbox_id: int, channel_id: int, exc: discord.HTTPException) -> int:
        reason = f"HTTP {exc.status}, Discord code {exc.code}: {exc.text}"
        await self.bot.store.run(self.bot.store.mark_failed, outbox_id, reason)
        await self.bot.store.commit()
        log.error(
            "Discord rejected message %s for channel %s (%s); it will not be retried", outbox_id, channel_id, reason
        )
        return UNDELIVERABLE

    async def _undeliverable(self, channel_id: int, reason: str) -> int:
        await self.bot.store.run(self._pause_channel, channel_id, reason)
        await self.bot.store.commit()
        log.warning("Paused subscriptions of channel %s: %s", channel_id, reason)
        return UNDELIVERABLE

    def _pause_channel(self, channel_id: int, reason: str) -> None:
        store = self.bot.store
        for sub in store.subscriptions(channel_id):
            store.add_subscription(Subscription(**{**sub.__dict__, "paused_reason": reason}))


async def setup(bot: StancewatchBot) -> None:
    await bot.add_cog(Alerts(bot))
