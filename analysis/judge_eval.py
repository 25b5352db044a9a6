"""Score the clash judge on labelled statement pairs, and fit a model's judge profile on the tune split.

The pairs are JSON lines in the political-inconsistency benchmark's format (``id``, ``text1``, ``text2``,
``label``). A pair that also carries ``question`` (with optional ``supports`` / ``opposes``) and a ``stance``
is judged the way the bot judges a stored position: by the stance method.
"""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TextIO

from analysis.article import rank_positions
from analysis.pairs import Pair
from domain.records import Position, Question, Stance
from llm.runtime.backend import LLM
from llm.tasks.judge import ClashJudge, Method, Ruling
from llm.tasks.profile import JudgeProfile
from llm.tasks.prompts import JUDGE_LABELS
from llm.tasks.sides import draft_sides

ALERT_PRECISION_TARGET = 0.9
FALSE_ALERT_TARGET = 0.05
_WEIGHT_GRID = (0.25, 0.35, 0.5, 0.7, 1.0, 1.4, 2.0, 2.8, 4.0)
_THRESHOLD_GRID = tuple(round(0.05 * i, 2) for i in range(1, 20))


@dataclass(frozen=True)
class Metrics:
    n: int
    accuracy: float
    per_class: dict[str, tuple[float, float, float]]  # precision, recall, F1
    confusion: dict[str, dict[str, int]]  # gold -> predicted -> count
    alert_precision: float
    alert_recall: float
    false_alert_rate: float

    @property
    def macro_f1(self) -> float:
        return sum(f for _, _, f in self.per_class.values()) / len(self.per_class)


def score(gold: list[str], predicted: list[str], alerted: list[bool]) -> Metrics:
    confusion = {g: {p: 0 for p in JUDGE_LABELS} for g in JUDGE_LABELS}
    for g, p in zip(gold, predicted, strict=True):
        confusion[g][p] += 1
    per_class = {}
    for label in JUDGE_LABELS:
        tp = confusion[label][label]
        fp = sum(confusion[g][label] for g in JUDGE_LABELS if g != label)
        fn = sum(confusion[label][p] for p in JUDGE_LABELS if p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = (precision, recall, f1)
    true_alerts = sum(1 for g, a in zip(gold, alerted, strict=True) if a and g == "inconsistent")
    n_alerts = sum(alerted)
    n_clashes = sum(1 for g in gold if g == "inconsistent")
    n_other = len(gold) - n_clashes
    return Metrics(
        n=len(gold),
        accuracy=sum(1 for g, p in zip(gold, predicted, strict=True) if g == p) / len(gold) if gold else 0.0,
        per_class=per_class,
        confusion=confusion,
        alert_precision=true_alerts / n_alerts if n_alerts else 0.0,
        alert_recall=true_alerts / n_clashes if n_clashes else 0.0,
        false_alert_rate=(n_alerts - true_alerts) / n_other if n_other else 0.0,
    )


@dataclass(frozen=True)
class Reading:
    """What the model said about one pair, before any profile turns it into a verdict."""

    pair: Pair
    ruling: Ruling


async def read_pairs(judge: ClashJudge, pairs: list[Pair], out: TextIO) -> tuple[list[Reading], float]:
    """The model's reading of every pair (the costly part), and the seconds it took a pair."""
    readings = []
    started = time.perf_counter()
    show_progress = out.isatty()
    for done, pair in enumerate(pairs, start=1):
        ruling = await judge.judge(pair.earlier, pair.later, question=pair.question, stance=pair.stance, explain=False)
        readings.append(Reading(pair, ruling))
        if show_progress:
            out.write(f"\r[{'#' * (30 * done // len(pairs)):<30}] {done}/{len(pairs)}")
            out.flush()
    if show_progress:
        out.write("\n")
    return readings, (time.perf_counter() - started) / max(len(pairs), 1)


def score_readings(judge: ClashJudge, readings: list[Reading]) -> Metrics:
    """Verdicts and alerts as the judge's profile and threshold decide them."""
    gold: list[str] = []
    predicted: list[str] = []
    alerted: list[bool] = []
    for reading in readings:
        ruling = reading.ruling
        verdict = judge.decide(ruling.method, ruling.probabilities)
        decided = replace(ruling, verdict=verdict, confidence=ruling.probabilities[verdict])
        alert = judge.is_alert(decided)
        gold.append(reading.pair.label)
        predicted.append("inconsistent" if alert else verdict)  # the second look may find what the weights hid
        alerted.append(alert)
    return score(gold, predicted, alerted)


async def evaluate(
    judge: ClashJudge, pairs: Iterable[Pair], out: TextIO = sys.stdout, known: Iterable[Question] = ()
) -> Metrics:
    """Judge every pair, print the report, and print how many labelled clashes the topic gate lets through
    (``known``: the stored questions, whose keywords the gate reads as production does)."""
    pairs = list(pairs)
    readings, seconds = await read_pairs(judge, pairs, out)
    metrics = score_readings(judge, readings)
    print_report(metrics, seconds, judge, out)
    through, clashes = gate_share(pairs, known)
    if clashes:  # pairs with a question: the gate reads it (the public benchmark's pairs have none)
        out.write(f"gate_recall={through / clashes:.3f} ({through} of {clashes} labelled clashes reach the judge)\n")
    return metrics


async def with_drafted_sides(engine: LLM, pairs: list[Pair], examples: list[Question], out: TextIO) -> list[Pair]:
    """Pairs whose question describes neither side get the model's draft, as a moderator who confirms it would.

    This is how a question added on a server reaches the judge (``/manage-stances question``), so a set of
    pairs on questions outside the starter pack measures the bot as it runs there. Each draft is printed.
    """
    drafted: dict[str, Question] = {}
    for pair in pairs:
        question = pair.question
        if question is None or (question.supports and question.opposes) or question.text in drafted:
            continue
        draft = await draft_sides(engine, question.text, examples)
        drafted[question.text] = draft.confirmed(question) if draft else question
        sides = drafted[question.text]
        out.write(f"drafted sides of {question.text!r}: yes = {sides.supports!r}; no = {sides.opposes!r}\n")
    return [
        replace(p, question=drafted[p.question.text]) if p.question is not None and p.question.text in drafted else p
        for p in pairs
    ]


def fit_method(readings: list[Reading], method: Method) -> tuple[dict[str, float], float]:
    """Class weights for macro-F1, then the alert threshold with the best recall that meets the precision and
    false-alert targets, the highest of equals (the bot must not spam). Where no threshold meets both, the best
    recall with at most 5 % false alerts; failing that, the best precision.
    """
    chosen = [r for r in readings if r.ruling.method == method]
    gold = [r.pair.label for r in chosen]
    probs = [r.ruling.probabilities for r in chosen]

    def verdicts(weights: dict[str, float]) -> list[str]:
        return [max(JUDGE_LABELS, key=lambda label: p[label] * weights[label]) for p in probs]

    best_weights, best_f1 = {"consistent": 1.0, "unrelated": 1.0, "inconsistent": 1.0}, -1.0
    for consistent, unrelated in itertools.product(_WEIGHT_GRID, repeat=2):
        weights = {"consistent": consistent, "unrelated": unrelated, "inconsistent": 1.0}
        predicted = verdicts(weights)
        f1 = score(gold, predicted, [False] * len(gold)).macro_f1
        if f1 > best_f1 + 1e-9:
            best_weights, best_f1 = weights, f1
    predicted = verdicts(best_weights)
    candidates = []
    for threshold in _THRESHOLD_GRID:
        alerted = [v == "inconsistent" and p[v] >= threshold for v, p in zip(predicted, probs, strict=True)]
        m = score(gold, predicted, alerted)
        quiet = m.false_alert_rate <= FALSE_ALERT_TARGET and m.alert_recall > 0
        meets = quiet and m.alert_precision >= ALERT_PRECISION_TARGET
        candidates.append((meets, quiet, m.alert_recall if quiet else m.alert_precision, threshold))
    return best_weights, max(candidates)[3]


def fit_check(readings: list[Reading]) -> float | None:
    """The second look's threshold: the most recall at a false-alert rate within the target (the highest of
    equals); None when no reading had a second look (the profile does not ask for one)."""
    scored = [r for r in readings if r.ruling.method == "stance"]
    scores = sorted({r.ruling.checks["score"] for r in scored if "score" in r.ruling.checks})
    if not scores:
        return None
    gold = [r.pair.label for r in scored]
    best = (-1.0, 0.0)
    for threshold in scores:
        alerted = [
            r.ruling.checks.get("score", -1.0) >= threshold and "restates" not in r.ruling.checks for r in scored
        ]
        m = score(gold, gold, alerted)
        if m.false_alert_rate <= FALSE_ALERT_TARGET and (m.alert_recall, threshold) >= best:
            best = (m.alert_recall, threshold)
    return round(best[1], 4) if best[0] >= 0 else max(scores)


def tuned_profile(base: JudgeProfile, readings: list[Reading], source: str) -> JudgeProfile:
    """``base`` with the weights and threshold of every method the readings used refitted, the second look's too."""
    profile = base
    check = fit_check(readings)
    if check is not None:
        profile = replace(profile, stance_check_threshold=check)
    for method in sorted({r.ruling.method for r in readings}):
        weights, threshold = fit_method(readings, method)
        label = f"{source} (tune split, {sum(1 for r in readings if r.ruling.method == method)} pairs)"
        if method == "stance":
            profile = replace(profile, stance_weights=weights, stance_threshold=threshold)
        else:
            profile = replace(profile, pair_weights=weights, pair_threshold=threshold)
        profile = replace(profile, tuned_on={**profile.tuned_on, method: label})
    return profile


def print_report(m: Metrics, seconds_per_pair: float, judge: ClashJudge, out: TextIO) -> None:
    out.write(f"{'class':<14}{'precision':>10}{'recall':>10}{'f1':>10}\n")
    for label, (p, r, f) in m.per_class.items():
        out.write(f"{label:<14}{p:>10.3f}{r:>10.3f}{f:>10.3f}\n")
    out.write("confusion (rows gold, columns predicted):\n")
    out.write(f"{'':<14}" + "".join(f"{label:>14}" for label in JUDGE_LABELS) + "\n")
    for gold_label, row in m.confusion.items():
        out.write(f"{gold_label:<14}" + "".join(f"{row[p]:>14}" for p in JUDGE_LABELS) + "\n")
    thresholds = f"pair {judge.threshold('pair'):.2f}, stance {judge.threshold('stance'):.2f}"
    if judge.checks_stance:
        thresholds += f", second look {judge.profile.stance_check_threshold:.3f}"
    out.write(f"profile={judge.profile.name} alert_thresholds=({thresholds})\n")
    out.write(f"seconds_per_pair={seconds_per_pair:.3f}\n")
    out.write(
        f"alert_precision={m.alert_precision:.3f} alert_recall={m.alert_recall:.3f} "
        f"false_alert_rate={m.false_alert_rate:.3f}\n"
    )
    out.write(f"accuracy={m.accuracy:.3f} macro_f1={m.macro_f1:.3f} n={m.n}\n")


def gate_share(pairs: Iterable[Pair], known: Iterable[Question] = ()) -> tuple[int, int]:
    """How many of the labelled clashes (gold "inconsistent") the topic gate lets through to the judge, of how many.

    The gate (:func:`analysis.article.rank_positions`) decides which stored positions a statement is judged against;
    a clash it keeps out is never alerted, however good the judge. Each pair's earlier text stands as the position,
    under the stored question of the same text when there is one (its keywords count), else the pair's own.
    """
    by_text = {q.text: q for q in known}
    through = total = 0
    for pair in pairs:
        if pair.label != "inconsistent" or pair.question is None:
            continue
        question = by_text.get(pair.question.text, pair.question)
        stance: Stance = "against" if pair.stance == "against" else "favor"
        position = Position(pair.id, "someone", question.id, stance, pair.earlier, "", "2000-01-01")
        through += bool(rank_positions(pair.later, [position], {question.id: question}))
        total += 1
    return through, total
