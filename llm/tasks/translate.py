"""A literal English translation of a source sentence an alert shows because the model's wording of it failed.

The sentence itself is what the alert asserts; the translation only helps a reader without the language, is marked
as machine translation, and is shown only when it keeps the sentence's facts (:func:`domain.facts.unfaithful`).
"""

from __future__ import annotations

from domain.facts import unfaithful, with_digits
from domain.language import has_hangul
from llm.runtime.backend import LLM
from llm.tasks.prompts import translate_messages

TRANSLATION_TOKENS = 160


async def literal_translation(engine: LLM, sentence: str, names: dict[str, tuple[str, ...]] | None = None) -> str:
    """English for a Korean ``sentence``; "" for an English one, or when the translation changes a fact."""
    if not has_hangul(sentence):
        return ""
    prompt = translate_messages(with_digits(sentence))  # 1만 as 10,000: a small model miscounts Korean units
    reply = " ".join((await engine.chat(prompt, max_tokens=TRANSLATION_TOKENS)).split())
    return reply if reply and not has_hangul(reply) and not unfaithful(reply, sentence, names=names) else ""
