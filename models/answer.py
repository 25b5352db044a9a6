"""Answers to ``/ask`` from retrieved evidence only, with citations that must exist."""

from __future__ import annotations

import re
from dataclasses import dataclass

from models.backend import LLM, Priority
from models.prompts import answer_messages

ANSWER_TOKENS = 200
_CITATION = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class Answer:
    text: str
    cited: list[int]


def strip_unknown_citations(text: str, n_evidence: int) -> tuple[str, list[int]]:
    """Drop citation markers that point at no evidence item; return the text and the valid ones."""
    cited: list[int] = []

    def keep(match: re.Match[str]) -> str:
        number = int(match.group(1))
        if 1 <= number <= n_evidence:
            cited.append(number)
            return match.group(0)
        return ""

    cleaned = _CITATION.sub(keep, text)
    return re.sub(r"\s{2,}", " ", cleaned).strip(), sorted(set(cited))


async def answer(engine: LLM, question: str, evidence: list[str]) -> Answer:
    if not evidence:
        return Answer("", [])
    reply = await engine.chat(
        answer_messages(question, evidence), max_tokens=ANSWER_TOKENS, priority=Priority.INTERACTIVE
    )
    text, cited = strip_unknown_citations(reply, len(evidence))
    return Answer(text, cited)
