"""The clash judge: is a later statement consistent with, unrelated to, or inconsistent with a position?

The verdict is read from the model's probabilities for the three label words (no
sampling), corrected by contextual calibration: the same prompt with content-free
input tells how much the model favours each word by itself, and that bias is divided
out. Class weights tuned on half of the benchmark then pick the verdict; confidence
is the calibrated probability of the verdict, so an alert needs the model itself to
favour "inconsistent". Which pairs reach the
judge at all is decided before, by :func:`topic_words` overlap (see the pipeline).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from models.backend import LLM, Priority
from models.prompts import (
    JUDGE_LABELS,
    JUDGE_SYSTEM,
    REASON_SCHEMA,
    SEVERITY_LABELS,
    SEVERITY_NAMES,
    SEVERITY_SYSTEM,
    SUBTYPE_LABELS,
    SUBTYPE_NAMES,
    SUBTYPE_SYSTEM,
    pair_messages,
    reason_messages,
)
from storage.records import VERDICTS, Severity, Subtype, Verdict

_CONTENT_FREE = "N/A"
# Class weights for the verdict, tuned for macro-F1 on the even-numbered half of the political-inconsistency
# benchmark with the embedded model and these prompts (benchmarks/judge_methods.py); the odd half is held out.
# They only move the verdict: confidence and alerts use the calibrated probabilities.
VERDICT_WEIGHTS = {"consistent": 1.0, "unrelated": 0.75, "inconsistent": 3.0}
_WORD = re.compile(r"[\w가-힣]+", re.UNICODE)
_STOPWORDS = frozenset(
    """a an the and or but of to in on for with by at from as is are was were be been it its this that these those
    we our you your they their he she his her i my not no do does did will would should could can may must have
    has had more most all any some such than then there here about into over after before also only very""".split()
)


@dataclass(frozen=True)
class Ruling:
    verdict: Verdict
    confidence: float
    probabilities: dict[str, float]
    reason: str
    subtype: Subtype = ""
    severity: Severity = ""


def topic_words(text: str) -> set[str]:
    words = {w.casefold() for w in _WORD.findall(text)}
    return {w for w in words if len(w) > 2 and w not in _STOPWORDS}


class ClashJudge:
    def __init__(self, engine: LLM, *, alert_threshold: float) -> None:
        self.engine = engine
        self.alert_threshold = alert_threshold
        self._bias: dict[str, dict[str, float]] = {}

    async def calibrated(
        self,
        system: str,
        labels: tuple[str, ...],
        position: str,
        statement: str,
        priority: Priority = Priority.BACKGROUND,
    ) -> dict[str, float]:
        """Label probabilities divided by the model's bias on content-free input, normalised."""
        if system not in self._bias:
            content_free = pair_messages(system, _CONTENT_FREE, _CONTENT_FREE)
            self._bias[system] = await self.engine.label_probabilities(content_free, labels)
        raw = await self.engine.label_probabilities(
            pair_messages(system, position, statement), labels, priority=priority
        )
        weights = {label: raw[label] / max(self._bias[system][label], 1e-9) for label in labels}
        total = sum(weights.values())
        return {label: w / total for label, w in weights.items()}

    async def probabilities(
        self, position: str, statement: str, *, priority: Priority = Priority.BACKGROUND
    ) -> dict[str, float]:
        return await self.calibrated(JUDGE_SYSTEM, JUDGE_LABELS, position, statement, priority)

    async def describe_clash(self, position: str, statement: str) -> tuple[Subtype, Severity]:
        """How an inconsistency is inconsistent (the benchmark's subtypes) and how far it flips."""
        kind = await self.calibrated(SUBTYPE_SYSTEM, SUBTYPE_LABELS, position, statement, Priority.BACKGROUND)
        flip = await self.calibrated(SEVERITY_SYSTEM, SEVERITY_LABELS, position, statement, Priority.BACKGROUND)
        subtype = SUBTYPE_NAMES[max(kind, key=lambda k: kind[k])]
        severity = SEVERITY_NAMES[max(("half", "full"), key=lambda k: flip[k])]  # an inconsistency is never "no flip"
        return subtype, severity  # type: ignore[return-value]

    async def judge(self, position: str, statement: str, *, explain: bool = True) -> Ruling:
        probs = await self.probabilities(position, statement)
        verdict: Verdict = max(VERDICTS, key=lambda label: probs[label] * VERDICT_WEIGHTS[label])
        confidence = probs[verdict]
        reason = _describe(probs)
        if explain and self.is_alert(verdict, confidence):
            reason = await self.explain(position, statement) or reason
            subtype, severity = await self.describe_clash(position, statement)
            return Ruling(verdict, confidence, probs, reason, subtype, severity)
        return Ruling(verdict, confidence, probs, reason)

    def is_alert(self, verdict: str, confidence: float) -> bool:
        return verdict == "inconsistent" and confidence >= self.alert_threshold

    async def explain(self, position: str, statement: str) -> str | None:
        reply = await self.engine.chat_json(reason_messages(position, statement), REASON_SCHEMA, max_tokens=80)
        reason = str(reply.get("reason", "")).strip() if reply else ""
        return reason or None


def _describe(probs: dict[str, float]) -> str:
    ranked = sorted(probs.items(), key=lambda kv: -kv[1])
    return "Model label probabilities: " + ", ".join(f"{label} {p:.2f}" for label, p in ranked) + "."
