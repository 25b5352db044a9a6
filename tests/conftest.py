"""Shared fixtures: the real embedded model, a real feed server on 127.0.0.1, real store files."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from models.engine import LLMEngine
from settings import Settings
from storage.store import Store

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
PAIRS = SHARED / "benchmarks" / "political-inconsistency" / "pairs.jsonl"
KOREAN_ARTICLE = SHARED / "fixtures" / "musk-twitter-ai-ko.txt"
PYTHON = sys.executable


@pytest.fixture(scope="session")
def engine() -> Iterator[LLMEngine]:
    loaded = LLMEngine.load(Settings())
    yield loaded
    loaded.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "data")
    yield opened
    opened.close()


@dataclass
class Route:
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FeedServer:
    base: str
    routes: dict[str, Route]
    hits: dict[str, int]

    def url(self, path: str) -> str:
        return f"{self.base}{path}"


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    """A real aiohttp server on 127.0.0.1; tests put their routes in ``server.routes``."""
    routes: dict[str, Route] = {}
    hits: dict[str, int] = {}

    async def handle(request: web.Request) -> web.StreamResponse:
        hits[request.path] = hits.get(request.path, 0) + 1
        route = routes.get(request.path)
        if route is None:
            raise web.HTTPNotFound()
        if route.status == 0:  # a server that never answers in time
            await asyncio.sleep(60)
        return web.Response(body=route.body, status=route.status, headers=route.headers)

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield FeedServer(f"http://127.0.0.1:{port}", routes, hits)
    await runner.cleanup()


def rss(*items: tuple[str, str, str], encoding: str = "utf-8") -> bytes:
    """An RSS 2.0 document with (guid, title, description) items."""
    body = "".join(
        f"<item><guid>{g}</guid><title>{t}</title><link>http://example.com/{g}</link>"
        f"<description>{d}</description></item>"
        for g, t, d in items
    )
    xml = (
        f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel><title>T</title>{body}</channel></rss>'
    )
    return xml.encode(encoding)
