"""Which way of judging helps the model most? Tuned on one half of the benchmark, reported on the other.

    python benchmarks/judge_methods.py [PAIRS] [--naive N]

The fixed split is by id: pairs with an even number (pi-000, pi-002, ...) tune, odd
ones are held out. The model is asked once per pair for its label probabilities;
every label-based method is computed from those, so they cost the same time per pair.
The naive method (the model writes its verdict as JSON) generates text, so it runs
on the first ``--naive`` held-out pairs only.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.judge_eval import Metrics, score
from analysis.pairs import Pair, in_split, load_pairs
from domain.words import topic_words
from llm.runtime.engine import LLMEngine
from llm.tasks.judge import ClashJudge
from llm.tasks.prompts import JUDGE_LABELS, JUDGE_SYSTEM, pair_messages
from settings import Settings

DEFAULT_PAIRS = Path(__file__).resolve().parent.parent.parent / "shared/benchmarks/political-inconsistency/pairs.jsonl"
NAIVE_SCHEMA = {
    "type": "object",
    "properties": {"reason": {"type": "string", "maxLength": 200}, "verdict": {"type": "string", "enum": JUDGE_LABELS}},
    "required": ["reason", "verdict"],
}
Probs = dict[str, float]
# The two-step idea: "same question?" then "same direction?", each read from calibrated label probabilities.
RELATED_SYSTEM = (
    "A later statement and an earlier position by the same person are given. Are they about the same question "
    "or issue? Answer with one word: yes or no."
)
DIRECTION_SYSTEM = (
    "A later statement and an earlier position by the same person are about the same issue. Does the later "
    "statement agree with the earlier position, or go against it? Answer with one word: agrees or contradicts."
)


def weighted(probs: Probs, weights: Probs) -> str:
    return max(JUDGE_LABELS, key=lambda label: probs[label] * weights[label])


def gated(pair: Pair, verdict: str) -> str:
    """The pipeline's rule: a pair sharing no topic word is about different questions."""
    return verdict if topic_words(pair.earlier) & topic_words(pair.later) else "unrelated"


def tune_weights(pairs: list[Pair], probs: list[Probs], decide: Callable[[Pair, str], str]) -> Probs:
    """Per-class weights (a grid over 0.25-4) that maximise macro-F1 on the tuning pairs."""
    grid = [0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0]
    best, best_f1 = {label: 1.0 for label in JUDGE_LABELS}, -1.0
    for u, i in itertools.product(grid, grid):
        weights = {"consistent": 1.0, "unrelated": u, "inconsistent": i}
        predicted = [decide(p, weighted(pr, weights)) for p, pr in zip(pairs, probs, strict=True)]
        f1 = score([p.label for p in pairs], predicted, [False] * len(pairs)).macro_f1
        if f1 > best_f1:
            best, best_f1 = weights, f1
    return best


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", nargs="?", type=Path, default=DEFAULT_PAIRS)
    parser.add_argument("--naive", type=int, default=120, help="held-out pairs for the naive method")
    args = parser.parse_args()
    settings = Settings.from_env(env_file=None)
    engine = await asyncio.to_thread(LLMEngine.load, settings)
    judge = ClashJudge.for_engine(engine, settings)
    pairs = load_pairs(args.pairs)
    raw: list[Probs] = []
    calibrated: list[Probs] = []
    started = time.perf_counter()
    for pair in pairs:
        raw.append(
            await engine.label_probabilities(pair_messages(JUDGE_SYSTEM, pair.earlier, pair.later), JUDGE_LABELS)
        )
        calibrated.append((await judge.probabilities(pair.earlier, pair.later))[1])
    per_pair = (time.perf_counter() - started) / len(pairs) / 2  # two model calls a pair here, one in the product
    two_step: list[Probs] = []
    for pair in pairs:
        related = await judge.pair_probabilities(RELATED_SYSTEM, ("yes", "no"), pair.earlier, pair.later)
        direction = await judge.pair_probabilities(
            DIRECTION_SYSTEM, ("agrees", "contradicts"), pair.earlier, pair.later
        )
        two_step.append(
            {
                "unrelated": related["no"],
                "consistent": related["yes"] * direction["agrees"],
                "inconsistent": related["yes"] * direction["contradicts"],
            }
        )
    combined = [
        {label: t[label] * c[label] for label in JUDGE_LABELS} for t, c in zip(two_step, calibrated, strict=True)
    ]
    tune = [i for i, p in enumerate(pairs) if in_split(p, "tune")]
    held = [i for i, p in enumerate(pairs) if not in_split(p, "tune")]

    def report(name: str, predicted: list[str], seconds: float, note: str = "") -> Metrics:
        gold = [pairs[i].label for i in held]
        metrics = score(gold, predicted, [False] * len(gold))
        f1s = " ".join(f"{label[:5]}={metrics.per_class[label][2]:.3f}" for label in JUDGE_LABELS)
        print(f"| {name} | {metrics.macro_f1:.3f} | {f1s} | {seconds:.2f} | {metrics.n} | {note} |")
        return metrics

    one = {label: 1.0 for label in JUDGE_LABELS}
    no_gate: Callable[[Pair, str], str] = lambda _, verdict: verdict  # noqa: E731
    print(f"{len(tune)} tuning pairs, {len(held)} held-out pairs; model {engine.info.model_name}\n")
    print("| method | macro-F1 (held-out) | per-class F1 | s/pair | n | tuned on the other half |")
    print("| --- | --- | --- | --- | --- | --- |")
    report("always inconsistent (floor)", ["inconsistent"] * len(held), 0.0)
    report("label probabilities", [weighted(raw[i], one) for i in held], per_pair)
    report("+ contextual calibration", [weighted(calibrated[i], one) for i in held], per_pair)
    w_cal = tune_weights([pairs[i] for i in tune], [calibrated[i] for i in tune], no_gate)
    report("+ class weights", [weighted(calibrated[i], w_cal) for i in held], per_pair, f"weights {w_cal}")
    gate = [gated(pairs[i], weighted(calibrated[i], one)) for i in held]
    report("calibrated + shared-topic gate", gate, per_pair)
    w_gate = tune_weights([pairs[i] for i in tune], [calibrated[i] for i in tune], gated)
    both = [gated(pairs[i], weighted(calibrated[i], w_gate)) for i in held]
    report("+ class weights", both, per_pair, f"weights {w_gate}")
    for name, probs in [("two-step: same question? same direction?", two_step), ("two-step x calibrated", combined)]:
        weights = tune_weights([pairs[i] for i in tune], [probs[i] for i in tune], no_gate)
        seconds = per_pair * (2 if probs is two_step else 3)
        report(f"{name}, class weights", [weighted(probs[i], weights) for i in held], seconds, f"weights {weights}")
    naive_pairs = [pairs[i] for i in held][: args.naive]
    started = time.perf_counter()
    naive = []
    for pair in naive_pairs:
        reply = await engine.chat_json(
            pair_messages(JUDGE_SYSTEM, pair.earlier, pair.later), NAIVE_SCHEMA, max_tokens=96
        )
        naive.append(str((reply or {}).get("verdict", "unrelated")))
    seconds = (time.perf_counter() - started) / max(len(naive_pairs), 1)
    gold = [p.label for p in naive_pairs]
    metrics = score(gold, naive, [False] * len(gold))
    f1s = " ".join(f"{label[:5]}={metrics.per_class[label][2]:.3f}" for label in JUDGE_LABELS)
    print(
        f"| naive JSON verdict | {metrics.macro_f1:.3f} | {f1s} | {seconds:.2f} | {metrics.n} | first held-out pairs |"
    )
    engine.close()


if __name__ == "__main__":
    asyncio.run(main())
