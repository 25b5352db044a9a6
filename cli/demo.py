"""``bot.py demo``: the whole pipeline, offline, against a sample feed served on 127.0.0.1.

The sample articles are written for this demo (one English, one Korean, one off-topic)
and retell the reference case: Elon Musk signed the March 2023 open letter calling for
a six-month pause on giant AI experiments, and weeks later Twitter bought thousands of
GPUs for an in-house generative-AI project. Whatever the model decides is printed as
it is; nothing is scripted.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from aiohttp import web

from analysis.article import ArticleReport
from app import open_app
from cli.terminal import printable
from cogs.cards import AlertCard
from delivery.messages import ClashAlert, ClashUpdate, from_payload
from domain.records import Feed, FeedItem, Subscription
from drawing.timeline import build_timeline, render
from pipeline.watcher import WatchPolicy
from settings import Settings
from storage import open_store
from storage.atomic import atomic_write_bytes
from storage.interfaces import StanceStore

SEED_PERSON = "elon-musk"

ENGLISH_PAGE = """<!doctype html><html><head><title>Twitter buys thousands of GPUs for AI project</title></head>
<body><nav>Home | Tech | Policy</nav><article><h1>Twitter buys thousands of GPUs for in-house AI project</h1>
<p>Elon Musk's Twitter has bought roughly 10,000 GPUs for an in-house generative AI project, according to a
report by Business Insider in April 2023. The chips are meant for one of Twitter's two remaining data centres.</p>
<p>The purchase came only weeks after Elon Musk signed the Future of Life Institute open letter that called on
all AI labs to pause the training of AI systems more powerful than GPT-4 for at least six months.</p>
<p>Twitter has also hired two former DeepMind researchers. Musk has not said how Twitter will use the model.</p>
</article><footer>Sample article written for the Stancewatch demo.</footer></body></html>"""

ITEMS = [
    {
        "slug": "twitter-gpus",
        "title": "Twitter buys thousands of GPUs for in-house AI project",
        "description": "Elon Musk's Twitter is building a generative AI model.",
        "content": "",
        "date": "Tue, 11 Apr 2023 09:00:00 GMT",
    },
    {
        "slug": "musk-ko",
        "title": "일론 머스크, AI 개발 중단 서한 서명 몇 주 만에 GPU 1만 개 구매",
        "description": "",
        "content": (
            "일론 머스크가 최첨단 AI 개발을 6개월간 중단하자는 공개서한에 서명한 지 몇 주 만에 트위터가 "
            "생성형 AI 프로젝트를 위해 GPU 약 1만 개를 구입한 것으로 알려졌다. "
            "비즈니스 인사이더에 따르면 이 GPU는 트위터의 데이터 센터에서 사용될 예정이다. "
            "머스크는 트위터 AI 프로젝트를 직접 지휘하고 있는 것으로 전해졌다. "
            "이 기사는 Stancewatch 데모를 위해 작성된 예시 기사다."
        ),
        "date": "Wed, 12 Apr 2023 08:00:00 GMT",
    },
    {
        "slug": "bike-lanes",
        "title": "City council approves new bicycle lanes",
        "description": "The council voted to add twelve kilometres of protected bicycle lanes downtown next spring.",
        "content": "",
        "date": "Thu, 13 Apr 2023 10:00:00 GMT",
    },
]


def sample_feed(base_url: str) -> str:
    entries = []
    for item in ITEMS:
        content = f"<content:encoded>{escape(item['content'])}</content:encoded>" if item["content"] else ""
        entries.append(
            f"<item><title>{escape(item['title'])}</title><link>{base_url}/articles/{item['slug']}</link>"
            f"<guid>{base_url}/articles/{item['slug']}</guid><pubDate>{item['date']}</pubDate>"
            f"<description>{escape(item['description'])}</description>{content}</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>Stancewatch sample feed</title><link>{base_url}/</link><description>Demo</description>"
        + "".join(entries)
        + "</channel></rss>"
    )


async def start_sample_server() -> tuple[web.AppRunner, str]:
    """Serve the sample feed and its article pages on 127.0.0.1 at an ephemeral port."""
    app = web.Application()
    runner = web.AppRunner(app)

    async def feed(_: web.Request) -> web.Response:
        return web.Response(text=sample_feed(base), content_type="application/rss+xml")

    async def article(request: web.Request) -> web.Response:
        if request.match_info["slug"] == "twitter-gpus":
            return web.Response(text=ENGLISH_PAGE, content_type="text/html")
        raise web.HTTPNotFound()

    app.router.add_get("/feed.xml", feed)
    app.router.add_get("/articles/{slug}", article)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    base = f"http://127.0.0.1:{port}"
    return runner, base


DEMO_CHANNEL = 1
"""The demo subscribes one channel to everything: its outbox shows what a Discord channel would receive."""


def print_report(report: ArticleReport) -> None:
    """What the model made of one article, as the operator reads it (untrusted text made printable)."""
    print(printable(report_text(report)))


def report_text(report: ArticleReport) -> str:
    lines: list[str] = []
    lines.append(f"\n=== {report.title}\n    {report.url}")
    lines.append(f"    language={report.language} relevant={report.relevant} people={', '.join(report.people) or '-'}")
    if not report.relevant:
        lines.append("    (not about AI policy: skipped without summarizing)")
        return "\n".join(lines)
    lines.append(f"    summary: {report.summary}")
    for j in report.judgements:
        lines.append(
            f"    judged [{j['verdict']} {j['confidence']:.2f}] {j['person']}: “{j['statement']}”\n"
            f"        vs position {j['position_id']}: {j['reason']}"
        )
    if not report.judgements:
        lines.append("    no statement/position pair shared a topic, so nothing was judged")
    for clash in report.clashes:
        lines.append(f"    CLASH with {clash.position_id} (the channel below shows what is posted)")
    return "\n".join(lines)


def channel_text(store: StanceStore, channel_id: int) -> tuple[str, int]:
    """What the demo's channel receives, as the outbox holds it: new alerts, and alerts edited as statements join
    them. Returns the text and the number of alerts posted."""
    lines, alerts = [f"\n=== What channel #{channel_id} receives"], 0
    for outbox_id, channel, payload in store.pending():
        message = from_payload(payload)
        if channel != channel_id or not isinstance(message, ClashAlert | ClashUpdate):
            continue
        if isinstance(message, ClashAlert):
            alerts += 1
            lines.append(f"  POSTED alert {outbox_id}:")
        else:
            lines.append(f"  EDITED alert {message.target}: a later report joined it; it now lists:")
        card = AlertCard.for_clashes(list(message.clashes)).render_text()
        lines.append("\n".join(f"    {line}" for line in card.splitlines()))
    return "\n".join(lines), alerts


def register(sub: Any) -> None:
    demo = sub.add_parser("demo", help="run the whole pipeline offline against a bundled sample feed")
    demo.add_argument("--data-dir", type=Path, help="keep the demo's store here instead of a temporary directory")
    demo.set_defaults(func=command)


def command(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(run_demo(settings, args.data_dir))


async def run_demo(settings: Settings, data_dir: Path | None = None) -> int:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="stancewatch-demo-") as tmp:
        store = await asyncio.to_thread(open_store, data_dir or Path(tmp))
        runner, base = await start_sample_server()
        totals = {"articles": 0, "judgements": 0, "alerts": 0}
        await store.run(store.add_subscription, Subscription(DEMO_CHANNEL, DEMO_CHANNEL))

        async def on_report(item: FeedItem, report: ArticleReport) -> None:
            print_report(report)
            totals["articles"] += 1
            totals["judgements"] += len(report.judgements)

        try:
            # The demo's own server is on 127.0.0.1, so private addresses are allowed for this run only.
            policy = WatchPolicy(initial_items=len(ITEMS))
            async with open_app(settings, store=store, allow_private=True, policy=policy) as app:
                judge = app.judge
                print(f"Model: {app.engine.info.describe()}")
                print(
                    f"Judge profile: {judge.profile.name}; an alert needs P(inconsistent) >= "
                    f"{judge.threshold('stance'):.2f} (stance method) or {judge.threshold('pair'):.2f} (pair method)"
                )
                app.watcher.on_report = on_report
                feed_url = f"{base}/feed.xml"
                await store.run(store.save_feed, Feed(url=feed_url))
                print(f"Polling {feed_url} once")
                result = await app.watcher.poll(feed_url)
                if result.error:
                    print(f"Feed error: {result.error}")
                    return 1
                await app.watcher.drain()
            text, totals["alerts"] = await store.run(channel_text, store, DEMO_CHANNEL)
            print(printable(text))
            timeline = await store.run(build_timeline, store, SEED_PERSON)
            picture = (data_dir or Path(tempfile.gettempdir()) / "stancewatch-demo") / f"timeline-{SEED_PERSON}.png"
            await asyncio.to_thread(atomic_write_bytes, picture, await asyncio.to_thread(render, timeline))
            print(f"\nTimeline of {timeline.title}: {picture}")
        finally:
            await runner.cleanup()
            await asyncio.to_thread(store.close)
    print(
        f"\nDone: {totals['articles']} articles, {totals['judgements']} judgements, alerts posted: {totals['alerts']} "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return 0
