"""The daily digest: held entries become one digest at the subscription's local hour, once, on both backends;
a day with nothing posts nothing; the digest is cut within Discord's limits into as few messages as needed."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from analysis.article import ArticleReport
from cogs.alerts import digest_messages
from delivery.digest import last_digest_moment, post_due_digests
from delivery.messages import Digest, DigestEntry, DigestLine, from_payload
from delivery.routing import route_report
from domain.records import Article, Judgement, Subscription
from storage.interfaces import StanceStore
from tests.test_alerts import clash

SEOUL = ZoneInfo("Asia/Seoul")


def at(text: str) -> float:
    """A Seoul wall-clock time as Unix seconds."""
    return datetime.fromisoformat(text).replace(tzinfo=SEOUL).timestamp()


def test_the_digest_moment_is_the_last_local_hour_passed() -> None:
    assert last_digest_moment(at("2026-12-01 09:30"), 8, SEOUL) == datetime(2026, 12, 1, 8, tzinfo=SEOUL)
    assert last_digest_moment(at("2026-12-01 07:59"), 8, SEOUL) == datetime(2026, 11, 30, 8, tzinfo=SEOUL)
    utc = last_digest_moment(at("2026-12-01 07:59"), 8, ZoneInfo("UTC"))  # 22:59 UTC the day before
    assert utc == datetime(2026, 11, 30, 8, tzinfo=ZoneInfo("UTC"))


def queue_report(store: StanceStore, monkeypatch: pytest.MonkeyPatch, when: float, n: int) -> None:
    monkeypatch.setattr("delivery.routing.time.time", lambda: when)
    found = dataclasses.replace(clash(n=n), statement=f"Twitter bought {n} GPUs.")
    report = ArticleReport(f"https://news.example.com/{n}", f"GPUs {n}", "en", True, f"Summary {n}.", clashes=[found])
    route_report(store, "https://feeds.example.org/f", report)
    store.flush()


def digests(store: StanceStore) -> list[tuple[int, Digest]]:
    found = [(c, from_payload(p)) for _, c, p in store.pending()]
    return [(c, m) for c, m in found if isinstance(m, Digest)]


def test_entries_wait_for_the_hour_and_become_one_digest_once(
    any_store: StanceStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = any_store  # each backend in turn
    store.add_subscription(Subscription(1, 9, receive="digest", digest_hour=8, timezone="Asia/Seoul"))
    store.add_subscription(Subscription(2, 9, receive="both"))
    queue_report(store, monkeypatch, at("2026-11-30 10:00"), 1)
    queue_report(store, monkeypatch, at("2026-11-30 21:00"), 2)
    queue_report(store, monkeypatch, at("2026-12-01 08:30"), 3)  # after the hour: tomorrow's digest
    judgement = Judgement(clash(n=1).position_id, "elon-musk", "Twitter bought 1 GPUs.", "inconsistent", 0.9, "x")
    store.record_article(Article("a1", "https://news.example.com/1"), [judgement])
    store.review(judgement.id, "confirmed", "ana (1)")
    kinds = [type(from_payload(p)).__name__ for _, c, p in store.pending() if c == 1]
    assert kinds == ["DigestEntry"] * 6  # nothing posts to channel 1 before its hour
    assert post_due_digests(store, at("2026-12-01 07:59")) == 0
    assert post_due_digests(store, at("2026-12-01 09:00")) == 1
    store.flush()
    [(channel, digest)] = digests(store)
    assert channel == 1 and "2026-12-01 08:00 (Asia/Seoul)" in digest.heading
    alerts = [line for line in digest.lines if line.kind == "alert"]
    assert [line.text for line in alerts] == ["Twitter bought 1 GPUs.", "Twitter bought 2 GPUs."]
    assert [line.state for line in alerts] == ["confirmed", "not reviewed"]
    assert [line.title for line in digest.lines if line.kind == "summary"] == ["GPUs 1", "GPUs 2"]
    assert post_due_digests(store, at("2026-12-01 09:05")) == 0  # a restart at the hour: nothing twice
    assert post_due_digests(store, at("2026-12-02 08:00")) == 1  # the third report, the next day
    assert post_due_digests(store, at("2026-12-03 08:00")) == 0  # a day with nothing posts nothing
    assert sum(isinstance(from_payload(p), DigestEntry) for _, _, p in store.pending()) == 0


def test_a_long_digest_is_cut_within_discords_limits_into_few_messages() -> None:
    lines = tuple(DigestLine("alert", "Elon Musk: pause?", "x" * 900, f"https://n.example.com/{i}", "confirmed")
                  for i in range(60))  # fmt: skip
    digest = Digest("Daily digest until 2026-12-01 08:00 (UTC)", "en", lines)
    messages = digest_messages(digest)
    assert all(sum(len(e) for e in m) <= 6000 and len(m) <= 10 for m in messages)
    assert all(len(e.description or "") <= 4096 for m in messages for e in m)
    assert sum((e.description or "").count("\n• ") + 1 for m in messages for e in m) == 60  # every line kept
    total = sum(len(e) for m in messages for e in m)
    assert len(messages) <= total // 6000 + 2  # filled, not one embed a message (that would be 13 here)
