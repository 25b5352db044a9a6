"""Side descriptions drafted for a question a moderator adds, in English and Korean, for the moderator to confirm.

The stance judge reads a question through its two sides ("calls to pause …" / "builds, trains or buys compute
for …"); a question without them is judged with generic wording that cannot tell an action from a pledge. The
model drafts both from the question text, after the server's confirmed questions as worked examples, and the
draft is never judged until a moderator confirms or edits it (``/manage-stances sides``).
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.language import has_hangul
from domain.records import Question
from llm.runtime.backend import LLM, Priority
from llm.tasks.prompts import SIDES_SCHEMA, sides_korean_messages, sides_messages

SIDES_TOKENS = 160
EXAMPLES = 3


@dataclass(frozen=True)
class SideDraft:
    """Both sides of a question by language code: ``{"en": (supports, opposes), "ko": (…, …)}``."""

    sides: dict[str, tuple[str, str]]

    def as_record(self) -> dict[str, dict[str, str]]:
        """The shape :attr:`Question.draft` stores."""
        return {lang: {"supports": s, "opposes": o} for lang, (s, o) in self.sides.items()}


def described(questions: list[Question]) -> list[tuple[str, str, str]]:
    """Worked examples for the draft: up to ``EXAMPLES`` confirmed questions (text, supports, opposes)."""
    return [(q.text, q.supports, q.opposes) for q in questions if q.supports and q.opposes][:EXAMPLES]


def _pair(reply: dict[str, object] | None) -> tuple[str, str] | None:
    if not reply:
        return None
    supports, opposes = (" ".join(str(reply.get(key, "")).split()).rstrip(".") for key in ("supports", "opposes"))
    return (supports, opposes) if supports and opposes and supports != opposes else None


async def draft_sides(engine: LLM, question: str, examples: list[Question]) -> SideDraft | None:
    """The model's draft of both sides of ``question``, in English and (when it answers in Korean) Korean.

    None when the model gives no usable English pair (empty, identical sides): the moderator then writes them.
    """
    english = _pair(
        await engine.chat_json(
            sides_messages(question, described(examples)),
            SIDES_SCHEMA,
            max_tokens=SIDES_TOKENS,
            priority=Priority.INTERACTIVE,
        )
    )
    if english is None:
        return None
    korean = _pair(
        await engine.chat_json(
            sides_korean_messages(*english), SIDES_SCHEMA, max_tokens=SIDES_TOKENS * 2, priority=Priority.INTERACTIVE
        )
    )
    sides = {"en": english}
    if korean and all(has_hangul(text) for text in korean):
        sides["ko"] = korean
    return SideDraft(sides)
