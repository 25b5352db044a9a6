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

from analysis.learning import ReviewedScore, fitted_threshold, refit_threshold, silences
from analysis.learning_eval import alert_rates

Rule = Callable[[list[ReviewedScore], float], float]
RULES: dict[str, Rule] = {
    "shipped threshold, examples only": lambda scores, shipped: shipped,
    "kept recall less 0.05 (the bot's earlier rule)": lambda scores, shipped: kept_recall(scores, shipped, 0.05),
    "kept recall, none given": lambda scores, shipped: kept_recall(scores, shipped, 0.0),
    "kept recall less 0.10": lambda scores, shipped: kept_recall(scores, shipped, 0.10),
    "kept recall less 0.05, halfway from shipped": lambda scores, shipped: (kept_recall(scores, shipped) + shipped) / 2,
    "fit as eval --tune, may go below shipped": lambda scores, shipped: below(scores, shipped),
    "fit as eval --tune, at the weakest clash kept": lambda scores, shipped: max(below(scores, shipped), shipped),
    "the same, halfway down (the bot's)": lambda scores, shipped: refit_threshold(scores, shipped),
    "lowest that halves the reviews' false alerts": lambda scores, shipped: halved(scores, shipped),
}


def kept_recall(scores: list[ReviewedScore], shipped: float, recall_given: float = 0.05) -> float:
    """The highest threshold (not under ``shipped``) at which the learned judge still alerts the reviewed clashes the
    shipped judge alerted, less ``recall_given`` of recall, set halfway to the next lower score; the bot's rule
    until the ``eval --tune`` fit replaced it (README, "Learning from moderators")."""
    clashes = [s for s in scores if s.clash]
    if not clashes:
        return shipped
    wanted = sum(s.shipped >= shipped for s in clashes) / len(clashes) - recall_given
    above = sorted({s.learned for s in scores if s.learned >= shipped} | {shipped})
    feasible = [t for t in above if sum(s.learned >= t for s in clashes) / len(clashes) >= wanted]
    best = max(feasible, default=shipped)
    threshold = (best + max((t for t in above if t < best), default=shipped)) / 2 if best > shipped else shipped
    return shipped if silences(scores, shipped, threshold) else threshold


def below(scores: list[ReviewedScore], shipped: float) -> float:
    """The ``eval --tune`` fit on the reviews, free to go under ``shipped`` (``shipped`` when it finds nothing)."""
    fitted = fitted_threshold(scores)
    return shipped if fitted is None else fitted


def halved(scores: list[ReviewedScore], shipped: float) -> float:
    """The lowest threshold (not under ``shipped``) at which the learned judge alerts at most half the dismissed
    reviews the shipped judge alerted: the issue's target read on the reviews, keeping all the recall it can."""
    others = [s for s in scores if not s.clash]
    wanted = sum(s.shipped >= shipped for s in others) / 2
    for t in sorted({s.learned for s in scores if s.learned >= shipped} | {shipped}):
        if sum(s.learned >= t for s in others) <= wanted:
            return t
    return max(s.learned for s in scores) + 1e-9 if scores else shipped


def rates(unseen: list[list], threshold: float) -> tuple[float, float]:
    """(false-alert rate, recall) of the unseen ``[id, clash, score]`` rows alerted at ``threshold``, as the replay
    computes them."""
    return alert_rates([(clash, score) for _, clash, score in unseen], threshold)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scores", type=Path)
    rows = [json.loads(line) for line in parser.parse_args().scores.read_text(encoding="utf-8").splitlines()]
    start = {row["fold"]: rates(row["unseen"], row["threshold"])[1] for row in rows if row["reviews"] == 0}
    print(f"{'rule':46} {'reviews':>7} " + " ".join(f"{'fold ' + str(f) + ' FA/recall':>20}" for f in start)
          + f" {'worst recall change':>20}")  # fmt: skip
    for name, rule in RULES.items():
        for k in sorted({row["reviews"] for row in rows}):
            cells, worst = [], 0.0
            for row in (r for r in rows if r["reviews"] == k):
                reviewed = [ReviewedScore(clash, shipped, learned) for _, clash, shipped, learned in row["reviewed"]]
                false, recall = rates(row["unseen"], rule(reviewed, row["threshold"]))
                cells.append(f"{false:9.3f}/{recall:.3f}")
                worst = min(worst, recall - start[row["fold"]])
            print(f"{name:46} {k:7d} " + " ".join(f"{c:>20}" for c in cells) + f" {worst:20.3f}")


if __name__ == "__main__":
    main()
