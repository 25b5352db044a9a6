"""Article summaries in the channel's language; long articles are summarized in chunks, then merged."""

from __future__ import annotations

import logging
import re

from domain.facts import supported_summary
from domain.names import split_sentences
from llm.runtime.backend import LLM
from llm.tasks.prompts import summary_messages

CHUNK_TOKENS = 1500
MAX_CHUNKS = 4
SUMMARY_TOKENS = 160
MAX_SENTENCES = 4
log = logging.getLogger(__name__)


def chunks(engine: LLM, text: str) -> list[str]:
    """Consecutive pieces of at most ``CHUNK_TOKENS`` tokens each, at most ``MAX_CHUNKS`` of them."""
    pieces: list[str] = []
    rest = text.strip()
    while rest and len(pieces) < MAX_CHUNKS:
        piece = engine.truncate(rest, CHUNK_TOKENS)
        if len(piece) < len(rest):
            cut = max(piece.rfind("\n"), piece.rfind(". "))
            piece = piece[: cut + 1] if cut > len(piece) // 2 else piece
        pieces.append(piece)
        rest = rest[len(piece) :].strip()
    return pieces


async def summarize(engine: LLM, title: str, text: str, language: str = "en") -> str:
    """2-4 sentences; an article longer than one chunk is summarized a chunk at a time, then merged.

    Only sentences whose numbers, names and negation the article bears out are kept
    (:func:`domain.facts.supported_summary`); when none is, the article's own first sentences are the summary.
    """
    parts = chunks(engine, text) or [""]
    if len(parts) > 1:
        partial = [await _summary(engine, title, part, language) for part in parts]
        parts = ["\n".join(partial)]
    written = await _summary(engine, title, parts[0], language)
    kept = supported_summary(written, f"{title}\n{text}")
    if kept != written:
        log.info("Summary of %r: left out what the article does not say (%r kept of %r)", title, kept, written)
    return kept or " ".join(split_sentences(text)[:2]) or title


async def _summary(engine: LLM, title: str, text: str, language: str) -> str:
    reply = await engine.chat(summary_messages(title, text, language), max_tokens=SUMMARY_TOKENS)
    return clean_summary(reply)


def clean_summary(text: str) -> str:
    """Drop prompt markers a small model may echo, and keep at most four sentences."""
    text = re.sub(r"</?article>", " ", text)
    sentences = [s for s in split_sentences(text) if s]
    return " ".join(sentences[:MAX_SENTENCES])
