"""``eval`` (score or fit the clash judge on labelled pairs) and ``eval-ask`` (score /ask on a question set)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from analysis.ask_eval import evaluate_ask, load_ask_set, record_setup
from analysis.judge_eval import (
    LABELLED,
    Pair,
    evaluate,
    load_pairs,
    read_pairs,
    shipped_examples,
    tuned_profile,
    with_drafted_sides,
)
from app import open_app
from domain.records import Question, from_dict
from llm.tasks.judge import ClashJudge
from llm.tasks.profile import neutral_profile
from settings import Settings
from storage import open_store
from storage.atomic import atomic_write_text
from storage.operations import load_starter_pack


def register(sub: Any) -> None:
    ev = sub.add_parser("eval", help="score the clash judge on labelled pairs (JSON lines)")
    ev.add_argument("file", type=Path)
    ev.add_argument("--limit", type=int, help="only the first N pairs")
    ev.add_argument(
        "--split", choices=["all", "tune", "heldout"], default="all", help="even ids tune, odd ids are held out"
    )
    ev.add_argument(
        "--tune",
        action="store_true",
        help="fit the loaded model's judge profile on the tune split, save it, then score the held-out split",
    )
    ev.add_argument("--profile", type=Path, help="where --tune writes the profile (default DATA_DIR/profiles/)")
    ev.set_defaults(func=judge_command)
    ev_ask = sub.add_parser("eval-ask", help="score /ask on a labelled question set over the starter pack")
    ev_ask.add_argument("file", type=Path)
    ev_ask.add_argument("--limit", type=int, help="only the first N questions")
    ev_ask.set_defaults(func=ask_command)


def judge_command(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_eval(settings, args))


def ask_command(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_eval_ask(settings, args.file, args.limit))


async def _eval(settings: Settings, args: argparse.Namespace) -> int:
    pairs = load_pairs(args.file, args.limit, "tune" if args.tune else args.split)
    with tempfile.TemporaryDirectory(prefix="stancewatch-eval-") as tmp:  # the judge reads pairs, not the store
        store = await asyncio.to_thread(open_store, Path(tmp), seed=False)
        try:
            async with open_app(settings, store=store) as app:
                judge = app.judge
                if args.file.resolve() == LABELLED.resolve():  # judged pairs never serve as their own examples
                    judge.examples = shipped_examples("tune")
                pairs = await with_drafted_sides(app.engine, pairs, starter_questions(), sys.stdout)
                if args.tune:
                    judge = await _tune(judge, pairs, args.file, args.profile or settings.data_dir / "profiles")
                    pairs = load_pairs(args.file, args.limit, "heldout")
                    print(f"Held-out split, {len(pairs)} pairs:")
                await evaluate(judge, pairs, known=starter_questions())
        finally:
            await asyncio.to_thread(store.close)
    return 0


def starter_questions() -> list[Question]:
    """The shipped questions, keywords and all: the gate reads them as it reads a fresh install's store."""
    return [from_dict(Question, q, "starter question") for q in load_starter_pack()["questions"]]


async def _tune(judge: ClashJudge, pairs: list[Pair], source: Path, where: Path) -> ClashJudge:
    """Fit the profile on ``pairs`` and save it where the next run finds it (a folder) or at a path (a file)."""
    readings, _ = await read_pairs(judge, pairs, sys.stdout)
    info = judge.engine.info
    base = judge.profile if not judge.profile.neutral else neutral_profile(info.sha256, info.model_name)
    stem = Path(info.model_name).stem
    profile = replace(tuned_profile(base, readings, source.name), name=f"{stem} {time.strftime('%Y-%m-%d')}")
    path = where / f"{stem}.json" if where.suffix != ".json" else where
    await asyncio.to_thread(atomic_write_text, path, profile.to_json())
    print(f"Wrote judge profile {profile.name!r} to {path}.")
    return ClashJudge(judge.engine, profile, alert_threshold=judge.alert_threshold, examples=judge.examples)


async def _eval_ask(settings: Settings, path: Path, limit: int | None) -> int:
    """On a throwaway store seeded with the starter pack and the set's statements, never the user's data."""
    ask_set = await asyncio.to_thread(load_ask_set, path, limit)
    with tempfile.TemporaryDirectory(prefix="stancewatch-eval-ask-") as tmp:
        store = await asyncio.to_thread(open_store, Path(tmp))
        try:
            await store.run(record_setup, store, ask_set)
            async with open_app(settings, store=store) as app:
                await evaluate_ask(store, app.engine, ask_set.cases, sys.stdout)
        finally:
            await asyncio.to_thread(store.close)
    return 0
