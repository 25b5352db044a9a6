"""The article pipeline through the real model and a real store: what it records for one article."""

from __future__ import annotations

import re
from typing import Any

from analysis.article import ArticleAnalysis, best_question
from delivery.routing import route_report
from domain.records import FeedItem, Subscription
from llm.runtime.backend import LLM
from llm.tasks.prompts import PROMPT_VERSION
from storage.files.store import Store
from tests.conftest import analyse_and_record, judge_for

GPU_ARTICLE = (
    "Elon Musk has bought roughly 10,000 GPUs for a generative AI project inside Twitter, weeks after he "
    "signed an open letter calling for a six-month pause on giant AI experiments. Musk said the company "
    "needs the GPUs to build its own large language model."
)


async def test_an_article_is_recorded_with_statements_judgements_and_proposals(store: Store, engine: LLM) -> None:
    pipeline = ArticleAnalysis(engine, store, judge_for(engine, 0.5))
    item = FeedItem(
        "link:https://news.example.com/gpus", "https://news.example.com/gpus", "Musk buys GPUs for Twitter AI",
        GPU_ARTICLE, "2023-04-11T09:00:00Z", "https://news.example.com/feed",
    )  # fmt: skip
    report = await analyse_and_record(pipeline, item)
    assert report.relevant and "Elon Musk" in report.people
    article = store.article(item.identity)
    assert article is not None and article.text == GPU_ARTICLE and article.summary == report.summary
    statements = store.statements("elon-musk")
    assert statements and all(s.article == item.url and s.date == "2023-04-11" for s in statements)
    judged = store.judgements("elon-musk")
    assert judged and all(j.model == engine.info.model_name and j.prompt_version == PROMPT_VERSION for j in judged)
    assert {j.position for j in judged} >= {"musk-fli-pause-2023"}  # the pause letter was a candidate
    proposals = store.positions("elon-musk", status="proposed")
    assert proposals and all(p.source_url == item.url and p.origin.startswith("extracted by") for p in proposals)
    assert not {p.id for p in proposals} & {p.id for p in store.positions("elon-musk")}  # never judged against


def test_best_question_by_keywords(store: Store) -> None:
    questions = {q.id: q for q in store.questions()}
    assert best_question("머스크는 6개월 중단을 요구하는 공개서한에 서명했다", questions) == "pause-frontier-ai"
    assert best_question("He likes rockets.", questions) == ""


async def test_summaries_reach_each_channel_in_its_language(store: Store, engine: LLM) -> None:
    store.add_subscription(Subscription(channel_id=1, guild_id=9, receive="summaries", language="en"))
    store.add_subscription(Subscription(channel_id=2, guild_id=9, receive="summaries", language="ko"))
    pipeline = ArticleAnalysis(engine, store, judge_for(engine, 0.5))
    item = FeedItem("link:g", "https://news.example.com/g", "Musk buys GPUs", GPU_ARTICLE, "", "https://feed")
    report = await analyse_and_record(pipeline, item)
    assert set(report.translations) <= {"ko"}
    route_report(store, item.feed_url, report)
    summaries = {channel: payload["summary"] for _, channel, payload in store.pending()}
    assert summaries[1] == report.summary
    if report.translations:  # a Korean summary, checked to be Korean
        assert summaries[2] == report.translations["ko"] and re.search("[가-힣]", summaries[2])
    else:  # the model answered in English: the channel is told, not misled
        assert summaries[2] == f"{report.summary}\n\n(The model could not write this summary in Korean.)"


class PromptRecorder:
    """The real engine, with the size of every prompt it is given recorded."""

    def __init__(self, engine: LLM) -> None:
        self.engine = engine
        self.largest = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.engine, name)
        if name not in {"chat", "chat_json", "label_probabilities"}:
            return attribute

        async def recorded(messages: list[dict[str, str]], *args: Any, **kwargs: Any) -> Any:
            self.largest = max(self.largest, sum(len(m["content"]) for m in messages))
            return await attribute(messages, *args, **kwargs)

        return recorded


async def test_a_huge_title_reaches_no_prompt_whole(store: Store, engine: LLM) -> None:
    recorder = PromptRecorder(engine)
    pipeline = ArticleAnalysis(recorder, store, judge_for(engine, 0.5))  # type: ignore[arg-type]
    title = "Elon Musk AI pause GPUs " * 40_000  # about 1 MB
    item = FeedItem("link:huge", "https://news.example.com/huge", title, GPU_ARTICLE, "", "https://feed")
    report = await analyse_and_record(pipeline, item)
    assert report.relevant and recorder.largest < 20_000, recorder.largest
