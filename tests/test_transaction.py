"""An article's records, alert claims, outbox messages and inbox completion are one transaction.

The model is a fake here (the real one is exercised elsewhere): it finds the seed clash in every article, so the
test is about what the store holds after a crash, not about what the model thinks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from analysis.article import ArticleAnalysis, ArticleReport
from analysis.relevance import RelevanceConfig
from delivery.messages import ClashAlert, ClashUpdate, from_payload
from domain.records import Feed, FeedItem, Subscription
from ingest.http import make_session
from llm.tasks.judge import ClashJudge
from llm.tasks.profile import neutral_profile
from pipeline.watcher import FeedWatcher, WatchPolicy
from storage.files.store import Store
from tests.conftest import FeedServer, Route, rss
from tests.fakes import ARTICLE, ClashingModel


@pytest.mark.parametrize("articles", [1, 3])
async def test_a_claimed_alert_is_never_persisted_without_its_message(
    feed_server: FeedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, articles: int
) -> None:
    """Once, the claim and the outbox message were written in two store calls, and a commit by another task could
    land between them: after a crash the replayed article found its alert "already claimed" and it was never sent.
    Here every store call is preceded by a flush, as if another task committed right then; the process then
    "dies" (the store is reopened without a final flush)."""
    store = Store.open(tmp_path / "data")
    store.add_subscription(Subscription(channel_id=7, guild_id=1))
    durable_states: list[tuple[set[str], set[str]]] = []
    real_run = Store.run

    async def run_after_a_commit(self: Store, fn: Any, *args: Any, **kwargs: Any) -> Any:
        # Another task's commit lands here, on the store thread as every commit does (a flush from this thread could
        # split a store call running there, which no commit can); the process may die right after it.
        await real_run(self, self.flush)
        durable_states.append(claims_and_messages(tmp_path / "data" / "stancewatch.json"))
        return await real_run(self, fn, *args, **kwargs)

    monkeypatch.setattr(Store, "run", run_after_a_commit)
    items = [(f"g{i}", f"Musk buys GPUs {i}", ARTICLE) for i in range(articles)]
    feed_server.routes["/feed"] = Route(rss(*items))
    model = ClashingModel()
    pipeline = ArticleAnalysis(model, store, ClashJudge(model, neutral_profile("", "fake"), alert_threshold=0.3),  # type: ignore[arg-type]
                               relevance=RelevanceConfig(model=False))  # fmt: skip

    async def on_report(item: FeedItem, report: ArticleReport) -> None:
        return None

    async with make_session(allow_private=True) as session:
        watcher = FeedWatcher(
            store, pipeline, session, on_report, allow_private=True, policy=WatchPolicy(initial_items=5)
        )
        store.save_feed(Feed(url=feed_server.url("/feed")))
        await watcher.poll(feed_server.url("/feed"))
        await watcher.drain()
        await watcher.stop()
    store.flush()
    durable_states.append(claims_and_messages(tmp_path / "data" / "stancewatch.json"))
    # Every article raised its alert: the model's statement of each, and the sentence naming Musk that all of
    # them share (one statement, claimed once).
    assert len(durable_states[-1][0]) == articles + 1
    for claimed, announced in durable_states:
        assert claimed <= announced, "an alert claim was durable before the message it leads to"


def claims_and_messages(hot_file: Path) -> tuple[set[str], set[str]]:
    """The alert claims and the judgements that queued clash messages carry, as the file on disk holds them."""
    hot = json.loads(hot_file.read_text(encoding="utf-8"))
    claimed = {row["id"] for row in hot.get("alerted", {}).values()}
    messages = [from_payload(m["payload"]) for m in hot.get("outbox", {}).values()]
    return claimed, {  # an alert, or the update that joined a later clash to it
        judgement for m in messages if isinstance(m, ClashAlert | ClashUpdate) for judgement in m.judgement_ids
    }


async def test_an_irrelevant_article_keeps_its_metadata_not_its_body(store: Store) -> None:
    """Before: every article's body was kept 90 days, so one busy feed grew the archive by megabytes a poll."""
    model = ClashingModel()
    analysis = ArticleAnalysis(
        model,  # type: ignore[arg-type]
        store,
        ClashJudge(model, neutral_profile("", "fake"), alert_threshold=0.3),  # type: ignore[arg-type]
        relevance=RelevanceConfig(model=False),
    )
    item = FeedItem(
        "link:bikes", "https://news.example.com/bikes", "Bicycle lanes", "The council voted. " * 200, "", ""
    )
    outcome = await analysis.analyse(item)
    assert not outcome.report.relevant and outcome.article.text == "" and outcome.article.title == "Bicycle lanes"
