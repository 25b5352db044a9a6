"""Statements and actions an article attributes to tracked people.

Who is mentioned is decided by alias matching before the model runs; the model may
only attribute statements to those names, and a statement is kept only when its
supporting quote really occurs in the article. The model's wording of a statement is
what an alert shows, so it must keep the facts of the quote's sentence (numbers, names,
who did what, negation, attribution: :func:`domain.facts.unfaithful`); when it does
not, the sentence itself is the statement. A sentence that names a person and tells of an
act on AI is a statement too, beside what the model found (all the first sentences naming
the person when it found nothing), so a weak model's vague or missing wording never hides
a clash from the judge.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from domain.facts import unfaithful
from domain.names import sentences_naming, split_sentences
from domain.records import Person
from domain.words import mentions_ai, side_groups
from llm.runtime.backend import LLM
from llm.tasks.prompts import extract_messages, extract_schema
from llm.tasks.translate import literal_translation

ARTICLE_TOKENS = 1200
EXTRACT_TOKENS = 256
MIN_CLAIM_WORDS = 4
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExtractedStatement:
    person: str
    text: str
    quote: str
    kind: str
    origin: str  # "model", "sentence", or "source" (the model's wording changed a fact of its source sentence)
    translation: str = ""
    """For a "source" statement in Korean: a literal machine translation that keeps its facts, or ""."""


def _normal(text: str) -> str:
    return re.sub(r"\W+", " ", text).casefold().strip()


def sentence_with(quote: str, sentences: Sequence[str]) -> str:
    """The sentence of an article (its :func:`split_sentences`) that holds ``quote`` (the quote itself when it spans
    sentences)."""
    wanted = _normal(quote)
    return next((s for s in sentences if wanted in _normal(s)), quote)


def around(sentence: str, sentences: Sequence[str], width: int = 2) -> str:
    """The ``width`` sentences on each side of ``sentence`` among an article's ``sentences``: where a wording may
    take its figures."""
    index = next((n for n, s in enumerate(sentences) if s == sentence), None)
    if index is None:
        return ""
    return " ".join([*sentences[max(0, index - width) : index], *sentences[index + 1 : index + 1 + width]])


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
    names = {p.name: tuple(p.aliases) for p in people}
    article = f"{title}\n{text}"
    sentences = split_sentences(article)  # once an article, not once a statement
    for item in (reply or {}).get("statements", []):
        person = by_name.get(str(item.get("person", "")))
        claim, quote = str(item.get("claim", "")).strip(), str(item.get("quote", "")).strip()
        if person and claim and quote_in_article(quote, article):
            sentence = sentence_with(quote, sentences)
            origin = "model"
            if len(claim.split()) < MIN_CLAIM_WORDS:  # a name or a fragment: the quote's sentence says more
                claim, origin = sentence, "sentence"
            elif problems := unfaithful(claim, sentence, names=names, context=around(sentence, sentences)):
                log.info("Showing the source instead of %r: %s", claim, "; ".join(problems))
                claim, origin = sentence, "source"
            translation = await literal_translation(engine, claim, names) if origin == "source" else ""
            kind = str(item.get("kind", "said"))
            found.append(ExtractedStatement(person.id, claim, quote, kind, origin, translation))
    return found + _naming_sentences(sentences, people, found)


def _naming_sentences(
    sentences: Sequence[str], people: list[Person], found: list[ExtractedStatement]
) -> list[ExtractedStatement]:
    """The sentences that name each person, as statements of their own: all of the first few when the model found
    nothing for the person, else the first that tells of an act on AI (:func:`domain.words.mentions_ai`,
    :data:`domain.words.SIDE_TERMS`) that no model statement stands for. A vague wording ("Elon Musk is developing
    Twitter AI") must not hide the sentence with the act ("… bought 100,000 GPUs"); one more judgement a person,
    not one a sentence, keeps the price of that on a CPU small."""
    extra: list[ExtractedStatement] = []
    for person in people:
        mine = [s for s in found if s.person == person.id]
        covered = {sentence_with(s.quote, sentences) for s in mine}
        sentences = [s for s in dict.fromkeys(sentences_naming(sentences, person)) if s not in covered]
        if mine:
            sentences = [s for s in sentences if mentions_ai(s) and side_groups(s)][:1]
        extra.extend(ExtractedStatement(person.id, s, s, "said", "sentence") for s in sentences)
    return extra
