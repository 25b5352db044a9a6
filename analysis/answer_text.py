"""The sentences of an ``/ask`` answer, in English or Korean, each citing only what it rests on.

English sentences are the stored claims themselves behind the stance word, so an answer never says more than
its sources. Korean sentences state the stance on the stored question's Korean wording, with the date of each
source beside its citation; the English claims are listed under the answer. The model writes none of it: in
the issue's trial, the default model writing free text echoed a Korean question instead of answering it.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.language import korean_date, topic_particle
from domain.records import Person, Question

_STANCE_WORD = {"en": {"yes": "Yes", "no": "No"}, "ko": {"yes": "네", "no": "아니요"}}
_SIDE_KO = {"favor": "찬성하는", "against": "반대하는"}


@dataclass(frozen=True)
class Cited:
    number: int
    claim: str
    date: str
    side: str
    kind: str


def _cite(claim: str, number: int) -> str:
    return f"{claim.strip().rstrip('.')} [{number}]."


def stance_sentences(language: str, person: Person, topic: Question, stance: str, cited: list[Cited]) -> str:
    """One or two sentences stating ``stance`` (yes, no or mixed) with ``cited`` (dates ascending)."""
    if language == "ko":
        return _korean(person, topic, stance, cited)
    if stance == "mixed":
        first, second = cited
        when = f"Later ({second.date})" if second.date and second.date != first.date else "Also"
        return f"Mixed: {_cite(first.claim, first.number)} {when}: {_cite(second.claim, second.number)}"
    return f"{_STANCE_WORD['en'][stance]}: " + " ".join(_cite(c.claim, c.number) for c in cited)


def _korean(person: Person, topic: Question, stance: str, cited: list[Cited]) -> str:
    name = person.name_in("ko")
    subject = f"{name}{topic_particle(name)}"
    question = f"‘{topic.translations.get('ko') or topic.text}’에"

    def stem(c: Cited) -> str:
        return "쪽으로 행동했" if c.kind == "did" else "입장을 밝혔"

    def when(c: Cited, particle: str = "에") -> str:
        return f"{korean_date(c.date)}{particle} " if c.date else ""

    if stance == "mixed":
        first, second = cited
        return (
            f"입장이 엇갈립니다. {subject} {when(first)}{question} {_SIDE_KO[first.side]} {stem(first)}지만 "
            f"[{first.number}], {when(second, '에는')}{_SIDE_KO[second.side]} {stem(second)}습니다 [{second.number}]."
        )
    word = _STANCE_WORD["ko"][stance]
    if len(cited) == 1:
        [c] = cited
        return f"{word}. {subject} {when(c)}{question} {_SIDE_KO[c.side]} {stem(c)}습니다 [{c.number}]."
    dates = "과 ".join(f"{korean_date(c.date) or '출처'} [{c.number}]" for c in cited)
    return f"{word}. {subject} {dates}에 {question} {_SIDE_KO[cited[0].side]} 입장을 보였습니다."


def cannot_answer(language: str, person: Person, anything_stored: bool) -> str:
    """The honest answer for a known person the stored sources say nothing about on this question."""
    if language == "ko":
        name = person.name_in("ko")
        listed = f" {name}에 대해 저장된 내용은 아래와 같습니다." if anything_stored else ""
        return f"저장된 출처로는 {name}에 대한 이 질문에 답할 수 없습니다.{listed}"
    listed = f" What I store about {person.name} is listed below." if anything_stored else ""
    return f"The stored sources do not answer this for {person.name}.{listed}"


def no_person_named(language: str, topic: Question | None) -> str:
    """The answer when the question names nobody the store tracks: no stance, and what is stored on the topic."""
    if language == "ko":
        wording = topic.translations.get("ko") or topic.text if topic else ""
        listed = f" ‘{wording}’에 대해 저장된 입장은 아래와 같습니다." if topic else ""
        return f"질문에 제가 추적하는 사람이 없어 저장된 출처로는 답할 수 없습니다.{listed}"
    listed = f" Stored positions on “{topic.text}” are listed below." if topic else ""
    return f"The question names no one I track, so the stored sources cannot answer it.{listed}"
