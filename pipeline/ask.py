"""Answers about stored stances, grounded in what the store holds and citing only that."""

from __future__ import annotations

from dataclasses import dataclass

from models.answer import answer
from models.engine import LLMEngine
from models.judge import topic_words
from pipeline.people import mentioned_people
from storage.records import Person, Position
from storage.store import Store

MAX_EVIDENCE = 6


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


def retrieve(store: Store, question: str) -> tuple[list[Person], list[Position]]:
    """The people the question names, and the stored positions on the questions it asks about."""
    people = mentioned_people(question, store.people())
    lowered, words = question.casefold(), topic_words(question)
    on_topic = {
        q.id
        for q in store.questions()
        if any(k.casefold() in lowered for k in q.keywords) or topic_words(q.text) & words
    }
    pool = [p for person in people for p in store.positions(person.id)] if people else store.positions()
    relevant = [p for p in pool if p.question in on_topic]
    relevant.sort(key=lambda p: len(words & topic_words(p.claim)), reverse=True)
    return people, relevant[:MAX_EVIDENCE]


def _sources(positions: list[Position], people: dict[str, str]) -> list[Source]:
    return [
        Source(i, people.get(p.person, p.person), p.claim, p.date, p.source_url)
        for i, p in enumerate(positions[:MAX_EVIDENCE], start=1)
    ]


async def ask(store: Store, engine: LLMEngine, question: str) -> AskResult:
    people, positions = await store.run(retrieve, store, question)
    names = {p.id: p.name for p in await store.run(store.people)}
    if positions:
        sources = _sources(positions, names)
        reply = await answer(engine, question, [f"{s.person}, {s.date}: {s.claim}" for s in sources])
        return AskResult(reply.text or "The model gave no usable answer; these are the stored sources.", sources)
    known = [p for person in people for p in await store.run(store.positions, person.id)]
    if not known:
        who = " or ".join(p.name for p in people) or "that"
        return AskResult(f"I have nothing stored about {who}.", [])
    return AskResult("Nothing I store answers that question. What I do store about them:", _sources(known, names))
