"""``eval`` (score or fit the clash judge on labelled pairs) and ``eval-ask`` (score /ask on a question set)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from analysis.ask_eval import evaluate_ask, load_ask_set, record_setup
from analysis.judge_eval import evaluate, read_pairs, tuned_profile, with_drafted_sides
from analysis.learning_eval import POINTS, mean_curve, replay, target_checks
from analysis.pairs import LABELLED, Pair, load_pairs, shipped_examples
from app import open_app
from domain.records import Question, from_dict
from drawing.learning import render_curve
from llm.tasks.judge import ClashJudge
from llm.tasks.profile import neutral_profile
from settings import Settings
from storage import open_store
from storage.atomic import atomic_write_bytes, atomic_write_text
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
    learn = sub.add_parser("eval-learning", help="replay labelled pairs as moderators' reviews: the learning curve")
    learn.add_argument("file", type=Path)
    learn.add_argument("--folds", type=int, default=2, choices=range(1, 6), help="orders to replay (default 2)")
    learn.add_argument("--picture", type=Path, help="also draw the curve into this PNG")
    learn.add_argument("--points", type=_points, default=POINTS, help="reviews at each point (default 0,10,20,40,80)")
    learn.add_argument("--scores", type=Path, help="also write every point's scores here (JSON lines)")
    learn.add_argument("--limit", type=int, help="only the first N pairs of the file")
    learn.set_defaults(func=learning_command)
    ev_ask = sub.add_parser("eval-ask", help="score /ask on a labelled question set over the starter pack")
    ev_ask.add_argument("file", type=Path)
    ev_ask.add_argument("--limit", type=int, help="only the first N questions")
    ev_ask.set_defaults(func=ask_command)


def judge_command(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_eval(settings, args))


def _points(text: str) -> tuple[int, ...]:
    try:
        points = tuple(sorted({int(part) for part in text.split(",")}))
    except ValueError:
        raise argparse.ArgumentTypeError("points are whole numbers separated by commas, e.g. 0,10,20") from None
    if not points or points[0] < 0:
        raise argparse.ArgumentTypeError("points are review counts of 0 or more")
    return points


def learning_command(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_eval_learning(settings, args))


async def _eval_learning(settings: Settings, args: argparse.Namespace) -> int:
    pairs = load_pairs(args.file, limit=args.limit)
    with contextlib.ExitStack() as files, tempfile.TemporaryDirectory(prefix="stancewatch-eval-") as tmp:
        try:  # opened first: a path that cannot be written is said before the model loads
            scores = files.enter_context(args.scores.open("w", encoding="utf-8")) if args.scores else None
        except OSError as exc:
            print(f"eval-learning: cannot write {args.scores}: {exc.strerror}.", file=sys.stderr)
            return 2
        store = await asyncio.to_thread(open_store, Path(tmp), seed=False)  # reads pairs, never the user's store
        try:
            async with open_app(settings, store=store) as app:
                pairs = await with_drafted_sides(app.engine, pairs, starter_questions(), sys.stdout)
                try:
                    curve = await replay(
                        app.judge, pairs, sys.stdout, folds=args.folds, points=args.points, scores=scores
                    )
                except ValueError as exc:
                    print(f"eval-learning: {exc}.", file=sys.stderr)
                    return 2
        finally:
            await asyncio.to_thread(store.close)
    print("reviews  false-alert rate  recall  re-fitted: false-alert rate  recall   (mean over folds, unseen pairs)")
    mean = mean_curve(curve)
    for p in mean:
        print(
            f"{p.reviews:7d}  {p.false_alert_rate:16.3f}  {p.recall:6.3f}  "
            f"{p.refit_false_alerts:27.3f}  {p.refit_recall:6.3f}"
        )
    for check in target_checks(curve):
        print(check.describe())
    if args.picture:
        title = f"Learning from reviews: {args.file.name}, {args.folds} fold(s)"
        rows = [(p.reviews, p.false_alert_rate, p.recall, p.refit_false_alerts, p.refit_recall) for p in mean]
        picture = await asyncio.to_thread(render_curve, rows, title)
        await asyncio.to_thread(atomic_write_bytes, args.picture, picture)
        print(f"Drew the curve to {args.picture}.")
    return 0


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
