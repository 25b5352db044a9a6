"""Forum channels: each clash alert a post of its own, tagged; a feed's summaries one post a day.

A forum holds posts (threads, each opened by a starter message whose id is the thread's), never messages of its
own. Discord takes no nonce on a new post, so the outbox's guard against a resend after a crash (posted, killed
before the row was marked) is a lookup instead: :meth:`ForumPoster.find` looks among the forum's active posts for
the bot's own with the same name whose starter message is the one being sent (an alert's buttons carry its outbox
id; a summary its link), and the caller takes that post instead of making a second.

Tags follow the forum's: a post carries the tags named for its verdict (or review) and person where the forum has
them; missing ones are created when the bot may manage the forum's tags (Manage Channels), else left out, logged
once a forum. A forum that requires a tag and has none of them refuses the post (40067): the outbox marks it failed
with Discord's reason, as any other refusal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import discord

from cogs.cards import THREAD_NAME_LIMIT, clip
from cogs.common import NO_MENTIONS

log = logging.getLogger(__name__)

TAG_NAME_LIMIT = 20
"""A forum tag's name: at most 20 characters (Discord's documentation)."""
FORUM_TAG_LIMIT = 20
"""A forum holds at most 20 tags."""
APPLIED_TAG_LIMIT = 5
"""A post carries at most 5 tags."""
TAG_REQUIRED = 40067
"""Discord's code for "A tag is required to create a forum post in this channel"."""
STATE_TAGS = {
    "en": {"unreviewed": "Possible clash", "confirmed": "Confirmed", "dismissed": "Dismissed", "summary": "Summaries"},
    "ko": {"unreviewed": "입장 충돌 가능", "confirmed": "확인됨", "dismissed": "기각됨", "summary": "요약"},
}
"""The tag a post carries for its alert's review state (or for a day's summaries), in the forum's language."""


def state_tag(state: str, language: str) -> str:
    return STATE_TAGS.get(language, STATE_TAGS["en"])[state]


def tag_name(text: str) -> str:
    """A person's or a state's tag name, within Discord's 20 characters."""
    return clip(text, TAG_NAME_LIMIT)


def post_name(text: str) -> str:
    return clip(text, THREAD_NAME_LIMIT)


Starter = Callable[[discord.Message], bool]
"""Whether a found post's starter message is the one being sent."""


class ForumPoster:
    """Posts into forum channels for one bot: finds a post already made, and picks or creates the tags."""

    def __init__(self) -> None:
        self._starters: dict[int, discord.Message] = {}
        """Starter messages of the posts this process made or read, by post id."""
        self._made: dict[tuple[int, str], list[int]] = {}
        """Posts this process made, by (forum id, name): the gateway's THREAD_CREATE may come after the next
        lookup."""
        self._tagless: set[int] = set()
        """Forums whose missing tags the bot may not create: logged once each."""

    async def find(self, forum: discord.ForumChannel, name: str, is_it: Starter | None = None) -> int | None:
        """The id of the bot's active post named ``name`` in ``forum`` (whose starter message ``is_it``, when
        given), made by this process or found among the forum's threads (the gateway sends a server's active
        threads when the bot connects)."""
        name = post_name(name)
        me = forum.guild.me.id if forum.guild.me else None
        found = [t.id for t in forum.threads if t.name == name and t.owner_id == me and not t.archived]
        for post_id in dict.fromkeys([*self._made.get((forum.id, name), []), *found]):
            if is_it is None:
                return post_id
            starter = await self.starter(forum, post_id)
            if starter is not None and is_it(starter):
                return post_id
        return None

    async def starter(self, forum: discord.ForumChannel, post_id: int) -> discord.Message | None:
        """A post's starter message (its id is the post's), read from Discord once a process."""
        if post_id not in self._starters:
            thread = forum.get_thread(post_id)
            if thread is None:
                return None
            try:
                self._starters[post_id] = await thread.fetch_message(post_id)
            except discord.HTTPException as exc:  # deleted (10008) or unreadable: not the one being sent
                log.info("Forum post %s: no starter message to read (%s)", post_id, exc)
                return None
        return self._starters[post_id]

    async def post(self, forum: discord.ForumChannel, name: str, tags: list[str], **message: Any) -> int:
        """A new post named ``name`` (cut to 100 characters), opened by ``message`` (``embed``/``embeds``,
        ``view``, ``content``), with the forum's ``tags`` named so; its id. Look for it first with :meth:`find`."""
        name = post_name(name)
        applied = await self.tags(forum, tags)
        made = await forum.create_thread(name=name, applied_tags=applied, allowed_mentions=NO_MENTIONS, **message)
        self._made.setdefault((forum.id, name), []).append(made.thread.id)
        self._starters[made.thread.id] = made.message
        return made.thread.id

    async def tags(self, forum: discord.ForumChannel, names: list[str]) -> list[discord.ForumTag]:
        """The forum's tags named ``names`` (case-insensitive, each cut to 20 characters), the missing ones created
        when the bot may and the forum has room; at most 5."""
        wanted = list(dict.fromkeys(tag_name(n) for n in names if n.strip()))
        available = forum.available_tags
        if any(_find(available, n) is None for n in wanted):
            available = await self._with_created(forum, wanted)
        found = [_find(available, n) for n in wanted]
        return [t for t in found if t is not None][:APPLIED_TAG_LIMIT]

    async def _with_created(self, forum: discord.ForumChannel, wanted: list[str]) -> Sequence[discord.ForumTag]:
        """The forum's tags read afresh (the cached channel may predate the bot's last edit), with ``wanted`` added
        in one edit where the bot may manage them and the forum has room."""
        me = forum.guild.me
        if me is None or not forum.permissions_for(me).manage_channels:
            self._log_once(forum, "the bot may not create tags (Manage Channels)")
            return forum.available_tags
        fresh = await forum.guild.fetch_channel(forum.id)
        available = fresh.available_tags if isinstance(fresh, discord.ForumChannel) else forum.available_tags
        missing = [n for n in wanted if _find(available, n) is None][: FORUM_TAG_LIMIT - len(available)]
        if not missing:
            if any(_find(available, n) is None for n in wanted):
                self._log_once(forum, f"the forum has {FORUM_TAG_LIMIT} tags already")
            return available
        try:
            edited = await forum.edit(available_tags=[*available, *(discord.ForumTag(name=n) for n in missing)])
        except discord.HTTPException as exc:
            self._log_once(forum, f"Discord refused new tags ({exc.status}, {exc.code})")
            return available
        return edited.available_tags if edited is not None else available

    def _log_once(self, forum: discord.ForumChannel, why: str) -> None:
        if forum.id not in self._tagless:
            self._tagless.add(forum.id)
            log.warning("Forum %s: posts go without the tags it lacks: %s", forum.id, why)

    async def retag(self, thread: discord.Thread, drop: list[str], add: list[str]) -> None:
        """Replace the post's tags named ``drop`` by those named ``add`` (a review: "Possible clash" becomes
        "Confirmed"); a forum without them, or a refusal, leaves the post as it was, logged."""
        forum = thread.parent
        if not isinstance(forum, discord.ForumChannel):
            return
        dropped = {tag_name(n).casefold() for n in drop}
        kept = [t for t in thread.applied_tags if t.name.casefold() not in dropped]
        added = [t for t in await self.tags(forum, add) if t not in kept]
        if [t.id for t in kept + added] == [t.id for t in thread.applied_tags]:
            return
        try:
            await thread.edit(applied_tags=(kept + added)[:APPLIED_TAG_LIMIT])
        except discord.HTTPException as exc:
            log.warning("Could not retag forum post %s: %s", thread.id, exc)


def _find(tags: Sequence[discord.ForumTag], name: str) -> discord.ForumTag | None:
    return next((t for t in tags if t.name.casefold() == name.casefold()), None)
