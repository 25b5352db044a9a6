"""Keyword filters per subscription: Korean phrases anywhere, others on word boundaries, case-insensitive; applied
to summaries and alerts before they are queued, on both storage backends."""

from __future__ import annotations

import dataclasses

import pytest

from analysis.article import ArticleReport
from delivery.messages import ClashAlert, from_payload
from delivery.routing import route_report
from domain.records import Subscription
from domain.words import keyword_phrases, mentions_keyword, passes_filter
from storage.interfaces import StanceStore
from tests.test_alerts import clash


@pytest.mark.parametrize(
    ("text", "phrase", "found"),
    [("The EU AI Act passed.", "ai act", True), ("He said actors were paid.", "ai act", False),
     ("정부는 인공지능은 규제해야 한다고 밝혔다", "인공지능", True), ("AI ACTS matter", "ai act", False),
     ("Rumours spread.", "rumour", False), ("A rumour spread.", "Rumour", True), ("GPT-4 launched", "gpt-4", True)],
)  # fmt: skip
def test_phrases_match_as_a_reader_would(text: str, phrase: str, found: bool) -> None:
    assert mentions_keyword(text, phrase) is found


def test_include_and_exclude_combine_and_blank_phrases_are_dropped() -> None:
    assert keyword_phrases(" ai act ,, 인공지능 ,  ") == ["ai act", "인공지능"] and keyword_phrases(" , ") == []
    assert passes_filter("AI Act vote", ["ai act", "인공지능"], ["rumour"])
    assert not passes_filter("AI Act rumour", ["ai act"], ["rumour"])
    assert not passes_filter("Chip exports", ["ai act"], [])
    assert passes_filter("anything", [], [])


def test_filters_decide_which_channels_get_an_alert_and_a_summary(any_store: StanceStore) -> None:
    store = any_store  # each backend in turn
    store.add_subscription(Subscription(1, 9, receive="both", include=["gpu"], exclude=["rumour"]))
    store.add_subscription(Subscription(2, 9, receive="both", include=["인공지능"]))
    store.add_subscription(Subscription(3, 9, receive="both"))
    store.add_subscription(Subscription(4, 9, receive="both", exclude=["gpus"]))
    found = dataclasses.replace(clash(), statement="Twitter bought 10,000 GPUs.", article_title="GPU rumour denied")
    report = ArticleReport("https://news.example.com/a", "GPU buying spree", "en", True, "Twitter bought GPUs.",
                           clashes=[found], translations={"ko": "트위터가 인공지능용 GPU를 샀다."})  # fmt: skip
    route_report(store, "https://feeds.example.org/f", report)
    store.flush()
    queued = [(channel, type(from_payload(payload)).__name__) for _, channel, payload in store.pending()]
    alerts = {c for c, kind in queued if kind == ClashAlert.__name__}
    summaries = {c for c, kind in queued if kind == "ArticleSummary"}
    assert alerts == {3}  # 1: the alert's title says "rumour"; 2: no 인공지능 in it; 4: "GPUs" excluded
    assert summaries == {1, 2, 3}  # 2 by the Korean translation; 4: "GPUs" excluded
    assert {s.channel_id: s.include for s in store.subscriptions()}[2] == ["인공지능"]
