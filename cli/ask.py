"""``ask QUESTION``: the answer and its numbered sources from the command line, as /ask gives them."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from analysis.ask import MAX_QUESTION, ask
from app import open_app
from cli.terminal import printable
from domain.records import RecordError
from settings import Settings


def register(sub: Any) -> None:
    asking = sub.add_parser("ask", help="answer a question from the store with numbered sources, as /ask does")
    asking.add_argument("question", help="in English or Korean, at most 500 characters")
    asking.set_defaults(func=command)


def command(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_ask(settings, args.question))


async def _ask(settings: Settings, question: str) -> int:
    question = question.strip()
    if not question or len(question) > MAX_QUESTION:
        raise RecordError("question", f"give a question of 1 to {MAX_QUESTION} characters")
    async with open_app(settings, read_only=True) as app:
        result = await ask(app.store, app.engine, question)
    print(printable(result.text))
    if result.reading is not None:
        sure = max(result.reading, 1 - result.reading)
        print(f"(stance {result.stance}: the model read which way the question points with probability {sure:.2f})")
    for source in result.sources:
        print(printable(f"[{source.number}] {source.person}, {source.date}: {source.claim} <{source.url}>"))
    return 0
