"""Re-fit rules for a server's learned threshold compared on recorded scores, without the model.

Reads what ``bot.py eval-learning FILE --scores SCORES`` wrote (one JSON line a fold and review count: the shipped
threshold, each reviewed pair's shipped and learned second-look scores, each unseen pair's learned score) and, for
each rule, re-fits the threshold on the reviewed scores and prints the false-alert rate and recall on the unseen
pairs, by fold, beside the shipped threshold's (the baseline, from the same scores). The last column is the worst
recall change from no reviews over the folds: issue 26 bounds it at -0.05.

    python benchmarks/learning_refit.py SCORES.jsonl

A rule can only move the threshold: the scores themselves came from the examples the run showed (every other
reviewed pair), so a rule that changes the examples needs the model again.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.learning import ReviewedScore, refit_threshold
from analysis.learning_eval import alert_rates

Rule = Callable[[list[ReviewedScore], float], float]
RULES: dict[str, Rule] = {
    "shipped threshold, examples only": lambda scores, shipped: shipped,
    "re-fit, 0.05 of recall given (the bot's)": lambda scores, shipped: refit_threshold(scores, shipped),
    "re-fit, no recall given": lambda scores, shipped: refit_threshold(scores, shipped, recall_given=0.0),
    "re-fit, 0.10 of recall given": lambda scores, shipped: refit_threshold(scores, shipped, recall_given=0.10),
    "re-fit, halfway from the shipped threshold": lambda scores, shipped: (
        (refit_threshold(scores, shipped) + shipped) / 2
    ),
    "fit as eval --tune: 5 % false alerts": lambda scores, shipped: tuned(scores, shipped),
    "lowest that halves the reviews' false alerts": lambda scores, shipped: halved(scores, shipped),
}


def halved(scores: list[ReviewedScore], shipped: float) -> float:
    """The lowest threshold (not under ``shipped``) at which the learned judge alerts at most half the dismissed
    reviews the shipped judge alerted: the issue's target read on the reviews, keeping all the recall it can."""
    others = [s for s in scores if not s.clash]
    wanted = sum(s.shipped >= shipped for s in others) / 2
    for t in sorted({s.learned for s in scores if s.learned >= shipped} | {shipped}):
        if sum(s.learned >= t for s in others) <= wanted:
            return t
    return max(s.learned for s in scores) + 1e-9 if scores else shipped


def tuned(scores: list[ReviewedScore], shipped: float, cap: float = 0.05) -> float:
    """The threshold with the most recall on the reviewed clashes at a false-alert rate ≤ ``cap`` on the other
    reviews (learned scores; the highest of equals), as ``eval --tune`` fits the shipped one; ``shipped`` when the
    reviews hold no clash."""
    clashes = [s.learned for s in scores if s.clash]
    others = [s.learned for s in scores if not s.clash]
    if not clashes:
        return shipped
    best = (-1.0, shipped)
    for t in sorted({*clashes, *others, shipped}):
        false = sum(o >= t for o in others) / max(1, len(others))
        recall = sum(c >= t for c in clashes) / len(clashes)
        if false <= cap and (recall, t) >= best:
            best = (recall, t)
    return best[1]


def rates(unseen: list[list], threshold: float) -> tuple[float, float]:
    """(false-alert rate, recall) of the unseen ``[id, clash, score]`` rows alerted at ``threshold``, as the replay
    computes them."""
    return alert_rates([(clash, score) for _, clash, score in unseen], threshold)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scores", type=Path)
    rows = [json.loads(line) for line in parser.parse_args().scores.read_text(encoding="utf-8").splitlines()]
    start = {row["fold"]: rates(row["unseen"], row["threshold"])[1] for row in rows if row["reviews"] == 0}
    print(f"{'rule':42} {'reviews':>7} " + " ".join(f"{'fold ' + str(f) + ' FA/recall':>20}" for f in start)
          + f" {'worst recall change':>20}")  # fmt: skip
    for name, rule in RULES.items():
        for k in sorted({row["reviews"] for row in rows}):
            cells, worst = [], 0.0
            for row in (r for r in rows if r["reviews"] == k):
                reviewed = [ReviewedScore(clash, shipped, learned) for _, clash, shipped, learned in row["reviewed"]]
                false, recall = rates(row["unseen"], rule(reviewed, row["threshold"]))
                cells.append(f"{false:9.3f}/{recall:.3f}")
                worst = min(worst, recall - start[row["fold"]])
            print(f"{name:42} {k:7d} " + " ".join(f"{c:>20}" for c in cells) + f" {worst:20.3f}")


if __name__ == "__main__":
    main()
