"""The facts a rendering must keep (``domain.facts``): numbers across languages, negation, actors, who did what.

``evals/faithfulness_cases.json`` holds 40 sentences from reports on AI policy, half Korean, each with a rendering
that keeps its facts and one that changes a number, an actor, who did what, negation or attribution.
"""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cli.demo import ITEMS
from cogs.cards import AlertCard
from domain.facts import (
    disputes,
    negated,
    quantities,
    shared_facts,
    supported_summary,
    unfaithful,
    unsupported,
    with_digits,
)
from domain.records import Person
from llm.tasks.extract import extract_statements
from tests.conftest import KOREAN_ARTICLE
from tests.test_alerts import clash

CASES_FILE = Path(__file__).resolve().parent.parent / "evals" / "faithfulness_cases.json"
DATA = json.loads(CASES_FILE.read_text(encoding="utf-8"))
NAMES = {name: tuple(aliases) for name, aliases in DATA["names"].items()}
CASES = DATA["cases"]
KINDS = {
    "number": "numbers not in the source",
    "actor": "names not in the source",
    "who": "did what the source says",
    "negation": "negation",
    "speech": "reports speech",
}


def test_the_set_is_forty_sentences_half_korean_each_with_a_checkable_fact() -> None:
    assert len(CASES) >= 40
    assert sum(any("가" <= c <= "힣" for c in case["source"]) for case in CASES) >= 20
    assert all(set(case["changes"]) <= set(KINDS) for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["source"][:30] for c in CASES])
def test_a_faithful_rendering_passes_and_an_unfaithful_one_is_caught_for_what_it_changed(case: dict[str, str]) -> None:
    assert unfaithful(case["faithful"], case["source"], names=NAMES) == []
    problems = " / ".join(unfaithful(case["unfaithful"], case["source"], names=NAMES))
    for kind in case["changes"]:
        assert KINDS[kind] in problems, (kind, problems)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("GPU 약 1만 개", "10000"),
        ("10만 개의 GPU", "100000"),
        ("1조 2천억 원", "1200000000000"),
        ("3억 5천만 달러", "350000000"),
        ("5천만원", "50000000"),
        ("1,000만 명", "10000000"),
        ("10,000 GPUs", "10000"),
        ("ten thousand GPUs", "10000"),
        ("1.5 million users", "1500000"),
        ("$10 billion", "10000000000"),
        ("a six-month pause", "6"),
        ("10년 만에", "10"),  # 만 as "after", not ten thousand
    ],
)
def test_numbers_are_read_as_values_across_languages(text: str, value: str) -> None:
    assert (Decimal(value), False) in quantities(text)


def test_percentages_are_their_own_kind_of_number() -> None:
    assert quantities("50%") == quantities("50 퍼센트") == {(Decimal(50), True)}
    assert quantities("thousands of GPUs") == set()  # no number, so none to alter


def test_the_published_seed_articles_own_figure_is_one_hundred_thousand() -> None:
    sentence = next(line for line in KOREAN_ARTICLE.read_text(encoding="utf-8").splitlines() if "GPU를 구입" in line)
    assert (Decimal(100000), False) in quantities(sentence)
    assert unfaithful("Elon Musk bought 100,000 GPUs for a Twitter data centre.", sentence, names=NAMES) == []
    assert unfaithful("Elon Musk bought 10,000 GPUs for a Twitter data centre.", sentence, names=NAMES) != []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kakao said it would not oppose the rules.", False),  # two negations say yes
        ("카카오는 규제에 반대하지 않겠다고 말했다.", False),
        ("Meta declined to sign the code.", True),
        ("메타는 서명을 거부했다.", True),
        ("The lab signed the letter.", False),
    ],
)
def test_negation_is_read_by_parity(text: str, expected: bool) -> None:
    assert negated(text) is expected


SEED = (
    "트위터가 최근 GPU 약 1만 개를 구매한 것으로 알려졌다. 머스크는 지난 3월 AI 개발 중단을 요구하는 서한에 서명했다."
)


@pytest.mark.parametrize(
    ("sentence", "problem"),
    [
        ("Twitter bought about 10,000 GPUs.", ""),
        ("트위터는 GPU 약 1만 개를 샀다.", ""),
        ("Twitter bought 100,000 GPUs.", "numbers not in the article: 100,000"),
        ("The letter was also signed by Google.", "names not in the article: Google"),
        ("Twitter did not buy any GPUs.", "negation turned round"),
        ("They told us about the plan.", ""),  # "us" is no country
    ],
)
def test_a_summary_sentence_keeps_the_articles_numbers_names_and_negation(sentence: str, problem: str) -> None:
    found = unsupported(sentence, SEED)
    assert (problem in " / ".join(found) and found) if problem else found == [], found


def test_a_summary_loses_only_the_sentences_its_article_does_not_bear_out() -> None:
    written = "Twitter bought about 10,000 GPUs. Musk also said he would sell Tesla."
    assert supported_summary(written, SEED) == "Twitter bought about 10,000 GPUs."


class RenderingModel:
    """Answers extraction with a chosen wording of the demo's Korean report, and translation with a chosen line."""

    def __init__(self, claim: str, translation: str) -> None:
        self.claim, self.translation = claim, translation

    async def chat_json(self, messages: Any, schema: dict[str, Any], **_: Any) -> dict[str, Any]:
        quote = "트위터가 생성형 AI 프로젝트를 위해 GPU 약 1만 개를 구입한"
        return {"statements": [{"person": "Elon Musk", "kind": "did", "claim": self.claim, "quote": quote}]}

    async def chat(self, messages: Any, **_: Any) -> str:
        return self.translation

    def truncate(self, text: str, max_tokens: int) -> str:
        return text


MUSK = Person("elon-musk", "Elon Musk", ["Musk", "일론 머스크", "머스크"])
WRONG = "Elon Musk said that he was going to stop AI development for 6 months, and then bought 1,000 GPUs from Twitter."
RIGHT = "Weeks after Musk signed the letter for a 6-month pause, Twitter bought about 10,000 GPUs for an AI project."


@pytest.mark.parametrize(
    ("claim", "translation", "origin", "shown"),
    [
        (RIGHT, "", "model", RIGHT),
        (WRONG, "Twitter reportedly bought about 10,000 GPUs for a generative AI project.", "source", ""),
        (WRONG, "Twitter bought 1,000 GPUs.", "source", ""),  # a translation that changes a fact is not shown
    ],
    ids=["faithful-wording-kept", "source-with-translation", "source-alone"],
)
async def test_an_alert_never_shows_a_wording_that_changes_the_source(
    claim: str, translation: str, origin: str, shown: str
) -> None:
    title, text = ITEMS[1]["title"], ITEMS[1]["content"]
    statement, *others = await extract_statements(RenderingModel(claim, translation), title, text, [MUSK])  # type: ignore[arg-type]
    assert statement.origin == origin
    assert all(o.origin == "sentence" and o.text in f"{title} {text}" and "생성형 AI" not in o.text for o in others)
    if origin == "model":
        assert statement.text == shown and statement.translation == ""
        return
    assert statement.text.startswith("일론 머스크가 최첨단 AI 개발을 6개월간") and "GPU 약 1만 개" in statement.text
    expected = translation if "10,000" in translation else ""
    assert statement.translation == expected
    card = AlertCard.for_clash(dataclasses.replace(clash(), statement=statement.text, statement_translation=expected,
                                                   statement_quote=statement.quote))  # fmt: skip
    new = dict(card.fields)["New statement"]
    assert "1,000" not in new and "said that he was going" not in new
    assert ("Machine translation" in new) is bool(expected)


class VagueModel(RenderingModel):
    """Extraction's answer on the published seed's page: a vague wording of its caption, nothing of the purchase."""

    async def chat_json(self, messages: Any, schema: dict[str, Any], **_: Any) -> dict[str, Any]:
        quote = "일론 머스크가 트위터 AI를 개발하고 있다는 보도가 나왔다"
        return {"statements": [{"person": "Elon Musk", "kind": "did", "claim": self.claim, "quote": quote}]}


async def test_a_vague_wording_does_not_hide_the_sentence_with_the_act() -> None:
    """The snippet path of issue 25: the model kept "Elon Musk is developing Twitter AI" and the judge never saw
    the act. The first sentence naming the person that tells of an act on AI is judged beside the model's
    statement (its headline here: 6개월 중단 외치고 … AI 프로젝트 개발 착수), never the model's own sentence again."""
    title, _, text = KOREAN_ARTICLE.read_text(encoding="utf-8").partition("\n")
    statements = await extract_statements(VagueModel("Elon Musk is developing Twitter AI", ""), title, text, [MUSK])  # type: ignore[arg-type]
    headline = title.partition("? ")[2]  # the title's second sentence: its first is a question naming no one
    assert [(s.origin, s.text) for s in statements] == [
        ("model", "Elon Musk is developing Twitter AI"),
        ("sentence", headline),
    ]


async def test_when_the_model_finds_nothing_every_sentence_naming_the_person_is_judged() -> None:
    title, _, text = KOREAN_ARTICLE.read_text(encoding="utf-8").partition("\n")
    statements = await extract_statements(SilentModel("", ""), title, text, [MUSK])  # type: ignore[arg-type]
    assert len(statements) == 3 and all(s.origin == "sentence" for s in statements)
    assert any("10만 개의 GPU를 구입" in s.text for s in statements)


class SilentModel(RenderingModel):
    async def chat_json(self, messages: Any, schema: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {"statements": []}


def test_korean_unit_numbers_are_written_out_for_the_translator() -> None:
    assert with_digits("트위터가 GPU 약 1만 개를 구매했다") == "트위터가 GPU 약 10,000 개를 구매했다"
    assert with_digits("1조 2천억 원, 1.5만 명, 10년 만에") == "1,200,000,000,000 원, 15,000 명, 10년 만에"


def test_a_wording_may_take_its_figures_from_the_sentences_around_its_quote() -> None:
    """The model quoted a headline and took the figure and the owner from the sentence below it (the seed page)."""
    headline = "Twitter buys thousands of GPUs for AI project"
    below = "Elon Musk's Twitter has bought roughly 10,000 GPUs for an in-house generative AI project."
    wording = "Elon Musk's Twitter has bought roughly 10,000 GPUs for an in-house generative AI project"
    assert unfaithful(wording, headline, names=NAMES) != []
    assert unfaithful(wording, headline, names=NAMES, context=below) == []
    assert unfaithful(wording.replace("10,000", "100,000"), headline, names=NAMES, context=below) != []


def test_hostile_numbers_are_left_as_written_not_a_crash() -> None:
    """A 50,000-digit number once crashed the translator's input (Python's integer string limit)."""
    huge = "1" * 50_000 + "만 개"
    assert with_digits(huge) == huge
    assert unfaithful("About 1 GPU.", huge[-200:]) != []


def test_shared_facts_are_counted_across_languages() -> None:
    letter = "Elon Musk signed the Future of Life Institute letter calling for a six-month pause on AI beyond GPT-4."
    retold = (
        "일론 머스크는 퓨처 오브 라이프 연구소의 공개서한에 서명해 "
        "GPT-4보다 강력한 AI의 훈련을 6개월간 중단하자고 했다."
    )
    assert shared_facts(letter, retold) == 3  # 6, 4 and the Future of Life Institute
    assert shared_facts(letter, "트위터가 GPU 약 1만 개를 구입했다.") == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Yann LeCun said calls to slow down AI research were a mistake.", True),  # no negation word
        ("Yann LeCun said warnings that AI could wipe out humanity are complete nonsense.", True),
        ("얀 르쿤은 AI 연구를 멈추자는 요구를 새로운 반계몽주의라고 비판했다.", True),
        ("얀 르쿤은 AI 연구를 늦추자는 요구는 잘못이라고 말했다.", True),
        ("Meta declined to sign the code.", True),  # every negation word still counts
        ("Musk's Twitter bought 10,000 GPUs weeks after signing the pause letter.", False),  # a juxtaposition
        ("트위터가 GPU 약 1만 개를 구입했다.", False),
    ],
)
def test_a_dismissal_is_a_cue_to_ask_whether_the_statement_is_against_a_side(text: str, expected: bool) -> None:
    assert disputes(text) is expected
    if expected and "mistake" in text:
        assert not negated(text)  # dismissals never count for parity
