"""The real llama.cpp engine with the embedded model."""

import asyncio
import threading
from pathlib import Path

import pytest

from domain.names import split_sentences
from domain.records import Person
from llm.runtime.engine import LLMCancelled, LLMEngine, Priority, _stop_when
from llm.runtime.weights import TINY_MODEL
from llm.tasks.extract import extract_statements, quote_in_article, sentence_with
from llm.tasks.prompts import JUDGE_LABELS, REASON_SCHEMA, judge_messages, reason_messages, summary_messages
from llm.tasks.summarize import chunks, summarize
from settings import Settings
from tests.conftest import judge_for


async def test_label_probabilities_are_a_distribution(engine: LLMEngine) -> None:
    probs = await engine.label_probabilities(judge_messages("We must pause AI.", "We bought GPUs."), JUDGE_LABELS)
    assert set(probs) == set(JUDGE_LABELS)
    assert sum(probs.values()) == pytest.approx(1.0)
    again = await engine.label_probabilities(judge_messages("We must pause AI.", "We bought GPUs."), JUDGE_LABELS)
    # Prefix reuse evaluates fewer tokens per batch, which moves the floats slightly, never the ranking.
    assert sorted(again, key=again.__getitem__) == sorted(probs, key=probs.__getitem__)
    assert again == pytest.approx(probs, abs=0.01)


async def test_structured_output_follows_the_schema(engine: LLMEngine) -> None:
    reply = await engine.chat_json(reason_messages("Pause AI.", "Bought GPUs."), REASON_SCHEMA, max_tokens=80)
    assert reply is None or isinstance(reply["reason"], str)


async def test_judge_gives_verdict_and_confidence(engine: LLMEngine) -> None:
    ruling = await judge_for(engine, 0.5).judge("Pause AI for six months.", "He bought 10,000 GPUs.")
    assert ruling.verdict in JUDGE_LABELS
    assert 0.0 <= ruling.confidence <= 1.0 and ruling.reason


async def test_event_loop_keeps_ticking_while_the_model_generates(engine: LLMEngine) -> None:
    """The loop runs while the worker thread generates (how long a tick takes is the benchmark's business)."""
    ticks_while_generating = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks_while_generating
        while not stop.is_set():
            await asyncio.sleep(0)
            await asyncio.sleep(0.001)
            ticks_while_generating += engine._current is not None

    task = asyncio.create_task(ticker())
    await engine.chat([{"role": "user", "content": "Write a long story about a robot."}], max_tokens=64)
    stop.set()
    await task
    assert ticks_while_generating >= 5


async def test_interactive_work_overtakes_background_work(engine: LLMEngine) -> None:
    order: list[str] = []
    gate = threading.Event()
    blocker = asyncio.create_task(engine.submit(lambda _: gate.wait(5)))
    await asyncio.sleep(0.05)
    background = asyncio.create_task(engine.submit(lambda _: order.append("background")))
    interactive = asyncio.create_task(engine.submit(lambda _: order.append("ask"), priority=Priority.INTERACTIVE))
    await asyncio.sleep(0.05)
    gate.set()
    await asyncio.gather(blocker, background, interactive)
    assert order == ["ask", "background"]


async def test_timeout_signals_the_running_job_and_frees_the_engine(engine: LLMEngine) -> None:
    seen: list[bool] = []
    with pytest.raises(TimeoutError):
        await engine.submit(lambda cancelled: seen.append(cancelled.wait(5)), timeout=0.2)
    assert await engine.submit(lambda _: 42) == 42
    assert seen == [True]


async def test_a_cancelled_generation_stops_at_the_next_token(engine: LLMEngine) -> None:
    """Counted in tokens, not seconds: a loaded machine is slower, never wrong."""
    messages = summary_messages("AI law", "The senate debated a bill on frontier AI. " * 40, "en")
    prompt = engine._formatter(messages=messages).prompt  # type: ignore[arg-type]
    prompt_tokens = len(engine.llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))
    uncancelled = engine.count_tokens(await engine.chat(messages, max_tokens=60))
    await engine.submit(lambda _: engine.llama.reset())
    task = asyncio.create_task(engine.chat(messages, max_tokens=60))
    while engine.llama.n_tokens < prompt_tokens + 2:  # noqa: ASYNC110 - polls the worker thread's progress
        await asyncio.sleep(0.001)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    generated = await engine.submit(lambda _: engine.llama.n_tokens) - prompt_tokens
    assert uncancelled >= 40 and generated <= uncancelled // 2, (generated, uncancelled)


def test_the_stop_criterion_follows_the_cancel_event() -> None:
    cancelled = threading.Event()
    criterion = _stop_when(cancelled)
    assert criterion(None, None) is False
    cancelled.set()
    assert criterion(None, None) is True


def test_truncation_counts_tokens_not_characters(engine: LLMEngine) -> None:
    korean = "머스크는 인공지능 개발을 중단하자고 말했다. " * 200
    cut = engine.truncate(korean, 100)
    assert engine.count_tokens(cut) <= 101 and len(cut) < len(korean)


async def test_extraction_falls_back_to_sentences_naming_the_person(engine: LLMEngine) -> None:
    musk = Person("elon-musk", "Elon Musk", ["Musk", "머스크"])
    text = "Unrelated opening. Musk said the pause letter was right. The weather was fine."
    statements = await extract_statements(engine, "News", text, [musk])
    assert statements and all(s.person == "elon-musk" for s in statements)
    assert all((s.origin == "model" and quote_in_article(s.quote, text)) or "Musk" in s.text for s in statements)


async def test_clash_subtype_and_severity_come_from_the_model(engine: LLMEngine) -> None:
    judge = judge_for(engine, 0.0)
    subtype, severity = await judge.describe_clash(
        "We call on all AI labs to pause training of powerful AI systems for six months.",
        "The company bought 10,000 GPUs to train its own large language model.",
    )
    assert subtype in {"surface contradiction", "factual inconsistency", "indirect inconsistency"}
    assert severity in {"half flip", "full flop"}


async def test_long_articles_are_summarized_in_chunks(engine: LLMEngine) -> None:
    paragraph = "The senate debated a bill to license frontier AI models and to pause the largest training runs. "
    article = "\n".join(f"Part {i}. {paragraph * 12}" for i in range(12))
    pieces = chunks(engine, article)
    assert 1 < len(pieces) <= 4
    assert all(engine.count_tokens(piece) <= 1500 for piece in pieces)
    assert article.startswith(pieces[0]) and pieces[1].lstrip().startswith(("Part", "The"))
    calls: list[int] = []
    original = engine.chat

    async def counting_chat(*args: object, **kwargs: object) -> str:
        calls.append(1)
        return await original(*args, **kwargs)  # type: ignore[arg-type]

    engine.chat = counting_chat  # type: ignore[method-assign]
    try:
        summary = await summarize(engine, "Senate AI bill", article)
    finally:
        del engine.chat
    assert len(calls) == len(pieces) + 1 and summary


def test_a_fragment_claim_is_replaced_by_the_quotes_sentence() -> None:
    article = "Musk signed the letter. Twitter bought 10,000 GPUs for a generative AI project. Nothing else."
    assert (
        sentence_with("10,000 GPUs for a generative", split_sentences(article))
        == "Twitter bought 10,000 GPUs for a generative AI project."
    )


async def test_closing_the_engine_during_a_generation_stops_it_first() -> None:
    """Once, the bot's close() freed the model under a running generation and the process died (SIGSEGV)."""
    engine = LLMEngine.load(Settings(model_path=Path(TINY_MODEL)))
    messages = summary_messages("AI law", "The senate debated a bill on frontier AI. " * 40, "en")
    task = asyncio.create_task(engine.chat(messages, max_tokens=400))
    while engine._current is None:  # noqa: ASYNC110 - polls the worker thread's progress
        await asyncio.sleep(0.01)
    await engine.aclose()
    with pytest.raises(LLMCancelled):
        await task
    assert not engine._worker.is_alive()
