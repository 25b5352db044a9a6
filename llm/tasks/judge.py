"""The clash judge: is a later statement consistent with, unrelated to, or inconsistent with a position?

Two methods, both reading the model's probabilities for label words (no sampling) and dividing out the model's
bias on content-free input (contextual calibration):

- **stance** (a position with a stored question and a favor/against stance): does the new statement or action show
  the person on the position's side of that question, and does it show them on the other side? Each question
  describes both sides ("calls to pause …" / "builds, trains or buys compute for …"), so an action counts as
  evidence about the value the position states: buying GPUs for a new model is on the other side of "pause
  frontier AI development". Two yes/no readings, P(same side) and P(other side), give
  inconsistent = P(other), consistent = P(same) * (1 - P(other)), unrelated = (1 - P(same)) * (1 - P(other)):
  a report that shows both sides (news juxtaposes the pledge and the purchase) reads as a clash.
  On the AI-policy evaluation set this scored macro-F1 0.80 against 0.72 for counting "both sides" as consistent.
- **pair** (no question: the public benchmark, or a position without a stance): the three verdict words for the
  bare pair.

The class weights and the alert threshold come from the model file's :class:`JudgeProfile`. Confidence is the
calibrated probability of the verdict.

**The second look.** Read word by word, a statement *against* one side sounds like one *for* it ("argued against
calls to pause" → "calls to pause": yes). Where the profile sets ``stance_check_threshold``, a stance reading with
P(other side) ≥ :data:`NEAR` is read again: the other-side question after the three most similar labelled
statements as worked examples (:class:`Example`, never the statement itself), and, for a statement that holds a
negation, refusal, opposition or dismissal word (:func:`domain.facts.disputes`), a negation check (is the person
*against* what the other side describes?). A report that juxtaposes the pledge and the purchase holds none, so the check
cannot read "signed a pause letter" as being against building AI. It alerts when P(other) × P(yes, with
examples) × (1 − P(against)) reaches the threshold, unless the statement restates its position (:func:`restates`:
it reads at least as much on the position's own side as on the other, and shares at least
:data:`RESTATEMENT_OVERLAP` of its topic words with the position: "Elon Musk signed a letter calling for a
moratorium …" against the pause letter itself). Would-be alerts are a few per cent of what the bot judges,
so the cost is small; the README's judgement table has what each check gives on the held-out pairs.

Which pairs reach the judge at all is decided before, by
:func:`topic_words` overlap and question keywords (see the pipeline).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from domain.facts import disputes, shared_facts
from domain.injection import without_instructions
from domain.records import VERDICTS, Question, Severity, Subtype, Verdict
from domain.words import topic_words
from llm.runtime.backend import LLM, Priority
from llm.tasks.profile import JudgeProfile, find_profile
from llm.tasks.prompts import (
    JUDGE_LABELS,
    JUDGE_SYSTEM,
    REASON_SCHEMA,
    SEVERITY_LABELS,
    SEVERITY_NAMES,
    SEVERITY_SYSTEM,
    SIDE_LABELS,
    SUBTYPE_LABELS,
    SUBTYPE_NAMES,
    SUBTYPE_SYSTEM,
    Messages,
    against_messages,
    pair_examples_messages,
    pair_messages,
    reason_messages,
    side_examples_messages,
    side_messages,
)
from settings import Settings

Method = Literal["stance", "pair"]
_CONTENT_FREE = "N/A"
TEXT_TOKENS = 300
"""A position or statement is a sentence or two; anything longer is cut before it reaches a prompt."""
NEAR = 0.3
"""P(other side) from which a stance reading is a would-be alert: the second look starts there."""
EXAMPLES_SHOWN = 3
RESTATEMENT_OVERLAP = 0.3
"""Topic-word overlap (Jaccard) with its position from which a statement reading on the position's own side is the
position restated. On the labelled AI-policy set no alerted clash reaches 0.2 (they share the person's name at most),
while the seed re-telling "Elon Musk signed a letter calling for a moratorium …" shares 0.42 with the pause letter;
the README's judgement section has the measurement."""
RESTATEMENT_FACTS = 3
"""Numbers and organisations shared with its position from which a statement on the position's own side restates
it in another language: the Korean re-telling "… 퓨처 오브 라이프 연구소 … GPT-4보다 … 6개월간 중단하자고 했다" shares
three with the English pause letter, the Korean headline of the purchase one (6개월), no clash of the labelled set
more than one."""


@dataclass(frozen=True)
class Example:
    """A labelled statement, shown to the model as a worked example in the second look.

    ``side`` is what the statement was asked about (the other side of its position's question, in words) and
    ``shows`` whether it showed the person there (a labelled clash). A pair-method example (its position has no
    favor/against stance: a "mixed" position, or a pair of the public benchmark) has no ``side`` but the earlier
    ``position``, and ``shows`` says whether the pair is a clash. Sources: the project's labelled AI-policy pairs
    (``evals/ai_policy_pairs.jsonl``), built by the composition root, and each server's moderators' reviews.
    """

    question: str
    side: str
    statement: str
    shows: bool
    position: str = ""


def nearest(statement: str, question: str, pool: Sequence[Example], k: int = EXAMPLES_SHOWN) -> list[Example]:
    """The ``k`` examples on the same question first, then sharing most topic words; never ``statement`` itself."""
    words = topic_words(statement)

    def closeness(example: Example) -> tuple[bool, float]:
        theirs = topic_words(example.statement)
        return example.question == question, len(words & theirs) / max(1, len(words | theirs))

    return sorted((e for e in pool if e.statement != statement), key=closeness, reverse=True)[:k]


@dataclass(frozen=True)
class Ruling:
    verdict: Verdict
    confidence: float
    probabilities: dict[str, float]
    reason: str
    method: Method = "pair"
    subtype: Subtype = ""
    severity: Severity = ""
    flagged: bool = False
    """The position or statement held instruction-like text aimed at the model; it was cut before judging."""
    checks: dict[str, float] = field(default_factory=dict)
    """The second look's readings (``with_examples``, ``against``, ``score``), when it ran; ``restates`` (1.0) when
    the statement restates the position (:func:`restates`), which no score alerts."""


def method_for(question: Question | None, stance: str) -> Method:
    """The judge's method: "stance" for a position with a question and a favor/against stance, else "pair"."""
    return "stance" if question is not None and stance in ("favor", "against") else "pair"


def sides(question: Question) -> tuple[str, str]:
    """What backs a yes answer and what works against it; generic wording for a question that describes neither."""
    supports = question.supports or f"argues or acts for a yes answer to the question '{question.text}'"
    opposes = question.opposes or f"argues or acts for a no answer to the question '{question.text}'"
    return supports, opposes


def side_verdicts(same: float, other: float) -> dict[str, float]:
    """P(same side) and P(other side) as verdict probabilities (they sum to one)."""
    return {"consistent": same * (1 - other), "unrelated": (1 - same) * (1 - other), "inconsistent": other}


def restates(position: str, statement: str, probs: dict[str, float]) -> bool:
    """Whether a stance-read ``statement`` (its :func:`side_verdicts` ``probs``) says its ``position`` again: it reads
    at least as much on the position's own side as on the other, and it shares at least :data:`RESTATEMENT_OVERLAP`
    of its topic words with the position, or, in any language, :data:`RESTATEMENT_FACTS` of its numbers and
    organisations (:func:`domain.facts.shared_facts`: a Korean retelling of an English position shares no word).
    Such a statement is never a clash, whatever the second look reads (a report restating a pledge reads as calling
    for it *and*, word by word, as acting on AI)."""
    other = probs["inconsistent"]
    same = probs["consistent"] / (1 - other) if other < 1 else 0.0
    if same < other:
        return False
    mine, theirs = topic_words(position), topic_words(statement)
    overlap = len(mine & theirs) >= RESTATEMENT_OVERLAP * max(1, len(mine | theirs))
    return overlap or shared_facts(position, statement) >= RESTATEMENT_FACTS


def second_look_score(other: float, with_examples: float, against: float) -> float:
    """The second look's score (0-1), alerted at the profile's ``stance_check_threshold``: P(other side) read
    alone, read again after worked examples, and not read as *against* that side."""
    return other * with_examples * (1 - against)


class ClashJudge:
    def __init__(
        self,
        engine: LLM,
        profile: JudgeProfile,
        *,
        alert_threshold: float | None = None,
        examples: Sequence[Example] = (),
    ) -> None:
        """``alert_threshold`` (``ALERT_THRESHOLD``) overrides the profile's when given, the second look included;
        ``examples`` are the labelled statements the second look shows."""
        self.engine = engine
        self.profile = profile
        self.alert_threshold = alert_threshold
        self.examples = examples
        self._bias: dict[tuple[str, ...], dict[str, float]] = {}

    @classmethod
    def for_engine(cls, engine: LLM, settings: Settings, examples: Sequence[Example] = ()) -> ClashJudge:
        """The judge with the profile of the loaded model: the data directory's profiles first, then shipped ones."""
        info = engine.info
        profile = find_profile(info.sha256, info.model_name, [settings.data_dir / "profiles"])
        return cls(engine, profile, alert_threshold=settings.alert_threshold, examples=examples)

    async def _calibrated(
        self, key: tuple[str, ...] | None, messages: Messages, content_free: Messages, labels: tuple[str, ...]
    ) -> dict[str, float]:
        """Label probabilities divided by the model's bias on content-free input, normalised. The bias is cached per
        ``key``; None reads it afresh (a prompt whose worked examples change from call to call)."""
        if key is None:
            bias = await self.engine.label_probabilities(content_free, labels, priority=Priority.BACKGROUND)
        else:
            if key not in self._bias:
                self._bias[key] = await self.engine.label_probabilities(content_free, labels)
            bias = self._bias[key]
        raw = await self.engine.label_probabilities(messages, labels, priority=Priority.BACKGROUND)
        weights = {label: raw[label] / max(bias[label], 1e-9) for label in labels}
        total = sum(weights.values())
        return {label: w / total for label, w in weights.items()}

    async def pair_probabilities(
        self, system: str, labels: tuple[str, ...], position: str, statement: str
    ) -> dict[str, float]:
        content_free = pair_messages(system, _CONTENT_FREE, _CONTENT_FREE)
        return await self._calibrated((system,), pair_messages(system, position, statement), content_free, labels)

    async def side_probability(self, description: str, statement: str) -> float:
        """P(yes): the statement shows the person doing what ``description`` says."""
        probs = await self.engine.label_probabilities(side_messages(description, statement), SIDE_LABELS)
        return probs["yes"]

    async def probabilities(
        self, position: str, statement: str, *, question: Question | None = None, stance: str = ""
    ) -> tuple[Method, dict[str, float]]:
        if question is not None and method_for(question, stance) == "stance":
            supports, opposes = sides(question)
            same, other = (supports, opposes) if stance == "favor" else (opposes, supports)
            p_same = await self.side_probability(same, statement)
            p_other = await self.side_probability(other, statement)
            return "stance", side_verdicts(p_same, p_other)
        return "pair", await self.pair_probabilities(JUDGE_SYSTEM, JUDGE_LABELS, position, statement)

    async def second_look(self, question: Question, stance: str, statement: str, other: float) -> dict[str, float]:
        """The would-be alert read again: with worked examples, and for negation (see the module's docstring)."""
        examples = await self.with_examples(question, stance, statement, self.examples)
        against = 0.0
        if disputes(statement):  # only a statement that negates, refuses, opposes or dismisses can be against a side
            against = await self.against(question, stance, statement)
        score = second_look_score(other, examples, against)
        return {"with_examples": examples, "against": against, "score": score}

    async def against(self, question: Question, stance: str, statement: str) -> float:
        """P(yes): the statement shows the person *against* what the other side of ``question`` describes."""
        messages = against_messages(other_side(question, stance), statement)
        return (await self.engine.label_probabilities(messages, SIDE_LABELS))["yes"]

    async def with_examples(self, question: Question, stance: str, statement: str, pool: Sequence[Example]) -> float:
        """P(yes) to the other-side question after the nearest worked examples of ``pool``, the nearest first.
        (Shown nearest last, or in both orders averaged, the held-out false-alert rate rose from 0.032 to 0.081:
        see the README's judgement table.)"""
        stance_examples = [e for e in pool if e.side]
        shown = [(e.statement, e.side, e.shows) for e in nearest(statement, question.text, stance_examples)]
        messages = side_examples_messages(other_side(question, stance), statement, shown)
        return (await self.engine.label_probabilities(messages, SIDE_LABELS))["yes"]

    async def learned_score(
        self, ruling: Ruling, position: str, statement: str, learned: Sequence[Example], *, question: Question | None,
        stance: str
    ) -> float | None:  # fmt: skip
        """A would-be alert's score (0-1) when ``learned`` examples (a server's reviews) join the shipped ones, the
        rest of the reading unchanged: the stance method's second-look score, or the pair method's
        (:meth:`pair_score`, read again after the nearest pair-method examples). None when there is nothing to
        read again: a stance ruling without a second look, a pair ruling under :data:`NEAR`, a restatement."""
        if "restates" in ruling.checks:
            return None
        (position, _), (statement, _) = map(self._prepared, (position, statement))  # as judge() read them
        if ruling.method == "pair":
            if ruling.probabilities["inconsistent"] < NEAR:
                return None
            return await self.pair_reread(position, statement, [*learned, *self.examples], question=question)
        if "score" not in ruling.checks or self.profile.stance_check_threshold is None or question is None:
            return None
        examples = await self.with_examples(question, stance, statement, [*learned, *self.examples])
        return second_look_score(ruling.probabilities["inconsistent"], examples, ruling.checks["against"])

    async def alerts_with(
        self,
        ruling: Ruling,
        position: str,
        statement: str,
        learned: Sequence[Example],
        threshold: float | None = None,
        *,
        question: Question | None,
        stance: str,
    ) -> bool:
        """Whether a would-be alert alerts by a server's own judgement: its reviews as examples (see
        :meth:`learned_score`), at the server's re-fitted ``threshold`` when it has one, else the shipped one."""
        score = await self.learned_score(ruling, position, statement, learned, question=question, stance=stance)
        if score is None:
            return self.is_alert(ruling)
        return score >= (threshold if threshold is not None else self.learned_threshold(ruling.method) or 0.0)

    def decide(self, method: Method, probs: dict[str, float]) -> Verdict:
        return max(VERDICTS, key=lambda label: probs[label] * self.profile.weights(method)[label])

    async def describe_clash(self, position: str, statement: str) -> tuple[Subtype, Severity]:
        """How an inconsistency is inconsistent (the benchmark's subtypes) and how far it flips."""
        kind = await self.pair_probabilities(SUBTYPE_SYSTEM, SUBTYPE_LABELS, position, statement)
        flip = await self.pair_probabilities(SEVERITY_SYSTEM, SEVERITY_LABELS, position, statement)
        subtype = SUBTYPE_NAMES[max(kind, key=lambda k: kind[k])]
        severity = SEVERITY_NAMES[max(("half", "full"), key=lambda k: flip[k])]  # an inconsistency is never "no flip"
        return subtype, severity  # type: ignore[return-value]

    async def judge(
        self,
        position: str,
        statement: str,
        *,
        question: Question | None = None,
        stance: str = "",
        explain: bool = True,
    ) -> Ruling:
        (position, steered_position), (statement, steered) = map(self._prepared, (position, statement))
        method, probs = await self.probabilities(position, statement, question=question, stance=stance)
        verdict = self.decide(method, probs)
        flagged = steered_position or steered
        checks: dict[str, float] = {}
        if method == "stance" and question is not None and self.checks_stance and probs["inconsistent"] >= NEAR:
            checks = await self.second_look(question, stance, statement, probs["inconsistent"])
            if restates(position, statement, probs):
                checks["restates"] = 1.0
        ruling = Ruling(
            verdict, probs[verdict], probs, _describe(method, probs), method, flagged=flagged, checks=checks
        )
        if "restates" in checks:  # the position said again is consistent with it, whatever the weights read
            ruling = replace(ruling, verdict="consistent", confidence=probs["consistent"])
        if self.is_alert(ruling) and verdict != "inconsistent":  # the second look found the clash the weights hid
            ruling = replace(ruling, verdict="inconsistent", confidence=probs["inconsistent"])
        if explain and self.is_alert(ruling):
            if method == "stance" and question is not None:
                reason = side_reason(question, stance, probs)
            else:
                reason = await self.explain(position, statement) or ruling.reason
            subtype, severity = await self.describe_clash(position, statement)
            return replace(ruling, reason=reason, subtype=subtype, severity=severity)
        return ruling

    async def pair_with_examples(
        self, position: str, statement: str, pool: Sequence[Example], *, question: Question | None = None
    ) -> dict[str, float]:
        """The pair method's calibrated verdict probabilities after the nearest pair-method examples of ``pool``
        (those on ``question`` first; a clash answered "inconsistent", any other pair "consistent": a review tells
        no more), nearest first.

        The bias divided out is read on content-free input after the *same* examples (contextual calibration as
        Zhao et al., 2021, define it): shown examples that are mostly clashes pull a small model toward
        "inconsistent" whatever the pair says, and that pull is the bias to remove. One more model call a reading;
        the README's learning section has what it changed on the public benchmark."""
        pairs = [e for e in pool if not e.side]
        shown = [
            (e.position, e.statement, "inconsistent" if e.shows else "consistent")
            for e in nearest(statement, question.text if question else "", pairs)
        ]
        content_free = pair_examples_messages(JUDGE_SYSTEM, _CONTENT_FREE, _CONTENT_FREE, shown)
        messages = pair_examples_messages(JUDGE_SYSTEM, position, statement, shown)
        return await self._calibrated(None, messages, content_free, JUDGE_LABELS)

    async def pair_reread(
        self, position: str, statement: str, pool: Sequence[Example], *, question: Question | None = None
    ) -> float:
        """A pair-method would-be alert's score (:meth:`pair_score`) read again after ``pool``'s nearest examples."""
        return self.pair_score(await self.pair_with_examples(position, statement, pool, question=question))

    def pair_score(self, probs: dict[str, float]) -> float:
        """A pair-method reading as an alert score (0-1), alerted at ``threshold("pair")``: P(inconsistent) where
        the profile's weights make the verdict inconsistent, else 0."""
        return probs["inconsistent"] if self.decide("pair", probs) == "inconsistent" else 0.0

    def learned_threshold(self, method: Method) -> float | None:
        """The shipped threshold a server's re-fit starts from: the second look's for the stance method (None when
        the profile has no second look), the pair method's own for the pair method."""
        return self.profile.stance_check_threshold if method == "stance" else self.threshold("pair")

    def _prepared(self, text: str) -> tuple[str, bool]:
        """Untrusted text as every prompt of the judge reads it: instruction-like sentences cut (and whether there
        were any), then cut to :data:`TEXT_TOKENS`."""
        cleaned, steered = without_instructions(text)
        return self.engine.truncate(cleaned, TEXT_TOKENS), steered

    def threshold(self, method: Method) -> float:
        return self.profile.threshold(method) if self.alert_threshold is None else self.alert_threshold

    @property
    def checks_stance(self) -> bool:
        """Whether would-be stance alerts get the second look: the profile asks, and no operator threshold rules."""
        return self.profile.stance_check_threshold is not None and self.alert_threshold is None

    def is_alert(self, ruling: Ruling) -> bool:
        if "restates" in ruling.checks:
            return False
        if ruling.method == "stance" and "score" in ruling.checks and self.profile.stance_check_threshold is not None:
            return ruling.checks["score"] >= self.profile.stance_check_threshold
        if ruling.method == "stance" and self.checks_stance:
            return False  # below NEAR: no second look, no alert
        return ruling.verdict == "inconsistent" and ruling.confidence >= self.threshold(ruling.method)

    async def explain(self, position: str, statement: str) -> str | None:
        reply = await self.engine.chat_json(reason_messages(position, statement), REASON_SCHEMA, max_tokens=80)
        reason = str(reply.get("reason", "")).strip() if reply else ""
        return reason or None


def other_side(question: Question, stance: str) -> str:
    """The side of ``question`` a position with ``stance`` is not on: what a clash with it shows the person doing."""
    supports, opposes = sides(question)
    return opposes if stance == "favor" else supports


def side_reason(question: Question, stance: str, probs: dict[str, float]) -> str:
    """What the model read, in words: the new statement on the other side of the position's question."""
    supports, opposes = sides(question)
    same, other = (supports, opposes) if stance == "favor" else (opposes, supports)
    return (
        f"The model reads the new statement as: the person {other} (probability {probs['inconsistent']:.2f}); "
        f"the earlier position is on the other side of “{question.text}”: the person {same}."
    )


def _describe(method: Method, probs: dict[str, float]) -> str:
    ranked = sorted(probs.items(), key=lambda kv: -kv[1])
    how = "reading of the statement against both sides of the question" if method == "stance" else "label probabilities"
    return f"Model {how}: " + ", ".join(f"{label} {p:.2f}" for label, p in ranked) + "."
