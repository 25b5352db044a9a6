"""Does the judge learn from its moderators? A labelled file replayed as if moderators had reviewed its pairs in
order, the false-alert rate and recall measured on pairs no review has touched.

Each fold takes the pairs in an order of its own (fold 1: the file's order; fold 2: reversed; …). The last pairs
of that order, past the largest point, are the unseen set; at each point *k* (0, 10, 20, 40, 80 reviews) the
first *k* pairs of the order are the server's reviews, shown to the second look as worked examples (a Confirm as
a clash, a Dismiss as none), and the judge alerts on the unseen set with the shipped threshold. Nothing else
changes between points, so the curve is what the reviews alone give. The first reading and the negation check do
not depend on the reviews and are read once a pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TextIO

from analysis.pairs import Pair, examples_of
from domain.facts import negations
from llm.tasks.judge import NEAR, ClashJudge

POINTS = (0, 10, 20, 40, 80)


@dataclass(frozen=True)
class LearningPoint:
    fold: int
    reviews: int
    unseen: int
    false_alert_rate: float
    recall: float


@dataclass
class _Reading:
    pair: Pair
    other: float
    against: float


def orders(pairs: list[Pair], folds: int) -> list[list[Pair]]:
    """Fold 1 the file's order, fold 2 reversed, then rotations by a fold's share of the pairs."""
    result = [list(pairs), list(reversed(pairs))][:folds]
    step = max(1, len(pairs) // max(folds, 1))
    for fold in range(2, folds):
        result.append(pairs[fold * step :] + pairs[: fold * step])
    return result


async def _first_readings(judge: ClashJudge, pairs: list[Pair]) -> list[_Reading]:
    readings = []
    for pair in pairs:
        assert pair.question is not None
        _, probs = await judge.probabilities(pair.earlier, pair.later, question=pair.question, stance=pair.stance)
        against = 0.0
        if probs["inconsistent"] >= NEAR and negations(pair.later):  # as the bot's second look reads it
            against = await judge.against(pair.question, pair.stance, pair.later)
        readings.append(_Reading(pair, probs["inconsistent"], against))
    return readings


async def replay(
    judge: ClashJudge, pairs: list[Pair], out: TextIO, *, folds: int = 2, points: tuple[int, ...] = POINTS
) -> list[LearningPoint]:
    """The learning curve, fold by fold; ``pairs`` need a question and a stance (the stance method)."""
    threshold = judge.profile.stance_check_threshold
    if threshold is None:
        raise ValueError("the loaded model's profile sets no stance_check_threshold: it has no second look to teach")
    pairs = [p for p in pairs if p.question is not None and p.stance in ("favor", "against")]
    if len(pairs) <= max(points):
        raise ValueError(f"{len(pairs)} pairs with a question and a stance: more than {max(points)} are needed")
    cache: dict[str, _Reading] = {}
    curve = []
    for fold, order in enumerate(orders(pairs, folds), start=1):
        unseen = order[max(points) :]
        missing = [p for p in unseen if p.id not in cache]
        cache.update({r.pair.id: r for r in await _first_readings(judge, missing)})
        for k in points:
            pool = examples_of(order[:k])
            alerted = []
            for pair in unseen:
                reading = cache[pair.id]
                alert = False
                if reading.other >= NEAR:
                    assert pair.question is not None
                    with_examples = await judge.with_examples(pair.question, pair.stance, pair.later, pool)
                    alert = reading.other * with_examples * (1 - reading.against) >= threshold
                alerted.append((pair.label == "inconsistent", alert))
            clashes = [a for clash, a in alerted if clash]
            others = [a for clash, a in alerted if not clash]
            point = LearningPoint(
                fold, k, len(unseen), sum(others) / max(1, len(others)), sum(clashes) / max(1, len(clashes))
            )
            curve.append(point)
            out.write(
                f"fold {fold} reviews {k:3d}: false_alert_rate={point.false_alert_rate:.3f} "
                f"recall={point.recall:.3f} (unseen {len(unseen)})\n"
            )
            out.flush()
    return curve


def mean_curve(curve: list[LearningPoint]) -> list[tuple[int, float, float]]:
    """(reviews, mean false-alert rate, mean recall) over the folds, by point."""
    by_k: dict[int, list[LearningPoint]] = {}
    for point in curve:
        by_k.setdefault(point.reviews, []).append(point)
    return [
        (k, sum(p.false_alert_rate for p in ps) / len(ps), sum(p.recall for p in ps) / len(ps))
        for k, ps in sorted(by_k.items())
    ]
