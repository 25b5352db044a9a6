"""Which check keeps the stance judge's false alerts down? Fitted on the tune half, reported on the held-out half.

    python benchmarks/stance_methods.py [PAIRS] [--out READINGS.jsonl]

Every pair (the AI-policy set by default) is read once the way the bot reads it: P(same side) and P(other side)
of the position's question. The other methods reuse those readings and add at most one model call, made only
for pairs the bot's rule would alert on or nearly would (P(other side) ≥ ``NEAR``), so their cost is counted
per pair over the whole half:

- **shipped**: the profile's weights and threshold, as ``bot.py eval`` decides;
- **agreement**: alert only when the two readings agree, P(other) high *and* P(same) low (both cut-offs fitted);
- **negation check**: a second question on would-be alerts, "is the person *against* what the other side
  describes?" (a statement arguing against a pause reads literally as "calls to pause"); a yes vetoes the alert;
- **retrieved examples**: the other-side question asked again with the three most similar labelled pairs of
  the tune half as worked examples (never the pair being judged), its P(yes) as the alert score;
- **second look (both)**: P(other) × P(yes with examples) × (1 − P(against)), the bot's rule since prompts
  2026-11-30.1 (``stance_check_threshold`` in the profile).
- **second look, own side vetoes**: the same, but no alert where P(same side) ≥ P(other side): a statement that
  reads at least as much on its position's own side restates the position rather than clashing with it (the
  English re-telling "Elon Musk signed a letter calling for a moratorium …" read 0.76 own side, 0.54 other).
- **second look, restatements vetoed** (the bot's rule since this was measured): the veto only where the statement
  also shares its position's words (:func:`llm.tasks.judge.restates`); a report of a clash that reads on both sides
  ("… campaigned for the EU AI Act, then lobbied to weaken it") keeps its alert.

Cut-offs are chosen on the tune half for the most recall at a false-alert rate ≤ 0.05 there, then the held-out
figures are printed beside the shipped rule's, with seconds per pair.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import itertools
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.pairs import Pair, examples_of, in_split, load_pairs
from domain.facts import disputes
from llm.runtime.engine import LLMEngine
from llm.tasks.judge import ClashJudge, Example, restates, second_look_score, side_verdicts
from settings import Settings

DEFAULT_PAIRS = Path(__file__).resolve().parent.parent / "evals" / "ai_policy_pairs.jsonl"
NEAR = 0.3
"""P(other side) from which a pair counts as a would-be alert and gets the second look."""
FALSE_ALERT_CAP = 0.05
GRID = tuple(round(0.01 * i, 2) for i in range(0, 101))


@dataclass
class Reading:
    pair: Pair
    same: float
    other: float
    shipped: bool
    seconds: float
    extra: dict[str, float] = field(default_factory=dict)
    extra_seconds: dict[str, float] = field(default_factory=dict)


async def read(judge: ClashJudge, pairs: list[Pair], pool: list[Example]) -> list[Reading]:
    readings = []
    for pair in pairs:
        started = time.perf_counter()
        ruling = await judge.judge(pair.earlier, pair.later, question=pair.question, stance=pair.stance, explain=False)
        probs = ruling.probabilities
        other = probs["inconsistent"]
        same = probs["consistent"] / max(1e-9, 1 - other)
        reading = Reading(pair, same, other, judge.is_alert(ruling), time.perf_counter() - started)
        if other >= NEAR:
            assert pair.question is not None
            started = time.perf_counter()
            reading.extra["negation"] = await judge.against(pair.question, pair.stance, pair.later)
            reading.extra_seconds["negation"] = time.perf_counter() - started
            started = time.perf_counter()
            reading.extra["retrieved"] = await judge.with_examples(pair.question, pair.stance, pair.later, pool)
            reading.extra_seconds["retrieved"] = time.perf_counter() - started
        readings.append(reading)
        print(f"  {pair.id} {pair.label:12} same={same:.2f} other={other:.2f} {reading.extra}", file=sys.stderr)
    return readings


Rule = Callable[[Reading, float, float], bool]
RULES: dict[str, Rule] = {
    "agreement": lambda r, a, b: r.other >= a and r.same <= b,
    "negation check": lambda r, a, b: r.shipped and r.extra.get("negation", 1.0) < a,
    "retrieved examples": lambda r, a, b: r.other >= NEAR and r.extra.get("retrieved", 0.0) >= a,
    "second look (both)": lambda r, a, b: r.other >= NEAR and second_look(r) >= a,
    "second look, own side vetoes": lambda r, a, b: r.other >= NEAR and r.same < r.other and second_look(r) >= a,
    "second look, restatements vetoed": lambda r, a, b: (
        r.other >= NEAR
        and not restates(r.pair.earlier, r.pair.later, side_verdicts(r.same, r.other))
        and second_look(r) >= a
    ),
}


def second_look(r: Reading) -> float:
    """The bot's score: the negation check counts only for a statement that holds a negation or dismissal word."""
    against = r.extra.get("negation", 1.0) if disputes(r.pair.later) else 0.0
    return second_look_score(r.other, r.extra.get("retrieved", 0.0), against)


def rates(readings: list[Reading], alert: Callable[[Reading], bool]) -> tuple[float, float, float]:
    clashes = [r for r in readings if r.pair.label == "inconsistent"]
    others = [r for r in readings if r.pair.label != "inconsistent"]
    hits = sum(alert(r) for r in clashes)
    false = sum(alert(r) for r in others)
    precision = hits / (hits + false) if hits + false else 0.0
    return precision, hits / max(1, len(clashes)), false / max(1, len(others))


def fit(rule: Rule, tune: list[Reading]) -> tuple[float, float]:
    """The cut-offs with the most tune-half recall at a false-alert rate within the cap (then the fewest alerts)."""
    best = (-1.0, 0.0, (0.5, 0.5))
    for a, b in itertools.product(GRID, GRID):
        _, recall, false = rates(tune, lambda r, a=a, b=b: rule(r, a, b))
        if false <= FALSE_ALERT_CAP and (recall, -false) > best[:2]:
            best = (recall, -false, (a, b))
    return best[2]


def seconds(readings: list[Reading], names: tuple[str, ...]) -> float:
    total = sum(r.seconds + sum(r.extra_seconds.get(n, 0.0) for n in names) for r in readings)
    return total / max(1, len(readings))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", nargs="?", type=Path, default=DEFAULT_PAIRS)
    parser.add_argument("--out", type=Path, help="write every reading here (JSON lines)")
    args = parser.parse_args()
    settings = Settings.from_env()
    engine = await asyncio.to_thread(LLMEngine.load, settings)
    shipped = ClashJudge.for_engine(engine, settings)  # its one-reading rule is the baseline; the checks run here
    judge = ClashJudge(engine, dataclasses.replace(shipped.profile, stance_check_threshold=None))
    pairs = [p for p in load_pairs(args.pairs) if p.question is not None]
    readings = await read(judge, pairs, examples_of(p for p in pairs if in_split(p, "tune")))
    if args.out:
        with args.out.open("w", encoding="utf-8") as handle:
            for r in readings:
                row = {"id": r.pair.id, "label": r.pair.label, "same": r.same, "other": r.other, **r.extra}
                handle.write(json.dumps(row) + "\n")
    tune = [r for r in readings if in_split(r.pair, "tune")]
    held = [r for r in readings if in_split(r.pair, "heldout")]
    print(f"model={engine.info.model_name} profile={judge.profile.name} pairs: tune {len(tune)}, held out {len(held)}")
    print(f"{'method':29} {'cut-offs':12} {'precision':>9} {'recall':>7} {'false-alert':>11} {'s/pair':>7}")
    precision, recall, false = rates(held, lambda r: r.shipped)
    baseline = f"{'shipped (baseline)':29} {'profile':12} {precision:9.3f} {recall:7.3f} {false:11.3f}"
    print(f"{baseline} {seconds(held, ()):7.2f}")
    costs = {"agreement": (), "negation check": ("negation",), "retrieved examples": ("retrieved",)}
    for name in ("second look (both)", "second look, own side vetoes", "second look, restatements vetoed"):
        costs[name] = ("negation", "retrieved")
    for name, rule in RULES.items():
        a, b = fit(rule, tune)
        precision, recall, false = rates(held, lambda r, rule=rule, a=a, b=b: rule(r, a, b))
        cut = f"{a:.2f}/{b:.2f}" if name == "agreement" else f"{a:.3f}"
        print(f"{name:29} {cut:12} {precision:9.3f} {recall:7.3f} {false:11.3f} {seconds(held, costs[name]):7.2f}")
    await engine.aclose()


if __name__ == "__main__":
    asyncio.run(main())
