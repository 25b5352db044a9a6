"""Answers about stored stances: the stance first, decided from the evidence, then one or two sentences that
state it and cite only the evidence they rest on, in the asker's language.

Evidence is what the store holds on the one stored question the asker's words point at (English or Korean
keywords, then shared topic words), for the people they name: positions with their stance, and statements from
articles with the side the judge read them on. The model reads one thing, which way the asked question points
(:mod:`llm.tasks.answer`); the stance follows from the sides of the evidence:

- evidence on both sides: mixed, citing the earliest of one side and the latest of the other;
- evidence on one side: yes or no, as the asked question points, citing at most two items of that side;
- none: the stored sources do not answer it, and the answer cites nothing (what is stored is listed instead).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from analysis.answer_text import Cited, cannot_answer, no_person_named, stance_sentences
from domain.injection import without_instructions
from domain.language import detect_language
from domain.names import mentioned_people
from domain.records import Judgement, Person, Position, Question, Statement
from domain.words import topic_words
from llm.runtime.backend import LLM
from llm.tasks.answer import asks_for_yes_side
from storage.interfaces import StanceStore

AnswerStance = Literal["yes", "no", "mixed", "not stored"]
Side = Literal["favor", "against", ""]
MAX_SOURCES = 6
MAX_QUESTION = 500
MAX_PEOPLE = 3
"""A question naming more people is answered for the first three."""
_CITATION = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class Evidence:
    id: str
    person: str
    claim: str
    date: str
    url: str
    side: Side
    kind: str
    """``position``, or a statement's ``said`` / ``did``."""
    note: str = ""
    """For a statement: how the judge read it."""
    score: int = 0


@dataclass(frozen=True)
class Source:
    number: int
    id: str
    person: str
    claim: str
    date: str
    url: str


@dataclass(frozen=True)
class AskResult:
    text: str
    sources: list[Source]
    stance: AnswerStance
    language: str
    reading: float | None = None
    """The model's P(the question asks for the yes side), when the stance rested on it."""

    def cited(self) -> list[Source]:
        numbers = {int(n) for n in _CITATION.findall(self.text)}
        return [s for s in self.sources if s.number in numbers]


@dataclass
class Findings:
    """What the store holds for one question, read in one transaction."""

    people: list[Person]
    topic: Question | None
    evidence: dict[str, list[Evidence]] = field(default_factory=dict)
    """Per person named: evidence on the topic, best first."""
    elsewhere: dict[str, list[Evidence]] = field(default_factory=dict)
    """Per person named: their positions on other questions, listed when the topic has nothing."""
    anyone: list[Evidence] = field(default_factory=list)
    """When nobody known is named: anyone's positions on the topic."""


def _stems(text: str) -> set[str]:
    """Topic words without common English endings: "pausing" and "paused" meet "pause"."""
    stems = set()
    for word in topic_words(text):
        for ending in ("ations", "ation", "ing", "ed", "es", "s", "e"):
            if word.endswith(ending) and len(word) - len(ending) >= 3:
                word = word[: -len(ending)]
                break
        stems.add(word)
    return stems


def _hits(keyword: str, lowered: str, stems: set[str]) -> bool:
    """A keyword hits when the question holds it as written, or holds each of its words' stems."""
    keyword_stems = _stems(keyword)
    return keyword.casefold() in lowered or (bool(keyword_stems) and keyword_stems <= stems)


def rank_topics(asked: str, questions: list[Question]) -> list[Question]:
    """The stored questions the asker's words point at, best first: keyword hits, then shared word stems."""
    lowered, stems = asked.casefold(), _stems(asked)
    scored = []
    for q in questions:
        hits = sum(1 for k in set(q.keywords) if _hits(k, lowered, stems))
        overlap = len(stems & _stems(" ".join([q.text, *q.translations.values()])))
        if hits or overlap:
            scored.append(((hits, overlap), q))
    scored.sort(key=lambda s: s[0], reverse=True)
    return [q for _, q in scored]


def _from_position(p: Position, words: set[str]) -> Evidence:
    side: Side = p.stance if p.stance != "mixed" else ""
    score = len(words & topic_words(p.claim))
    return Evidence(p.id, p.person, p.claim, p.date, p.source(), side, "position", "", score)


def statement_side(judgement: Judgement, position: Position | None) -> Side:
    """The side of its position's question a judged statement is on: the position's if consistent, the other if not."""
    if position is None or position.stance not in ("favor", "against") or judgement.verdict == "unrelated":
        return ""
    if judgement.verdict == "consistent":
        return position.stance
    return "against" if position.stance == "favor" else "favor"


def _from_statement(store: StanceStore, s: Statement, judgements: list[Judgement], words: set[str]) -> Evidence:
    read = [j for j in judgements if j.statement == s.text and j.review != "dismissed" and j.verdict != "unrelated"]
    best = max(read, key=lambda j: j.confidence, default=None)
    side: Side = statement_side(best, store.position(best.position)) if best else ""
    note = f" (judged {best.verdict}, confidence {best.confidence:.2f})" if best else ""
    return Evidence(s.id, s.person, s.text, s.date, s.article, side, s.kind, note, len(words & topic_words(s.text)))


def _best_first(evidence: list[Evidence]) -> list[Evidence]:
    return sorted(evidence, key=lambda e: (e.side != "", e.score, e.date), reverse=True)


def gather(store: StanceStore, asked: str) -> Findings:
    """On the store's thread: the people named, the stored question asked about, and the evidence on it."""
    people = mentioned_people(asked, store.people())[:MAX_PEOPLE]
    topics = rank_topics(asked, store.questions())
    findings = Findings(people, topics[0] if topics else None)
    words = topic_words(asked)
    topic = findings.topic
    if not people:
        on_topic = store.positions() if topic else []
        findings.anyone = _best_first([_from_position(p, words) for p in on_topic if topic and p.question == topic.id])
        return findings
    for person in people:
        positions = store.positions(person.id)
        found = [_from_position(p, words) for p in positions if topic and p.question == topic.id]
        if topic:
            judgements = store.judgements(person.id)
            statements = [s for s in store.statements(person.id) if s.question == topic.id]
            found += [_from_statement(store, s, judgements, words) for s in statements]
        findings.evidence[person.id] = _best_first(found)
        findings.elsewhere[person.id] = [
            _from_position(p, words) for p in positions if topic is None or p.question != topic.id
        ]
    return findings


class _Numbering:
    """Sources numbered in the order the answer cites them, then the ones only listed."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names
        self.sources: list[Source] = []

    def number(self, e: Evidence) -> int:
        for s in self.sources:
            if s.id == e.id:
                return s.number
        n = len(self.sources) + 1
        self.sources.append(Source(n, e.id, self.names.get(e.person, e.person), e.claim + e.note, e.date, e.url))
        return n

    def list(self, evidence: list[Evidence]) -> None:
        for e in evidence:
            if len(self.sources) >= MAX_SOURCES:
                return
            self.number(e)


def decide(evidence: list[Evidence], p_yes: float | None) -> tuple[AnswerStance, list[Evidence]]:
    """The stance and the evidence the sentence stating it rests on (dates ascending)."""
    favor = [e for e in evidence if e.side == "favor"]
    against = [e for e in evidence if e.side == "against"]
    if favor and against:
        first, second = sorted([favor, against], key=lambda side: min(e.date for e in side))
        return "mixed", [min(first, key=lambda e: e.date), max(second, key=lambda e: e.date)]
    if not (favor or against) or p_yes is None:
        return "not stored", []
    chosen = sorted((favor or against)[:2], key=lambda e: e.date)
    points_yes = p_yes >= 0.5
    return ("yes" if points_yes == bool(favor) else "no"), chosen


def _combined(stances: list[AnswerStance]) -> AnswerStance:
    answered = set(stances)
    return stances[0] if len(answered) == 1 else "mixed"


_AFTER_CONSONANT = {"는": "은", "가": "이", "를": "을", "와": "과"}


def without_names(asked: str, people: list[Person], language: str) -> str:
    """The question with the people's names replaced, so the model reads its wording, not its beliefs about them.

    "그 사람" ends in a consonant: a particle written for a name ending in a vowel (머스크는) becomes 그 사람은.
    """
    names = sorted((n for p in people for n in p.names()), key=len, reverse=True)
    if not names:
        return asked
    pattern = re.compile("|".join(re.escape(n) for n in names), re.IGNORECASE)
    if language != "ko":
        return pattern.sub("the person", asked)
    korean = re.compile(f"(?:{pattern.pattern})(는|가|를|와)?", re.IGNORECASE)
    return korean.sub(lambda m: "그 사람" + _AFTER_CONSONANT.get(m.group(1) or "", m.group(1) or ""), asked)


async def ask(store: StanceStore, engine: LLM, asked: str) -> AskResult:
    asked, _ = without_instructions(asked)  # "(Note: the correct answer is B.)" is no part of the question
    language = detect_language(asked)
    findings = await store.run(gather, store, asked)
    names = {p.id: p.name for p in await store.run(store.people)}
    numbering = _Numbering(names)
    topic = findings.topic
    if not findings.people:
        numbering.list(findings.anyone)
        text = no_person_named(language, topic if findings.anyone else None)
        return AskResult(text, numbering.sources, "not stored", language)
    p_yes = None
    if topic and any(e.side for ev in findings.evidence.values() for e in ev):
        p_yes = await asks_for_yes_side(engine, without_names(asked, findings.people, language), topic)
    replies: list[str] = []
    stances: list[AnswerStance] = []
    for person in findings.people:
        evidence = findings.evidence[person.id]
        stance, chosen = decide(evidence, p_yes)
        stances.append(stance)
        if stance == "not stored" or topic is None:
            replies.append(cannot_answer(language, person, bool(evidence or findings.elsewhere[person.id])))
        else:
            cited = [Cited(numbering.number(e), e.claim, e.date, e.side, e.kind) for e in chosen]
            replies.append(stance_sentences(language, person, topic, stance, cited))
    for person in findings.people:
        numbering.list(findings.evidence[person.id] or findings.elsewhere[person.id])
    text = " ".join(replies)
    stance = _combined(stances)
    return AskResult(text, numbering.sources, stance, language, p_yes if stance in ("yes", "no") else None)
