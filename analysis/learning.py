"""What a server's judge learns from its moderators: their reviews as worked examples and a re-fitted threshold,
behind a guard.

After ``LEARN_AFTER`` reviews in a server (the number comes from ``bot.py eval-learning``; see the README), the
second look of every would-be alert shows the server's most similar reviewed statements beside the shipped
examples (a Confirm as a clash, a Dismiss as none), at the threshold the server's reviews re-fit
(:func:`refit_threshold`, measured in the background by :class:`LearnedJudges`), and the server gets the alert only
if that reading passes it. A position without a favor/against stance is judged by the pair method: there the
server's reviewed pairs of that method are shown before the pair, and the pair method's threshold is re-fitted on
them. Other servers' alerts are untouched: each reads only its own reviews.

The guard refuses a server's reviews (the shipped judge stays) when one moderator made more than two thirds of
them, or when fewer than a fifth are Confirms (the examples would teach the judge to say nothing), and a re-fit
that would silence the server; it logs why, and ``/status`` and ``/manage-stances learning`` say so. A reset is a
marker among the reviews: the ones before it no longer count, and the labelled pairs stay exportable.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from analysis.pairs import Pair, examples_of, pair_of
from analysis.reviews import review_pairs
from domain.records import ModeratorReview
from llm.tasks.judge import ClashJudge, Example, Method, Ruling
from storage.interfaces import StanceStore

LEARN_AFTER = 40
"""Reviews before a server's judge uses them: where the replay's curve (README, "Learning from moderators") first
halves the false-alert rate on unseen pairs without losing recall; before it, the false-alert rate does not fall
and fewer reviews can cost recall."""
ONE_MODERATOR_SHARE = 2 / 3
CONFIRMED_FLOOR = 0.2
FALSE_ALERT_CAP = 0.05
"""The share of a server's dismissed reviews a re-fitted threshold may still alert: the cap ``eval --tune`` fits the
shipped threshold to, so a server's threshold is fitted on its reviews the way the shipped one is on the labelled
set."""
ALERT_FLOOR = 0.2
"""A re-fit that alerts fewer than this share of the reviewed pairs the shipped judge alerted is refused (the fit
keeps all the confirmed clashes it can under the cap; this keeps a server whose dismissed pairs outscore its
clashes from re-fitting itself silent)."""
RESET = "reset"
"""The judgement id of a reset marker among a server's reviews."""
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerLearning:
    """One server's learned state: the reviews its judge counts, as examples, and why the guard refused them."""

    guild_id: int
    reviews: int
    confirmed: int
    moderators: int
    examples: tuple[Example, ...]
    refused: str = ""
    reset_at: str = ""
    pairs: tuple[Pair, ...] = ()
    """The reviewed pairs the examples come from, oldest first (what :func:`measure_effect` replays)."""

    @property
    def active(self) -> bool:
        return not self.refused and self.reviews >= LEARN_AFTER

    def describe(self) -> str:
        """One sentence for /status and /manage-stances learning."""
        counted = f"{self.reviews} reviews ({self.confirmed} confirmed) by {self.moderators} moderator(s)"
        if self.reviews == 0:
            return "The judge is the shipped one: no reviews in this server yet" + (
                f" since the reset at {self.reset_at}." if self.reset_at else "."
            )
        if self.refused:
            return f"The judge is the shipped one: {counted} were refused because {self.refused}."
        if not self.active:
            return f"The judge is the shipped one until {LEARN_AFTER} reviews: {counted} so far."
        return f"The judge shows this server's {counted} as worked examples before each alert."


def server_learning(store: StanceStore, guild_id: int) -> ServerLearning:
    """The server's learned state, from its reviews since its last reset (run it on the store's thread)."""
    reviews = store.moderator_reviews(guild_id)
    resets = [r.at for r in reviews if r.judgement_id == RESET]
    reset_at = max(resets, default="")
    counted = [r for r in reviews if r.judgement_id != RESET and r.at > reset_at]
    judgements = {r.judgement_id: store.judgement(r.judgement_id) for r in counted}
    positions = {p.id: p for p in store.positions(status=None)}
    questions = {q.id: q for q in store.questions()}
    found = {k: v for k, v in judgements.items() if v is not None}
    rows = review_pairs(counted, found, positions, questions)
    confirmed = sum(r.verdict == "confirmed" for r in counted)
    by = Counter(r.by for r in counted)
    pairs = tuple(pair_of(row) for row in rows)
    state = ServerLearning(
        guild_id, len(counted), confirmed, len(by), tuple(examples_of(pairs)), reset_at=reset_at, pairs=pairs
    )
    return _guarded(state, by)


def _guarded(state: ServerLearning, by: Counter[str]) -> ServerLearning:
    if state.reviews < LEARN_AFTER:
        return state
    reason = ""
    top, count = by.most_common(1)[0]
    if count > ONE_MODERATOR_SHARE * state.reviews:
        reason = f"{count} of them are one moderator's ({top.rsplit(' (', 1)[0]})"
    elif state.confirmed < CONFIRMED_FLOOR * state.reviews:
        reason = f"only {state.confirmed} are Confirms, which would teach the judge to stay silent"
    if reason:
        log.warning("Server %s: its %s reviews are not used: %s", state.guild_id, state.reviews, reason)
        return ServerLearning(**{**state.__dict__, "refused": reason})
    return state


def learning_by_server(store: StanceStore) -> dict[int, ServerLearning]:
    """Every server with reviews, learned state and all (run it on the store's thread)."""
    guilds = sorted({r.guild_id for r in store.moderator_reviews()})
    return {guild: server_learning(store, guild) for guild in guilds}


class LearnedJudges:
    """Every server's learned state, rebuilt only when a review was added (any process's: the reviews' count and
    latest time are read from the store each time), not for every article; and each server's measured effect and
    re-fitted threshold, measured in the background (at the model's lowest priority) once a review count."""

    def __init__(self) -> None:
        self._seen: tuple[int, str] | None = None
        self._states: dict[int, ServerLearning] = {}
        self._effects: dict[int, Effect] = {}
        """Each server's latest measured effect; it holds while the server's review count is the one measured."""
        self._measuring: dict[int, asyncio.Task[None]] = {}

    def active(self, store: StanceStore) -> dict[int, ServerLearning]:
        """The servers whose learned judge is in use (run it on the store's thread)."""
        reviews = store.moderator_reviews()
        seen = (len(reviews), max((r.at for r in reviews), default=""))
        if seen != self._seen:
            self._states = {g: s for g, s in learning_by_server(store).items() if s.active}
            self._seen = seen
        return self._states

    def effect(self, judge: ClashJudge, state: ServerLearning) -> Effect | None:
        """The server's measured effect, or None while it is measured (a background task is started when none
        runs; call it on the event loop). Until then the server's judge keeps the shipped threshold."""
        effect = self._effects.get(state.guild_id)
        if effect is not None and effect.reviews != state.reviews:
            effect = None  # a review was added since: measured again
        if effect is None and state.active:
            running = self._measuring.get(state.guild_id)
            if running is None or running.done():
                self._measuring[state.guild_id] = asyncio.create_task(self._measure(judge, state))
        return effect

    async def _measure(self, judge: ClashJudge, state: ServerLearning) -> None:
        try:
            self._effects[state.guild_id] = await measure_effect(judge, state)
        except Exception:  # the next article or /status tries again
            log.exception("Measuring the learned judge of server %s failed", state.guild_id)

    async def close(self) -> None:
        """Stop the measurements still running (on shutdown)."""
        for task in self._measuring.values():
            task.cancel()
        await asyncio.gather(*self._measuring.values(), return_exceptions=True)


@dataclass(frozen=True)
class Effect:
    """What a server's reviews change, measured on those reviews: each reviewed pair judged by the shipped judge
    and by the learned one with every review but its own as examples. Counts of alerts, by the moderator's verdict,
    the learned judge's at the thresholds its reviews re-fit (:func:`refit_threshold`): ``threshold`` for the
    stance method's second look, ``pair_threshold`` for the pair method (positions without a favor/against
    stance), each None where the server has no review of that method."""

    reviews: int
    confirmed: int
    dismissed: int
    shipped_confirmed: int
    shipped_dismissed: int
    learned_confirmed: int
    learned_dismissed: int
    threshold: float | None = None
    pair_threshold: float | None = None

    def threshold_for(self, method: Method) -> float | None:
        return self.threshold if method == "stance" else self.pair_threshold

    def describe(self) -> str:
        stance, pair = self.threshold, self.pair_threshold
        refit = ""
        if stance is not None and pair is not None:
            refit = f" at its re-fitted thresholds (second look {stance:.3f}, pair method {pair:.3f})"
        elif stance is not None:
            refit = f" at its re-fitted threshold of {stance:.3f}"
        elif pair is not None:
            refit = f" at its re-fitted pair-method threshold of {pair:.3f}"
        return (
            f"Measured on its {self.reviews} reviews, each judged without itself: the shipped judge alerts "
            f"{self.shipped_confirmed} of {self.confirmed} confirmed and {self.shipped_dismissed} of {self.dismissed} "
            f"dismissed; the learned judge{refit} {self.learned_confirmed} of {self.confirmed} confirmed and "
            f"{self.learned_dismissed} of {self.dismissed} dismissed."
        )


async def measure_effect(judge: ClashJudge, state: ServerLearning) -> Effect:
    """The server's own measured effect (:class:`Effect`) and its re-fitted thresholds: one judgement of each
    reviewed pair, plus the would-be alerts read again with the server's other reviews as examples, never the
    reviewed pair as its own example. The stance method without a second look is not re-fitted (its score is its
    alert: 1 or 0)."""
    scores: dict[Method, list[ReviewedScore]] = {"stance": [], "pair": []}
    for pair in state.pairs:
        ruling = await judge.judge(pair.earlier, pair.later, question=pair.question, stance=pair.stance, explain=False)
        others = [e for e in state.examples if e.statement != pair.later]
        learned = await judge.learned_score(
            ruling, pair.earlier, pair.later, others, question=pair.question, stance=pair.stance
        )
        shipped = shipped_score(judge, ruling)
        scores[ruling.method].append(
            ReviewedScore(pair.label == "inconsistent", shipped, shipped if learned is None else learned)
        )
    fitted: dict[Method, float | None] = {}
    counts = Counter[str]()
    for method, read in scores.items():
        base = judge.learned_threshold(method)
        refit = fitted[method] = refit_threshold(read, base) if read and base is not None else None
        shipped_cut = 0.5 if base is None else base  # without a second look, a score is its alert: 1 or 0
        cut = shipped_cut if refit is None else refit
        for s in read:
            verdict = "confirmed" if s.clash else "dismissed"
            counts.update(
                {verdict: 1, f"shipped_{verdict}": s.shipped >= shipped_cut, f"learned_{verdict}": s.learned >= cut}
            )
    return Effect(
        state.reviews, counts["confirmed"], counts["dismissed"], counts["shipped_confirmed"],
        counts["shipped_dismissed"], counts["learned_confirmed"], counts["learned_dismissed"],
        fitted["stance"], fitted["pair"],
    )  # fmt: skip


def shipped_score(judge: ClashJudge, ruling: Ruling) -> float:
    """A ruling's alert score by the shipped judge: the second look's score, the pair method's
    (:meth:`ClashJudge.pair_score`), or, for a stance ruling without a second look, its alert (1 or 0); 0 for a
    restatement, which never alerts."""
    if "restates" in ruling.checks:
        return 0.0
    if ruling.method == "pair":
        return judge.pair_score(ruling.probabilities)
    return ruling.checks.get("score", float(judge.is_alert(ruling)))


@dataclass(frozen=True)
class ReviewedScore:
    """One reviewed pair's second-look scores (0-1; 0 when the first reading was not a would-be alert): by the
    shipped judge, and by the learned one with every other review as examples (never the pair itself)."""

    clash: bool
    shipped: float
    learned: float


def fitted_threshold(scores: Sequence[ReviewedScore], cap: float = FALSE_ALERT_CAP) -> float | None:
    """The threshold ``eval --tune`` would fit on these reviews' learned scores: the most reviewed clashes kept
    while alerting at most ``cap`` of the dismissed pairs (the highest of equal thresholds). None without a clash
    among the reviews or a threshold that meets the cap."""
    clashes = [s.learned for s in scores if s.clash]
    others = [s.learned for s in scores if not s.clash]
    if not clashes:
        return None
    best: tuple[float, float] | None = None
    for threshold in sorted({*clashes, *others}):
        if sum(o >= threshold for o in others) <= cap * len(others):
            recall = sum(c >= threshold for c in clashes) / len(clashes)
            best = max(best or (recall, threshold), (recall, threshold))
    return None if best is None else best[1]


def refit_threshold(scores: Sequence[ReviewedScore], shipped: float) -> float:
    """The server's own threshold for its learned judge: :func:`fitted_threshold` on its reviews, each scored with
    the other reviews as examples, set halfway down to the next lower reviewed score (the weakest clash it keeps is
    not on the edge: a clash of the same event read without its other-language report as an example scores a little
    lower), and never below ``shipped`` (reviews make the judge quieter, never louder than it shipped). ``shipped``
    when the fit finds nothing, or when it would alert fewer than ``ALERT_FLOOR`` of the reviewed pairs the shipped
    judge alerted (refused and logged: reviews must not silence the bot)."""
    fitted = fitted_threshold(scores)
    if fitted is not None:
        fitted = (fitted + max((s.learned for s in scores if s.learned < fitted), default=fitted)) / 2
    threshold = shipped if fitted is None else max(fitted, shipped)
    if silences(scores, shipped, threshold):
        before, after = alerted(scores, shipped, threshold)
        log.warning(
            "A re-fitted threshold of %.3f would alert %s of %s reviewed pairs: refused", threshold, after, before
        )
        return shipped
    return threshold


def silences(scores: Sequence[ReviewedScore], shipped: float, threshold: float) -> bool:
    """Whether ``threshold``, above ``shipped``, would alert fewer than ``ALERT_FLOOR`` of the reviewed pairs the
    shipped judge alerted: the guard every re-fit rule answers to."""
    before, after = alerted(scores, shipped, threshold)
    return threshold > shipped and after < ALERT_FLOOR * before


def alerted(scores: Sequence[ReviewedScore], shipped: float, threshold: float) -> tuple[int, int]:
    """How many reviewed pairs the shipped judge alerts at ``shipped``, and the learned one at ``threshold``."""
    return sum(s.shipped >= shipped for s in scores), sum(s.learned >= threshold for s in scores)


def reset_marker(guild_id: int, by: str, at: str) -> ModeratorReview:
    """The review row that resets a server's learning: reviews before ``at`` no longer count."""
    return ModeratorReview(guild_id, RESET, "unreviewed", by, at)
