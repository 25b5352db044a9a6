"""A small Discord emulator on aiohttp: the REST routes Stancewatch uses and a gateway WebSocket.

Test code, not a Discord: it answers what discord.py asks (current user, application,
``/gateway/bot``, command bulk overwrite, channel messages, interaction callbacks,
follow-up webhooks, message edits) and runs a gateway session (HELLO, IDENTIFY to
READY, GUILD_CREATE, heartbeats and ACKs (or lost ACKs), RESUME with replay) through which the test
dispatches interactions. Everything the bot sends is recorded for the test to check.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import re
import time
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, WSMsgType, web

from tests.discord_spec import spec

APP_ID = 1000
GUILD_ID = 2000
ALERTS = 3001
FORBIDDEN = 3002
NO_THREADS = 3003
"""A channel where the bot may post but not create public threads (Discord answers 50013)."""
NEWSROOMS = (3003, 3004)
"""Two more text channels of the guild, for tests that post to several."""
FORUM = 3005
"""A forum channel without tags, where the bot may manage tags (Manage Channels)."""
STRICT_FORUM = 3006
"""A forum that requires a tag on every post, has one tag ("Other") and denies the bot Manage Channels."""
MANAGE_CHANNELS = 1 << 4
REQUIRE_TAG = 1 << 4
"""The forum channel flag: every post must carry a tag (Discord answers 40067 otherwise)."""
TAG_NAME_LIMIT = 20
MODERATOR = 4000
ALL_PERMISSIONS = str((1 << 50) - 1)
NOW = "2026-11-28T00:00:00.000000+00:00"
API = "/api/v10"
PARSED = web.RequestKey("parsed", tuple[dict[str, Any], list[tuple[str, bytes]]])
INTERACTION_DEADLINE_S = 3.0


async def read_body(request: web.Request) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    """A request's JSON, and its files when it is multipart (``payload_json`` and ``files[n]``), as Discord reads it."""
    if PARSED in request:  # the middleware read it already
        return request[PARSED]
    if not request.content_type.startswith("multipart/"):
        return await request.json(), []
    body: dict[str, Any] = {}
    files: list[tuple[str, bytes]] = []
    async for part in await request.multipart():
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "payload_json":
            body = json.loads(await part.text())
        else:
            files.append((part.filename or "", bytes(await part.read())))
    return body, files


JSON = {"Content-Type": "application/json", "Via": "1.1 google"}
"""Discord's answers pass Google's front end; discord.py takes a 429 without ``Via`` for a Cloudflare ban."""


def reply(data: Any, status: int = 200) -> web.Response:
    """JSON with exactly ``Content-Type: application/json``: discord.py compares the header verbatim."""
    return web.Response(body=json.dumps(data).encode(), status=status, headers=JSON)


def user(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {"id": str(user_id), "username": name, "discriminator": "0", "global_name": name, "avatar": None, "bot": bot}


BOT_USER = user(APP_ID, "Stancewatch", bot=True)
MOD_USER = user(MODERATOR, "moderator")


@dataclass
class Link:
    """One gateway connection; with ``zlib-stream``, every frame is deflated in one shared stream and sync-flushed."""

    ws: web.WebSocketResponse
    deflate: Any = None

    async def send(self, frame: dict[str, Any]) -> None:
        if self.ws.closed:
            return
        text = json.dumps(frame)
        if self.deflate is None:
            await self.ws.send_str(text)
        else:
            await self.ws.send_bytes(self.deflate.compress(text.encode()) + self.deflate.flush(zlib.Z_SYNC_FLUSH))


@dataclass
class Failure:
    """An answer Discord gives instead of success, scripted by a test for requests matching ``method`` and ``path``."""

    method: str
    path: str
    """A regular expression over the path after ``/api/v10``."""
    status: int
    code: int = 0
    message: str = ""
    times: int = 1
    retry_after: float = 0.0
    is_global: bool = False

    def response(self) -> web.Response:
        if self.status == 429:
            body = {
                "message": "You are being rate limited.",
                "retry_after": self.retry_after or 0.1,
                "global": self.is_global,
            }
            headers = {
                "Retry-After": str(self.retry_after),
                "X-RateLimit-Scope": "global" if self.is_global else "user",
            }
            if self.is_global:
                headers["X-RateLimit-Global"] = "true"
            return web.Response(body=json.dumps(body).encode(), status=429, headers={**JSON, **headers})
        return reply({"message": self.message, "code": self.code}, self.status)


@dataclass
class Callback:
    interaction_id: int
    type: int
    data: dict[str, Any]


@dataclass
class Emulator:
    base: str = ""
    messages: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    callbacks: list[Callback] = field(default_factory=list)
    followups: list[dict[str, Any]] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)
    message_edits: list[tuple[int, str]] = field(default_factory=list)
    """Every channel message the bot edited: (channel, message id), in order."""
    """Edits of an interaction's original response (PATCH .../messages/@original), with their token."""
    expired: set[int] = field(default_factory=set)
    """Interactions whose reply Discord no longer accepts: 404 Unknown interaction (10062)."""
    commands: list[dict[str, Any]] = field(default_factory=list)
    violations: list[tuple[str, str, list[str]]] = field(default_factory=list)
    """Requests Discord would refuse (its API spec and documented limits): answered 400 / 50035 and kept here."""
    violations_expected: bool = False
    """Set by a test that sends invalid requests on purpose; otherwise any violation fails the test."""
    threads: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Threads the bot started from a message (Discord gives it the message's id) or as a forum post (its
    starter message takes the thread's id), by thread id."""
    forums: dict[int, dict[str, Any]] = field(
        default_factory=lambda: {
            FORUM: {"name": "clash-forum", "tags": [], "flags": 0, "manage": True},
            STRICT_FORUM: {
                "name": "strict-forum", "tags": [{"id": "9001", "name": "Other", "moderated": False,
                                                  "emoji_id": None, "emoji_name": None}],
                "flags": REQUIRE_TAG, "manage": False,
            },
        }
    )  # fmt: skip
    """The guild's forum channels: their tags, flags, and whether the bot may manage them (edit tags)."""
    failures: list[Failure] = field(default_factory=list)
    """Scripted answers, used up in order: 5xx, 401, 403, 404, 429, … for the requests they match."""
    requests: list[tuple[str, str]] = field(default_factory=list)
    """Every REST request: (method, path after /api/v10)."""
    created: dict[int, float] = field(default_factory=dict)
    """When each interaction was sent (the loop's clock): Discord wants its first answer within three seconds."""
    uploads: dict[str, list[tuple[str, bytes]]] = field(default_factory=dict)
    """The files attached to each message the bot sent, by message id: (filename, bytes)."""
    identified: int = 0
    shards: list[tuple[int, int]] = field(default_factory=list)
    """The (shard id, shard count) of every IDENTIFY, in order."""
    guilds: dict[int, list[tuple[int, str]]] = field(
        default_factory=lambda: {
            GUILD_ID: [
                (ALERTS, "alerts"),
                (FORBIDDEN, "locked"),
                (NEWSROOMS[0], "desk-a"),
                (NEWSROOMS[1], "desk-b"),
                (NO_THREADS, "no-threads"),
            ]
        }
    )
    """Each guild's text channels; a guild's events go to the shard Discord's formula assigns it."""
    resumed: int = 0
    sequence: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    session_id: str = "session-1"
    link: Link | None = None
    """The gateway connection of the shard that holds the test guild."""
    compression: str = ""
    """The transport compression the client asked for (``compress=`` in the gateway URL)."""
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    heartbeat_interval_ms: int = 41250
    """What HELLO (op 10) tells the next connection; Discord's own is about 41 s."""
    acking: bool = True
    """Whether heartbeats (op 1) are acknowledged (op 11); False models ACKs lost on a half-dead connection."""
    heartbeats: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(10_000))

    # -- the gateway -----------------------------------------------------------------------

    async def gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.compression = request.query.get("compress", "")
        link = Link(ws, zlib.compressobj() if self.compression == "zlib-stream" else None)
        await link.send({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            payload = json.loads(message.data)
            if payload["op"] == 1:
                self.heartbeats += 1
                if self.acking:
                    await link.send({"op": 11})
            elif payload["op"] == 2:
                self.identified += 1
                shard_id, shard_count = payload["d"].get("shard") or [0, 1]
                self.shards.append((shard_id, shard_count))
                mine = [g for g in self.guilds if (g >> 22) % shard_count == shard_id]
                if GUILD_ID not in mine:  # another shard: its own READY and guilds, outside the replayed history
                    await link.send({"op": 0, "t": "READY", "s": 1, "d": self._ready(shard_id, shard_count, mine)})
                    for number, guild in enumerate(mine, start=2):
                        await link.send({"op": 0, "t": "GUILD_CREATE", "s": number, "d": self._guild(guild)})
                    continue
                self.link = link
                await self._dispatch("READY", self._ready(shard_id, shard_count, mine))
                for guild in mine:
                    await self._dispatch("GUILD_CREATE", self._guild(guild))
                self.connected.set()
            elif payload["op"] == 6:
                self.resumed += 1
                self.link = link
                missed = [e for e in self.history if e["s"] > (payload["d"]["seq"] or 0)]
                for event in missed:
                    await link.send(event)
                await self._dispatch("RESUMED", {})
                self.connected.set()
        if self.link is link:
            self.link = None
            self.connected.clear()
        return ws

    async def _dispatch(self, event: str, data: dict[str, Any]) -> None:
        self.sequence += 1
        frame = {"op": 0, "t": event, "s": self.sequence, "d": data}
        self.history.append(frame)
        if self.link is not None:
            await self.link.send(frame)

    async def drop(self) -> None:
        """Close the gateway connection as a network failure would; the client should resume."""
        link, self.link = self.link, None
        self.connected.clear()
        if link is not None:
            await link.ws.close(code=4000, message=b"emulated drop")

    async def reconnect(self) -> None:
        """Ask the client to reconnect (op 7), as Discord does when it moves a session: it should resume."""
        if self.link is not None:
            await self.link.send({"op": 7, "d": None})

    async def invalidate(self, *, resumable: bool = False) -> None:
        """Invalidate the session (op 9): a resumable one is resumed, any other must IDENTIFY anew."""
        if self.link is not None:
            await self.link.send({"op": 9, "d": resumable})

    def _ready(self, shard_id: int, shard_count: int, guilds: list[int]) -> dict[str, Any]:
        return {
            "v": 10,
            "user": BOT_USER,
            "guilds": [{"id": str(g), "unavailable": True} for g in guilds],
            "session_id": self.session_id,
            "resume_gateway_url": f"{self.base.replace('http', 'ws')}/gateway",
            "application": {"id": str(APP_ID), "flags": 0},
            "shard": [shard_id, shard_count],
        }

    def _guild(self, guild_id: int) -> dict[str, Any]:
        channels = [
            {
                "id": str(cid),
                "type": 0,
                "name": name,
                "guild_id": str(guild_id),
                "position": i,
                "permission_overwrites": [],
            }
            for i, (cid, name) in enumerate(self.guilds[guild_id])
        ]
        if guild_id == GUILD_ID:
            channels += [self._forum(cid) for cid in self.forums]
        everyone = {"id": str(guild_id), "name": "@everyone", "permissions": ALL_PERMISSIONS, "position": 0}
        return {
            "id": str(guild_id),
            "name": "Newsroom",
            "owner_id": str(MODERATOR),
            "roles": [{**everyone, "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0}],
            "channels": channels,
            "members": [{"user": BOT_USER, "roles": [], "joined_at": NOW, "deaf": False, "mute": False, "flags": 0}],
            "member_count": 2,
            "emojis": [],
            "stickers": [],
            "features": [],
            "threads": [t for t in self.threads.values() if t["guild_id"] == str(guild_id)],
            "preferred_locale": "en-US",
            "unavailable": False,
            "large": False,
            "joined_at": NOW,
        }

    def _forum(self, channel: int) -> dict[str, Any]:
        forum = self.forums[channel]
        deny = [] if forum["manage"] else [{"id": str(APP_ID), "type": 1, "allow": "0", "deny": str(MANAGE_CHANNELS)}]
        return {
            "id": str(channel), "type": 15, "name": forum["name"], "guild_id": str(GUILD_ID), "position": 10,
            "permission_overwrites": deny, "available_tags": forum["tags"], "flags": forum["flags"],
            "default_reaction_emoji": None, "default_sort_order": None, "default_forum_layout": 0,
            "default_thread_rate_limit_per_user": 0, "rate_limit_per_user": 0, "nsfw": False, "topic": None,
        }  # fmt: skip

    # -- what the test does ------------------------------------------------------------------

    async def command(self, name: str, options: list[dict[str, Any]] | None = None, *, channel: int = ALERTS) -> int:
        """Send a slash command as the moderator; returns the interaction id."""
        registered = next(c for c in self.commands if c["name"] == name)
        data: dict[str, Any] = {"id": registered["id"], "name": name, "type": 1, "options": options or []}
        picked = [int(o["value"]) for o in options or [] if o.get("type") == 7]  # channel options: resolved, as sent
        if picked:
            names = {c: n for channels in self.guilds.values() for c, n in channels}
            names.update({c: f["name"] for c, f in self.forums.items()})
            data["resolved"] = {"channels": {
                str(c): {"id": str(c), "name": names.get(c, "channel"), "type": 15 if c in self.forums else 0,
                         "permissions": ALL_PERMISSIONS}
                for c in picked
            }}  # fmt: skip
        return await self._interaction(2, data, channel)

    async def autocomplete(self, name: str, options: list[dict[str, Any]], *, channel: int = ALERTS) -> int:
        """Ask for a command's autocomplete choices (interaction type 4); ``options`` mark the one ``focused``."""
        registered = next(c for c in self.commands if c["name"] == name)
        data = {"id": registered["id"], "name": name, "type": 1, "options": options}
        return await self._interaction(4, data, channel)

    async def press(self, message: dict[str, Any], custom_id: str, *, expired: bool = False) -> int:
        """Click a button; ``expired`` makes Discord refuse the bot's reply as too late (10062)."""
        data = {"custom_id": custom_id, "component_type": 2}
        return await self._interaction(3, data, int(message["channel_id"]), message, expired=expired)

    async def _interaction(
        self,
        kind: int,
        data: dict[str, Any],
        channel: int,
        message: dict[str, Any] | None = None,
        *,
        expired: bool = False,
    ) -> int:
        interaction_id = next(self._ids)
        self.created[interaction_id] = asyncio.get_running_loop().time()
        if expired:
            self.expired.add(interaction_id)
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(APP_ID),
            "type": kind,
            "token": f"token-{interaction_id}",
            "version": 1,
            "guild_id": str(GUILD_ID),
            "channel_id": str(channel),
            "channel": self.threads.get(channel)
            or {"id": str(channel), "type": 0, "guild_id": str(GUILD_ID), "name": "alerts"},
            "member": {
                "user": MOD_USER,
                "roles": [],
                "joined_at": NOW,
                "permissions": ALL_PERMISSIONS,
                "deaf": False,
                "mute": False,
                "flags": 0,
            },
            "app_permissions": ALL_PERMISSIONS,
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(GUILD_ID)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
            "data": data,
        }
        if message is not None:
            payload["message"] = message
        await self._dispatch("INTERACTION_CREATE", payload)
        return interaction_id

    async def wait_for(self, predicate: Any, timeout: float = 60.0) -> Any:
        """Poll until ``predicate()`` returns something truthy, and return it."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = predicate()
            if found:
                return found
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("the emulator did not see what the test waited for")
            await asyncio.sleep(0.05)

    def replies(self, interaction_id: int) -> list[Callback]:
        return [c for c in self.callbacks if c.interaction_id == interaction_id]

    # -- REST ------------------------------------------------------------------------------

    def fail(self, method: str, path: str, status: int, **details: Any) -> Failure:
        failure = Failure(method, path, status, **details)
        self.failures.append(failure)
        return failure

    @web.middleware
    async def discord_rules(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """What every REST answer of Discord's shares: scripted failures first, then the spec, then rate headers."""
        if not request.path.startswith(API):
            return await handler(request)
        path = request.path.removeprefix(API)
        self.requests.append((request.method, path))
        failure = next(
            (f for f in self.failures if f.times > 0 and f.method == request.method and re.search(f.path, path)), None
        )
        if failure is not None:
            failure.times -= 1
            return failure.response()
        if request.method in ("POST", "PUT", "PATCH"):
            body, files = await read_body(request)
            request[PARSED] = (body, files)
            problems = spec().problems(request.method, path, body)
            if problems:
                self.violations.append((request.method, path, problems))
                errors = {"_errors": [{"code": "BASE_TYPE_INVALID", "message": p} for p in problems]}
                return reply({"code": 50035, "message": "Invalid Form Body", "errors": errors}, status=400)
        response = await handler(request)
        bucket = hashlib.sha1(re.sub(r"\d{6,}", "{id}", path).encode()).hexdigest()[:16]
        response.headers.update(
            {
                "X-RateLimit-Limit": "50",
                "X-RateLimit-Remaining": "49",
                "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
                "X-RateLimit-Reset-After": "1.000",
                "X-RateLimit-Bucket": bucket,
            }
        )
        return response

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.discord_rules])
        api = API
        app.router.add_get("/gateway", self.gateway)
        app.router.add_get(f"{api}/gateway/bot", self.gateway_bot)
        app.router.add_get(f"{api}/users/@me", self.current_user)
        app.router.add_get(f"{api}/oauth2/applications/@me", self.application)
        app.router.add_put(f"{api}/applications/{{app}}/guilds/{{guild}}/commands", self.overwrite_commands)
        app.router.add_put(f"{api}/applications/{{app}}/commands", self.overwrite_commands)
        app.router.add_post(f"{api}/channels/{{channel}}/messages", self.create_message)
        app.router.add_patch(f"{api}/channels/{{channel}}/messages/{{message}}", self.edit_message)
        app.router.add_get(f"{api}/channels/{{channel}}/messages/{{message}}", self.get_message)
        app.router.add_post(f"{api}/channels/{{channel}}/messages/{{message}}/threads", self.start_thread)
        app.router.add_post(f"{api}/channels/{{channel}}/threads", self.create_forum_post)
        app.router.add_get(f"{api}/channels/{{channel}}", self.get_channel)
        app.router.add_patch(f"{api}/channels/{{channel}}", self.edit_channel)
        app.router.add_post(f"{api}/interactions/{{id}}/{{token}}/callback", self.callback)
        app.router.add_post(f"{api}/webhooks/{{app}}/{{token}}", self.followup)
        app.router.add_patch(f"{api}/webhooks/{{app}}/{{token}}/messages/{{message}}", self.edit_followup)
        return app

    async def current_user(self, _: web.Request) -> web.Response:
        return reply(BOT_USER)

    async def gateway_bot(self, _: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
        return reply({"url": f"{self.base.replace('http', 'ws')}/gateway", "shards": 1, "session_start_limit": limit})

    async def application(self, _: web.Request) -> web.Response:
        return reply(
            {
                "id": str(APP_ID),
                "name": "Stancewatch",
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": MOD_USER,
                "verify_key": "0" * 64,
                "flags": 0,
                "team": None,
            }
        )

    async def overwrite_commands(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.commands = [
            {**c, "id": str(next(self._ids)), "application_id": str(APP_ID), "version": "1", "type": c.get("type", 1)}
            for c in body
        ]
        return reply(self.commands)

    def _message(self, channel: int, body: dict[str, Any]) -> dict[str, Any]:
        guild = next((g for g, channels in self.guilds.items() if channel in {c for c, _ in channels}), GUILD_ID)
        return {
            "id": str(next(self._ids)),
            "channel_id": str(channel),
            "guild_id": str(guild),
            "author": BOT_USER,
            "content": body.get("content") or "",
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "allowed_mentions": body.get("allowed_mentions"),
            "flags": body.get("flags", 0),
            "timestamp": NOW,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "pinned": False,
            "type": 0,
        }

    async def create_message(self, request: web.Request) -> web.Response:
        channel = int(request.match_info["channel"])
        if channel == FORBIDDEN:
            return reply({"message": "Missing Access", "code": 50001}, status=403)
        if channel in self.forums:  # a forum holds posts (threads), never messages of its own
            return reply({"message": "Cannot send messages in a non-text channel", "code": 50008}, status=400)
        body, files = await read_body(request)
        if body.get("enforce_nonce") and body.get("nonce"):  # Discord returns the earlier message, creates none
            for earlier in self.messages.get(channel, []):
                if earlier.get("nonce") == body["nonce"]:
                    return reply(earlier)
        message = {**self._message(channel, body), "nonce": body.get("nonce")}
        if body.get("message_reference"):
            message["message_reference"] = body["message_reference"]
        self._attach(message, files)
        self.messages.setdefault(channel, []).append(message)
        return reply(message)

    async def start_thread(self, request: web.Request) -> web.Response:
        """Start a public thread from a message: 50013 without the permission, 160004 when the message has one,
        10008 for an unknown message; the thread takes the message's id, as on Discord."""
        channel, message_id = int(request.match_info["channel"]), request.match_info["message"]
        body, _ = request[PARSED]
        if channel == NO_THREADS:
            return reply({"message": "Missing Permissions", "code": 50013}, status=403)
        if not any(m["id"] == message_id for m in self.messages.get(channel, [])):
            return reply({"message": "Unknown Message", "code": 10008}, status=404)
        if int(message_id) in self.threads:
            return reply({"message": "A thread has already been created for this message", "code": 160004}, 400)
        guild = next((g for g, channels in self.guilds.items() if channel in {c for c, _ in channels}), GUILD_ID)
        thread = {
            "id": message_id, "type": 11, "guild_id": str(guild), "parent_id": str(channel), "name": body["name"],
            "owner_id": BOT_USER["id"], "last_message_id": None, "rate_limit_per_user": 0, "message_count": 0,
            "member_count": 1, "flags": 0, "total_message_sent": 0,
            "thread_metadata": {"archived": False, "auto_archive_duration": body.get("auto_archive_duration", 1440),
                                "archive_timestamp": NOW, "locked": False},
        }  # fmt: skip
        self.threads[int(message_id)] = thread
        return reply(thread, status=201)

    async def create_forum_post(self, request: web.Request) -> web.Response:
        """A forum post: a thread whose starter message takes its id; 40067 when the forum requires a tag and none
        is applied, 50035 for a tag the forum does not have. THREAD_CREATE follows on the gateway, as on Discord."""
        channel = int(request.match_info["channel"])
        body, files = request[PARSED]
        forum = self.forums.get(channel)
        if forum is None:
            return reply({"message": "Unknown Channel", "code": 10003}, status=404)
        applied = [str(t) for t in body.get("applied_tags") or []]
        if forum["flags"] & REQUIRE_TAG and not applied:
            return reply({"message": "A tag is required to create a forum post in this channel", "code": 40067}, 400)
        known = {t["id"] for t in forum["tags"]}
        if any(t not in known for t in applied):
            self.violations.append(("POST", request.path, [f"applied_tags: {applied} not all in {sorted(known)}"]))
            return reply({"code": 50035, "message": "Invalid Form Body"}, status=400)
        thread_id = str(next(self._ids))
        thread = {
            "id": thread_id, "type": 11, "guild_id": str(GUILD_ID), "parent_id": str(channel), "name": body["name"],
            "owner_id": BOT_USER["id"], "last_message_id": thread_id, "rate_limit_per_user": 0, "message_count": 0,
            "member_count": 1, "flags": 0, "total_message_sent": 0, "applied_tags": applied,
            "thread_metadata": {"archived": False, "auto_archive_duration": body.get("auto_archive_duration") or 4320,
                                "archive_timestamp": NOW, "locked": False},
        }  # fmt: skip
        message = {**self._message(int(thread_id), body["message"]), "id": thread_id}
        self._attach(message, files)
        self.threads[int(thread_id)] = thread
        self.messages[int(thread_id)] = [message]
        await self._dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        return reply({**thread, "message": message}, status=201)

    async def get_channel(self, request: web.Request) -> web.Response:
        channel = int(request.match_info["channel"])
        if channel in self.forums:
            return reply(self._forum(channel))
        if channel in self.threads:
            return reply(self.threads[channel])
        return reply({"message": "Unknown Channel", "code": 10003}, status=404)

    async def edit_channel(self, request: web.Request) -> web.Response:
        """A forum's tags (50013 without Manage Channels; new tags get ids) or a post's applied tags."""
        channel = int(request.match_info["channel"])
        body, _ = request[PARSED]
        if channel in self.forums:
            forum = self.forums[channel]
            if not forum["manage"]:
                return reply({"message": "Missing Permissions", "code": 50013}, status=403)
            if "available_tags" in body:
                forum["tags"] = [
                    {
                        "emoji_id": None,
                        "emoji_name": None,
                        "moderated": False,
                        **tag,
                        "id": str(tag.get("id") or next(self._ids)),
                    }
                    for tag in body["available_tags"]
                ]
            await self._dispatch("CHANNEL_UPDATE", self._forum(channel))
            return reply(self._forum(channel))
        thread = self.threads.get(channel)
        if thread is None:
            return reply({"message": "Unknown Channel", "code": 10003}, status=404)
        if "applied_tags" in body:
            known = {t["id"] for t in self.forums.get(int(thread["parent_id"]), {}).get("tags", [])}
            applied = [str(t) for t in body["applied_tags"] or []]
            if any(t not in known for t in applied):
                self.violations.append(("PATCH", request.path, [f"applied_tags: {applied} not all in {sorted(known)}"]))
                return reply({"code": 50035, "message": "Invalid Form Body"}, status=400)
            thread["applied_tags"] = applied
        await self._dispatch("THREAD_UPDATE", thread)
        return reply(thread)

    async def get_message(self, request: web.Request) -> web.Response:
        channel, message_id = int(request.match_info["channel"]), request.match_info["message"]
        found = next((m for m in self.messages.get(channel, []) if m["id"] == message_id), None)
        return reply(found) if found else reply({"message": "Unknown Message", "code": 10008}, status=404)

    async def edit_message(self, request: web.Request) -> web.Response:
        """PATCH a message the bot posted: the fields sent replace the message's; 10008 for an unknown message."""
        channel, message_id = int(request.match_info["channel"]), request.match_info["message"]
        body, _ = await read_body(request)
        found = next((m for m in self.messages.get(channel, []) if m["id"] == message_id), None)
        if found is None:
            return reply({"message": "Unknown Message", "code": 10008}, status=404)
        found.update({k: v for k, v in body.items() if k in {"content", "embeds", "components", "allowed_mentions"}})
        found["edited_timestamp"] = NOW
        self.message_edits.append((channel, message_id))
        return reply(found)

    async def callback(self, request: web.Request) -> web.Response:
        body, _ = await read_body(request)
        interaction_id = int(request.match_info["id"])
        late = asyncio.get_running_loop().time() - self.created.get(interaction_id, 0.0) > INTERACTION_DEADLINE_S
        if interaction_id in self.expired or late:
            return reply({"message": "Unknown interaction", "code": 10062}, status=404)
        self.callbacks.append(Callback(interaction_id, body["type"], body.get("data") or {}))
        return reply({"interaction": {"id": str(interaction_id), "type": body["type"]}})

    async def followup(self, request: web.Request) -> web.Response:
        body, files = await read_body(request)
        message = self._message(ALERTS, body)
        self._attach(message, files)
        self.followups.append({**message, "token": request.match_info["token"]})
        return reply(message)

    def _attach(self, message: dict[str, Any], files: list[tuple[str, bytes]]) -> None:
        if not files:
            return
        self.uploads[message["id"]] = files
        message["attachments"] = [
            {
                "id": str(next(self._ids)),
                "filename": name,
                "size": len(data),
                "url": f"{self.base}/attachments/{name}",
                "proxy_url": f"{self.base}/attachments/{name}",
            }
            for name, data in files
        ]

    async def edit_followup(self, request: web.Request) -> web.Response:
        message = self._message(ALERTS, (await read_body(request))[0])
        self.edits.append({**message, "token": request.match_info["token"], "target": request.match_info["message"]})
        return reply(message)


@asynccontextmanager
async def serve_emulator() -> AsyncIterator[Emulator]:
    """An emulator listening on 127.0.0.1 at an ephemeral port, its ``base`` set."""
    emu = Emulator()
    runner = web.AppRunner(emu.app(), shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    emu.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield emu
        if emu.violations and not emu.violations_expected:
            raise AssertionError(f"The bot sent requests that Discord would refuse: {emu.violations}")
    finally:
        await runner.cleanup()
