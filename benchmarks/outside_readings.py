"""Can any one reading of the judge tell the outside questions' clashes apart? Every reading, pair by pair.

``bot.py eval evals/outside_questions.jsonl`` scores the judge as the bot runs it. This reads each pair every way the
judge can (with the sides the model drafts, as a moderator who confirms them unchanged leaves them): the stance
method's P(other side); the second look forced on every pair (its reading after worked examples, its negation check
and its score); and the pair method's calibrated P(inconsistent) on the bare pair. For each it prints the ranking
quality (AUC: the chance a clash reads higher than a pair that is not one) and how many clashes read above the
second-highest other pair: the most any threshold on that reading could alert with at most one false alert, which
is what the issue's target (false-alert rate ≤ 0.05 on 31 other pairs, recall ≥ 0.6 of 12) needs.

    python benchmarks/outside_readings.py [PAIRS.jsonl] [--write READINGS.jsonl]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.judge_eval import with_drafted_sides
from analysis.pairs import Pair, load_pairs
from app import open_app
from cli.evals import starter_questions
from llm.tasks.judge import JUDGE_LABELS, JUDGE_SYSTEM
from settings import Settings
from storage import open_store

OUTSIDE = Path(__file__).resolve().parent.parent / "evals" / "outside_questions.jsonl"
READINGS: dict[str, Callable[[dict[str, Any]], float]] = {
    "stance: P(other side)": lambda r: r["stance"]["inconsistent"],
    "second look: with examples": lambda r: r["checks"]["with_examples"],
    "second look: score": lambda r: r["checks"]["score"],
    "pair method: P(inconsistent)": lambda r: r["pair"]["inconsistent"],
}


async def read_all(pairs: list[Pair]) -> list[dict[str, Any]]:
    """Every pair's readings (one model load; the sides drafted first, as ``bot.py eval`` drafts them)."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="stancewatch-outside-") as tmp:
        store = await asyncio.to_thread(open_store, Path(tmp), seed=False)
        try:
            async with open_app(Settings.from_env(), store=store) as app:
                pairs = await with_drafted_sides(app.engine, pairs, starter_questions(), sys.stdout)
                judge = app.judge
                for pair in pairs:
                    assert pair.question is not None  # main() refused a file with a pair without one
                    _, stance = await judge.probabilities(
                        pair.earlier, pair.later, question=pair.question, stance=pair.stance
                    )
                    checks = await judge.second_look(pair.question, pair.stance, pair.later, stance["inconsistent"])
                    bare = await judge.pair_probabilities(JUDGE_SYSTEM, JUDGE_LABELS, pair.earlier, pair.later)
                    rows.append({"id": pair.id, "label": pair.label, "stance": stance, "checks": checks, "pair": bare})
        finally:
            await asyncio.to_thread(store.close)
    return rows


def separation(rows: list[dict[str, Any]], reading: Callable[[dict[str, Any]], float]) -> tuple[float, int, int]:
    """(AUC, clashes above the second-highest other pair, clashes) for one reading."""
    clashes = [reading(r) for r in rows if r["label"] == "inconsistent"]
    others = sorted((reading(r) for r in rows if r["label"] != "inconsistent"), reverse=True)
    wins = sum((c > o) + 0.5 * (c == o) for c in clashes for o in others)
    auc = wins / (len(clashes) * len(others)) if clashes and others else float("nan")
    bar = others[1] if len(others) > 1 else float("-inf")
    return auc, sum(1 for c in clashes if c > bar), len(clashes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pairs", type=Path, nargs="?", default=OUTSIDE)
    parser.add_argument("--write", type=Path, help="also save every pair's readings (JSON lines)")
    args = parser.parse_args()
    pairs = load_pairs(args.pairs)
    if missing := [p.id for p in pairs if p.question is None]:  # said before the model loads, not after
        parser.error(f"{args.pairs} has pairs without a question ({', '.join(missing[:3])}): every reading needs one")
    with contextlib.ExitStack() as files:
        try:  # opened first: a path that cannot be written is said before the model loads
            out = files.enter_context(args.write.open("w", encoding="utf-8")) if args.write else None
        except OSError as exc:
            parser.error(f"cannot write {args.write}: {exc.strerror}")
        rows = asyncio.run(read_all(pairs))
        if out is not None:
            out.write("".join(json.dumps(r) + "\n" for r in rows))
    print(f"\n{len(rows)} pairs, {sum(r['label'] == 'inconsistent' for r in rows)} clashes")
    print(f"{'reading':30s} {'AUC':>5s}   clashes alertable with at most one false alert")
    for name, reading in READINGS.items():
        auc, above, clashes = separation(rows, reading)
        print(f"{name:30s} {auc:5.2f}   {above} of {clashes}")


if __name__ == "__main__":
    main()
