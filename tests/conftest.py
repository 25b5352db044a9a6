"""Shared fixtures: the real embedded model, a real feed server under public-looking names, real store files.

llama.cpp is imported only by the fixtures that load a model, and every test that uses one is marked ``model``
here, so ``pytest -m "not model"`` (the fast tier) runs on a machine where llama-cpp-python is not built yet.
"""

from __future__ import annotations

import asyncio
import importlib.util
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from analysis.article import ArticleAnalysis, ArticleReport
from domain.records import FeedItem
from llm.runtime.backend import LLM
from llm.runtime.weights import DEFAULT_MODEL, TINY_MODEL
from llm.tasks.judge import ClashJudge
from pipeline.update import record_outcome
from settings import Settings
from storage import open_store
from storage.files.store import Store
from storage.interfaces import StanceStore
from tests import parser_diff, public_dns
from tests.postgres import fresh_database, postgres_server

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
PAIRS = SHARED / "benchmarks" / "political-inconsistency" / "pairs.jsonl"
KOREAN_ARTICLE = SHARED / "fixtures" / "musk-twitter-ai-ko.txt"
PYTHON = sys.executable


TINY = {"MODEL_PATH": TINY_MODEL}
"""The environment of a child process that runs on the tiny model (the mechanics, not the quality)."""


MODEL_FIXTURES = frozenset({"engine", "default_engine", "server_url", "remote"})
"""Fixtures that load a model: a test using any of them is a ``model`` test."""
LLAMA_MODULES = ("test_build.py", "test_engine.py")
"""Test modules that import llama.cpp themselves: not even collected where it is not installed."""
MODEL_MODULES = (*LLAMA_MODULES, "test_discord_e2e.py")
"""Test modules whose every test runs a model (the whole bot, in process or as a child)."""
collect_ignore = [] if importlib.util.find_spec("llama_cpp") else list(LLAMA_MODULES)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if MODEL_FIXTURES & set(getattr(item, "fixturenames", ())) or item.path.name in MODEL_MODULES:
            item.add_marker(pytest.mark.model)


@pytest.fixture(scope="session")
def engine() -> Iterator[LLM]:
    """The tiny embedded model: fast, for the mechanics."""
    from llm.runtime.engine import LLMEngine

    loaded = LLMEngine.load(Settings(model_path=Path(TINY_MODEL)))
    yield loaded
    loaded.close()


@pytest.fixture(scope="session")
def default_engine() -> Iterator[LLM]:
    """The default model, where the quality of its judgement is the point."""
    from llm.runtime.engine import LLMEngine

    loaded = LLMEngine.load(Settings(model_path=Path(DEFAULT_MODEL)))
    yield loaded
    loaded.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``python -m llama_cpp.server`` serving the embedded model (the remote backend's peer)."""
    from llm.runtime.locate import embedded_model_path

    port = free_port()
    model = str(embedded_model_path())
    command = [sys.executable, "-m", "llama_cpp.server", "--model", model, "--host", "127.0.0.1", "--port", str(port)]
    log = (tmp_path_factory.mktemp("server") / "server.log").open("w")  # a pipe would fill up and stall it
    process = subprocess.Popen([*command, "--n_ctx", "2048"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"llama_cpp.server did not start; see {log.name}") from None
            time.sleep(0.5)
    yield url
    process.terminate()
    process.wait(timeout=30)
    log.close()


async def analyse_and_record(analysis: ArticleAnalysis, item: FeedItem) -> ArticleReport:
    """What the watcher's commit does with an article's outcome, less the inbox and the outbox."""
    store = analysis.store
    report = await store.run(record_outcome, store, await analysis.analyse(item))
    await store.commit()
    return report


def judge_for(engine: LLM, alert_threshold: float | None = None) -> ClashJudge:
    """The judge with the model's own profile, as the bot builds it."""
    return ClashJudge.for_engine(engine, Settings(alert_threshold=alert_threshold))


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """A PostgreSQL server: TEST_DATABASE_URL's, or a throwaway one (never a skip)."""
    with postgres_server() as url:
        yield url


@pytest.fixture
def database_url(postgres: str) -> Iterator[str]:
    """An empty database of this test's own."""
    with fresh_database(postgres) as url:
        yield url


@pytest.fixture(params=["tinydb", "postgresql"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StanceStore]:
    """An empty store on each backend in turn: the test runs once on TinyDB files, once on PostgreSQL."""
    location = tmp_path / "data" if request.param == "tinydb" else str(request.getfixturevalue("database_url"))
    opened = open_store(location, seed=False)
    yield opened
    opened.close()


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
    etag: str = ""
    """When set, the route sends this ETag and answers 304 to a matching If-None-Match."""
    delay: float = 0.0
    """Seconds the server takes to answer: a poll in flight, for a process to die in."""
    parser: str = "feedparser-rs"
    """The parser a feed served here must take in production: checked, with the differential, when the test ends."""


@dataclass
class FeedServer:
    base: str
    routes: dict[str, Route]
    hits: dict[str, int]
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    times: dict[str, list[float]] = field(default_factory=dict)
    """When (``time.time()``) each path was requested."""
    queries: dict[str, list[str]] = field(default_factory=dict)
    """The query string of each request, by path, as the server received it."""
    port: int = 0

    def url(self, path: str, host: str = public_dns.FEEDS_HOST) -> str:
        """``path`` under a public-looking ``host`` (any name :mod:`tests.public_dns` answers reaches this server)."""
        return f"http://{host}:{self.port}{path}"

    def check_parsers(self) -> None:
        """Every feed served with 200 took the parser its route names, and the parsers agree where they must."""
        for path, route in self.routes.items():
            if self.hits.get(path) and route.status == 200:
                content_type = {k.lower(): v for k, v in route.headers.items()}.get("content-type", "")
                parser_diff.check(route.body, self.url(path), content_type, parser=route.parser)


@pytest.fixture(scope="session", autouse=True)
def public_names() -> Iterator[None]:
    """Test feeds' host names resolve to 127.0.0.1 for the whole run (:mod:`tests.public_dns`)."""
    undo = public_dns.install()
    yield
    undo()


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    """A real aiohttp server on 127.0.0.1, reached as ``feeds.example.org`` and ``news.example.com``.

    Tests put their routes in ``server.routes``; when the test ends, every feed it served is checked to have taken
    the parser production takes (:meth:`FeedServer.check_parsers`).
    """
    server = FeedServer("", {}, {})

    async def handle(request: web.Request) -> web.StreamResponse:
        server.hits[request.path] = server.hits.get(request.path, 0) + 1
        server.requests.append((request.path, dict(request.headers)))
        server.queries.setdefault(request.path, []).append(request.query_string)
        server.times.setdefault(request.path, []).append(time.time())
        route = server.routes.get(request.path)
        if route is None:
            raise web.HTTPNotFound()
        server.in_flight += 1
        server.most_in_flight = max(server.most_in_flight, server.in_flight)
        try:
            await asyncio.sleep(route.delay or 0.01)  # long enough for concurrent requests to overlap
            if route.status == 0:  # a server that never answers in time
                await asyncio.sleep(60)
            if route.etag and request.headers.get("If-None-Match") == route.etag:
                return web.Response(status=304, headers={"ETag": route.etag})
            headers = {**route.headers, **({"ETag": route.etag} if route.etag else {})}
            return web.Response(body=route.body, status=route.status, headers=headers)
        finally:
            server.in_flight -= 1

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handle)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.port = runner.addresses[0][1]
    server.base = f"http://{public_dns.FEEDS_HOST}:{server.port}"
    yield server
    await runner.cleanup()
    server.check_parsers()


def rss(*items: tuple[str, ...], encoding: str = "utf-8", prolog: bool = True) -> bytes:
    """An RSS 2.0 document with (guid, title, description[, link]) items; an empty guid leaves it out.

    The link defaults to ``http://example.com/<guid or title>``.
    """
    body = "".join(
        f"<item>{f'<guid>{g}</guid>' if g else ''}<title>{t}</title>"
        f"<link>{rest[0] if rest else f'http://example.com/{g or t}'}</link><description>{d}</description></item>"
        for g, t, d, *rest in items
    )
    declaration = f'<?xml version="1.0" encoding="{encoding}"?>' if prolog else ""
    xml = f'{declaration}<rss version="2.0"><channel><title>T</title>{body}</channel></rss>'
    return xml.encode(encoding)
