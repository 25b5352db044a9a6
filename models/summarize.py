"""Article summaries in the channel's language."""

from __future__ import annotations

import re

from models.engine import LLMEngine
from models.prompts import summary_messages
from pipeline.people import split_sentences

ARTICLE_TOKENS = 1500
SUMMARY_TOKENS = 160
MAX_SENTENCES = 4


async def summarize(engine: LLMEngine, title: str, text: str, language: str = "en") -> str:
    """2-4 sentences; long articles are cut by tokens so the prompt fits the context."""
    body = engine.truncate(text, ARTICLE_TOKENS)
    summary = await engine.chat(summary_messages(title, body, language), max_tokens=SUMMARY_TOKENS)
    return clean_summary(summary) or title


def clean_summary(text: str) -> str:
    """Drop prompt markers a small model may echo, and keep at most four sentences."""
    text = re.sub(r"</?article>", " ", text)
    sentences = [s for s in split_sentences(text) if s]
    return " ".join(sentences[:MAX_SENTENCES])
