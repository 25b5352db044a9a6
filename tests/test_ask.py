"""``/ask``'s retrieval and grounding, through the real model and a real store."""

from __future__ import annotations

import re

from models.answer import strip_unknown_citations
from models.engine import LLMEngine
from pipeline.ask import ask, retrieve
from storage.records import Article, Judgement, Statement
from storage.store import Store


def cited(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"\[(\d+)\]", text)}


async def test_english_question_is_answered_from_stored_sources_only(store: Store, engine: LLMEngine) -> None:
    result = await ask(store, engine, "What has Musk said about pausing AI?")
    assert any("futureoflife.org" in s.url for s in result.sources)
    assert all(s.person == "Elon Musk" for s in result.sources)
    assert cited(result.text) <= {s.number for s in result.sources}


async def test_korean_question_finds_the_regulation_positions(store: Store, engine: LLMEngine) -> None:
    result = await ask(store, engine, "머스크는 AI 규제에 대해 뭐라고 했나?")
    urls = {s.url for s in result.sources}
    assert any("npr.org" in u for u in urls) and any("SB" in s.claim for s in result.sources)
    assert cited(result.text) <= {s.number for s in result.sources}


async def test_statements_from_articles_are_evidence(store: Store) -> None:
    statement = Statement(
        "s1", "elon-musk", "Elon Musk bought about 10,000 GPUs for a generative AI project at Twitter.",
        "https://news.example.com/gpus", date="2023-04-11", kind="did", question="pause-frontier-ai",
    )  # fmt: skip
    verdict = Judgement("musk-fli-pause-2023", "elon-musk", statement.text, "inconsistent", 0.81, "r")
    store.record_article(Article("link:gpus", "https://news.example.com/gpus"), [verdict], [statement])
    _, evidence = retrieve(store, "Did Musk keep to the pause he asked for?")
    [found] = [e for e in evidence if e.url == "https://news.example.com/gpus"]
    assert "judged inconsistent, confidence 0.81" in found.text and found.date == "2023-04-11"


async def test_nothing_relevant_lists_what_is_known_instead(store: Store, engine: LLMEngine) -> None:
    result = await ask(store, engine, "What does Musk think about electric cars?")
    assert result.text == "Nothing I store answers that question. What I do store about Elon Musk:"
    assert result.sources and all(s.person == "Elon Musk" for s in result.sources)
    unknown = await ask(store, engine, "What does Jane Doe think about pizza?")
    assert unknown.text == "I have nothing stored about that." and unknown.sources == []


def test_citations_to_missing_sources_are_removed() -> None:
    text, numbers = strip_unknown_citations("He signed it [1] and later bought GPUs [7][2].", 2)
    assert text == "He signed it [1] and later bought GPUs [2]." and numbers == [1, 2]
