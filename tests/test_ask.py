"""``/ask``: retrieval, the stance decided from the evidence's sides, sentences that cite only what they rest on,
in the asker's language; through the real store and the real models, and the evaluation set's targets."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from analysis.answer_text import Cited, stance_sentences
from analysis.ask import Evidence, ask, decide, gather, rank_topics, statement_side, without_names
from analysis.ask_eval import evaluate_ask, load_ask_set, record_setup
from domain.language import detect_language, korean_date, topic_particle
from domain.records import Article, Judgement, Person, Position, RecordError, Statement
from llm.runtime.backend import LLM
from storage.files.store import Store
from storage.operations import load_starter_pack

ASK_SET = Path(__file__).resolve().parents[1] / "evals" / "ask_questions.json"
HELD_OUT = ASK_SET.with_name("ask_heldout.json")
MUSK = Person("elon-musk", "Elon Musk", ["Musk", "일론 머스크", "머스크"])
GPUS = Statement(
    "s-gpus", "elon-musk", "Elon Musk's Twitter bought about 10,000 GPUs for a generative AI project.",
    "https://news.example.com/gpus", date="2023-04-11", kind="did", question="pause-frontier-ai",
)  # fmt: skip


def evidence(id: str, side: str, date: str, kind: str = "position") -> Evidence:
    return Evidence(id, "elon-musk", f"Claim {id}.", date, f"https://example.com/{id}", side, kind)  # type: ignore[arg-type]


def record_gpus(store: Store, verdict: str = "inconsistent", review: str = "unreviewed") -> None:
    judged = Judgement("musk-fli-pause-2023", "elon-musk", GPUS.text, verdict, 0.86, "r", review=review)  # type: ignore[arg-type]
    store.record_article(Article("link:gpus", GPUS.article), [judged], [GPUS])


def test_the_stance_follows_the_sides_and_which_way_the_question_points() -> None:
    favor, later = evidence("a", "favor", "2023-03-22"), evidence("b", "favor", "2024-08-26")
    against = evidence("c", "against", "2023-04-11", "did")
    assert decide([later, favor], 0.9) == ("yes", [favor, later])  # dates ascending
    assert decide([favor], 0.1) == ("no", [favor])  # "was he against it?" over a position in favour
    assert decide([against], 0.1) == ("yes", [against])
    assert decide([favor, later, against], None) == ("mixed", [favor, against])  # no reading needed
    assert decide([evidence("d", "", "2023")], 0.9) == ("not stored", [])  # an unsided statement answers nothing


def test_a_statement_takes_its_side_from_the_judgement() -> None:
    position = Position("p", "elon-musk", "pause-frontier-ai", "favor", "Signed.", "https://x", "2023")
    judged = Judgement("p", "elon-musk", "Bought GPUs.", "inconsistent", 0.9, "r")
    assert statement_side(judged, position) == "against"
    assert statement_side(Judgement("p", "elon-musk", "s", "consistent", 0.9, "r"), position) == "favor"
    assert statement_side(Judgement("p", "elon-musk", "s", "unrelated", 0.9, "r"), position) == ""
    assert statement_side(judged, None) == ""


def test_names_give_way_to_a_placeholder_with_the_right_particle() -> None:
    assert (
        without_names("Did Elon Musk oppose it, or did musk?", [MUSK], "en")
        == "Did the person oppose it, or did the person?"
    )
    assert without_names("머스크는 중단을 지지했나?", [MUSK], "ko") == "그 사람은 중단을 지지했나?"
    assert without_names("일론 머스크가 말했나", [MUSK], "ko") == "그 사람이 말했나"


def test_korean_grammar_helpers() -> None:
    assert (topic_particle("머스크"), topic_particle("올트먼"), topic_particle("Musk")) == ("는", "은", "은(는)")
    assert korean_date("2023-03-22") == "2023년 3월 22일" and korean_date("2024-08") == "2024년 8월"
    assert korean_date("2023") == "2023년" and korean_date("spring") == "spring"
    assert detect_language("머스크는 지지했나?") == "ko" and detect_language("Did Musk?") == "en"


def test_sentences_state_the_stance_and_cite_where_they_rest(store: Store) -> None:
    pause = store.question("pause-frontier-ai")
    assert pause is not None
    signed = Cited(1, "Elon Musk signed the letter.", "2023-03-22", "favor", "position")
    bought = Cited(2, "Twitter bought GPUs.", "2023-04-11", "against", "did")
    english = stance_sentences("en", MUSK, pause, "mixed", [signed, bought])
    assert english == "Mixed: Elon Musk signed the letter [1]. Later (2023-04-11): Twitter bought GPUs [2]."
    korean = stance_sentences("ko", MUSK, pause, "mixed", [signed, bought])
    assert korean.startswith(
        "입장이 엇갈립니다. 일론 머스크는 2023년 3월 22일에 ‘최첨단 AI 개발을 일시 중단해야 하는가?’에"
    )
    assert "찬성하는 입장을 밝혔지만 [1]" in korean and "반대하는 쪽으로 행동했습니다 [2]." in korean
    assert stance_sentences("ko", MUSK, pause, "no", [signed]).startswith("아니요. ")


def test_topics_are_matched_through_word_endings(store: Store) -> None:
    assert [q.id for q in rank_topics("Was Max Tegmark against pausing AI?", store.questions())][:1] == [
        "pause-frontier-ai"
    ]
    assert rank_topics("What does Musk think about electric cars?", store.questions()) == []


async def test_english_question_is_answered_from_stored_sources_only(store: Store, engine: LLM) -> None:
    result = await ask(store, engine, "Did Elon Musk support pausing AI development?")
    assert result.stance in ("yes", "no") and result.reading is not None and result.language == "en"
    [cited] = result.cited()
    assert cited.id == "musk-fli-pause-2023" and "futureoflife.org" in cited.url
    assert result.text.endswith("[1].") and cited.claim.rstrip(".") in result.text  # the claim itself, cited
    assert all(s.person == "Elon Musk" for s in result.sources)


async def test_korean_question_gets_a_korean_answer(store: Store, engine: LLM) -> None:
    result = await ask(store, engine, "머스크는 AI 규제를 지지했나요?")
    assert detect_language(result.text) == "ko" and result.text.startswith(("네. ", "아니요. "))
    assert {s.id for s in result.cited()} == {"musk-nga-regulate-2017", "musk-sb1047-2024"}
    assert "2017년 7월 15일 [1]" in result.text


async def test_a_clash_recorded_from_an_article_makes_the_stance_mixed(store: Store, engine: LLM) -> None:
    record_gpus(store)
    result = await ask(store, engine, "Did Musk keep to the pause he asked for?")
    assert result.stance == "mixed" and result.reading is None
    assert [s.id for s in result.cited()] == ["musk-fli-pause-2023", "s-gpus"]
    assert "judged inconsistent, confidence 0.86" in result.sources[1].claim
    assert "confidence" not in result.text  # the judge's note belongs to the source list, not the sentence


async def test_a_dismissed_clash_is_not_evidence_of_a_side(store: Store, engine: LLM) -> None:
    record_gpus(store, review="dismissed")
    findings = gather(store, "Did Musk support the pause?")
    [gpus] = [e for e in findings.evidence["elon-musk"] if e.id == "s-gpus"]
    assert gpus.side == "" and gpus.note == ""
    assert (await ask(store, engine, "Did Musk support the pause?")).stance in ("yes", "no")


async def test_what_is_not_stored_is_said_and_never_cited(store: Store, engine: LLM) -> None:
    result = await ask(store, engine, "What does Musk think about electric cars?")
    assert result.stance == "not stored" and result.cited() == []
    assert (
        result.text
        == "The stored sources do not answer this for Elon Musk. What I store about Elon Musk is listed below."
    )
    assert result.sources and all(s.person == "Elon Musk" for s in result.sources)
    korean = await ask(store, engine, "저커버그는 AI 개발 중단 서한에 서명했나요?")
    assert (
        korean.text.startswith("저장된 출처로는 마크 저커버그에 대한 이 질문에 답할 수 없습니다.")
        and not korean.cited()
    )
    unknown = await ask(store, engine, "Did Jane Doe support the AI pause?")
    assert unknown.stance == "not stored" and unknown.cited() == []
    assert unknown.text.startswith("The question names no one I track")
    assert {s.person for s in unknown.sources} >= {"Elon Musk", "Yoshua Bengio"}  # who is stored on that question


def test_the_evaluation_set_is_what_the_issue_asks_for() -> None:
    ask_set = load_ask_set(ASK_SET)
    cases = ask_set.cases
    assert len(cases) >= 60 and sum(c.language == "ko" for c in cases) * 2 == len(cases)
    assert {c.stance for c in cases} == {"yes", "no", "mixed", "not stored"}
    assert sum(c.stance == "not stored" for c in cases) >= 10
    ids = {p["id"] for p in load_starter_pack()["positions"]} | {s.id for s, _ in ask_set.statements}
    held_out = load_ask_set(HELD_OUT).cases
    assert len(held_out) == 12 and not {c.question for c in held_out} & {c.question for c in cases}
    for case in [*cases, *held_out]:  # every id names a starter position or a set statement
        assert case.cite | case.may_cite <= ids and detect_language(case.question) == case.language, case.id


def test_a_broken_evaluation_set_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"questions": [{"id": "q", "question": "?", "language": "en", "stance": "maybe"}]}')
    with pytest.raises(RecordError, match=r"questions\[0\]\.stance: must be one of yes, no, mixed, not stored"):
        load_ask_set(bad)


async def test_the_default_model_meets_the_targets_on_a_fixed_third_of_the_set(
    store: Store, default_engine: LLM
) -> None:
    """Every third question of each language (the whole set is ``make eval-ask``'s; figures in the README)."""
    ask_set = load_ask_set(ASK_SET)
    record_setup(store, ask_set)
    cases = [c for c in ask_set.cases if int(c.id.rsplit("-", 1)[1]) % 3 == 1]
    out = io.StringIO()
    metrics = await evaluate_ask(store, default_engine, cases, out)
    assert metrics.n == len(cases) == 24
    assert metrics.stance_accuracy >= 0.9, out.getvalue()
    assert metrics.citation_precision >= 0.95 and metrics.language_accuracy >= 0.95, out.getvalue()
    assert metrics.not_stored_honest == 1.0 and metrics.citation_recall >= 0.9, out.getvalue()
    assert out.getvalue().splitlines()[-1] == metrics.line()
