"""Does a reviewed clash's twin inflate the re-fit? The twin hypothesis of the README's learning section, tested.

The AI-policy set tells most events twice, under consecutive ids (``aip-001`` in English, ``aip-002`` in Korean:
the same position and label, the other language). The replay scores each reviewed pair with every other review as
examples, its twin included, and re-fits the threshold on those scores; in the bot the two reports of one event
join one alert (one alert per clash), so a moderator reviews them once and no twin is among the examples. This
reads what ``bot.py eval-learning FILE --scores SCORES`` wrote, scores every reviewed pair again with its twin left
out of its examples too (the model reads only the reviewed pairs' second looks again), re-fits each rule of
``benchmarks/learning_refit.py`` on those scores, and prints the false-alert rate and recall on the unseen pairs
(their recorded scores, which no re-fit changes) by fold, beside the same rule on the recorded scores.

    python benchmarks/learning_twins.py SCORES.jsonl [PAIRS.jsonl] [--reviews 40] [--write TWINLESS.jsonl]

``--reviews`` reads only the points with that many reviews; ``--write`` saves the scores with each reviewed pair's
learned score read twinless, in the same shape, for ``benchmarks/learning_refit.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.learning import ReviewedScore
from analysis.learning_eval import Scorer
from analysis.pairs import LABELLED, Pair, examples_of, load_pairs
from benchmarks.learning_refit import RULES, rates
from llm.runtime.engine import LLMEngine
from llm.tasks.judge import ClashJudge
from settings import Settings


def twins(path: Path) -> dict[str, str]:
    """Each pair's twin by id: the neighbouring id (odd with the next) on the same position, with the same label,
    in the other language."""
    rows = {row["id"]: row for row in map(json.loads, path.read_text(encoding="utf-8").splitlines()) if row}
    found = {}
    for pair_id, row in rows.items():
        number = int(pair_id.rsplit("-", 1)[1])
        other = rows.get(f"{pair_id.rsplit('-', 1)[0]}-{number + 1 if number % 2 else number - 1:03d}")
        same = other is not None and (other["position_id"], other["label"]) == (row["position_id"], row["label"])
        if same and other is not None and other["language"] != row["language"]:
            found[pair_id] = other["id"]
    return found


async def twinless(scorer: Scorer, reviewed: list[Pair], twin: dict[str, str]) -> list[float]:
    """Each reviewed pair's learned score with neither itself nor its twin among the examples."""
    by_id = {p.id: p for p in reviewed}
    learned = []
    for pair in reviewed:
        left_out = {pair.later} | ({by_id[twin[pair.id]].later} if twin.get(pair.id) in by_id else set())
        learned.append(await scorer.score(pair, [e for e in examples_of(reviewed) if e.statement not in left_out]))
    return learned


def twinless_row(row: dict, without: list[ReviewedScore]) -> dict:
    """``row`` of the scores file with its reviewed pairs' learned scores read twinless."""
    reviewed = [
        [pair_id, s.clash, s.shipped, s.learned] for (pair_id, *_), s in zip(row["reviewed"], without, strict=True)
    ]
    return {**row, "reviewed": reviewed}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scores", type=Path)
    parser.add_argument("pairs", nargs="?", type=Path, default=LABELLED)
    parser.add_argument("--reviews", type=int, help="only the points with this many reviews")
    parser.add_argument("--write", type=Path, help="save the twinless scores here (JSON lines)")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.scores.read_text(encoding="utf-8").splitlines()]
    rows = [row for row in rows if args.reviews is None or row["reviews"] in (0, args.reviews)]
    pairs = {p.id: p for p in load_pairs(args.pairs)}
    twin = twins(args.pairs)
    settings = Settings.from_env()
    engine = await asyncio.to_thread(LLMEngine.load, settings)
    scorer = Scorer(ClashJudge.for_engine(engine, settings))
    start = {row["fold"]: rates(row["unseen"], row["threshold"]) for row in rows if row["reviews"] == 0}
    print(f"{len(twin)} pairs with a twin; fold: FA/recall at no reviews " + ", ".join(
        f"{fold}: {false:.3f}/{recall:.3f}" for fold, (false, recall) in start.items()))  # fmt: skip
    results = []
    for row in rows:
        reviewed = [pairs[pair_id] for pair_id, *_ in row["reviewed"]]
        await scorer.read(reviewed)
        recorded = [ReviewedScore(clash, shipped, learned) for _, clash, shipped, learned in row["reviewed"]]
        again = await twinless(scorer, reviewed, twin)
        without = [ReviewedScore(s.clash, s.shipped, learned) for s, learned in zip(recorded, again, strict=True)]
        results.append((row, recorded, without))
    if args.write:
        args.write.write_text("".join(json.dumps(twinless_row(row, without)) + "\n" for row, _, without in results))
    print(f"{'rule':46} {'reviews':>7} {'fold':>4} {'recorded FA/recall':>19} {'twin left out':>14}")
    for name, rule in RULES.items():
        for row, recorded, without in sorted(results, key=lambda r: (r[0]["reviews"], r[0]["fold"])):
            cells = [rates(row["unseen"], rule(scores, row["threshold"])) for scores in (recorded, without)]
            shown = " ".join(f"{false:9.3f}/{recall:.3f}" for false, recall in cells)
            print(f"{name:46} {row['reviews']:7d} {row['fold']:4d} {shown}")
    await engine.aclose()


if __name__ == "__main__":
    asyncio.run(main())
