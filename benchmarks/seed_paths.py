"""Seed-path benchmark: is the seed clash alerted, whichever way the article arrives and whoever tells it?

    python benchmarks/seed_paths.py

The whole analysis (relevance, extraction with its fact check, the gate, the judge) with the configured model
(the default one unless MODEL_PATH says otherwise), on:

- the published Korean seed article (``../shared/fixtures/musk-twitter-ai-ko.txt``) as full text in the feed;
- the same article as a feed snippet, its page fetched from a local server and extracted with trafilatura from
  under a site menu and above a footer, as a snippet feed's item is read;
- the demo's English page;
- the ten re-tellings of ``evals/seed_retellings.json`` (five English, five Korean).

Printed: for each, whether a clash with the pause-letter position was alerted and every statement it showed, then
the re-tellings' recall (target: 8 of 10) and seconds per article.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
import tempfile
import time
from html import escape
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import open_app
from cli.demo import ENGLISH_PAGE
from domain.records import FeedItem
from ingest.articles import article_text
from ingest.parse import html_to_text
from settings import Settings
from storage import open_store

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT.parent / "shared" / "fixtures" / "musk-twitter-ai-ko.txt"
RETELLINGS = ROOT / "evals" / "seed_retellings.json"
PAUSE_LETTER = "musk-fli-pause-2023"
MENU = "<nav><ul><li>홈</li><li>IT</li><li>경제</li><li>로그인</li><li>구독하기</li></ul></nav>"
FOOTER = "<footer><p>회사소개 | 광고문의 | 개인정보처리방침 | 저작권 © 테크42. 무단 전재 및 재배포 금지.</p></footer>"


def page(title: str, body: str) -> bytes:
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in body.splitlines() if line.strip())
    return (
        f"<html><head><meta charset='utf-8'><title>{escape(title)}</title></head><body>{MENU}"
        f"<article><h1>{escape(title)}</h1>{paragraphs}</article>{FOOTER}</body></html>"
    ).encode()


async def serve(title: str, body: str) -> tuple[web.AppRunner, str]:
    async def handle(_: web.Request) -> web.Response:
        return web.Response(body=page(title, body), content_type="text/html")

    app = web.Application()
    app.router.add_get("/article", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/article"


async def run() -> None:
    settings = Settings.from_env()
    seed_title, _, seed_body = SEED.read_text(encoding="utf-8").partition("\n")
    retellings = json.loads(RETELLINGS.read_text(encoding="utf-8"))["articles"]
    with tempfile.TemporaryDirectory(prefix="stancewatch-seed-") as tmp:
        store = await asyncio.to_thread(open_store, Path(tmp))
        runner, url = await serve(seed_title, seed_body)
        try:
            async with open_app(settings, store=store, allow_private=True) as app:
                snippet = FeedItem(
                    "snippet", url, seed_title, seed_body.strip()[:180], "", "https://feeds.example.org/"
                )
                paths = [
                    ("Korean seed, full text", FeedItem("full", "", seed_title, seed_body, "", "feed")),
                    ("Korean seed, snippet + page", snippet),
                    ("English page", FeedItem("en", "", "Twitter buys GPUs", html_to_text(ENGLISH_PAGE), "", "f")),
                    *((f"re-telling {r['id']}", FeedItem(r["id"], "", r["title"], r["text"], "", "f"))
                      for r in retellings),
                ]  # fmt: skip
                alerted, started = [], time.perf_counter()
                for name, item in paths:
                    if item.identity == "snippet":  # the page fetched and extracted, as for a snippet feed
                        text = await article_text(app.session, item, allow_private=True)
                        item = dataclasses.replace(item, text=text)
                    report = (await app.analysis.analyse(item)).report
                    clashes = [c for c in report.clashes if c.position_id == PAUSE_LETTER]
                    alerted.append(bool(clashes))
                    shown = [" ".join(c.statement.split()) for c in clashes] or [
                        f"{len(report.judgements)} judged, none alerted"
                    ]
                    print(f"{name:34s} {'ALERT' if clashes else 'none ':5s} {shown[0]}")
                    for more in shown[1:]:  # what the same alert lists too
                        print(f"{'':40s} {more}")
                seconds = (time.perf_counter() - started) / len(paths)
        finally:
            await runner.cleanup()
            await asyncio.to_thread(store.close)
    told = sum(alerted[3:])
    print(f"\nre-tellings alerted: {told} of {len(retellings)} (target 8); seconds per article {seconds:.1f}")


if __name__ == "__main__":
    asyncio.run(run())
