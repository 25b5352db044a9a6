"""The real bot, unmodified, against the Discord emulator: commands, alerts, buttons, a dropped gateway.

discord.py is pointed at the emulator the only way it allows: its REST base URL and
its default gateway URL. The bot runs the real model, a real feed server and real
store files; the alert threshold is 0 so that any "inconsistent" verdict of the small
model is posted, which makes the Korean reference article a reliable clash.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import discord
import pytest
import yarl
from PIL import Image

from bot import StancewatchBot, running_bot
from cli.demo import ENGLISH_PAGE, ITEMS
from cogs.cards import AlertCard
from domain.records import Article, Judgement, Subscription
from ingest.parse import html_to_text
from llm.runtime.weights import TINY_MODEL
from settings import Secret, Settings
from tests.conftest import FeedServer, Route, rss
from tests.discord_emulator import ALERTS, FORBIDDEN, GUILD_ID, NEWSROOMS, Emulator, serve_emulator
from tests.test_alerts import clash

KOREAN = ("musk-ko", ITEMS[1]["title"], ITEMS[1]["content"])
ENGLISH = ("twitter-gpus", "Twitter buys thousands of GPUs for in-house AI project", html_to_text(ENGLISH_PAGE))
OLD = ("bikes", "City council approves new bicycle lanes", "The council voted to add bicycle lanes downtown. " * 10)


@pytest.fixture
async def emulator(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Emulator]:
    async with serve_emulator() as emu:
        monkeypatch.setattr(discord.http.Route, "BASE", f"{emu.base}/api/v10")
        monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(f"ws{emu.base[4:]}/gateway"))
        yield emu


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The store the bot runs on: TinyDB files unless a test asks for PostgreSQL too (``BOTH_BACKENDS``)."""
    return str(getattr(request, "param", "tinydb"))


BOTH_BACKENDS = pytest.mark.parametrize("backend", ["tinydb", "postgresql"], indirect=True)


@pytest.fixture
async def bot(
    emulator: Emulator, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> AsyncIterator[StancewatchBot]:
    database = request.getfixturevalue("database_url") if backend == "postgresql" else ""
    settings = Settings(
        database_url=Secret(database),
        discord_token=Secret("emulated.bot.token"),
        dev_guild_id=GUILD_ID,
        data_dir=tmp_path / "data",
        allow_private_feeds=True,
        alert_threshold=0.0,
        model_path=Path(TINY_MODEL),
    )
    async with running_bot(settings) as running:
        task = asyncio.create_task(running.start(settings.discord_token.value))
        await asyncio.wait_for(emulator.connected.wait(), 60)
        await asyncio.wait_for(running.wait_until_ready(), 30)
        yield running
        await running.close()
        await asyncio.wait_for(task, 30)


def clash_alerts(emu: Emulator) -> list[dict[str, Any]]:
    return [m for m in emu.messages.get(ALERTS, []) if m["embeds"] and "clash" in m["embeds"][0]["title"]]


async def reply_text(emu: Emulator, interaction_id: int) -> str:
    """The text the user sees: the response itself, or the follow-up after a deferral."""
    first = (await emu.wait_for(lambda: emu.replies(interaction_id)))[0]
    if first.type == 5:
        token = f"token-{interaction_id}"
        [followup] = await emu.wait_for(lambda: [f for f in emu.followups if f["token"] == token], timeout=30)
        return str(followup["content"])
    return str(first.data.get("content", ""))


async def test_the_whole_bot_against_the_emulator(
    emulator: Emulator, bot: StancewatchBot, feed_server: FeedServer
) -> None:
    emu = emulator
    # Commands were synced to the dev guild, with their Korean names.
    assert {"subscribe", "ask", "feed", "stance", "status"} <= {c["name"] for c in emu.commands}
    assert all(c.get("name_localizations", {}).get("ko") for c in emu.commands)

    feed_server.routes["/news.xml"] = Route(rss(OLD))
    url = feed_server.url("/news.xml")
    text = await reply_text(emu, await emu.command("manage-feeds", [{"name": "add", "type": 1, "options": [
        {"name": "url", "type": 3, "value": url}]}]))  # fmt: skip
    assert text.startswith("Watching")
    assert (await reply_text(emu, await emu.command("subscribe"))).startswith("Subscribed")
    assert (await reply_text(emu, await emu.command("subscribe", channel=FORBIDDEN))).startswith("Subscribed")
    twice = await reply_text(emu, await emu.command("manage-feeds", [{"name": "add", "type": 1, "options": [
        {"name": "url", "type": 3, "value": url}]}]))  # fmt: skip
    assert twice == f"{url} is already watched."
    [callback] = emu.replies(max(c.interaction_id for c in emu.callbacks))
    assert callback.data["flags"] & 64  # refusals are ephemeral

    await bot.watcher.poll_all()  # the scheduler's job, run now: the first fetch records, posts nothing
    await bot.watcher.drain()
    feed_server.routes["/news.xml"] = Route(rss(KOREAN, OLD))
    await bot.watcher.poll_all()
    [alert] = await emu.wait_for(lambda: clash_alerts(emu), timeout=120)
    embed = alert["embeds"][0]
    assert "Elon Musk" in embed["title"]
    assert any("futureoflife.org" in f["value"] for f in embed["fields"])  # the old position's source
    assert any("/musk-ko" in f["value"] for f in embed["fields"])  # the new statement's article
    assert alert["allowed_mentions"] == {"parse": []}
    buttons = alert["components"][0]["components"]
    assert [b["label"] for b in buttons] == ["Confirm", "Dismiss"]

    # The locked channel answered 403: its subscription is paused and says why.
    await emu.wait_for(lambda: [s for s in bot.store.subscriptions(FORBIDDEN) if s.paused_reason])
    listing = await reply_text(emu, await emu.command("subscriptions", channel=FORBIDDEN))
    assert "paused: the bot may not post there" in listing

    # /ask is deferred at once and answered by a follow-up with sources.
    asked = await emu.command("ask", [{"name": "question", "type": 3, "value": "What has Musk said about pausing AI?"}])
    [deferred] = await emu.wait_for(lambda: emu.replies(asked))
    assert deferred.type == 5  # deferred first: the answer comes as a follow-up
    followup = await emu.wait_for(lambda: [f for f in emu.followups if f["token"] == f"token-{asked}"])
    assert followup[0]["embeds"][0]["fields"][0]["name"] == "Sources"

    # A moderator confirms the alert with its button; the review is stored and shown.
    # An expired click (Unknown interaction, 10062) records nothing: the bot acknowledges before it stores.
    late = await emu.press(alert, buttons[1]["custom_id"], expired=True)
    await asyncio.sleep(0.5)
    assert not emu.replies(late) and not [j for j in bot.store.judgements("elon-musk") if j.review != "unreviewed"]
    pressed = await emu.press(alert, buttons[0]["custom_id"])
    [ack] = await emu.wait_for(lambda: emu.replies(pressed))
    assert ack.type == 6  # deferred update: acknowledged first
    [edit] = await emu.wait_for(lambda: [e for e in emu.edits if e["token"] == f"token-{pressed}"])
    assert edit["target"] == "@original" and edit["embeds"][0]["fields"][-1]["value"] == "Confirmed by moderator"
    assert edit["components"] == []
    reviewed = [j for j in bot.store.judgements("elon-musk") if j.review == "confirmed"]
    assert reviewed and all(j.reviewed_by.startswith("moderator") for j in reviewed)

    # /person show: the record as an embed, with the timeline picture attached to the same message.
    shown = await emu.command("person", [{"name": "show", "type": 1, "options": [
        {"name": "person", "type": 3, "value": "일론 머스크"}]}])  # fmt: skip
    [card] = await emu.wait_for(lambda: [f for f in emu.followups if f["token"] == f"token-{shown}"], timeout=60)
    [(name, picture)] = emu.uploads[card["id"]]
    assert name == "timeline.png" and card["embeds"][0]["image"]["url"] == "attachment://timeline.png"
    assert Image.open(io.BytesIO(picture)).size == (1000, 500)
    assert " 0 confirmed" not in card["embeds"][0]["fields"][-1]["value"]  # the clash confirmed above counts

    # The gateway drops; a command sent meanwhile is replayed after RESUME; no alert is lost or repeated.
    await emu.drop()
    missed = await emu.command("status")
    await emu.wait_for(lambda: emu.resumed == 1 and emu.connected.is_set())
    # It reaches the bot after RESUME; past Discord's three seconds, Discord refuses the answer (10062) and the bot
    # moves on. Either way the bot answered it.
    answered = f"/interactions/{missed}/token-{missed}/callback"
    await emu.wait_for(lambda: ("POST", answered) in emu.requests)
    feed_server.routes["/news.xml"] = Route(rss(ENGLISH, KOREAN, OLD))
    await bot.watcher.poll_all()
    # The English report of the same purchase joins the alert of each clash it shares with the Korean one (that
    # message is edited to list both); a clash on another position starts its own alert. Which positions the tiny
    # model finds differs from run to run, so the check is the rule itself: one posted alert per clash.
    await emu.wait_for(lambda: any("/twitter-gpus" in str(a["embeds"]) for a in clash_alerts(emu)), timeout=120)
    await bot.watcher.drain()
    await asyncio.sleep(1)  # time for a repeat, were there one
    alerts = clash_alerts(emu)
    assert emu.identified == 1  # resumed, never re-identified
    assert emu.compression == "zlib-stream"  # every gateway frame went deflated, as Discord sends them
    assert alerts[0]["id"] == alert["id"]
    assert sum("/musk-ko" in str(a["embeds"]) for a in alerts) == 1  # the Korean report: one alert, never again
    since = "2000-01-01T00:00:00Z"
    cards = {
        p.id: [c for c in bot.store.posted_clashes("elon-musk", p.id, since) if c.channel_id == ALERTS]
        for p in bot.store.positions("elon-musk")
    }
    assert all(len(posted) <= 1 for posted in cards.values()), cards  # one alert per clash in the channel
    joined = [p for posted in cards.values() for p in posted if p.latest != p.outbox_id]
    edited = {message for _, message in emu.message_edits}
    assert all(str(bot.store.outbox_message(p.outbox_id)) in edited for p in joined)  # each join edited its alert
    assert len(alerts) == len({p.outbox_id for posted in cards.values() for p in posted})


async def test_a_request_discord_would_refuse_is_answered_as_discord_does(emulator: Emulator) -> None:
    """Checked against Discord's own API spec: 400 with code 50035 and the error shape, and recorded."""
    emulator.violations_expected = True
    async with aiohttp.ClientSession() as session:
        url = f"{emulator.base}/api/v10/channels/{ALERTS}/messages"
        async with session.post(url, json={"content": "x" * 2001, "embeds": [{"url": "ftp://example.com"}]}) as bad:
            assert bad.status == 400
            body = await bad.json()
        async with session.post(url, json={"content": "fine", "allowed_mentions": {"parse": []}}) as good:
            assert good.status == 200 and good.headers["X-RateLimit-Remaining"]
        async with session.post(url, json={"content": 5}) as wrong_type:
            assert wrong_type.status == 400
    assert body["code"] == 50035 and body["message"] == "Invalid Form Body"
    assert [m["message"] for m in body["errors"]["_errors"]] == [
        "content: 2001 characters, more than 2000",
        "embeds.0.url: 'ftp://example.com' is not an http(s) URL",
    ]
    assert [(method, problems[0][:8]) for method, _, problems in emulator.violations] == [
        ("POST", "content:"),
        ("POST", "content:"),
    ]


async def test_delivery_survives_rate_limits_server_errors_a_rejection_and_a_reconnect(
    emulator: Emulator, bot: StancewatchBot
) -> None:
    """A soak: 300 messages to three channels through 429s (one global), 5xx, one 50035 and a gateway op 7.

    Every message arrives exactly once and in order in its channel, except the one Discord rejected, which is
    marked failed with Discord's code and never blocks the rest.
    """
    channels = (ALERTS, *NEWSROOMS)
    store = bot.store
    alerts = bot.get_cog("Alerts")
    await alerts.deliver_pending()  # type: ignore[union-attr]  # the start-up delivery is over: no race with it
    emulator.fail("POST", rf"/channels/{ALERTS}/messages", 429, retry_after=0.3, times=3)
    emulator.fail("POST", rf"/channels/{NEWSROOMS[0]}/messages", 429, retry_after=0.2, is_global=True)
    emulator.fail("POST", rf"/channels/{NEWSROOMS[0]}/messages", 502, times=2)
    emulator.fail("POST", rf"/channels/{NEWSROOMS[1]}/messages", 400, code=50035, message="Invalid Form Body")
    for number in range(100):
        for channel in channels:
            store.enqueue(channel, {"kind": "notice", "title": f"notice {number}", "text": f"{number}"}, GUILD_ID)
    await store.commit()
    delivery = asyncio.create_task(alerts.deliver_pending())  # type: ignore[union-attr]
    await emulator.wait_for(lambda: sum(len(emulator.messages.get(c, [])) for c in channels) > 100)
    await emulator.reconnect()
    await emulator.wait_for(lambda: emulator.resumed >= 1 and emulator.connected.is_set())
    await delivery
    await emulator.wait_for(lambda: not store.pending(), timeout=120)

    def titles(channel: int) -> list[str]:
        return [m["embeds"][0]["title"] for m in emulator.messages.get(channel, [])]

    expected = [f"notice {n}" for n in range(100)]
    assert titles(ALERTS) == expected and titles(NEWSROOMS[0]) == expected
    assert titles(NEWSROOMS[1]) == expected[1:]  # the first was rejected for good; the rest went on
    assert all(f.times == 0 for f in emulator.failures)
    snapshot = store.snapshot()["outbox"]
    failed = [row for row in snapshot if row["message_id"] == -1]
    assert len(failed) == 1 and "50035" in failed[0]["failure"]


@pytest.mark.parametrize(
    ("status", "code", "times", "outcome"),
    [
        (401, 0, 1, "held"),  # the token was refused: nothing is lost, it is delivered once the token works
        (502, 0, 1, "delivered"),  # discord.py retries a 5xx itself
        (429, 0, 2, "delivered"),  # and waits out a rate limit
        (403, 50013, 1, "paused: the bot may not post there"),
        (403, 50001, 1, "paused: the bot may not post there"),
        (404, 10003, 1, "paused: the channel is gone"),
        (400, 50035, 1, "failed"),
    ],
)
async def test_each_error_discord_answers_has_its_outcome(
    emulator: Emulator, bot: StancewatchBot, status: int, code: int, times: int, outcome: str
) -> None:
    """One message, one scripted answer from Discord (discord.py itself retries 5xx a few times first)."""
    await bot.get_cog("Alerts").deliver_pending()  # type: ignore[union-attr]  # after the start-up delivery, not beside it
    emulator.fail("POST", rf"/channels/{ALERTS}/messages", status, code=code, message="scripted", times=times)
    store = bot.store
    store.add_subscription(Subscription(channel_id=ALERTS, guild_id=GUILD_ID, receive="both"))
    outbox_id = store.enqueue(ALERTS, {"kind": "notice", "title": "n", "text": "t"}, GUILD_ID)
    await store.commit()
    await bot.get_cog("Alerts").deliver_pending()  # type: ignore[union-attr]
    [row] = [r for r in store.snapshot()["outbox"] if r["id"] == outbox_id]
    [sub] = store.subscriptions(ALERTS)
    if outcome == "delivered":
        assert row["message_id"] > 0 and emulator.requests.count(("POST", f"/channels/{ALERTS}/messages")) == times + 1
    elif outcome == "held":
        assert row["message_id"] == 0 and not sub.paused_reason  # still queued, to be retried in order
        emulator.failures.clear()
        await bot.get_cog("Alerts").deliver_pending()  # type: ignore[union-attr]
        assert [m["embeds"][0]["title"] for m in emulator.messages[ALERTS]] == ["n"]
    elif outcome == "failed":
        assert row["message_id"] == -1 and f"Discord code {code}" in row["failure"] and not sub.paused_reason
    else:
        assert sub.paused_reason == outcome.removeprefix("paused: ")


@pytest.mark.parametrize("resumable", [False, True])
async def test_an_invalidated_session_comes_back_and_keeps_answering(
    emulator: Emulator, bot: StancewatchBot, resumable: bool
) -> None:
    """Op 9: a resumable session is resumed, any other identified anew; either way commands are answered."""
    await emulator.invalidate(resumable=resumable)
    expected = (1, 1) if resumable else (2, 0)  # (IDENTIFYs, RESUMEs)
    await emulator.wait_for(lambda: (emulator.identified, emulator.resumed) == expected and emulator.connected.is_set())
    listed = await emulator.command("subscriptions")
    assert await reply_text(emulator, listed)


async def test_a_gateway_that_stops_acknowledging_heartbeats_is_left_and_resumed(
    emulator: Emulator, bot: StancewatchBot
) -> None:
    """Heartbeat ACKs lost: discord.py closes the silent connection as a zombie and resumes on a new one.

    Its ``heartbeat_timeout`` option (60 s unless set) is lowered, and HELLO asks for fast heartbeats, so the test
    takes seconds; the next connection (after a drop) gets both.
    """
    bot._connection.heartbeat_timeout = 2.0
    emulator.heartbeat_interval_ms = 250
    await emulator.drop()
    await emulator.wait_for(lambda: emulator.resumed == 1 and emulator.connected.is_set())
    await emulator.wait_for(lambda: emulator.heartbeats >= 2)  # acknowledged heartbeats: the link is healthy
    emulator.acking = False
    beats = emulator.heartbeats
    await emulator.wait_for(lambda: emulator.resumed >= 2 and emulator.connected.is_set(), timeout=30)
    assert emulator.heartbeats > beats and emulator.identified == 1  # it noticed the silence; the session went on
    emulator.acking = True
    listed = await emulator.command("subscriptions")
    assert await reply_text(emulator, listed)


async def test_a_rejected_command_reply_still_tells_the_user(emulator: Emulator, bot: StancewatchBot) -> None:
    """Discord refuses the first answer (50035): the error handler answers once, briefly, instead of nothing."""
    emulator.fail("POST", r"/interactions/\d+/[^/]+/callback", 400, code=50035, message="Invalid Form Body")
    asked = await emulator.command("status")
    [answer] = await emulator.wait_for(lambda: emulator.replies(asked))
    assert answer.data["content"] == "Something went wrong on our side; the error was logged."
    assert answer.data["flags"] & 64


async def test_a_review_of_a_deleted_alert_is_kept(emulator: Emulator, bot: StancewatchBot) -> None:
    """The alert was deleted before the moderator's click was shown (10008): the review is stored all the same."""
    alerts = bot.get_cog("Alerts")
    await alerts.deliver_pending()  # type: ignore[union-attr]  # the start-up delivery is over: no race with it
    store, clashed = bot.store, clash()
    judgement = Judgement(clashed.position_id, clashed.person_id, clashed.statement, "inconsistent", 0.9, "r")
    store.record_article(Article("a", clashed.article_url), [judgement])
    store.enqueue(ALERTS, {"kind": "clash", "card": AlertCard.for_clashes([clashed]).to_payload()}, GUILD_ID)
    await store.commit()
    await alerts.deliver_pending()  # type: ignore[union-attr]
    [alert] = emulator.messages[ALERTS]
    confirm = alert["components"][0]["components"][0]["custom_id"]
    emulator.fail("PATCH", r"/webhooks/\d+/[^/]+/messages/@original", 404, code=10008, message="Unknown Message")
    pressed = await emulator.press(alert, confirm)
    [ack] = await emulator.wait_for(lambda: emulator.replies(pressed))
    assert ack.type == 6
    await emulator.wait_for(lambda: not emulator.failures[0].times)  # the edit was tried and refused
    assert (store.judgement(judgement.id) or judgement).review == "confirmed"


async def test_autocomplete_offers_short_keys_for_long_feed_urls_and_subscriptions(
    emulator: Emulator, bot: StancewatchBot, feed_server: FeedServer
) -> None:
    """Choice values hold at most 100 characters (Discord refuses more): a 150-character feed URL is offered by key."""
    emu = emulator
    path = "/" + "ai-policy-and-regulation-" * 5 + "feed.xml"
    feed_server.routes[path] = Route(rss(OLD))
    url = feed_server.url(path)
    assert len(url) > 140

    def subcommand(name: str, option: str, value: str, *, focused: bool = False) -> list[dict[str, Any]]:
        return [{"name": name, "type": 1, "options": [{"name": option, "type": 3, "value": value, "focused": focused}]}]

    assert (await reply_text(emu, await emu.command("manage-feeds", subcommand("add", "url", url)))).startswith("Wat")
    asked = await emu.autocomplete("manage-feeds", subcommand("remove", "url", "regulation", focused=True))
    [answer] = await emu.wait_for(lambda: emu.replies(asked))
    [choice] = answer.data["choices"]
    assert answer.type == 8 and len(choice["value"]) <= 100 and choice["name"].startswith("http://feeds.example.org")

    # Subscribing to the feed by its key, then unsubscribing by the subscription's key.
    options = [{"name": "kind", "type": 3, "value": "feed"}, {"name": "target", "type": 3, "value": choice["value"]}]
    assert (await reply_text(emu, await emu.command("subscribe", options))).startswith("Subscribed")
    assert [s.target for s in bot.store.subscriptions(ALERTS)] == [url]
    asked = await emu.autocomplete("unsubscribe", [{"name": "subscription", "type": 3, "value": "", "focused": True}])
    [answer] = await emu.wait_for(lambda: emu.replies(asked))
    [mine] = answer.data["choices"]
    assert len(mine["value"]) <= 100 and "<#" not in mine["name"]
    options = [{"name": "subscription", "type": 3, "value": mine["value"]}]
    assert await reply_text(emu, await emu.command("unsubscribe", options)) == "Unsubscribed."

    removed = await reply_text(emu, await emu.command("manage-feeds", subcommand("remove", "url", choice["value"])))
    assert removed.startswith("Stopped watching") and bot.store.feed(url) is None


@BOTH_BACKENDS
async def test_alerts_that_need_review_wait_for_a_moderator(
    emulator: Emulator, bot: StancewatchBot, feed_server: FeedServer
) -> None:
    """Held in the review channel; Confirm posts the alert to the subscriber once, Dismiss posts it nowhere."""
    emu, desk = emulator, NEWSROOMS[0]
    refused = await reply_text(
        emu, await emu.command("subscribe", [{"name": "review", "type": 3, "value": "required"}])
    )
    assert refused.startswith("Set a review channel first")
    picked = [{"name": "channel", "type": 7, "value": str(desk)}]
    assert (await reply_text(emu, await emu.command("review-channel", picked))).endswith(f"<#{desk}>.")
    subscribed = await reply_text(
        emu, await emu.command("subscribe", [{"name": "review", "type": 3, "value": "required"}])
    )
    assert "review required" in subscribed

    feed_server.routes["/news.xml"] = Route(rss(OLD))
    added = [{"name": "add", "type": 1, "options": [{"name": "url", "type": 3, "value": feed_server.url("/news.xml")}]}]
    assert (await reply_text(emu, await emu.command("manage-feeds", added))).startswith("Watching")
    await bot.watcher.poll_all()
    await bot.watcher.drain()
    feed_server.routes["/news.xml"] = Route(rss(KOREAN, OLD))
    await bot.watcher.poll_all()
    [held] = await emu.wait_for(lambda: [m for m in emu.messages.get(desk, []) if m["embeds"]], timeout=120)
    assert held["embeds"][0]["description"].startswith(f"Held for review: Confirm posts it to <#{ALERTS}>")
    assert clash_alerts(emu) == []  # nothing reaches the subscriber before a moderator confirms
    confirm, _ = (b["custom_id"] for b in held["components"][0]["components"])
    pressed = await emu.press(held, confirm)
    await emu.wait_for(lambda: emu.replies(pressed))
    [posted] = await emu.wait_for(lambda: clash_alerts(emu), timeout=30)
    assert "/musk-ko" in str(posted["embeds"])
    again = await emu.press(held, confirm)  # a second click (a stale client): nothing more is posted
    await emu.wait_for(lambda: emu.replies(again))

    feed_server.routes["/news.xml"] = Route(rss(ENGLISH, KOREAN, OLD))  # the English report: held, then dismissed
    await bot.watcher.poll_all()
    [second] = await emu.wait_for(lambda: [m for m in emu.messages.get(desk, []) if m["embeds"]][1:], timeout=120)
    dismissed = await emu.press(second, second["components"][0]["components"][1]["custom_id"])
    await emu.wait_for(lambda: emu.replies(dismissed))
    await bot.watcher.drain()
    await asyncio.sleep(1)  # time for a post that must not come
    assert len(clash_alerts(emu)) == 1 and "/twitter-gpus" not in str(clash_alerts(emu))


@BOTH_BACKENDS
async def test_a_moderators_question_is_drafted_confirmed_and_then_takes_positions(
    emulator: Emulator, bot: StancewatchBot
) -> None:
    """The model drafts both sides (the tiny model may give none: the moderator is told so), the moderator
    rewrites one side and confirms, and a position can stand under the question from then on."""
    emu, store = emulator, bot.store

    def options(name: str, **values: object) -> list[dict[str, Any]]:
        typed = [{"name": k, "type": 5 if isinstance(v, bool) else 3, "value": v} for k, v in values.items()]
        return [{"name": name, "type": 1, "options": typed}]

    text = "Should lethal autonomous weapons be banned?"
    stored = await reply_text(emu, await emu.command("manage-stances", options("question", text=text)))
    question_id = "should-lethal-autonomous-weapons-be-banned"
    assert stored.startswith(f"Stored the question `{question_id}`")
    assert ("not read by the judge until confirmed" in stored) or ("No sides yet" in stored)
    again = await reply_text(emu, await emu.command("manage-stances", options("question", text=text)))
    assert again == f"The question `{question_id}` exists; see its sides with /manage-stances sides."

    edit = options("sides", question=question_id, supports="calls for a ban on weapons that pick their own targets",
                   opposes="builds, funds or sells autonomous weapons")  # fmt: skip
    confirmed = await reply_text(emu, await emu.command("manage-stances", edit))
    assert confirmed.startswith("Confirmed; the judge reads these sides now.")
    question = await store.run(store.question, question_id)
    assert (
        question is not None and question.opposes == "builds, funds or sells autonomous weapons" and not question.draft
    )

    add = options("add", person="elon-musk", question=question_id, stance="favor", claim="Signed the 2017 UN letter.",
                  source_url="https://futureoflife.org/open-letter/", date="2017-08")  # fmt: skip
    assert (await reply_text(emu, await emu.command("manage-stances", add))).startswith("Stored `elon-musk-")
    unknown = options("sides", question="no-such-question", confirm=True)
    assert "add one with /manage-stances question" in await reply_text(
        emu, await emu.command("manage-stances", unknown)
    )


async def test_a_statement_joining_a_reviewed_alert_keeps_the_review_in_sight(
    emulator: Emulator, bot: StancewatchBot
) -> None:
    """The moderator confirmed the alert; a later report of the same clash edits the card, and the card still says
    who confirmed it."""
    from delivery.routing import route_clashes
    from domain.records import Article, Judgement

    emu, store, alerts_cog = emulator, bot.store, bot.get_cog("Alerts")
    first, later = clash(n=1), replace(clash(n=1), statement="Twitter bought about 10,000 GPUs.")
    judgement = Judgement(first.position_id, first.person_id, first.statement, "inconsistent", 0.9, "flip")
    article = Article("gpus", "https://news.example.com/gpus", title="GPUs")
    await store.run(store.record_article, article, [judgement])
    await store.run(route_clashes, store, ALERTS, GUILD_ID, [first], 1_780_000_000.0)
    await store.commit()
    await alerts_cog.deliver_pending()  # type: ignore[union-attr]
    [alert] = await emu.wait_for(lambda: clash_alerts(emu))
    pressed = await emu.press(alert, alert["components"][0]["components"][0]["custom_id"])
    await emu.wait_for(lambda: [e for e in emu.edits if e["token"] == f"token-{pressed}"])

    await store.run(route_clashes, store, ALERTS, GUILD_ID, [later], 1_780_000_000.0 + 3600)
    await store.commit()
    await alerts_cog.deliver_pending()  # type: ignore[union-attr]
    await emu.wait_for(lambda: emu.message_edits)
    [card] = clash_alerts(emu)
    fields = {f["name"]: f["value"] for f in card["embeds"][0]["fields"]}
    assert fields["Review"] == "Confirmed by moderator"
    assert "10,000 GPUs" in str(card["embeds"][0])  # the joined statement is listed


@BOTH_BACKENDS
async def test_status_and_manage_stances_learning_show_and_reset_the_servers_learned_judge(
    emulator: Emulator, bot: StancewatchBot
) -> None:
    emu, store = emulator, bot.store
    status = await reply_text(emu, await emu.command("status"))
    assert "Learning: The judge is the shipped one: no reviews in this server yet." in status
    reset = [{"name": "learning", "type": 1, "options": [{"name": "action", "type": 3, "value": "reset"}]}]
    answer = await reply_text(emu, await emu.command("manage-stances", reset))
    assert answer.startswith("Reset. The judge is the shipped one: no reviews in this server yet since the reset at")
    [marker] = await store.run(store.moderator_reviews, GUILD_ID)
    assert marker.judgement_id == "reset" and marker.by.startswith("moderator")


@BOTH_BACKENDS
async def test_every_alert_starts_a_thread_that_hears_its_review_and_the_statements_joining_it(
    emulator: Emulator, bot: StancewatchBot, caplog: pytest.LogCaptureFixture
) -> None:
    """Named from the person and question within 100 characters; Confirm and a joining report land in it; a
    channel where the bot may not start threads gets its alerts without one, logged once; a resend after a crash
    (Discord: 160004, the thread exists) is no failure."""
    from delivery.messages import ClashAlert
    from delivery.routing import route_clashes
    from domain.records import Article, Judgement
    from tests.discord_emulator import NO_THREADS

    emu, store, alerts_cog = emulator, bot.store, bot.get_cog("Alerts")
    assert alerts_cog is not None
    long_question = "Should frontier AI development be paused until it is provably safe? " * 3
    first = replace(clash(n=1), question=long_question)
    later = replace(first, statement="Twitter bought about 10,000 GPUs.")
    judgement = Judgement(first.position_id, first.person_id, first.statement, "inconsistent", 0.9, "flip")
    await store.run(store.record_article, Article("gpus", "https://news.example.com/gpus"), [judgement])
    for channel, at in ((ALERTS, 0.0), (NO_THREADS, 1.0), (NO_THREADS, 2.0)):
        mine = first if at < 2 else replace(first, position_id="other-position")
        await store.run(route_clashes, store, channel, GUILD_ID, [mine], 1_780_000_000.0 + at)
    await store.commit()
    with caplog.at_level("WARNING", logger="cogs.alerts"):
        await alerts_cog.deliver_pending()  # type: ignore[attr-defined]
    [alert] = await emu.wait_for(lambda: clash_alerts(emu))
    thread = emu.threads[int(alert["id"])]
    assert (
        thread["parent_id"] == str(ALERTS) and len(thread["name"]) <= 100 and thread["name"].startswith("Elon Musk: ")
    )
    assert len([m for m in emu.messages.get(NO_THREADS, []) if m["embeds"]]) == 2  # posted all the same
    assert caplog.text.count("no thread on alerts") == 1  # once a channel

    pressed = await emu.press(alert, alert["components"][0]["components"][0]["custom_id"])
    said = await emu.wait_for(lambda: emu.messages.get(int(alert["id"]), []))
    assert said[0]["content"].startswith("Confirmed by moderator (<t:")

    await store.run(route_clashes, store, ALERTS, GUILD_ID, [later], 1_780_000_000.0 + 3600)
    await store.commit()
    await alerts_cog.deliver_pending()  # type: ignore[attr-defined]
    joined = await emu.wait_for(lambda: [m for m in emu.messages.get(int(alert["id"]), []) if m["embeds"]])
    assert "10,000 GPUs" in str(joined[0]["embeds"]) and pressed

    korean = NEWSROOMS[1]  # a Korean channel names its threads in Korean: the question's stored translation
    await store.run(store.add_subscription, Subscription(korean, GUILD_ID, language="ko"))
    await store.run(route_clashes, store, korean, GUILD_ID, [clash(n=2)], 1_780_000_000.0 + 7200)
    await store.commit()
    await alerts_cog.deliver_pending()  # type: ignore[attr-defined]
    [named] = [t["name"] for t in emu.threads.values() if t["parent_id"] == str(korean)]
    assert named == "Elon Musk: 최첨단 AI 개발을 일시 중단해야 하는가?"

    channel = bot.get_channel(ALERTS)
    assert isinstance(channel, discord.TextChannel)
    message = channel.get_partial_message(int(alert["id"]))  # a resend after a crash
    await alerts_cog._start_thread(message, ClashAlert((first,)))  # type: ignore[attr-defined]
    assert len(emu.threads) == 2


@BOTH_BACKENDS
async def test_subscribe_takes_keyword_filters_shows_them_and_refuses_one_that_can_never_match(
    emulator: Emulator, bot: StancewatchBot
) -> None:
    emu = emulator

    def subscribe(**values: str) -> list[dict[str, Any]]:
        return [{"name": k, "type": 3, "value": v} for k, v in values.items()]

    text = await reply_text(
        emu, await emu.command("subscribe", subscribe(include="AI act, 인공지능", exclude="rumour"))
    )
    assert text.endswith("everything, clashes, min confidence 0.00, only with AI act, 인공지능, never with rumour")
    [sub] = await bot.store.run(bot.store.subscriptions, ALERTS)
    assert (sub.include, sub.exclude) == (["AI act", "인공지능"], ["rumour"])
    refused = await reply_text(emu, await emu.command("subscribe", subscribe(include=" , ,")))
    assert refused == "The include filter holds no word or phrase: write them between commas, e.g. ai act, 인공지능."
    listed = await reply_text(emu, await emu.command("subscriptions"))
    assert "only with AI act, 인공지능, never with rumour" in listed


@BOTH_BACKENDS
async def test_a_digest_subscription_gets_one_message_at_its_hour_and_nothing_before(
    emulator: Emulator, bot: StancewatchBot
) -> None:
    from analysis.article import ArticleReport
    from delivery.digest import post_due_digests
    from delivery.routing import route_report

    emu, store, alerts_cog = emulator, bot.store, bot.get_cog("Alerts")
    options = [
        {"name": "receive", "type": 3, "value": "digest"},
        {"name": "timezone", "type": 3, "value": "Asia/Seoul"},
        {"name": "digest_hour", "type": 4, "value": 7},
    ]
    text = await reply_text(emu, await emu.command("subscribe", options))
    assert text.endswith("everything, digest, min confidence 0.00, daily at 07:00 (Asia/Seoul)")
    bad = [{"name": "receive", "type": 3, "value": "digest"}, {"name": "timezone", "type": 3, "value": "Mars/Olympus"}]
    assert "I know no time zone 'Mars/Olympus'" in await reply_text(emu, await emu.command("subscribe", bad))
    report = ArticleReport("https://news.example.com/d", "GPUs", "en", True, "Twitter bought GPUs.", clashes=[clash()])
    await store.run(route_report, store, "https://feeds.example.org/f", report)
    await store.commit()
    await alerts_cog.deliver_pending()  # type: ignore[union-attr]
    assert not [m for m in emu.messages.get(ALERTS, []) if m["embeds"]]  # held for the digest
    assert await store.run(post_due_digests, store, time.time() + 86400) == 1
    await store.commit()
    await alerts_cog.deliver_pending()  # type: ignore[union-attr]
    [digest] = await emu.wait_for(lambda: [m for m in emu.messages.get(ALERTS, []) if m["embeds"]])
    assert [e["title"] for e in digest["embeds"]] == ["Clash alerts", "Summaries"]
    assert "(not reviewed)" in digest["embeds"][0]["description"] and "Elon Musk" in digest["embeds"][0]["description"]


@BOTH_BACKENDS
async def test_a_forum_gets_a_tagged_post_per_alert_and_one_post_a_day_per_feed_for_summaries(
    emulator: Emulator, bot: StancewatchBot, caplog: pytest.LogCaptureFixture
) -> None:
    """Each alert a post named from person and question, tagged with its state and person (tags created where the
    bot may manage them); a review retags it and is said in it; a joining statement edits its starter and follows
    in it; a resend after a crash finds the post instead of making a second; a feed's summaries share one post
    a day; a forum that requires a tag the bot may not create refuses the post (40067), which fails alone."""
    from analysis.article import ArticleReport
    from delivery.messages import ClashAlert
    from delivery.routing import route_clashes, route_report
    from tests.discord_emulator import FORUM, STRICT_FORUM

    emu, store, alerts_cog = emulator, bot.store, bot.get_cog("Alerts")
    assert alerts_cog is not None
    for forum in (FORUM, STRICT_FORUM):
        options = [{"name": "channel", "type": 7, "value": str(forum)}, {"name": "receive", "type": 3, "value": "both"}]
        assert (await reply_text(emu, await emu.command("subscribe", options))).startswith(f"Subscribed <#{forum}>")
    first = clash(n=1)
    judgement = Judgement(first.position_id, first.person_id, first.statement, "inconsistent", 0.9, "flip")
    await store.run(store.record_article, Article("gpus", "https://news.example.com/gpus"), [judgement])
    for forum in (FORUM, STRICT_FORUM):
        await store.run(route_clashes, store, forum, GUILD_ID, [first], 1_780_000_000.0)
    await store.commit()
    queued = {channel: outbox_id for outbox_id, channel, _ in await store.run(store.pending)}
    with caplog.at_level("WARNING", logger="cogs"):
        await alerts_cog.deliver_pending()  # type: ignore[attr-defined]
    [post] = [t for t in emu.threads.values() if t["parent_id"] == str(FORUM)]
    tags = {t["id"]: t["name"] for t in emu.forums[FORUM]["tags"]}
    assert post["name"].startswith("Elon Musk: ") and [tags[t] for t in post["applied_tags"]] == [
        "Possible clash",
        "Elon Musk",
    ]
    assert not [t for t in emu.threads.values() if t["parent_id"] == str(STRICT_FORUM)]  # 40067: no tag it may use
    outbox_id = queued[FORUM]
    assert await store.run(store.outbox_message, outbox_id) == int(post["id"])
    assert await store.run(store.outbox_message, queued[STRICT_FORUM]) == -1  # failed, with Discord's reason
    assert "Forum 3006: posts go without the tags it lacks: Discord refused new tags (403, 50013)" in caplog.text
    assert "Discord code 40067" in caplog.text
    forum_channel = bot.get_channel(FORUM)
    assert isinstance(forum_channel, discord.ForumChannel)
    again = await alerts_cog._to_forum(outbox_id, forum_channel, ClashAlert((first,)))  # type: ignore[attr-defined]
    assert again == int(post["id"]) and len(emu.threads) == 1  # a resend after a crash

    starter = emu.messages[int(post["id"])][0]
    pressed = await emu.press(starter, starter["components"][0]["components"][0]["custom_id"])
    await emu.wait_for(lambda: emu.replies(pressed))

    def applied() -> list[str]:
        named = {t["id"]: t["name"] for t in emu.forums[FORUM]["tags"]}
        return [named[t] for t in post["applied_tags"]]

    await emu.wait_for(lambda: "Confirmed" in applied(), timeout=10)
    assert applied() == ["Elon Musk", "Confirmed"]
    said = await emu.wait_for(lambda: [m for m in emu.messages[int(post["id"])] if m["content"]])
    assert said[0]["content"].startswith("Confirmed by moderator")

    later = replace(first, statement="Twitter bought about 10,000 GPUs.")
    await store.run(route_clashes, store, FORUM, GUILD_ID, [later], 1_780_000_000.0 + 3600)
    await store.commit()
    await alerts_cog.deliver_pending()  # type: ignore[attr-defined]
    assert (int(post["id"]), post["id"]) in emu.message_edits and "10,000 GPUs" in str(emu.messages[int(post["id"])])

    for n in (1, 2):
        report = ArticleReport(f"https://news.example.com/s{n}", f"Story {n}", "en", True, f"Summary {n}.")
        await store.run(route_report, store, "https://feeds.example.org/ai.xml", report)
    await store.commit()
    await alerts_cog.deliver_pending()  # type: ignore[attr-defined]
    [day] = [t for t in emu.threads.values() if t["name"].startswith("feeds.example.org/ai.xml · ")]
    assert [m["embeds"][0]["title"] for m in emu.messages[int(day["id"])]] == ["Story 1", "Story 2"]
    tags = {t["id"]: t["name"] for t in emu.forums[FORUM]["tags"]}
    assert [tags[t] for t in day["applied_tags"]] == ["Summaries"]
