"""What a server's judge learns from its moderators: their reviews as worked examples, behind a guard.

After ``LEARN_AFTER`` reviews in a server (the number comes from ``bot.py eval-learning``; see the README), the
second look of every would-be alert shows the server's most similar reviewed statements beside the shipped
examples (a Confirm as a clash, a Dismiss as none), and the server gets the alert only if that reading still
passes the threshold. Other servers' alerts are untouched: each reads only its own reviews.

The guard refuses a server's reviews (the shipped judge stays) when one moderator made more than two thirds of
them, or when fewer than a fifth are Confirms (the examples would teach the judge to say nothing); it logs why,
and ``/status`` and ``/manage-stances learning`` say so. A reset is a marker among the reviews: the ones before it
no longer count, and the labelled pairs stay exportable.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

from analysis.pairs import Pair, examples_of, pair_of
from analysis.reviews import review_pairs
from domain.records import ModeratorReview
from llm.tasks.judge import ClashJudge, Example
from storage.interfaces import StanceStore

LEARN_AFTER = 10
ONE_MODERATOR_SHARE = 2 / 3
CONFIRMED_FLOOR = 0.2
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
    latest time are read from the store each time), not for every article."""

    def __init__(self) -> None:
        self._seen: tuple[int, str] | None = None
        self._states: dict[int, ServerLearning] = {}

    def active(self, store: StanceStore) -> dict[int, ServerLearning]:
        """The servers whose learned judge is in use (run it on the store's thread)."""
        reviews = store.moderator_reviews()
        seen = (len(reviews), max((r.at for r in reviews), default=""))
        if seen != self._seen:
            self._states = {g: s for g, s in learning_by_server(store).items() if s.active}
            self._seen = seen
        return self._states


@dataclass(frozen=True)
class Effect:
    """What a server's reviews change, measured on those reviews: each reviewed pair judged by the shipped judge
    and by the learned one with every review but its own as examples. Counts of alerts, by the moderator's verdict."""

    reviews: int
    confirmed: int
    dismissed: int
    shipped_confirmed: int
    shipped_dismissed: int
    learned_confirmed: int
    learned_dismissed: int

    def describe(self) -> str:
        return (
            f"Measured on its {self.reviews} reviews, each judged without itself: the shipped judge alerts "
            f"{self.shipped_confirmed} of {self.confirmed} confirmed and {self.shipped_dismissed} of {self.dismissed} "
            f"dismissed; the learned judge {self.learned_confirmed} of {self.confirmed} confirmed and "
            f"{self.learned_dismissed} of {self.dismissed} dismissed."
        )


async def measure_effect(judge: ClashJudge, state: ServerLearning) -> Effect:
    """The server's own measured effect (:class:`Effect`): one judgement of each reviewed pair, plus the second
    look again with the server's other reviews for would-be alerts. Never the reviewed pair as its own example."""
    counts = Counter[str]()
    for pair in state.pairs:
        if pair.question is None or pair.stance not in ("favor", "against"):
            continue
        verdict = "confirmed" if pair.label == "inconsistent" else "dismissed"
        ruling = await judge.judge(pair.earlier, pair.later, question=pair.question, stance=pair.stance, explain=False)
        others = [e for e in state.examples if e.statement != pair.later]
        learned = await judge.alerts_with(ruling, pair.question, pair.stance, pair.later, others)
        counts.update({verdict: 1, f"shipped_{verdict}": judge.is_alert(ruling), f"learned_{verdict}": learned})
    return Effect(
        state.reviews, counts["confirmed"], counts["dismissed"], counts["shipped_confirmed"],
        counts["shipped_dismissed"], counts["learned_confirmed"], counts["learned_dismissed"],
    )  # fmt: skip


def reset_marker(guild_id: int, by: str, at: str) -> ModeratorReview:
    """The review row that resets a server's learning: reviews before ``at`` no longer count."""
    return ModeratorReview(guild_id, RESET, "unreviewed", by, at)
