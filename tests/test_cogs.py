"""Slash commands and alert posting, called with fake interactions (dpytest has no slash commands)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import discord
import pytest
from discord import app_commands

from analysis.article import ArticleReport
from bot import StancewatchTree
from cogs.alerts import Alerts
from cogs.ask import Ask
from cogs.common import PersonTransformer, UserError
from cogs.feeds import Feeds
from cogs.people import People
from cogs.stances import Stances
from cogs.subscriptions import Subscriptions
from delivery.routing import route_notice, route_report
from domain.clash import Clash
from domain.records import Article, Feed, FeedItem, Judgement, Position, Statement, Subscription
from ingest.http import make_session
from llm.runtime.backend import LLM
from settings import Settings
from storage.files.store import Store
from tests.conftest import FeedServer, Route, rss


@dataclass
class Sent:
    content: str | None
    kwargs: dict[str, Any]


@dataclass
class FakeResponse:
    sent: list[Sent] = field(default_factory=list)
    deferred: bool = False

    def is_done(self) -> bool:
        return self.deferred or bool(self.sent)

    async def send_message(self, content: str | None = None, **kwargs: Any) -> None:
        self.sent.append(Sent(content, kwargs))

    async def defer(self, **kwargs: Any) -> None:
        self.deferred = True


@dataclass
class FakeFollowup:
    sent: list[Sent] = field(default_factory=list)

    async def send(self, content: str | None = None, **kwargs: Any) -> None:
        self.sent.append(Sent(content, kwargs))


def interaction(*, manage_guild: bool = False, manage_channels: bool = False, channel_id: int = 100) -> Any:
    return SimpleNamespace(
        user=SimpleNamespace(id=7),
        guild=SimpleNamespace(id=1),
        guild_id=1,
        channel_id=channel_id,
        guild_locale=discord.Locale.korean,
        locale=discord.Locale.american_english,
        permissions=discord.Permissions(manage_guild=manage_guild, manage_channels=manage_channels),
        response=FakeResponse(),
        followup=FakeFollowup(),
        command=None,
    )


async def run_checks(command: app_commands.Command[Any, Any, Any], inter: Any) -> None:
    """The command's checks, as the tree runs them before its callback (raising the first that fails)."""
    for check in command.checks:
        await discord.utils.maybe_coroutine(check, inter)


def fake_bot(store: Store, engine: Any = None) -> Any:
    return SimpleNamespace(store=store, engine=engine, settings=Settings(), started=datetime.now())


async def test_subscribe_here_and_list(store: Store) -> None:
    cog = Subscriptions(fake_bot(store))
    inter = interaction(manage_channels=True)
    await cog.subscribe.callback(cog, inter, kind="person", target="머스크")  # type: ignore[arg-type]
    [sub] = store.subscriptions(100)
    assert (sub.target_kind, sub.target, sub.language) == ("person", "elon-musk", "ko")
    assert inter.response.sent[0].kwargs["ephemeral"] is True
    listing = interaction()
    await cog.list_subscriptions.callback(cog, listing)  # type: ignore[arg-type]
    assert "person elon-musk" in (listing.response.sent[0].content or "")


async def test_subscribe_refusals_leave_the_store_unchanged(store: Store) -> None:
    cog = Subscriptions(fake_bot(store))
    with pytest.raises(UserError, match="Manage Channels"):
        await cog.subscribe.callback(cog, interaction())  # type: ignore[arg-type]
    other = SimpleNamespace(id=555)
    with pytest.raises(UserError, match="Manage Server"):
        await cog.subscribe.callback(cog, interaction(manage_channels=True), channel=other)  # type: ignore[arg-type]
    with pytest.raises(UserError, match="no person called 'Nobody'"):
        await cog.subscribe.callback(cog, interaction(manage_channels=True), kind="person", target="Nobody")  # type: ignore[arg-type]
    assert store.subscriptions() == []


async def test_feed_add_checks_the_feed_before_watching_it(store: Store, feed_server: FeedServer) -> None:
    feed_server.routes["/rss"] = Route(rss(("a", "AI bill", "Text"), ("b", "Other", "More")))
    feed_server.routes["/page"] = Route(
        b'<!doctype html><html><head><link rel="alternate" type="application/rss+xml" href="/rss"></head></html>'
    )
    async with make_session(allow_private=True) as session:
        bot = fake_bot(store)
        bot.settings, bot.session = Settings(allow_private_feeds=True), session
        cog = Feeds(bot)
        with pytest.raises(app_commands.MissingPermissions, match="Manage Server"):
            await run_checks(cog.feed_add, interaction())  # the tree runs them before the callback
        page = interaction(manage_guild=True)
        with pytest.raises(
            UserError, match=r"Not added: .*/page is an HTML page, not a feed\. It links a feed at .*/rss"
        ):
            await cog.feed_add.callback(cog, page, feed_server.url("/page"))  # type: ignore[arg-type]
        assert page.response.deferred and store.feeds() == []
        added = interaction(manage_guild=True)
        await cog.feed_add.callback(cog, added, feed_server.url("/rss"))  # type: ignore[arg-type]
        assert "(2 items now;" in (added.followup.sent[0].content or "")
    assert [f.url for f in store.feeds()] == [feed_server.url("/rss")]


async def test_ask_defers_and_answers_with_sources(store: Store, engine: LLM) -> None:
    cog = Ask(fake_bot(store, engine))
    inter = interaction()
    await cog.ask.callback(cog, inter, "What has Musk said about pausing AI?", True)  # type: ignore[arg-type]
    assert inter.response.deferred
    embed = inter.followup.sent[0].kwargs["embed"]
    sources = embed.fields[0].value
    assert "futureoflife.org" in sources and "\\[1\\]" in sources
    assert inter.followup.sent[0].kwargs["allowed_mentions"].everyone is False


async def test_an_answer_resting_on_hostile_article_text_links_nothing_it_should_not(store: Store, engine: LLM) -> None:
    """A statement from an article is evidence, and its words reach the answer: escaped, with no unsafe link."""
    text = "Musk said [Real story](https://phish.example/login) @everyone # pause now"
    statement = Statement(
        "s-hostile",
        "elon-musk",
        text,
        "javascript:alert(1)",
        date="2023-04-11",
        kind="said",
        question="pause-frontier-ai",
    )
    verdict = Judgement("musk-fli-pause-2023", "elon-musk", text, "consistent", 0.9, "r")
    store.record_article(Article("link:hostile", "https://news.example.com/h"), [verdict], [statement])
    cog = Ask(fake_bot(store, engine))
    inter = interaction()
    await cog.ask.callback(cog, inter, "Did Musk support the pause?", False)  # type: ignore[arg-type]
    sent = inter.followup.sent[0].kwargs
    embed = sent["embed"]
    shown = "\n".join([embed.description or "", embed.fields[0].value])
    assert "Real story" in embed.description and "[Real story](" not in shown  # escaped: no masked link
    assert "javascript:" not in shown  # an unsafe source URL is never a link
    assert sent["allowed_mentions"].everyone is False


@pytest.mark.parametrize(("question", "message"), [("   ", "Ask a question"), ("x" * 4000, "limited to 500")])
async def test_ask_rejects_bad_questions(store: Store, question: str, message: str) -> None:
    cog = Ask(fake_bot(store))
    inter = interaction()
    with pytest.raises(UserError, match=message):
        await cog.ask.callback(cog, inter, question)  # type: ignore[arg-type]
    assert not inter.response.deferred


async def test_tree_turns_errors_into_one_ephemeral_line(caplog: pytest.LogCaptureFixture) -> None:
    tree: Any = SimpleNamespace()  # on_error uses nothing of the tree itself
    refusal = interaction()
    await StancewatchTree.on_error(tree, refusal, app_commands.CheckFailure("nope"))  # type: ignore[arg-type]
    assert refusal.response.sent[0].content == "nope" and refusal.response.sent[0].kwargs["ephemeral"]
    crash = interaction()
    command = SimpleNamespace(name="ask", qualified_name="ask")
    crash.command = command
    error = app_commands.CommandInvokeError(command, RuntimeError("boom"))  # type: ignore[arg-type]
    await StancewatchTree.on_error(tree, crash, error)  # type: ignore[arg-type]
    assert "error was logged" in (crash.response.sent[0].content or "")
    assert "boom" not in (crash.response.sent[0].content or "")
    assert "Command /ask failed" in caplog.text and "RuntimeError: boom" in caplog.text


class FakeChannel:
    def __init__(self, fail: Exception | None = None) -> None:
        self.sent: list[dict[str, Any]] = []
        self.threads: list[str] = []
        self.fail = fail
        self.id = 100

    async def send(self, **kwargs: Any) -> Any:
        if self.fail:
            raise self.fail
        self.sent.append(kwargs)

        async def create_thread(name: str, **_: Any) -> None:
            self.threads.append(name)

        return SimpleNamespace(id=1000 + len(self.sent), channel=self, create_thread=create_thread)


def clash(statement: str = "@everyone Musk bought GPUs") -> Clash:
    return Clash(
        "elon-musk", "Elon Musk", "pause-frontier-ai", "Should frontier AI development be paused?",
        "musk-fli-pause-2023", "Musk signed the pause letter.", "2023-03-22",
        "https://futureoflife.org/open-letter/pause-giant-ai-experiments/", statement, statement,
        "http://news/1", "Twitter buys GPUs", "2023-04-11", "inconsistent", 0.9,
        "Bought GPUs after asking for a pause.", "model.gguf", "v1",
    )  # fmt: skip


def report(*clashes: Clash) -> ArticleReport:
    return ArticleReport("http://news/1", "Twitter buys GPUs", "en", True, "Summary.", clashes=list(clashes))


async def test_alert_is_posted_once_without_mentions(store: Store) -> None:
    channel = FakeChannel()
    bot = fake_bot(store)
    bot.get_channel = lambda _id: channel
    store.add_subscription(Subscription(channel_id=100, guild_id=1))
    cog = Alerts(bot)
    item = FeedItem("guid:1", "http://news/1", "Twitter buys GPUs", "", "", "http://feed")
    route_report(store, item.feed_url, report(clash()))  # the watcher's step, in the article's transaction
    await cog.on_article_report(item, report(clash()))
    await cog.deliver_pending()  # a second delivery round sends nothing again
    assert len(channel.sent) == 1
    sent = channel.sent[0]
    assert sent["allowed_mentions"].everyone is False and sent["allowed_mentions"].roles is False
    embed = sent["embed"]
    assert embed.title.startswith("Possible clash: Elon Musk")
    assert "futureoflife.org" in embed.fields[0].value and "Twitter buys GPUs" in embed.fields[1].value
    assert store.pending() == []


async def test_paused_feed_notice_is_posted(store: Store) -> None:
    channel = FakeChannel()
    bot = fake_bot(store)
    bot.get_channel = lambda _id: channel
    store.add_subscription(Subscription(channel_id=100, guild_id=1, target_kind="feed", target="http://feed"))
    route_notice(store, "http://feed", "it failed 10 times in a row; last error: HTTP 500")
    await Alerts(bot).on_feed_paused("http://feed", "HTTP 500")
    [sent] = channel.sent
    assert sent["embed"].title == "Feed paused" and "/manage-feeds resume" in sent["embed"].description


async def test_forbidden_channel_pauses_its_subscription(store: Store) -> None:
    forbidden = discord.Forbidden(SimpleNamespace(status=403, reason="Forbidden"), "Missing Access")  # type: ignore[arg-type]
    bot = fake_bot(store)
    bot.get_channel = lambda _id: FakeChannel(fail=forbidden)
    store.add_subscription(Subscription(channel_id=100, guild_id=1))
    cog = Alerts(bot)
    item = FeedItem("guid:1", "http://news/1", "t", "", "", "http://feed")
    route_report(store, item.feed_url, report(clash()))
    await cog.on_article_report(item, report(clash()))
    [sub] = store.subscriptions(100)
    assert "may not post" in sub.paused_reason
    assert store.pending() == []  # not retried forever


def state(store: Store) -> Any:
    return (store.export_data(), store.subscriptions(), store.feeds())


@pytest.mark.parametrize(
    ("cog_class", "command", "kwargs", "expected"),
    [
        (Stances, "stance_list", {"person": "Nobody"}, "I know no person called 'Nobody'."),
        (Feeds, "feed_add", {"url": "not a url"}, "'not a url' is not an http(s) URL."),
        (Feeds, "feed_add", {"url": "http://10.0.0.5/feed"}, "private or local"),
        (Feeds, "feed_add", {"url": "https://example.com/rss"}, "https://example.com/rss is already watched."),
        (Ask, "ask", {"question": "x" * 4000}, "Questions are limited to 500 characters."),
        (Ask, "ask", {"question": ""}, "Ask a question"),
        (Subscriptions, "subscribe", {"channel": SimpleNamespace(id=999)}, "Channel 999 is gone or hidden from me"),
        (Stances, "stance_list", {"person": "N" * 2100}, "I know no person called"),
        (Feeds, "feed_remove", {"url": "https://example.com/" + "a" * 2100}, "https://example.com/"),
    ],
    ids=[
        "unknown-person",
        "malformed-url",
        "private-url",
        "feed-twice",
        "long-question",
        "empty-question",
        "gone-channel",
        "long-person-repeated",
        "long-url-repeated",
    ],
)
async def test_bad_input_gets_one_ephemeral_sentence_and_changes_nothing(
    store: Store, cog_class: Any, command: str, kwargs: dict[str, Any], expected: str
) -> None:
    store.save_feed(Feed(url="https://example.com/rss"))
    before = state(store)
    cog = cog_class(fake_bot(store))
    inter = interaction(manage_guild=True, manage_channels=True)
    inter.guild = SimpleNamespace(id=1, get_channel=lambda _id: None)
    callback = getattr(cog, command)
    inter.client = cog.bot
    try:
        if isinstance(kwargs.get("person"), str):  # what the tree does first: the PersonTransformer resolves it
            kwargs = {**kwargs, "person": await PersonTransformer().transform(inter, kwargs["person"])}
        await callback.callback(cog, inter, **kwargs)
    except Exception as exc:  # what the tree-level handler receives
        error = app_commands.CommandInvokeError(callback, exc)
        await StancewatchTree.on_error(SimpleNamespace(), inter, error)  # type: ignore[arg-type]
    [reply] = inter.response.sent
    assert expected in (reply.content or "") and reply.kwargs["ephemeral"] is True
    assert len(reply.content or "") <= 2000  # Discord's content limit, even when the refusal repeats the input
    assert "\n" not in (reply.content or "") and "Traceback" not in (reply.content or "")
    assert state(store) == before


async def test_delivery_keeps_each_channels_order_and_retries_with_backoff(store: Store) -> None:
    flaky = FakeChannel(fail=discord.HTTPException(SimpleNamespace(status=500, reason="oops"), "server error"))  # type: ignore[arg-type]
    steady = FakeChannel()
    bot = fake_bot(store)
    bot.get_channel = lambda channel_id: flaky if channel_id == 1 else steady
    cog = Alerts(bot)
    for number, channel in enumerate([1, 2, 1, 2]):
        store.enqueue(channel, {"kind": "notice", "title": f"n{number}", "text": "t"})
    await cog.deliver_pending()
    assert [s["embed"].title for s in steady.sent] == ["n1", "n3"]
    assert flaky.sent == [] and [p["title"] for _, _, p in store.pending()] == ["n0", "n2"]
    assert cog._retry is not None and cog._retry_s == 10.0  # the next retry waits longer
    cog._retry.cancel()
    flaky.fail = None  # the server is back
    await cog.deliver_pending()
    assert [s["embed"].title for s in flaky.sent] == ["n0", "n2"]  # in the order they were queued
    assert store.pending() == [] and cog._retry_s == 5.0


def http_error(status: int, code: int, message: str) -> discord.HTTPException:
    response = SimpleNamespace(status=status, reason=message)
    return discord.HTTPException(response, {"code": code, "message": message})  # type: ignore[arg-type]


async def test_retries_go_on_by_themselves_with_growing_delays(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The retry task once refused to schedule the next retry (it saw itself as still pending), so a channel
    whose first retry also failed waited for some other event for ever."""
    monkeypatch.setattr("cogs.alerts.FIRST_RETRY_S", 0.01)
    flaky = FakeChannel(fail=http_error(503, 0, "unavailable"))
    bot = fake_bot(store)
    bot.get_channel = lambda channel_id: flaky
    cog = Alerts(bot)
    cog._retry_s = 0.01
    store.enqueue(1, {"kind": "notice", "title": "n0", "text": "t"})
    await cog.deliver_pending()
    for _ in range(3):  # first delivery and two retries fail
        assert cog._retry is not None
        await cog._retry
    flaky.fail = None
    assert cog._retry is not None, "a failed retry must schedule the next one"
    await cog._retry
    assert [s["embed"].title for s in flaky.sent] == ["n0"] and store.pending() == []


async def test_a_message_discord_rejects_is_failed_and_the_channel_goes_on(store: Store) -> None:
    rejecting = FakeChannel(fail=http_error(400, 50035, "Invalid Form Body"))
    bot = fake_bot(store)
    bot.get_channel = lambda channel_id: rejecting
    cog = Alerts(bot)
    bad = store.enqueue(1, {"kind": "notice", "title": "bad", "text": "t"})
    await cog.deliver_pending()
    rejecting.fail = None
    store.enqueue(1, {"kind": "notice", "title": "next", "text": "t"})
    await cog.deliver_pending()
    assert [s["embed"].title for s in rejecting.sent] == ["next"] and store.pending() == []
    row = store._hot.table("outbox").get(doc_id=bad)
    assert isinstance(row, dict) and row["message_id"] == -1 and "50035" in row["failure"]
    assert cog._retry is None


@pytest.mark.parametrize(
    ("group", "refused"),
    [("manage-people", "Manage Server"), ("manage-stances", "Manage Server"), ("manage-feeds", "Manage Server")],
)
async def test_every_admin_command_checks_its_permission_when_it_runs(group: str, refused: str) -> None:
    """Not only ``default_permissions`` (server admins can override those): each command carries its check."""
    cogs = {"manage-people": People, "manage-stances": Stances, "manage-feeds": Feeds}
    [found] = [g for g in cogs[group].__cog_app_commands__ if g.name == group]
    assert isinstance(found, app_commands.Group) and found.commands
    for command in found.commands:
        assert isinstance(command, app_commands.Command) and command.checks, command.qualified_name
        with pytest.raises(app_commands.MissingPermissions, match=refused):
            await run_checks(command, interaction())


async def test_stance_confirm_activates_a_proposal(store: Store) -> None:
    proposal = Position(
        "proposed-1", "elon-musk", "pause-frontier-ai", "mixed", "Musk bought GPUs.", "https://e.com/a", "2023-04",
        date_precision="month", origin="extracted by test", status="proposed",
    )  # fmt: skip
    store.add_position(proposal)
    cog = Stances(fake_bot(store))
    with pytest.raises(app_commands.MissingPermissions, match="Manage Server"):
        await run_checks(cog.stance_confirm, interaction())
    moderator = interaction(manage_guild=True)
    await cog.stance_confirm.callback(cog, moderator, "proposed-1", "against")  # type: ignore[arg-type]
    confirmed = store.position("proposed-1")
    assert confirmed is not None and (confirmed.status, confirmed.stance) == ("active", "against")
    assert "Confirmed `proposed-1` (against)" in (moderator.response.sent[0].content or "")
    with pytest.raises(UserError, match="No proposed position has the id 'proposed-1'"):
        await cog.stance_confirm.callback(cog, interaction(manage_guild=True), "proposed-1", "favor")  # type: ignore[arg-type]


async def test_feed_list_and_status_show_a_servers_text_escaped(store: Store) -> None:
    """Before: a redirect's Location with a masked link and bold text reached the channel live."""
    hostile = "https://x.example/feed redirected to '[Claim your prize](https://phish.example) **now**'"
    store.save_feed(Feed(url="https://x.example/feed?a=[b](c)", last_error=hostile, failures=3, paused=True))
    cog = Feeds(fake_bot(store))
    for command in (cog.feed_list, cog.feed_status):
        inter = interaction()
        await command.callback(cog, inter)  # type: ignore[arg-type]
        [reply] = inter.response.sent
        assert "[Claim your prize](https" not in reply.content and "**now**" not in reply.content
        assert "\\[Claim your prize\\]" in reply.content and "\\*\\*now\\*\\*" in reply.content


@pytest.mark.parametrize(
    ("name", "aliases", "owner"),
    [("Elon Musk!", "", "Elon Musk"), ("Elon Reeve", "머스크", "Elon Musk"), ("🤖", "", "")],
    ids=["same-id", "alias-taken", "no-letters"],
)
async def test_adding_a_person_never_replaces_one(store: Store, name: str, aliases: str, owner: str) -> None:
    """Before: ``/manage-people add "Elon Musk!"`` replaced Elon Musk and dropped his aliases, Korean included;
    ``🤖`` stored a person with an empty id, and the store then refused to open."""
    before = store.person("elon-musk")
    cog = People(fake_bot(store))
    with pytest.raises(UserError) as refused:
        await cog.people_add.callback(cog, interaction(manage_guild=True), name, aliases)  # type: ignore[arg-type]
    assert (owner in str(refused.value)) if owner else "at least one letter or digit" in str(refused.value)
    assert store.person("elon-musk") == before and before is not None and "머스크" in before.aliases
    assert all(p.id for p in store.people())
