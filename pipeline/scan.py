"""``bot.py scan``: run the pipeline once over a feed given as a URL or a local file."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from pathlib import Path

from models.backend import load_backend
from models.judge import ClashJudge
from pipeline.feeds import FeedError, fetch, make_session, parse_feed
from pipeline.process import ArticlePipeline
from pipeline.watcher import article_text
from settings import Settings
from storage.interfaces import StanceStore


async def read_source(source: str, settings: Settings) -> tuple[bytes, str, str]:
    """The feed's bytes, its content type and its URL; raise :class:`FeedError` with one clear sentence."""
    if source.startswith(("http://", "https://")):
        async with make_session(allow_private=settings.allow_private_feeds) as session:
            fetched = await fetch(session, source, allow_private=settings.allow_private_feeds)
        if fetched.status != 200:
            raise FeedError(f"{source} answered HTTP {fetched.status}.")
        return fetched.body, fetched.headers.get("content-type", ""), fetched.url
    try:
        body = await asyncio.to_thread(Path(source).read_bytes)
    except OSError:
        raise FeedError(f"{source} is neither an http(s) URL nor a readable file.") from None
    return body, "", "file://" + source


async def run_scan(settings: Settings, source: str, store: StanceStore, *, as_json: bool) -> int:
    try:
        body, content_type, url = await read_source(source, settings)
        items = await asyncio.to_thread(parse_feed, body, url, content_type)
    except FeedError as exc:
        print(f"scan: {exc}", file=sys.stderr)
        return 2
    if len(items) > settings.feed_max_new_per_poll:  # the watcher's cap: one feed cannot cost thousands of fetches
        print(
            f"scan: {url} lists {len(items)} items; scanning the first {settings.feed_max_new_per_poll} "
            "(FEED_MAX_NEW_PER_POLL).",
            file=sys.stderr,
        )
        items = items[: settings.feed_max_new_per_poll]
    engine = await load_backend(settings)
    judge = ClashJudge.for_engine(engine, settings)
    pipeline = ArticlePipeline(engine, store, judge, record=False)
    try:
        async with make_session(allow_private=settings.allow_private_feeds) as session:
            for item in items:
                text = await article_text(session, item, allow_private=settings.allow_private_feeds)
                report = await pipeline.process(dataclasses.replace(item, text=text))
                if as_json:
                    print(json.dumps(report.to_json(), ensure_ascii=False), flush=True)
                else:
                    print(f"{report.title}\n  relevant={report.relevant} people={', '.join(report.people) or '-'}")
                    if report.summary:
                        print(f"  summary: {report.summary}")
                    for j in report.judgements:
                        print(f"  [{j['verdict']} {j['confidence']:.2f}] {j['person']}: {j['statement']}")
    finally:
        await engine.aclose()
    return 0
