"""``bot.py scan``: run the pipeline once over a feed given as a URL or a local file."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from app import open_app
from cli.terminal import printable
from domain.errors import FeedError
from ingest.articles import article_text
from ingest.http import fetch, make_session
from ingest.intake import newest_first
from ingest.parse import parse_feed
from settings import Settings
from storage import open_store
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


def register(sub: Any) -> None:
    scan = sub.add_parser("scan", help="run the pipeline once over a feed URL or local file")
    scan.add_argument("source")
    scan.add_argument("--stances", type=Path, help="a stances JSON file to judge against instead of the store")
    scan.add_argument("--json", action="store_true", help="one JSON object a line per article")
    scan.set_defaults(func=command)


def command(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_scan(settings, args.source, args.stances, args.json))


async def _scan(settings: Settings, source: str, stances: Path | None, as_json: bool) -> int:
    """Only reads: on the configured store (so it may run beside the bot), or on a throwaway one from a file."""
    if stances is None:
        store = await asyncio.to_thread(functools.partial(open_store, settings.store_location, read_only=True))
        try:
            return await run_scan(settings, source, store, as_json=as_json)
        finally:
            await asyncio.to_thread(store.close)
    data = json.loads(await asyncio.to_thread(stances.read_text, encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="stancewatch-scan-") as tmp:
        store = await asyncio.to_thread(open_store, Path(tmp), seed=False)
        try:
            await store.run(store.import_data, data)
            return await run_scan(settings, source, store, as_json=as_json)
        finally:
            await asyncio.to_thread(store.close)


async def run_scan(settings: Settings, source: str, store: StanceStore, *, as_json: bool) -> int:
    try:
        body, content_type, url = await read_source(source, settings)
        items = newest_first(await asyncio.to_thread(parse_feed, body, url, content_type))
    except FeedError as exc:
        print(printable(f"scan: {exc}"), file=sys.stderr)
        return 2
    if len(items) > settings.feed_max_new_per_poll:  # the watcher's cap: one feed cannot cost thousands of fetches
        print(
            f"scan: {url} lists {len(items)} items; scanning the newest {settings.feed_max_new_per_poll} "
            "(FEED_MAX_NEW_PER_POLL).",
            file=sys.stderr,
        )
        items = items[: settings.feed_max_new_per_poll]
    async with open_app(settings, store=store) as app:
        for item in items:
            text = await article_text(app.session, item, allow_private=settings.allow_private_feeds)
            report = (await app.analysis.analyse(dataclasses.replace(item, text=text))).report
            if as_json:
                print(json.dumps(report.to_json(), ensure_ascii=False), flush=True)
            else:
                people = ", ".join(report.people) or "-"
                print(printable(f"{report.title}\n  relevant={report.relevant} people={people}"))
                if report.summary:
                    print(printable(f"  summary: {report.summary}"))
                for j in report.judgements:
                    print(printable(f"  [{j['verdict']} {j['confidence']:.2f}] {j['person']}: {j['statement']}"))
    return 0
