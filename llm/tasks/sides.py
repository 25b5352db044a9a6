"""Side descriptions drafted for a question a moderator adds, in English and Korean, for the moderator to confirm.

The stance judge reads a question through its two sides ("calls to pause …" / "builds, trains or buys compute
for …"); a question without them is judged with generic wording that cannot tell an action from a pledge. The
model drafts each side in its own call (asked for both at once, the default model swapped which one says yes on
two of five questions), after the server's confirmed questions as worked examples, and the draft is never judged
until a moderator confirms or edits it (``/manage-stances sides``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from domain.language import has_hangul
from domain.records import Question
from llm.runtime.backend import LLM, Priority
from llm.tasks.prompts import side_draft_messages, side_korean_messages

SIDE_TOKENS = 60
EXAMPLES = 3
_TAG = re.compile(r"</?\w+>")


@dataclass(frozen=True)
class SideDraft:
    """Both sides of a question by language code: ``{"en": (supports, opposes), "ko": (…, …)}``."""

    sides: dict[str, tuple[str, str]]

    def as_record(self) -> dict[str, dict[str, str]]:
        """The shape :attr:`Question.draft` stores."""
        return {lang: {"supports": s, "opposes": o} for lang, (s, o) in self.sides.items()}

    def confirmed(self, question: Question) -> Question:
        """``question`` as a moderator who confirms the draft unchanged leaves it: English sides for the judge, the
        other languages as :attr:`Question.side_translations` (read by the topic gate)."""
        supports, opposes = self.sides.get("en", ("", ""))
        others = {
            lang: {"supports": s, "opposes": o} for lang, (s, o) in self.sides.items() if lang != "en" and s and o
        }
        return replace(question, supports=supports, opposes=opposes, side_translations=others, draft={})


def described(questions: list[Question]) -> list[tuple[str, str, str]]:
    """Worked examples for the draft: up to ``EXAMPLES`` confirmed questions (text, supports, opposes)."""
    return [(q.text, q.supports, q.opposes) for q in questions if q.supports and q.opposes][:EXAMPLES]


def cleaned(reply: str) -> str:
    """One line, without the quotation tags a small model echoes, without a closing full stop."""
    return " ".join(_TAG.sub("", reply).split()).rstrip(".")


async def draft_sides(engine: LLM, question: str, examples: list[Question]) -> SideDraft | None:
    """The model's draft of both sides of ``question``, in English and (where it answers in Korean) Korean.

    None when the model gives no usable English pair (empty or identical sides): the moderator writes them.
    """
    shown = described(examples)
    supports = ""
    for answer in ("yes", "no"):  # the no side is asked as the opposite of the drafted yes side
        messages = side_draft_messages(question, answer, shown, contrast=supports)
        reply = cleaned(await engine.chat(messages, max_tokens=SIDE_TOKENS, priority=Priority.INTERACTIVE))
        supports, opposes = (reply, "") if answer == "yes" else (supports, reply)
    if not supports or not opposes or supports == opposes:
        return None
    sides = {"en": (supports, opposes)}
    korean = [
        cleaned(
            await engine.chat(side_korean_messages(text), max_tokens=SIDE_TOKENS * 2, priority=Priority.INTERACTIVE)
        )
        for text in (supports, opposes)
    ]
    if all(has_hangul(text) for text in korean) and korean[0] != korean[1]:
        sides["ko"] = (korean[0], korean[1])
    return SideDraft(sides)
