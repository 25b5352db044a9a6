"""The remote backend against a real ``python -m llama_cpp.server`` serving the embedded model."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from analysis.article import ArticleAnalysis
from domain.records import FeedItem, Question
from llm.runtime.backend import Priority
from llm.runtime.remote import PriorityGate, RemoteEngine, first_token_probabilities
from llm.tasks.prompts import REASON_SCHEMA, RELEVANCE_LABELS, reason_messages, relevance_messages
from settings import ConfigError, Settings
from storage.files.store import Store
from tests.conftest import analyse_and_record, free_port, judge_for
from tests.test_pipeline import GPU_ARTICLE


@pytest.fixture
async def remote(server_url: str) -> AsyncIterator[RemoteEngine]:
    engine = await RemoteEngine.connect(Settings(llm_base_url=server_url))
    yield engine
    await engine.aclose()


async def test_judge_through_the_server(remote: RemoteEngine) -> None:
    assert remote.info.model_name and "remote server" in remote.info.device
    judge = judge_for(remote, 0.5)
    method, probs = await judge.probabilities(
        "We must pause giant AI experiments.", "We bought 10,000 GPUs to train AI."
    )
    assert method == "pair" and set(probs) == {"consistent", "unrelated", "inconsistent"}
    assert abs(sum(probs.values()) - 1) < 1e-6
    assert len(set(round(p, 6) for p in probs.values())) > 1  # the model's logprobs, not a uniform fallback
    question = Question("pause", "Should frontier AI development be paused?")
    method, probs = await judge.probabilities("We must pause.", "We bought GPUs.", question=question, stance="favor")
    assert method == "stance" and abs(sum(probs.values()) - 1) < 1e-6
    subtype, severity = await judge.describe_clash("We must pause AI.", "We bought GPUs for AI.")
    assert subtype.endswith(("contradiction", "inconsistency")) and severity in {"half flip", "full flop"}


async def test_schema_output_and_labels_through_the_server(remote: RemoteEngine) -> None:
    reply = await remote.chat_json(
        reason_messages("We must pause AI.", "We bought GPUs."), REASON_SCHEMA, max_tokens=60
    )
    assert reply is not None and isinstance(reply["reason"], str)
    probs = await remote.label_probabilities(
        relevance_messages("AI bill", "The senate passed an AI bill."), RELEVANCE_LABELS
    )
    assert set(probs) == {"yes", "no"} and abs(sum(probs.values()) - 1) < 1e-6


async def test_the_pipeline_runs_on_the_remote_backend(remote: RemoteEngine, store: Store) -> None:
    pipeline = ArticleAnalysis(remote, store, judge_for(remote, 0.5))
    item = FeedItem("link:gpus", "https://news.example.com/gpus", "Musk buys GPUs", GPU_ARTICLE, "", "https://feed")
    report = await analyse_and_record(pipeline, item)
    assert report.relevant and report.summary and report.judgements
    assert all(j.model == remote.info.model_name for j in store.judgements("elon-musk"))


async def test_an_unreachable_server_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="did not answer as an OpenAI-compatible server"):
        await RemoteEngine.connect(Settings(llm_base_url=f"http://127.0.0.1:{free_port()}/v1"))


async def test_priority_gate_lets_interactive_work_overtake() -> None:
    gate = PriorityGate(1)
    order: list[str] = []
    await gate.acquire(Priority.BACKGROUND)

    async def wait(name: str, priority: Priority) -> None:
        await gate.acquire(priority)
        order.append(name)
        gate.release()

    background = asyncio.create_task(wait("background", Priority.BACKGROUND))
    await asyncio.sleep(0)
    interactive = asyncio.create_task(wait("ask", Priority.INTERACTIVE))
    await asyncio.sleep(0)
    gate.release()
    await asyncio.gather(background, interactive)
    assert order == ["ask", "background"]


def test_first_token_probabilities_and_truncation() -> None:
    top = [{"token": " in", "logprob": -0.5}, {"token": "cons", "logprob": -1.5}, {"token": "!", "logprob": -2.0}]
    probs = first_token_probabilities(top, ("consistent", "unrelated", "inconsistent"))
    assert probs["inconsistent"] > probs["consistent"] > probs["unrelated"] == 0.0
    engine = RemoteEngine.__new__(RemoteEngine)
    assert engine.truncate("가" * 50, 10) == "가" * 10
    assert engine.truncate("word " * 100, 30) == ("word " * 100)[:90]
