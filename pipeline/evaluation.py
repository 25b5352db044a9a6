"""Score the clash judge on labelled statement pairs (the political-inconsistency benchmark's format)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from models.judge import ClashJudge
from models.prompts import JUDGE_LABELS
from storage.records import RecordError


@dataclass(frozen=True)
class Pair:
    id: str
    earlier: str
    later: str
    label: str


def in_split(pair: Pair, split: str) -> bool:
    """The fixed split: even-numbered ids tune, odd-numbered ids are held out."""
    if split == "all":
        return True
    number = pair.id.rsplit("-", 1)[-1]
    even = number.isdigit() and int(number) % 2 == 0
    return even if split == "tune" else not even


def load_pairs(path: Path, limit: int | None = None, split: str = "all") -> list[Pair]:
    pairs: list[Pair] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                pair = Pair(str(row.get("id", number)), row["text1"], row["text2"], row["label"])
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise RecordError(f"{path}:{number}", f"not a pair with text1, text2 and label ({exc})") from None
            if pair.label not in JUDGE_LABELS:
                raise RecordError(f"{path}:{number}.label", f"must be one of {', '.join(JUDGE_LABELS)}")
            if not in_split(pair, split):
                continue
            pairs.append(pair)
            if limit is not None and len(pairs) >= limit:
                break
    return pairs


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


async def evaluate(judge: ClashJudge, pairs: Iterable[Pair], out: TextIO = sys.stdout) -> Metrics:
    pairs = list(pairs)
    gold: list[str] = []
    predicted: list[str] = []
    alerted: list[bool] = []
    started = time.perf_counter()
    show_progress = out.isatty()
    for done, pair in enumerate(pairs, start=1):
        ruling = await judge.judge(pair.earlier, pair.later, explain=False)
        gold.append(pair.label)
        predicted.append(ruling.verdict)
        alerted.append(judge.is_alert(ruling.verdict, ruling.confidence))
        if show_progress:
            bar = "#" * (30 * done // len(pairs))
            out.write(f"\r[{bar:<30}] {done}/{len(pairs)}")
            out.flush()
    if show_progress:
        out.write("\n")
    metrics = score(gold, predicted, alerted)
    elapsed = time.perf_counter() - started
    print_report(metrics, elapsed / max(len(pairs), 1), judge.alert_threshold, out)
    return metrics


def print_report(m: Metrics, seconds_per_pair: float, threshold: float, out: TextIO) -> None:
    out.write(f"{'class':<14}{'precision':>10}{'recall':>10}{'f1':>10}\n")
    for label, (p, r, f) in m.per_class.items():
        out.write(f"{label:<14}{p:>10.3f}{r:>10.3f}{f:>10.3f}\n")
    out.write("confusion (rows gold, columns predicted):\n")
    out.write(f"{'':<14}" + "".join(f"{label:>14}" for label in JUDGE_LABELS) + "\n")
    for gold_label, row in m.confusion.items():
        out.write(f"{gold_label:<14}" + "".join(f"{row[p]:>14}" for p in JUDGE_LABELS) + "\n")
    out.write(f"seconds_per_pair={seconds_per_pair:.3f} alert_threshold={threshold:.2f}\n")
    out.write(
        f"alert_precision={m.alert_precision:.3f} alert_recall={m.alert_recall:.3f} "
        f"false_alert_rate={m.false_alert_rate:.3f}\n"
    )
    out.write(f"accuracy={m.accuracy:.3f} macro_f1={m.macro_f1:.3f} n={m.n}\n")
