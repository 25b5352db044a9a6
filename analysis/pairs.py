"""Labelled statement pairs: the evaluation sets' one reader, their split rule, and the worked examples they make.

The pairs are JSON lines in the political-inconsistency benchmark's format (``id``, ``text1``, ``text2``,
``label``), optionally with the position's ``question``, its ``supports`` / ``opposes`` sides and a ``stance``:
``evals/ai_policy_pairs.jsonl``, ``evals/outside_questions.jsonl``, the public benchmark, and moderators' reviews
exported by ``bot.py reviews export``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domain.records import Question, RecordError
from llm.tasks.judge import Example, Method, method_for, other_side
from llm.tasks.prompts import JUDGE_LABELS


@dataclass(frozen=True)
class Pair:
    id: str
    earlier: str
    later: str
    label: str
    question: Question | None = None
    stance: str = ""


LABELLED = Path(__file__).resolve().parent.parent / "evals" / "ai_policy_pairs.jsonl"
"""The project's labelled AI-policy pairs: the evaluation set, and the second look's worked examples."""


def examples_of(pairs: Iterable[Pair]) -> list[Example]:
    """Pairs as worked examples: one with a question and a favor/against stance as the statement asked about the
    other side (the stance method's), any other as the bare pair (the pair method's)."""
    examples = []
    for pair in pairs:
        clash = pair.label == "inconsistent"
        if pair.question is None or method_of(pair) == "pair":
            question = pair.question.text if pair.question is not None else ""
            examples.append(Example(question, "", pair.later, clash, position=pair.earlier))
            continue
        side = other_side(pair.question, pair.stance)
        examples.append(Example(pair.question.text, side, pair.later, clash))
    return examples


def method_of(pair: Pair) -> Method:
    """The judge's method for ``pair`` (:func:`llm.tasks.judge.method_for`)."""
    return method_for(pair.question, pair.stance)


def shipped_examples(split: str = "all") -> list[Example]:
    """The labelled pairs' worked examples (the bot shows all of them; an evaluation only the tune half)."""
    return examples_of(load_pairs(LABELLED, split=split))


def in_split(pair: Pair, split: str) -> bool:
    """The fixed split: even-numbered ids tune, odd-numbered ids are held out."""
    if split == "all":
        return True
    number = pair.id.rsplit("-", 1)[-1]
    even = number.isdigit() and int(number) % 2 == 0
    return even if split == "tune" else not even


def pair_of(row: dict[str, Any], number: int = 0) -> Pair:
    """One pair from its JSON row (the benchmark's fields, with the optional question, sides and stance);
    KeyError, TypeError or AttributeError when the row is not one."""
    question = None
    if row.get("question"):
        text = str(row["question"])
        question = Question(text, text, supports=row.get("supports", ""), opposes=row.get("opposes", ""))
    return Pair(str(row.get("id", number)), row["text1"], row["text2"], row["label"], question, row.get("stance", ""))


def load_pairs(path: Path, limit: int | None = None, split: str = "all") -> list[Pair]:
    pairs: list[Pair] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                pair = pair_of(json.loads(line), number)
            except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
                raise RecordError(f"{path}:{number}", f"not a pair with text1, text2 and label ({exc})") from None
            if pair.label not in JUDGE_LABELS:
                raise RecordError(f"{path}:{number}.label", f"must be one of {', '.join(JUDGE_LABELS)}")
            if not in_split(pair, split):
                continue
            pairs.append(pair)
            if limit is not None and len(pairs) >= limit:
                break
    return pairs
