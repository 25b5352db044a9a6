"""Does the judge learn from its moderators? A labelled file replayed as if moderators had reviewed its pairs in
order, the false-alert rate and recall measured on pairs no review has touched.

Each fold takes the pairs in an order of its own (fold 1: the file's order; fold 2: reversed; …). The last pairs
of that order, past the largest point, are the unseen set; at each point *k* (0, 10, 20, 40, 80 reviews) the
first *k* pairs of the order are the server's reviews, shown to the second look as worked examples (a Confirm as
a clash, a Dismiss as none), and the judge alerts on the unseen set with the shipped threshold. Nothing else
changes between points, so the curve is what the reviews alone give. Each point is read twice: at the shipped
threshold, and at the threshold the reviews re-fit (:func:`analysis.learning.refit_threshold`, from every reviewed
pair scored with the other reviews as examples, as the bot re-fits it). The first reading and the negation check do
not depend on the reviews and are read once a pair.

A file whose pairs carry no question or stance (the public benchmark) is replayed by the pair method, as the bot
judges a position without a favor/against stance: a pair whose bare reading reaches :data:`NEAR` is read again
after the nearest reviewed pairs, and the pair method's threshold is re-fitted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean
from typing import TextIO

from analysis.learning import ReviewedScore, refit_threshold
from analysis.pairs import Pair, examples_of, method_of
from domain.facts import disputes
from llm.tasks.judge import NEAR, ClashJudge, Example, Method, restates, second_look_score

POINTS = (0, 10, 20, 40, 80)


@dataclass(frozen=True)
class LearningPoint:
    fold: int
    reviews: int
    unseen: int
    false_alert_rate: float
    recall: float
    refit: float
    """The threshold re-fitted on the reviews (:func:`analysis.learning.refit_threshold`)."""
    refit_false_alerts: float
    refit_recall: float


@dataclass(frozen=True)
class CurvePoint:
    """One point of the mean curve: rates on unseen pairs at the shipped threshold and at the re-fitted one."""

    reviews: int
    false_alert_rate: float
    recall: float
    refit_false_alerts: float
    refit_recall: float


@dataclass
class _Reading:
    pair: Pair
    other: float
    """P(other side) for the stance method, P(inconsistent) for the pair method."""
    against: float
    restated: bool
    shipped: float = 0.0
    """The pair method's alert score without examples (:meth:`ClashJudge.pair_score`)."""


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
        method, probs = await judge.probabilities(pair.earlier, pair.later, question=pair.question, stance=pair.stance)
        if method == "pair":
            readings.append(_Reading(pair, probs["inconsistent"], 0.0, False, judge.pair_score(probs)))
            continue
        assert pair.question is not None
        against = 0.0
        if probs["inconsistent"] >= NEAR and disputes(pair.later):  # as the bot's second look reads it
            against = await judge.against(pair.question, pair.stance, pair.later)
        restated = restates(pair.earlier, pair.later, probs)
        readings.append(_Reading(pair, probs["inconsistent"], against, restated))
    return readings


def replay_method(judge: ClashJudge, pairs: list[Pair], points: tuple[int, ...]) -> tuple[Method, list[Pair]]:
    """The method a file is replayed with and its pairs: the stance method's pairs (a question and a favor/against
    stance) when there are more than the largest point of them, else the pair method's (the public benchmark,
    "mixed" positions). ValueError, in words, when neither has enough, or the stance method has no second look."""
    by_method = {m: [p for p in pairs if method_of(p) == m] for m in ("stance", "pair")}
    method: Method = "stance" if len(by_method["stance"]) > max(points) else "pair"
    if len(by_method[method]) <= max(points):
        raise ValueError(
            f"{len(by_method['stance'])} pairs with a question and a stance and {len(by_method['pair'])} without: "
            f"more than {max(points)} of one kind are needed"
        )
    if method == "stance" and judge.profile.stance_check_threshold is None:
        raise ValueError("the loaded model's profile sets no stance_check_threshold: it has no second look to teach")
    return method, by_method[method]


async def replay(
    judge: ClashJudge,
    pairs: list[Pair],
    out: TextIO,
    *,
    folds: int = 2,
    points: tuple[int, ...] = POINTS,
    scores: TextIO | None = None,
) -> list[LearningPoint]:
    """The learning curve, fold by fold, by the method :func:`replay_method` picks for ``pairs`` (said on ``out``).

    ``scores``, when given, gets one JSON line a point with every score behind it (reviewed pairs: id, clash,
    shipped, learned; unseen pairs: id, clash, score), so another re-fit rule can be compared without the model."""
    method, pairs = replay_method(judge, pairs, points)
    threshold = judge.learned_threshold(method)
    assert threshold is not None
    out.write(f"{len(pairs)} pairs replayed by the {method} method, shipped threshold {threshold:.4f}\n")
    scorer = Scorer(judge)
    curve = []
    for fold, order in enumerate(orders(pairs, folds), start=1):
        unseen = order[max(points) :]
        await scorer.read(order)
        for k in points:
            reviewed = order[:k]
            pool = examples_of(reviewed)
            read = [await scorer.reviewed(p, pool) for p in reviewed]
            refit = refit_threshold(read, threshold)
            scored = [(p.label == "inconsistent", await scorer.score(p, pool)) for p in unseen]
            if scores is not None:
                row = {
                    "fold": fold, "reviews": k, "threshold": threshold,
                    "reviewed": [[p.id, r.clash, r.shipped, r.learned] for p, r in zip(reviewed, read, strict=True)],
                    "unseen": [[p.id, clash, score] for p, (clash, score) in zip(unseen, scored, strict=True)],
                }  # fmt: skip
                scores.write(json.dumps(row) + "\n")
            point = LearningPoint(
                fold, k, len(unseen), *alert_rates(scored, threshold), refit, *alert_rates(scored, refit)
            )
            curve.append(point)
            out.write(
                f"fold {fold} reviews {k:3d}: false_alert_rate={point.false_alert_rate:.3f} "
                f"recall={point.recall:.3f} refit threshold={refit:.4f} "
                f"false_alert_rate={point.refit_false_alerts:.3f} recall={point.refit_recall:.3f} "
                f"(unseen {len(unseen)})\n"
            )
            out.flush()
    return curve


TARGET_REVIEWS = 40
"""The review count by which learning must pay: the re-fitted judge's false-alert rate on unseen pairs at most half
the shipped judge's, its recall at most :data:`RECALL_LOSS` lower."""
RECALL_LOSS = 0.05


@dataclass(frozen=True)
class TargetCheck:
    """Whether the target holds for one fold (``fold`` 1, 2, …) or for the mean over folds (``fold`` 0): the
    shipped judge's (false-alert rate, recall) at no reviews beside the re-fitted judge's at ``reviews``."""

    fold: int
    reviews: int
    before: tuple[float, float]
    after: tuple[float, float]

    @property
    def met(self) -> bool:
        (false_before, recall_before), (false_after, recall_after) = self.before, self.after
        slack = 1e-9  # 3 of 65 is half of 6 of 65, whatever the float division rounds
        return false_after <= false_before / 2 + slack and recall_after >= recall_before - RECALL_LOSS - slack

    def describe(self) -> str:
        """One line, as ``eval-learning`` prints it under its table."""
        where = f"fold {self.fold}" if self.fold else "mean over folds"
        (false_before, recall_before), (false_after, recall_after) = self.before, self.after
        return (
            f"Target by {self.reviews} reviews (false alerts halve, recall within {RECALL_LOSS:.2f}), {where}: "
            f"{'met' if self.met else 'not met'}: false-alert rate {false_before:.3f} -> {false_after:.3f}, "
            f"recall {recall_before:.3f} -> {recall_after:.3f} (re-fitted threshold)"
        )


def target_checks(curve: list[LearningPoint], reviews: int = TARGET_REVIEWS) -> list[TargetCheck]:
    """The target read fold by fold, then on the mean over folds (last); empty when the curve lacks the point at
    no reviews or at ``reviews``."""
    by_fold: dict[int, dict[int, LearningPoint]] = {}
    for point in curve:
        by_fold.setdefault(point.fold, {})[point.reviews] = point
    checks = [
        TargetCheck(
            fold,
            reviews,
            (points[0].false_alert_rate, points[0].recall),
            (points[reviews].refit_false_alerts, points[reviews].refit_recall),
        )
        for fold, points in sorted(by_fold.items())
        if 0 in points and reviews in points
    ]
    if not checks:
        return []
    before = (fmean(c.before[0] for c in checks), fmean(c.before[1] for c in checks))
    after = (fmean(c.after[0] for c in checks), fmean(c.after[1] for c in checks))
    return [*checks, TargetCheck(0, reviews, before, after)]


def alert_rates(scored: Sequence[tuple[bool, float]], threshold: float) -> tuple[float, float]:
    """(false-alert rate, recall) of (clash, score) pairs alerted at ``threshold``."""
    clashes = [score >= threshold for clash, score in scored if clash]
    others = [score >= threshold for clash, score in scored if not clash]
    return sum(others) / max(1, len(others)), sum(clashes) / max(1, len(clashes))


class Scorer:
    """Second-look scores as the bot computes them, each model reading made once: the first reading and the
    negation check by pair, the reading with examples by pair and pool."""

    def __init__(self, judge: ClashJudge) -> None:
        self.judge = judge
        self.readings: dict[str, _Reading] = {}
        self.shown: dict[tuple[str, tuple[Example, ...]], float] = {}

    async def read(self, pairs: list[Pair]) -> None:
        missing = [p for p in pairs if p.id not in self.readings]
        self.readings.update({r.pair.id: r for r in await _first_readings(self.judge, missing)})

    async def score(self, pair: Pair, pool: list[Example]) -> float:
        """The stance method: other × P(other side | examples) × (1 − against), 0 for a pair that is no would-be
        alert or restates its position. The pair method: :meth:`ClashJudge.pair_score` read after the examples,
        or without them under :data:`NEAR` or with none to show (as the bot reads it)."""
        reading = self.readings[pair.id]
        key = (pair.id, tuple(pool))
        if method_of(pair) == "pair":
            if reading.other < NEAR or not pool:
                return reading.shipped
            if key not in self.shown:
                self.shown[key] = await self.judge.pair_reread(pair.earlier, pair.later, pool, question=pair.question)
            return self.shown[key]
        if reading.other < NEAR or reading.restated:
            return 0.0
        if key not in self.shown:
            assert pair.question is not None
            self.shown[key] = await self.judge.with_examples(pair.question, pair.stance, pair.later, pool)
        return second_look_score(reading.other, self.shown[key], reading.against)

    async def reviewed(self, pair: Pair, pool: list[Example]) -> ReviewedScore:
        """A reviewed pair by the shipped judge (no reviews) and the learned one (the other reviews)."""
        others = [e for e in pool if e.statement != pair.later]
        shipped, learned = await self.score(pair, []), await self.score(pair, others)
        return ReviewedScore(pair.label == "inconsistent", shipped, learned)


def mean_curve(curve: list[LearningPoint]) -> list[CurvePoint]:
    """The points averaged over the folds, by review count."""
    by_k: dict[int, list[LearningPoint]] = {}
    for point in curve:
        by_k.setdefault(point.reviews, []).append(point)

    return [
        CurvePoint(
            k,
            fmean(p.false_alert_rate for p in ps),
            fmean(p.recall for p in ps),
            fmean(p.refit_false_alerts for p in ps),
            fmean(p.refit_recall for p in ps),
        )
        for k, ps in sorted(by_k.items())
    ]
