"""The one model reading behind an ``/ask`` answer: which way the asked question points.

The stored evidence already carries its side of a stored question (a position's stance, or a statement's side
as the judge read it against a position). What the model decides is how the asker's words relate to that
question: "Did X support pausing?" asks about the side that calls for a pause, "Was X against pausing?" about
the other. It reads this as a constrained label with probabilities (A or B, no generated text), after worked
examples on unrelated topics; the caller replaces the person's names so that it judges the wording, not what
it believes about them. The measured alternatives are in the README.
"""

from __future__ import annotations

from domain.records import Question
from llm.runtime.backend import LLM, Priority
from llm.tasks.judge import sides
from llm.tasks.prompts import DIRECTION_LABELS, direction_messages


async def asks_for_yes_side(engine: LLM, asked: str, question: Question) -> float:
    """P(a yes to ``asked`` puts the person on ``question``'s yes side)."""
    supports, opposes = sides(question)
    messages = direction_messages(asked, supports, opposes)
    probabilities = await engine.label_probabilities(messages, DIRECTION_LABELS, priority=Priority.INTERACTIVE)
    return probabilities["A"]
