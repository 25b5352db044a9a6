"""The default model, where the quality of the judgement is the point: the seed story must raise its alert.

The seed: Elon Musk signed the March 2023 open letter calling for a six-month pause on giant AI experiments, and
weeks later Twitter bought about 10,000 GPUs for an in-house generative-AI project. The bot must catch that from a
Korean and an English report, and stay quiet on a restatement of the letter.
"""

from __future__ import annotations

from analysis.article import ArticleAnalysis
from cli.demo import ENGLISH_PAGE
from domain.records import FeedItem
from ingest.parse import html_to_text
from llm.runtime.backend import LLM
from storage.files.store import Store
from tests.conftest import KOREAN_ARTICLE, analyse_and_record, judge_for

PAUSE_LETTER = "musk-fli-pause-2023"


def item(slug: str, title: str, text: str) -> FeedItem:
    url = f"https://news.example.com/{slug}"
    return FeedItem(f"link:{url}", url, title, text, "2023-04-17T09:00:00Z", "https://news.example.com/feed")


async def test_the_seed_clash_is_alerted_from_the_korean_article(store: Store, default_engine: LLM) -> None:
    title, _, body = KOREAN_ARTICLE.read_text(encoding="utf-8").partition("\n")
    report = await analyse_and_record(
        ArticleAnalysis(default_engine, store, judge_for(default_engine)), item("ko", title, body)
    )
    clashes = [c for c in report.clashes if c.position_id == PAUSE_LETTER]
    assert clashes, f"no alert on the pause letter; judgements: {report.judgements}"
    clash = clashes[0]
    assert clash.person == "Elon Musk" and clash.position_source and clash.article_url.endswith("/ko")
    assert clash.profile == judge_for(default_engine).profile.name and not judge_for(default_engine).profile.neutral


async def test_the_seed_clash_is_alerted_from_the_english_article(store: Store, default_engine: LLM) -> None:
    text = html_to_text(ENGLISH_PAGE)
    report = await analyse_and_record(
        ArticleAnalysis(default_engine, store, judge_for(default_engine)),
        item("en", "Twitter buys thousands of GPUs for in-house AI project", text),
    )
    assert any(c.position_id == PAUSE_LETTER for c in report.clashes), report.judgements


async def test_a_restatement_of_the_pause_letter_is_not_alerted(store: Store, default_engine: LLM) -> None:
    text = (
        "Elon Musk repeated on Tuesday that AI labs should pause the training of their most powerful systems for "
        "six months, as the open letter he signed in March asked. Musk said the pause was the right call and that "
        "he still supports it."
    )
    report = await analyse_and_record(
        ArticleAnalysis(default_engine, store, judge_for(default_engine)),
        item("again", "Musk backs AI pause again", text),
    )
    assert report.judgements, "the restatement was never judged against the letter"
    assert not report.clashes, report.judgements
