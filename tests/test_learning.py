"""A server's judge learns from its moderators' reviews: its next judgement changes, another server's does not;
the guard refuses one-sided reviews; a reset restores the shipped judge (no model needed: a scripted one)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from typing import Any

import pytest

from analysis.article import ArticleAnalysis
from analysis.learning import (
    LEARN_AFTER,
    LearnedJudges,
    ReviewedScore,
    fitted_threshold,
    learning_by_server,
    measure_effect,
    refit_threshold,
    reset_marker,
    server_learning,
)
from analysis.learning_eval import LearningPoint, target_checks
from analysis.relevance import RelevanceConfig
from delivery.routing import route_report
from domain.records import Article, FeedItem, Judgement, ModeratorReview, Subscription
from llm.runtime.backend import Messages
from llm.tasks.judge import ClashJudge
from llm.tasks.profile import JudgeProfile
from llm.tasks.prompts import JUDGE_LABELS
from storage.files.store import Store
from tests.fakes import ARTICLE, ClashingModel

PROFILE = JudgeProfile(
    "scripted", "", "fake.gguf", stance_weights={"consistent": 1, "unrelated": 1, "inconsistent": 1},
    stance_check_threshold=0.3, tuned_on={"stance": "scripted"},
)  # fmt: skip
GUILD_A, GUILD_B = 100, 200


class LearningModel(ClashingModel):
    """Every GPU purchase reads as the other side of pausing, until a worked example shown beside it is a
    dismissed GPU purchase: then the model answers no, as a model that learned from it would."""

    async def label_probabilities(self, messages: Messages, labels: tuple[str, ...], **_: Any) -> dict[str, float]:
        if labels != ("yes", "no"):
            return await super().label_probabilities(messages, labels)
        asked = messages[-1]["content"]
        if "is against this" in asked:
            return {"yes": 0.05, "no": 0.95}
        shown = list(zip(messages[1:-1:2], messages[2:-1:2], strict=True))
        if any("GPUs" in user["content"] and reply["content"] == "no" for user, reply in shown):
            return {"yes": 0.1, "no": 0.9}
        return await super().label_probabilities(messages, labels)


def reviewed(store: Store, guild: int, count: int, verdict: str, by: str, start: int = 0) -> None:
    """``count`` reviews of GPU-purchase clashes in ``guild``."""
    position = store.positions("elon-musk")[0]
    for n in range(start, start + count):
        judgement = Judgement(position.id, "elon-musk", f"Twitter bought {n} GPUs.", "inconsistent", 0.9, "flip")
        store.record_article(Article(f"a{n}", f"https://news.example.com/{n}"), [judgement])
        store.record_review(ModeratorReview(guild, judgement.id, verdict, by, f"2026-11-30T10:{n:02d}:00Z"))  # type: ignore[arg-type]
    store.flush()


async def alerted_channels(store: Store, model: ClashingModel | None = None) -> set[int]:
    """The channels a new GPU-purchase article's clash alert (or the update joining it to an earlier one) is queued
    for; channel 1 is in server A, 2 in B."""
    model = model or LearningModel()
    judge = ClashJudge(model, PROFILE)  # type: ignore[arg-type]
    pipeline = ArticleAnalysis(model, store, judge, relevance=RelevanceConfig(model=False))  # type: ignore[arg-type]
    n = len(store.pending())  # a new title each time: a new statement, so a new clash
    url = f"https://news.example.com/gpus-{n}"
    item = FeedItem(f"x{n}", url, f"Musk buys GPUs, part {n}", ARTICLE, "", "https://feeds.example.org/f")
    outcome = await pipeline.analyse(item)
    before = {outbox for outbox, _, _ in store.pending()}
    route_report(store, item.feed_url, outcome.report)
    return {
        channel for outbox, channel, payload in store.pending() if outbox not in before and "clashes" in str(payload)
    }


DISMISSED_BY_ANA, DISMISSED_BY_BO, CONFIRMED = LEARN_AFTER // 2 + 2, LEARN_AFTER // 5, LEARN_AFTER // 4
LEARNED = DISMISSED_BY_ANA + DISMISSED_BY_BO + CONFIRMED


def learned(store: Store) -> None:
    """``LEARNED`` (past ``LEARN_AFTER``) reviews in server A by two moderators, a quarter of them Confirms: past
    the guard."""
    reviewed(store, GUILD_A, DISMISSED_BY_ANA, "dismissed", "ana (1)")
    reviewed(store, GUILD_A, DISMISSED_BY_BO, "dismissed", "bo (2)", start=DISMISSED_BY_ANA)
    reviewed(store, GUILD_A, CONFIRMED, "confirmed", "bo (2)", start=DISMISSED_BY_ANA + DISMISSED_BY_BO)


@pytest.fixture
def subscribed(store: Store) -> Store:
    store.add_subscription(Subscription(channel_id=1, guild_id=GUILD_A, receive="clashes"))
    store.add_subscription(Subscription(channel_id=2, guild_id=GUILD_B, receive="clashes"))
    return store


async def test_a_servers_reviews_change_its_next_judgement_and_no_other_servers(subscribed: Store) -> None:
    store = subscribed
    assert await alerted_channels(store) == {1, 2}  # before any review: the shipped judge, both servers
    learned(store)
    assert server_learning(store, GUILD_A).active
    assert await alerted_channels(store) == {2}  # server A learned that such purchases are not its clashes
    assert not learning_by_server(store).get(GUILD_B)  # B has no reviews: its judge is the shipped one


class PairLearningModel(ClashingModel):
    """The pair method (a position without a favor/against stance) reads every GPU purchase as inconsistent, until a
    worked pair shown before it is a GPU purchase answered "consistent" (a dismissed one)."""

    async def label_probabilities(self, messages: Messages, labels: tuple[str, ...], **_: Any) -> dict[str, float]:
        if labels != JUDGE_LABELS or "N/A" in messages[-1]["content"]:
            return await super().label_probabilities(messages, labels)
        shown = list(zip(messages[1:-1:2], messages[2:-1:2], strict=True))
        if any("GPUs" in user["content"] and reply["content"] == "consistent" for user, reply in shown):
            return {"consistent": 0.8, "unrelated": 0.1, "inconsistent": 0.1}
        return {"consistent": 0.05, "unrelated": 0.05, "inconsistent": 0.9}


async def test_reviews_teach_the_pair_method_too_in_their_server_only(subscribed: Store) -> None:
    """A position without a favor/against stance ("mixed") is judged by the pair method: a server's reviews of it
    are shown as worked pairs, so its next purchase stops alerting there, and still alerts the other server."""
    store = subscribed
    position = store.positions("elon-musk")[0]
    store.add_position(dataclasses.replace(position, stance="mixed"))
    assert store.positions("elon-musk")[0].stance == "mixed"
    assert await alerted_channels(store, PairLearningModel()) == {1, 2}
    learned(store)
    state = server_learning(store, GUILD_A)
    assert state.active and state.examples and all(e.position == position.claim and not e.side for e in state.examples)
    assert await alerted_channels(store, PairLearningModel()) == {2}
    effect = await measure_effect(ClashJudge(PairLearningModel(), PROFILE), state)  # type: ignore[arg-type]
    assert effect.threshold is None and effect.pair_threshold is not None  # re-fitted for the method it judged
    assert "at its re-fitted pair-method threshold of 0.500" in effect.describe()
    assert (effect.shipped_dismissed, effect.learned_dismissed) == (DISMISSED_BY_ANA + DISMISSED_BY_BO, 0)


async def test_too_few_reviews_change_nothing(subscribed: Store) -> None:
    reviewed(subscribed, GUILD_A, LEARN_AFTER - 1, "dismissed", "ana (1)")
    reviewed(subscribed, GUILD_A, 0, "confirmed", "bo (2)")
    state = server_learning(subscribed, GUILD_A)
    assert not state.active and f"until {LEARN_AFTER} reviews" in state.describe()
    assert await alerted_channels(subscribed) == {1, 2}


@pytest.mark.parametrize(
    ("dismissed_by", "confirms", "reason"),
    [(["ana (1)"] * LEARN_AFTER + ["bo (2)"] * 2, 2, "are one moderator's (ana)"),
     (["ana (1)", "bo (2)"] * (LEARN_AFTER // 2), 1, "would teach the judge to stay silent")],
)  # fmt: skip
async def test_the_guard_refuses_one_sided_reviews_and_logs_why(
    subscribed: Store, caplog: pytest.LogCaptureFixture, dismissed_by: list[str], confirms: int, reason: str
) -> None:
    for n, by in enumerate(dismissed_by):
        reviewed(subscribed, GUILD_A, 1, "dismissed", by, start=n)
    reviewed(subscribed, GUILD_A, confirms, "confirmed", "ana (1)", start=len(dismissed_by))
    with caplog.at_level(logging.WARNING, logger="analysis.learning"):
        state = server_learning(subscribed, GUILD_A)
    assert not state.active and reason in state.refused and reason in caplog.text
    assert await alerted_channels(subscribed) == {1, 2}  # refused: the shipped judge alerts both servers


async def test_a_reset_restores_the_shipped_judge_and_keeps_the_reviews(subscribed: Store) -> None:
    store = subscribed
    learned(store)
    assert await alerted_channels(store) == {2}
    store.record_review(reset_marker(GUILD_A, "ana (1)", "2026-11-30T12:00:00Z"))
    store.flush()
    state = server_learning(store, GUILD_A)
    assert state.reviews == 0 and "since the reset at 2026-11-30T12:00:00Z" in state.describe()
    assert await alerted_channels(store) == {1, 2}
    assert len(store.moderator_reviews(GUILD_A)) == LEARNED + 1  # nothing deleted: still exportable


async def test_status_measures_a_servers_effect_on_its_own_reviews_never_with_the_pair_itself(
    subscribed: Store,
) -> None:
    """Each reviewed pair judged by the shipped judge and by the learned one with the other reviews: here every
    dismissed purchase shown as an example silences the next, so the learned judge alerts none."""
    learned(subscribed)
    state = server_learning(subscribed, GUILD_A)
    judge = ClashJudge(LearningModel(), PROFILE)  # type: ignore[arg-type]
    shown: list[tuple[str, list[str]]] = []
    learned_score = judge.learned_score

    async def spied(ruling: Any, position: str, statement: str, examples: Any, **reading: Any) -> float | None:
        shown.append((statement, [e.statement for e in examples]))
        return await learned_score(ruling, position, statement, examples, **reading)

    judge.learned_score = spied  # type: ignore[method-assign,assignment]
    effect = await measure_effect(judge, state)
    dismissed = DISMISSED_BY_ANA + DISMISSED_BY_BO
    counts = (effect.confirmed, effect.dismissed, effect.shipped_confirmed, effect.shipped_dismissed)
    assert counts == (CONFIRMED, dismissed, CONFIRMED, dismissed)
    assert (effect.learned_confirmed, effect.learned_dismissed) == (0, 0)
    assert effect.threshold == PROFILE.stance_check_threshold  # no clash kept at any threshold: nothing re-fitted
    assert len(shown) == LEARNED and all(statement not in examples for statement, examples in shown)
    assert effect.describe().startswith(f"Measured on its {LEARNED} reviews, each judged without itself: the shipped")


def test_the_learned_judges_are_rebuilt_when_a_review_is_added_and_kept_otherwise(subscribed: Store) -> None:
    judges = LearnedJudges()
    assert judges.active(subscribed) == {}
    learned(subscribed)
    first = judges.active(subscribed)
    assert list(first) == [GUILD_A] and judges.active(subscribed) is first  # nothing new: not rebuilt
    subscribed.record_review(reset_marker(GUILD_A, "ana (1)", "2026-11-30T12:00:00Z"))
    assert judges.active(subscribed) == {}


def scores(clashes: list[tuple[float, float]], others: list[tuple[float, float]]) -> list[ReviewedScore]:
    """(shipped, learned) scores of reviewed clashes and of dismissed pairs."""
    return [ReviewedScore(True, *c) for c in clashes] + [ReviewedScore(False, *o) for o in others]


def test_a_refit_is_fitted_as_the_shipped_threshold_is_keeping_the_most_clashes_under_the_cap() -> None:
    """The learned judge reads the clashes at 0.9, 0.8, 0.5, 0.2 and the dismissed pairs at 0.6, 0.45, 0.35, 0: with
    four dismissed pairs, 5 % allows none of them, so the fit keeps the two clashes above 0.6 (at the weaker one's
    score, the highest of the thresholds that keep as many), and the re-fit sits halfway down to the next score."""
    reviewed = scores([(0.5, 0.9), (0.4, 0.8), (0.2, 0.5), (0.1, 0.2)], [(0.5, 0.6), (0.4, 0.45), (0.4, 0.35), (0, 0)])
    assert fitted_threshold(reviewed) == pytest.approx(0.8)
    assert refit_threshold(reviewed, 0.3) == pytest.approx(0.7)
    assert fitted_threshold(reviewed, cap=0.25) == pytest.approx(0.5)  # one dismissed pair of four allowed


def test_a_refit_never_goes_below_the_shipped_threshold_or_without_a_clash() -> None:
    assert fitted_threshold(scores([(0.5, 0.1)], [(0.5, 0.05)])) == pytest.approx(0.1)  # the fit alone would
    assert refit_threshold(scores([(0.5, 0.1)], [(0.5, 0.05)]), 0.3) == 0.3  # the learned judge lost the clash
    assert refit_threshold(scores([], [(0.5, 0.9), (0.4, 0.6)]), 0.3) == 0.3


def test_the_guard_refuses_a_refit_that_would_silence_the_server(caplog: pytest.LogCaptureFixture) -> None:
    """The shipped judge alerted one clash of three and every dismissed pair: keeping that one clash alone would
    alert 1 of 11, under the floor, so the shipped threshold stays and the log says why."""
    reviewed = scores([(0.9, 0.95), (0.1, 0.1), (0.1, 0.1)], [(0.5, 0.5)] * 10)
    with caplog.at_level(logging.WARNING, logger="analysis.learning"):
        assert refit_threshold(reviewed, 0.3) == 0.3
    assert "would alert 1 of 11 reviewed pairs: refused" in caplog.text


class ScoredModel(ClashingModel):
    """The second look reads "bought N GPUs" as the other side with P(yes) = N/100, examples or not (and any other
    statement as not on it)."""

    async def label_probabilities(self, messages: Messages, labels: tuple[str, ...], **_: Any) -> dict[str, float]:
        asked = messages[-1]["content"]
        if labels == ("yes", "no") and "is against this" in asked:
            return {"yes": 0.0, "no": 1.0}
        if labels == ("yes", "no") and len(messages) > 2:  # with worked examples: the second look
            found = re.search(r"bought (\d+) GPUs", asked)  # the article's own sentence ("10,000 GPUs"): 0
            n = int(found[1]) if found else 0
            return {"yes": n / 100, "no": 1 - n / 100}
        return await super().label_probabilities(messages, labels)


async def test_a_servers_measured_refit_silences_its_next_weaker_alert_and_no_other_servers(store: Store) -> None:
    """Server A confirmed purchases read at 0.80 and up and dismissed ones at 0.49 and down: once its effect is
    measured, its threshold sits between them and a purchase read at 0.5 (an alert by the shipped threshold) reaches
    only B."""
    store.add_subscription(Subscription(channel_id=1, guild_id=GUILD_A, receive="clashes"))
    store.add_subscription(Subscription(channel_id=2, guild_id=GUILD_B, receive="clashes"))
    for n in range(50 - LEARN_AFTER, 50):
        reviewed(store, GUILD_A, 1, "dismissed", ("ana (1)", "bo (2)")[n % 2], start=n)
    for n in range(80, 80 + LEARN_AFTER // 4):
        reviewed(store, GUILD_A, 1, "confirmed", "bo (2)", start=n)
    model = ScoredModel()
    pipeline = ArticleAnalysis(model, store, ClashJudge(model, PROFILE), relevance=RelevanceConfig(model=False))  # type: ignore[arg-type]

    async def alerted(title: str) -> set[int]:
        item = FeedItem(title, f"https://news.example.com/{title}", title, ARTICLE, "", "https://feeds.example.org/f")
        before = {outbox for outbox, _, _ in store.pending()}
        route_report(store, item.feed_url, (await pipeline.analyse(item)).report)
        return {c for outbox, c, payload in store.pending() if outbox not in before and "clashes" in str(payload)}

    assert await alerted("Twitter bought 50 GPUs") == {1, 2}  # measured in the background meanwhile
    await asyncio.gather(*pipeline.learning._measuring.values())
    state = server_learning(store, GUILD_A)
    effect = pipeline.learning.effect(pipeline.judge, state)
    assert effect is not None and effect.threshold is not None and 0.49 < effect.threshold < 0.8
    assert "at its re-fitted threshold of" in effect.describe()
    assert await alerted("Twitter bought 51 GPUs") == {2}
    await pipeline.learning.close()


def test_the_replay_says_fold_by_fold_and_on_the_mean_whether_the_target_holds() -> None:
    def point(fold: int, reviews: int, before: tuple[float, float], refit: tuple[float, float]) -> LearningPoint:
        return LearningPoint(fold, reviews, 84, *before, 0.3, *refit)

    curve = [  # the AI-policy set's two folds as this README's run measured them (6 and 3 false alerts shipped)
        point(1, 0, (6 / 65, 8 / 19), (6 / 65, 8 / 19)),
        point(1, 40, (5 / 65, 11 / 19), (1 / 65, 7 / 19)),
        point(2, 0, (3 / 61, 9 / 23), (3 / 61, 9 / 23)),
        point(2, 40, (2 / 61, 12 / 23), (2 / 61, 12 / 23)),
    ]
    fold1, fold2, mean = target_checks(curve)
    assert not fold1.met  # false alerts fell to a sixth, but one clash of 19 lost is 0.053 of recall
    assert not fold2.met and fold2.after == (2 / 61, 12 / 23)  # 2 of 61 is not half of 3 of 61
    assert mean.met and mean.fold == 0 and mean.before == pytest.approx(((6 / 65 + 3 / 61) / 2, (8 / 19 + 9 / 23) / 2))
    assert mean.describe().startswith(
        "Target by 40 reviews (false alerts halve, recall within 0.05), mean over folds: met"
    )
    assert fold1.describe().startswith("Target by 40 reviews (false alerts halve, recall within 0.05), fold 1: not met")
    exactly_half = [point(1, 0, (6 / 65, 8 / 19), (0, 0)), point(1, 40, (0, 0), (3 / 65, 8 / 19))]
    assert target_checks(exactly_half)[0].met  # 3 of 65 halves 6 of 65, however the division rounds
    assert target_checks([p for p in curve if p.reviews == 0]) == []  # no point at 40 reviews, nothing to say
