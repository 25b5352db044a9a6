"""Statements and actions an article attributes to tracked people.

Who is mentioned is decided by alias matching before the model runs; the model may
only attribute statements to those names, and a statement is kept only when its
supporting quote really occurs in the article. When the model yields nothing usable
for a person, the article's sentences that name the person are used instead, so a
weak model never hides a clash from the judge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.names import sentences_naming, split_sentences
from domain.records import Person
from llm.runtime.backend import LLM
from llm.tasks.prompts import extract_messages, extract_schema

ARTICLE_TOKENS = 1200
EXTRACT_TOKENS = 256
MIN_CLAIM_WORDS = 4


@dataclass(frozen=True)
class ExtractedStatement:
    person: str
    text: str
    quote: str
    kind: str
    origin: str  # "model" or "sentence"


def _normal(text: str) -> str:
    return re.sub(r"\W+", " ", text).casefold().strip()


def sentence_with(quote: str, article: str) -> str:
    """The article's sentence that holds ``quote`` (the quote itself when it spans sentences)."""
    wanted = _normal(quote)
    return next((s for s in split_sentences(article) if wanted in _normal(s)), quote)


def quote_in_article(quote: str, article: str) -> bool:
    q = _normal(quote)
    return len(q) >= 12 and q in _normal(article)


async def extract_statements(engine: LLM, title: str, text: str, people: list[Person]) -> list[ExtractedStatement]:
    if not people:
        return []
    by_name = {p.name: p for p in people}
    body = engine.truncate(text, ARTICLE_TOKENS)
    reply = await engine.chat_json(
        extract_messages(title, body, list(by_name)), extract_schema(list(by_name)), max_tokens=EXTRACT_TOKENS
    )
    found: list[ExtractedStatement] = []
    for item in (reply or {}).get("statements", []):
        person = by_name.get(str(item.get("person", "")))
        claim, quote = str(item.get("claim", "")).strip(), str(item.get("quote", "")).strip()
        if person and claim and quote_in_article(quote, f"{title}\n{text}"):
            if len(claim.split()) < MIN_CLAIM_WORDS:  # a name or a fragment: the quote's sentence says more
                claim = sentence_with(quote, f"{title}\n{text}")
            found.append(ExtractedStatement(person.id, claim, quote, str(item.get("kind", "said")), "model"))
    for person in people:
        if not any(s.person == person.id for s in found):
            found.extend(
                ExtractedStatement(person.id, sentence, sentence, "said", "sentence")
                for sentence in sentences_naming(f"{title}\n{text}", person)
            )
    return found
