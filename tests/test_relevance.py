"""The relevance pre-filter in English and Korean, and the per-deployment switches."""

from __future__ import annotations

from typing import Any

import pytest

from analysis.relevance import Decision, RelevanceConfig, is_relevant, prefilter


class NoModel:
    """Fails the test if the model is asked: the pre-filter or the settings must decide."""

    async def label_probabilities(self, *args: Any) -> dict[str, float]:
        raise AssertionError("the model was called")

    def truncate(self, text: str, tokens: int) -> str:
        return text


class AlwaysNo(NoModel):
    async def label_probabilities(self, *args: Any) -> dict[str, float]:
        return {"yes": 0.1, "no": 0.9}


@pytest.mark.parametrize(
    ("text", "person", "decision"),
    [
        ("The football season opened with a win.", False, Decision.IRRELEVANT),
        ("축구 시즌이 개막했다.", True, Decision.IRRELEVANT),
        ("Musk urged a pause on giant AI experiments in an open letter.", True, Decision.RELEVANT),
        ("머스크는 인공지능 개발 중단을 요구하는 공개서한에 서명했다.", True, Decision.RELEVANT),
        ("A new AI chatbot writes poems.", False, Decision.ASK_MODEL),
    ],
)
def test_prefilter(text: str, person: bool, decision: Decision) -> None:
    assert prefilter(text, names_tracked_person=person) is decision


async def test_extra_terms_and_switches() -> None:
    engine: Any = NoModel()
    local_term = "The deepfake ban passed the assembly."
    assert not await is_relevant(engine, "t", local_term, names_tracked_person=True)
    with_term = RelevanceConfig(extra_terms=("deepfake",))
    assert await is_relevant(engine, "t", local_term, names_tracked_person=True, config=with_term)
    unclear = "A new AI chatbot writes poems."
    assert await is_relevant(engine, "t", unclear, names_tracked_person=False, config=RelevanceConfig(model=False))
    assert not await is_relevant(AlwaysNo(), "t", unclear, names_tracked_person=False)  # type: ignore[arg-type]
    everything = RelevanceConfig(prefilter=False, model=False)
    assert await is_relevant(engine, "t", "The football season opened.", names_tracked_person=False, config=everything)
