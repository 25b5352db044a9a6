"""Deterministic name matching: who an article mentions, and the sentences that name them.

The model never decides who is mentioned. Latin-script aliases match on word
boundaries, ignoring case; Hangul aliases match as substrings, because Korean
attaches particles to names ("머스크는", "머스크가").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from domain.language import has_hangul
from domain.records import Person

_SENTENCE_END = re.compile(r"(?<=[.!?。])\s+|\n+")


def _alias_pattern(alias: str) -> re.Pattern[str]:
    escaped = re.escape(alias)
    if has_hangul(alias):
        return re.compile(escaped)
    return re.compile(rf"(?<!\w){escaped}(?!\w)", re.IGNORECASE)


def names_person(text: str, person: Person) -> bool:
    return any(_alias_pattern(alias).search(text) for alias in person.names())


def mentioned_people(text: str, people: Iterable[Person]) -> list[Person]:
    return [p for p in people if names_person(text, p)]


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if len(s.strip()) > 1]


def sentences_naming(text: str | Sequence[str], person: Person, *, limit: int = 3) -> list[str]:
    """The first ``limit`` sentences that name ``person``: the fallback statements. ``text`` is an article, or its
    sentences already split (:func:`split_sentences`)."""
    sentences = split_sentences(text) if isinstance(text, str) else text
    return [s for s in sentences if names_person(s, person)][:limit]
