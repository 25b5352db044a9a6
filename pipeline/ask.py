"""Answers about stored stances, grounded in what the store holds and citing only that.

Evidence is the named people's positions and the statements articles attributed to
them, on the questions the asker's words point at (English or Korean keywords, or
shared topic words). The model sees only numbered evidence, and citations to numbers
that do not exist are removed from its answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.answer import answer
from models.backend import LLM
from models.judge import topic_words
from pipeline.people import mentioned_people
from storage.interfaces import StanceStore
from storage.records import Judgement, Person, Position, Question, Statement

MAX_EVIDENCE = 6
MAX_QUESTION = 500


@dataclass(frozen=True)
class Source:
    number: int
    person: str
    claim: str
    date: str
    url: str


@dataclass(frozen=True)
class AskResult:
    text: str
    sources: list[Source]


@dataclass(frozen=True)
class Evidence:
    person: str
    text: str
    date: str
    url: str
    score: int


def _on_topic(question: str, questions: list[Question]) -> set[str]:
    lowered, words = question.casefold(), topic_words(question)
    return {q.id for q in questions if any(k.casefold() in lowered for k in q.keywords) or topic_words(q.text) & words}


def _from_position(p: Position, words: set[str]) -> Evidence:
    return Evidence(p.person, p.claim, p.date, p.source_url, len(words & topic_words(p.claim)))


def _from_statement(s: Statement, words: set[str], verdicts: dict[str, Judgement]) -> Evidence:
    judged = verdicts.get(s.text)
    note = f" (judged {judged.verdict}, confidence {judged.confidence:.2f})" if judged else ""
    return Evidence(s.person, f"{s.text}{note}", s.date, s.article, len(words & topic_words(s.text)))


def retrieve(store: StanceStore, question: str) -> tuple[list[Person], list[Evidence]]:
    """The people the question names, and what the store holds on the questions it asks about."""
    people = mentioned_people(question, store.people())
    topics, words = _on_topic(question, store.questions()), topic_words(question)
    pool = [p for person in people for p in store.positions(person.id)] if people else store.positions()
    found = [_from_position(p, words) for p in pool if p.question in topics]
    for person in people:
        verdicts = {j.statement: j for j in store.judgements(person.id) if j.review != "dismissed"}
        found += [_from_statement(s, words, verdicts) for s in store.statements(person.id) if s.question in topics]
    found.sort(key=lambda e: (e.score, e.date), reverse=True)
    return people, found[:MAX_EVIDENCE]


def _sources(evidence: list[Evidence], names: dict[str, str]) -> list[Source]:
    return [
        Source(i, names.get(e.person, e.person), e.text, e.date, e.url)
        for i, e in enumerate(evidence[:MAX_EVIDENCE], start=1)
    ]


async def ask(store: StanceStore, engine: LLM, question: str) -> AskResult:
    people, evidence = await store.run(retrieve, store, question)
    names = {p.id: p.name for p in await store.run(store.people)}
    if evidence:
        sources = _sources(evidence, names)
        reply = await answer(engine, question, [f"{s.person}, {s.date}: {s.claim}" for s in sources])
        return AskResult(reply.text or "The model gave no usable answer; these are the stored sources.", sources)
    known = [_from_position(p, set()) for person in people for p in await store.run(store.positions, person.id)]
    if not known:
        who = " or ".join(p.name for p in people) or "that"
        return AskResult(f"I have nothing stored about {who}.", [])
    who = " and ".join(p.name for p in people)
    return AskResult(f"Nothing I store answers that question. What I do store about {who}:", _sources(known, names))
