"""The composition root: the one place where Stancewatch's parts are built and wired, for every command.

store → model → judge → analysis → HTTP session → watcher, each closed after the ones built on it, in reverse
order (discord.py's ``examples/advanced_startup.py`` builds what the bot runs on in the same way, outside the bot).
``bot.py run``, ``demo``, ``scan``, ``ask``, ``eval`` and ``eval-ask`` take their app from :func:`open_app`;
``timeline``, ``stances`` and ``store copy`` need only a store, from :func:`open_store_for`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import aiohttp

from analysis.article import ArticleAnalysis
from analysis.pairs import shipped_examples
from analysis.relevance import RelevanceConfig
from ingest.http import make_session
from llm.runtime.backend import LLM
from llm.runtime.load import load_backend
from llm.tasks.judge import ClashJudge
from pipeline.watcher import FeedWatcher, WatchPolicy
from pipeline.websub import WebSubSubscriber
from settings import Settings
from storage import open_store
from storage.interfaces import StanceStore


@dataclass(frozen=True)
class App:
    """Everything a command or the bot runs on, built once (:func:`open_app`)."""

    settings: Settings
    store: StanceStore
    engine: LLM
    judge: ClashJudge
    analysis: ArticleAnalysis
    session: aiohttp.ClientSession
    watcher: FeedWatcher
    websub: WebSubSubscriber | None = None
    """Set when ``WEBSUB_CALLBACK_URL`` is: the bot serves its callback (``StancewatchBot.setup_hook``)."""


@contextlib.asynccontextmanager
async def open_app(
    settings: Settings,
    *,
    store: StanceStore | None = None,
    engine: LLM | None = None,
    read_only: bool = False,
    allow_private: bool | None = None,
    policy: WatchPolicy | None = None,
) -> AsyncIterator[App]:
    """Build the app from ``settings``; ``store`` and ``engine`` replace the configured ones (a throwaway store, a
    stand-in model), and stay open afterwards: whoever made them closes them.

    ``read_only`` opens the configured store without its writer lock (``scan``, ``ask``); ``allow_private`` and
    ``policy`` override the settings' feed guard and watch policy (the demo serves its feed on 127.0.0.1).
    Raises what opening each part raises (:class:`domain.errors.StorageError`, :class:`settings.ConfigError`, ...).
    """
    async with contextlib.AsyncExitStack() as stack:
        if store is None:
            opener = functools.partial(open_store, settings.store_location, read_only=read_only)
            store = await asyncio.to_thread(opener)
            stack.push_async_callback(asyncio.to_thread, store.close)
        if engine is None:
            engine = await load_backend(settings)
            stack.push_async_callback(engine.aclose)
        private = settings.allow_private_feeds if allow_private is None else allow_private
        session = await stack.enter_async_context(make_session(allow_private=private))
        examples = await asyncio.to_thread(shipped_examples)
        judge = ClashJudge.for_engine(engine, settings, examples)
        analysis = ArticleAnalysis(engine, store, judge, relevance=RelevanceConfig.from_settings(settings))
        stack.push_async_callback(analysis.learning.close)
        watcher = FeedWatcher(
            store, analysis, session, None, allow_private=private, policy=policy or WatchPolicy.from_settings(settings)
        )
        stack.push_async_callback(watcher.stop)
        websub = None
        if settings.websub_callback_url:
            websub = WebSubSubscriber(store, watcher, session, settings.websub_callback_url)
            watcher.on_hub = websub.ensure
            stack.push_async_callback(websub.stop)
        freeze_startup_objects()
        yield App(settings, store, engine, judge, analysis, session, watcher, websub)


def freeze_startup_objects() -> None:
    """Move everything built so far (modules, the store's loaded records and indexes) out of the cyclic garbage
    collector's reach (:func:`gc.freeze`), after one collection.

    Why: a full collection otherwise scans every object the store loaded, holding the GIL, and the event loop
    waits: up to 41 ms a collection in the new-items round of ``benchmarks/feeds.py``. Frozen objects are still
    freed when their last reference goes; only cycles among them wait. The benchmark calls this too."""
    gc.collect()
    gc.freeze()


@contextlib.contextmanager
def open_store_for(settings: Settings, *, read_only: bool = False, seed: bool = True) -> Iterator[StanceStore]:
    """The configured store alone, closed afterwards (commands that need no model)."""
    with contextlib.closing(open_store(settings.store_location, read_only=read_only, seed=seed)) as store:
        yield store
