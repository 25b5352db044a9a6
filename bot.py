"""Stancewatch: the Discord bot and its command line.

python bot.py run                    start the bot (needs DISCORD_TOKEN)
python bot.py sync                   register slash commands globally, then exit
python bot.py demo                   the whole pipeline offline against a sample feed
python bot.py scan SOURCE [--json]   run the pipeline once over a feed URL or file
python bot.py eval FILE [--limit N] [--split all|tune|heldout] [--tune]  score (or fit) the clash judge
python bot.py stances import|export FILE
python bot.py ask "QUESTION"          answer from the store with numbered sources, as /ask does
python bot.py eval-ask FILE [--limit N]  score /ask on a labelled question set (evals/ask_questions.json)
python bot.py timeline NAME --out FILE.png [--language en|ko]  draw a person's timeline
python bot.py store copy --to URL|DIR  copy the whole store to PostgreSQL or to a data directory, verified
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import logging
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import discord
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from discord import app_commands
from discord.ext import commands

from cogs.common import UserError, reply_ephemeral
from cogs.translator import KoreanTranslator
from domain.errors import StorageError
from models.backend import LLM, load_backend
from models.judge import ClashJudge
from models.profile import ProfileError, neutral_profile
from pipeline.ask import MAX_QUESTION, ask
from pipeline.ask_eval import evaluate_ask, load_ask_set, record_setup
from pipeline.demo import run_demo
from pipeline.evaluation import Pair, evaluate, load_pairs, read_pairs, tuned_profile
from pipeline.feeds import FeedError, FeedItem, make_session
from pipeline.netguard import UnsafeURLError
from pipeline.process import ArticlePipeline, ArticleReport
from pipeline.relevance import RelevanceConfig
from pipeline.scan import run_scan
from pipeline.timeline import FontMissingError, build_timeline, render
from pipeline.watcher import FeedWatcher, WatchPolicy
from settings import ConfigError, Settings
from storage import open_store
from storage.copy import copy_store
from storage.durable import atomic_write_bytes, atomic_write_text
from storage.exchange import read_import, with_line
from storage.interfaces import StanceStore
from storage.records import RecordError

log = logging.getLogger("stancewatch")
EXTENSIONS = (
    "cogs.alerts",
    "cogs.subscriptions",
    "cogs.ask",
    "cogs.stances",
    "cogs.people",
    "cogs.feeds",
    "cogs.status",
)


USER_ERRORS = (UserError, RecordError, UnsafeURLError, FeedError)


class StancewatchTree(app_commands.CommandTree["StancewatchBot"]):
    """Turns every command failure into one short ephemeral message and, when unexpected, one log line."""

    async def on_error(
        self, interaction: discord.Interaction[StancewatchBot], error: app_commands.AppCommandError
    ) -> None:
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        if isinstance(cause, USER_ERRORS):
            message = str(cause)
        elif isinstance(cause, app_commands.CommandOnCooldown):
            message = f"Slow down: try again in {cause.retry_after:.0f} s."
        elif isinstance(cause, app_commands.CheckFailure):
            message = str(cause) or "You are not allowed to use this command here."
        else:
            log.error("Command /%s failed", _command_name(interaction), exc_info=cause)
            message = "Something went wrong on our side; the error was logged."
        try:
            await reply_ephemeral(interaction, message)
        except discord.HTTPException as exc:  # the interaction expired (10062) or Discord refused the reply
            log.warning("Could not tell the user why /%s failed: %s", _command_name(interaction), exc)


def _command_name(interaction: discord.Interaction[Any]) -> str:
    return interaction.command.qualified_name if interaction.command else "?"


class StancewatchBot(commands.AutoShardedBot):
    """The Discord layer: cogs over the store, the model and the feed watcher, which :func:`running_bot` builds."""

    def __init__(self, settings: Settings, *, store: StanceStore, engine: LLM, session: aiohttp.ClientSession) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            tree_cls=StancewatchTree,
            allowed_mentions=discord.AllowedMentions.none(),
            shard_count=settings.shard_count,
            # None (all shards here) is discord.py's own default, though its Options type says list[int]
            shard_ids=list(settings.shard_ids) if settings.shard_ids is not None else None,  # type: ignore[arg-type]
        )
        self.settings = settings
        self.store = store
        self.engine = engine
        self.session = session
        self.started = datetime.now()
        self.scheduler = AsyncIOScheduler()
        judge = ClashJudge.for_engine(engine, settings)
        self.pipeline = ArticlePipeline(engine, store, judge, relevance=RelevanceConfig.from_settings(settings))
        self.watcher = FeedWatcher(
            store,
            self.pipeline,
            session,
            self._on_report,
            allow_private=settings.allow_private_feeds,
            policy=WatchPolicy.from_settings(settings),
            on_notice=self._on_notice,
        )

    async def setup_hook(self) -> None:
        await self.watcher.start()
        # One sweeper: each feed carries its own jittered next-poll time, so polls spread over the interval.
        self.scheduler.add_job(
            self.watcher.poll_due,
            "interval",
            seconds=self.settings.feed_sweep_seconds,
            jitter=5,
            next_run_time=datetime.now(),
            max_instances=1,
            coalesce=True,
        )
        self.scheduler.add_job(self._prune, "interval", hours=24, next_run_time=datetime.now())
        self.scheduler.start()
        await self.tree.set_translator(KoreanTranslator())
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        if self.settings.dev_guild_id:
            guild = discord.Object(self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)

    async def _prune(self) -> None:
        """Apply the retention (article bodies, old outbox entries) once a day."""
        pruned = await self.store.run(self.store.prune)
        await self.store.commit()
        log.info("Retention: dropped %(article_bodies)d article bodies, %(outbox)d outbox entries", pruned)

    async def _on_report(self, item: FeedItem, report: ArticleReport) -> None:
        self.dispatch("article_report", item, report)

    async def _on_notice(self, feed_url: str, reason: str) -> None:
        self.dispatch("feed_paused", feed_url, reason)

    async def close(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.watcher.stop()
        await super().close()


@contextlib.asynccontextmanager
async def running_bot(settings: Settings) -> AsyncIterator[StancewatchBot]:
    """The bot with what it runs on (store, model, HTTP session), each closed after it, in reverse order."""
    async with contextlib.AsyncExitStack() as stack:
        store = await asyncio.to_thread(open_store, settings.store_location)
        stack.push_async_callback(asyncio.to_thread, store.close)
        engine = await load_backend(settings)
        stack.push_async_callback(engine.aclose)
        session = await stack.enter_async_context(make_session(allow_private=settings.allow_private_feeds))
        bot = await stack.enter_async_context(StancewatchBot(settings, store=store, engine=engine, session=session))
        yield bot


class RedactSecrets(logging.Filter):
    """Replaces the bot token anywhere in a log record, in case a library ever prints it."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(s in message for s in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "********")
            record.msg, record.args = message, None
        return True


def setup_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets([settings.discord_token.value, settings.llm_api_key.value]))
    logging.basicConfig(level=settings.log_level, handlers=[handler])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bot.py", description="Stancewatch: AI-policy stance monitor for Discord.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start the Discord bot (needs DISCORD_TOKEN)")
    sub.add_parser("sync", help="register the slash commands globally, then exit")
    demo = sub.add_parser("demo", help="run the whole pipeline offline against a bundled sample feed")
    demo.add_argument("--data-dir", type=Path, help="keep the demo's store here instead of a temporary directory")
    scan = sub.add_parser("scan", help="run the pipeline once over a feed URL or local file")
    scan.add_argument("source")
    scan.add_argument("--stances", type=Path, help="a stances JSON file to judge against instead of the store")
    scan.add_argument("--json", action="store_true", help="one JSON object a line per article")
    ev = sub.add_parser("eval", help="score the clash judge on labelled pairs (JSON lines)")
    ev.add_argument("file", type=Path)
    ev.add_argument("--limit", type=int, help="only the first N pairs")
    ev.add_argument(
        "--split", choices=["all", "tune", "heldout"], default="all", help="even ids tune, odd ids are held out"
    )
    ev.add_argument(
        "--tune",
        action="store_true",
        help="fit the loaded model's judge profile on the tune split, save it, then score the held-out split",
    )
    ev.add_argument("--profile", type=Path, help="where --tune writes the profile (default DATA_DIR/profiles/)")
    asking = sub.add_parser("ask", help="answer a question from the store with numbered sources, as /ask does")
    asking.add_argument("question", help="in English or Korean, at most 500 characters")
    ev_ask = sub.add_parser("eval-ask", help="score /ask on a labelled question set over the starter pack")
    ev_ask.add_argument("file", type=Path)
    ev_ask.add_argument("--limit", type=int, help="only the first N questions")
    timeline = sub.add_parser("timeline", help="draw a tracked person's timeline as a PNG")
    timeline.add_argument("name", help="the person's name, alias or id")
    timeline.add_argument("--out", type=Path, required=True, help="the PNG file to write")
    timeline.add_argument("--language", choices=["en", "ko"], default="en", help="language of the lane labels")
    store = sub.add_parser("store", help="copy the whole store to another backend (stop the bot first)")
    store.add_argument("action", choices=["copy"])
    store.add_argument("--to", required=True, help="a postgresql:// URL or a data directory; it must be empty")
    stances = sub.add_parser("stances", help="import or export the stance store as JSON")
    stances.add_argument("action", choices=["import", "export"])
    stances.add_argument("file", type=Path)
    return parser


async def _eval(settings: Settings, args: argparse.Namespace) -> int:
    pairs = load_pairs(args.file, args.limit, "tune" if args.tune else args.split)
    engine = await load_backend(settings)
    try:
        judge = ClashJudge.for_engine(engine, settings)
        if args.tune:
            judge = await _tune(judge, pairs, args.file, args.profile or settings.data_dir / "profiles")
            pairs = load_pairs(args.file, args.limit, "heldout")
            print(f"Held-out split, {len(pairs)} pairs:")
        await evaluate(judge, pairs)
    finally:
        await engine.aclose()
    return 0


async def _tune(judge: ClashJudge, pairs: list[Pair], source: Path, where: Path) -> ClashJudge:
    """Fit the profile on ``pairs`` and save it where the next run finds it (a folder) or at a path (a file)."""
    readings, _ = await read_pairs(judge, pairs, sys.stdout)
    info = judge.engine.info
    base = judge.profile if not judge.profile.neutral else neutral_profile(info.sha256, info.model_name)
    stem = Path(info.model_name).stem
    profile = replace(tuned_profile(base, readings, source.name), name=f"{stem} {time.strftime('%Y-%m-%d')}")
    path = where / f"{stem}.json" if where.suffix != ".json" else where
    await asyncio.to_thread(atomic_write_text, path, profile.to_json())
    print(f"Wrote judge profile {profile.name!r} to {path}.")
    return ClashJudge(judge.engine, profile, alert_threshold=judge.alert_threshold)


async def _scan(settings: Settings, source: str, stances: Path | None, as_json: bool) -> int:
    if stances is None:  # scan only reads: it may run beside the bot
        store = await asyncio.to_thread(functools.partial(open_store, settings.store_location, read_only=True))
        return await run_scan(settings, source, store, as_json=as_json)
    with tempfile.TemporaryDirectory(prefix="stancewatch-scan-") as tmp:
        store = open_store(Path(tmp), seed=False)
        store.import_data(json.loads(await asyncio.to_thread(stances.read_text, encoding="utf-8")))
        return await run_scan(settings, source, store, as_json=as_json)


async def _ask(settings: Settings, question: str) -> int:
    question = question.strip()
    if not question or len(question) > MAX_QUESTION:
        raise RecordError("question", f"give a question of 1 to {MAX_QUESTION} characters")
    store = await asyncio.to_thread(functools.partial(open_store, settings.store_location, read_only=True))
    try:
        engine = await load_backend(settings)
        try:
            result = await ask(store, engine, question)
        finally:
            await engine.aclose()
    finally:
        await asyncio.to_thread(store.close)
    print(result.text)
    if result.reading is not None:
        sure = max(result.reading, 1 - result.reading)
        print(f"(stance {result.stance}: the model read which way the question points with probability {sure:.2f})")
    for source in result.sources:
        print(f"[{source.number}] {source.person}, {source.date}: {source.claim} <{source.url}>")
    return 0


def _timeline(settings: Settings, name: str, out: Path, language: str) -> int:
    with contextlib.closing(open_store(settings.store_location, read_only=True)) as store:
        person = store.find_person(name)
        if person is None:
            raise RecordError("name", f"no tracked person is called {name!r}")
        picture = render(build_timeline(store, person.id, language))
    atomic_write_bytes(out, picture)
    print(f"Wrote {person.name}'s timeline to {out}.")
    return 0


def _copy_store(settings: Settings, to: str) -> int:
    with (
        contextlib.closing(open_store(settings.store_location, seed=False)) as source,
        contextlib.closing(open_store(to, seed=False)) as target,
    ):
        counts = copy_store(source, target)
        where = (source.describe(), target.describe())
    listed = ", ".join(f"{n} {table}" for table, n in counts.items())
    print(f"Copied {where[0]} to {where[1]} and verified every record: {listed}.")
    return 0


def _stances(settings: Settings, action: str, file: Path) -> int:
    store = open_store(settings.store_location, read_only=action == "export")
    try:
        if action == "export":
            store.export_file(file)
            print(f"Exported the stance store to {file}.")
            return 0
        text, data = read_import(file)
        try:
            counts = store.import_data(data)
        except RecordError as exc:
            raise with_line(exc, file, text) from None
        store.flush()
        print(f"Imported {counts['people']} people, {counts['questions']} questions, {counts['positions']} positions.")
        return 0
    finally:
        store.close()


async def _run_bot(settings: Settings, *, sync_only: bool) -> int:
    if not settings.discord_token.value:
        print(
            "DISCORD_TOKEN is not set: put your bot token in .env or the environment (see .env.example).",
            file=sys.stderr,
        )
        return 2
    async with running_bot(settings) as bot:
        if sync_only:
            await bot.login(settings.discord_token.value)
            synced = await bot.tree.sync()
            print(f"Registered {len(synced)} global commands.")
        else:
            await bot.start(settings.discord_token.value)
    return 0


async def _eval_ask(settings: Settings, path: Path, limit: int | None) -> int:
    """On a throwaway store seeded with the starter pack and the set's statements, never the user's data."""
    ask_set = await asyncio.to_thread(load_ask_set, path, limit)
    with tempfile.TemporaryDirectory(prefix="stancewatch-eval-ask-") as tmp:
        store = await asyncio.to_thread(open_store, Path(tmp))
        try:
            await store.run(record_setup, store, ask_set)
            engine = await load_backend(settings)
            try:
                await evaluate_ask(store, engine, ask_set.cases, sys.stdout)
            finally:
                await engine.aclose()
        finally:
            await asyncio.to_thread(store.close)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        setup_logging(settings)
        if args.command in {"run", "sync"}:
            return asyncio.run(_run_bot(settings, sync_only=args.command == "sync"))
        if args.command == "demo":
            return asyncio.run(run_demo(settings, args.data_dir))
        if args.command == "scan":
            return asyncio.run(_scan(settings, args.source, args.stances, args.json))
        if args.command == "eval":
            return asyncio.run(_eval(settings, args))
        if args.command == "store":
            return _copy_store(settings, args.to)
        if args.command == "ask":
            return asyncio.run(_ask(settings, args.question))
        if args.command == "eval-ask":
            return asyncio.run(_eval_ask(settings, args.file, args.limit))
        if args.command == "timeline":
            return _timeline(settings, args.name, args.out, args.language)
        return _stances(settings, args.action, args.file)
    except (
        ConfigError,
        RecordError,
        StorageError,
        ProfileError,
        FontMissingError,
        FileNotFoundError,
        json.JSONDecodeError,
    ) as exc:
        print(f"{args.command}: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a defect, not bad input: still one sentence, with the traceback in the debug log
        log.debug("Unexpected error in %s", args.command, exc_info=True)
        print(f"{args.command}: unexpected {type(exc).__name__}: {exc} (LOG_LEVEL=DEBUG shows where).", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
