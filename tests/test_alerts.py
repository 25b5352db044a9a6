"""Alert cards and routing: one alert a person an article, within Discord's limits, to the right channels."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from analysis.article import ArticleReport
from cogs.cards import TOTAL_LIMIT, AlertCard, review_field, safe_url
from delivery.messages import ClashAlert, from_payload
from delivery.routing import route_report
from domain.clash import Clash
from domain.records import Subscription, judgement_id
from storage.files.store import Store


def clash(person: str = "elon-musk", question: str = "pause-frontier-ai", n: int = 0, conf: float = 0.9) -> Clash:
    return Clash(
        person_id=person,
        person=person.replace("-", " ").title(),
        question_id=question,
        question=f"Question {question}?",
        position_id=f"{person}-pos-{n}",
        position_claim="Signed the pause letter. " * 80,
        position_date="2023-03-22",
        position_source="https://futureoflife.org/open-letter/pause-giant-ai-experiments/",
        statement=f"Statement {n}: bought ten thousand GPUs. " * 60,
        statement_quote="“We bought GPUs.”",
        article_url="https://news.example.com/gpus",
        article_title="GPUs bought",
        article_date="2023-04-11",
        verdict="inconsistent",
        confidence=conf,
        reason="Buying GPUs for a generative AI project contradicts calling for a pause. " * 30,
        model="model.gguf",
        prompt_version="v1",
        subtype="indirect inconsistency",
        severity="full flop",
    )


def size(card: AlertCard) -> int:
    return len(card.title) + len(card.footer) + sum(len(name) + len(value) for name, value in card.fields)


def test_one_card_lists_several_clashes_within_limits() -> None:
    card = AlertCard.for_clashes([clash(n=i) for i in range(8)])
    assert card.title.startswith("6 possible clashes: Elon Musk")
    assert len(card.fields) == 18 <= 25
    assert size(card) <= TOTAL_LIMIT
    assert all(len(value) <= 1024 and len(name) <= 256 for name, value in card.fields)
    assert all(value.endswith("…") for name, value in card.fields if "Earlier position" in name)
    assert "indirect inconsistency, full flop" in card.fields[2][0]
    assert card.judgements == [judgement_id(f"elon-musk-pos-{i}", clash(n=i).statement) for i in range(6)]
    assert AlertCard.from_payload(card.to_payload()) == card


def card_of(payload: dict[str, Any]) -> AlertCard:
    """The card the Discord layer lays out for a queued clash alert."""
    message = from_payload(payload)
    assert isinstance(message, ClashAlert)
    return AlertCard.for_clashes(list(message.clashes))


def test_routing_groups_by_person_and_respects_each_subscription(tmp_path: Path) -> None:
    store = Store.open(tmp_path, seed=False)
    store.add_subscription(Subscription(channel_id=1, guild_id=9))  # everything
    store.add_subscription(Subscription(channel_id=2, guild_id=9, target_kind="person", target="sam-altman"))
    store.add_subscription(Subscription(channel_id=3, guild_id=9, min_confidence=0.95))
    store.add_subscription(dataclasses.replace(Subscription(channel_id=4, guild_id=9), paused_reason="gone"))
    report = ArticleReport("https://news.example.com/gpus", "GPUs bought", "en", relevant=True)
    report.clashes = [clash(n=1), clash(n=2), clash("sam-altman", n=3, conf=0.97)]
    assert route_report(store, "https://feed", report) == 4
    cards = sorted((channel, card_of(payload).title) for _, channel, payload in store.pending())
    altman = "Possible clash: Sam Altman on “Question pause-frontier-ai?”"
    assert cards == [
        (1, "2 possible clashes: Elon Musk on “Question pause-frontier-ai?”"),
        (1, altman),
        (2, altman),  # follows Altman only
        (3, altman),  # only clashes above 0.95; channel 4 is paused
    ]


def test_article_markdown_and_unsafe_urls_never_reach_the_card() -> None:
    hostile = dataclasses.replace(
        clash(),
        article_title="[Real story](https://phish.example/login)",
        article_url="javascript:alert(1)",
        statement="**Musk** said: # pause\n> now ||spoiler|| `code` ~~gone~~",
        statement_quote="",
        reason="[click](https://phish.example)",
        position_source="ftp://files.example.com/letter",
    )
    card = AlertCard.for_clash(hostile)
    text = "\n".join(value for _, value in card.fields)
    assert card.url == ""
    assert "](https://phish.example" not in text.replace("\\]", "")  # no masked link survives
    assert "\\[Real story\\]" in text and "javascript:" not in text and "ftp://" not in text
    assert "\\*\\*Musk\\*\\*" in text and "\\|\\|spoiler\\|\\|" in text and "\\`code\\`" in text
    assert "\n\\> now" in text


def test_a_long_or_odd_url_is_not_a_link() -> None:
    assert safe_url("https://example.com/" + "a" * 2100) is None
    assert safe_url("https://exa mple.com/") is None
    assert safe_url("http://[::1") is None
    assert safe_url("https://example.com/a?b=c") == "https://example.com/a?b=c"


def test_a_card_of_text_without_spaces_stays_within_discord_s_limit_after_its_review() -> None:
    """Six clashes in unspaced text (as Chinese or Japanese is written) once made 5,996 characters, and the
    Review field a Dismiss adds made it 6,024."""
    unspaced = [
        dataclasses.replace(clash(n=n), statement="漢" * 3000, position_claim="字" * 3000, reason="理" * 900)
        for n in range(6)
    ]
    card = AlertCard.for_clashes(unspaced)
    name, value = review_field("dismissed", "m" * 40)
    assert size(card) + len(name) + len(value) <= TOTAL_LIMIT


def test_every_message_kind_becomes_an_embed_within_discords_limits() -> None:
    from cogs.alerts import embed_for
    from delivery.messages import ArticleSummary, FeedPaused, LaidOutAlert, Notice

    hostile = "**bold** [link](https://phish.example) @everyone"
    messages = [
        ClashAlert((clash(n=1),)),
        LaidOutAlert(AlertCard.for_clashes([clash(n=2)]).to_payload()),
        ArticleSummary(hostile, "https://news.example.com/a", hostile * 300),
        FeedPaused(f"https://feeds.example.org/{hostile}", hostile),
        Notice(hostile, hostile),
    ]
    for message in messages:
        embed = embed_for(message).to_dict()
        text = " ".join(str(embed.get(k, "")) for k in ("title", "description"))
        unescaped = re.search(r"(?<!\\)\*(?<!\\)\*|(?<!\\)\]\(", text)  # ** or ]( without a backslash
        assert unescaped is None, (type(message).__name__, text)
        assert len(str(embed.get("description", ""))) <= 4096 and len(str(embed.get("title", ""))) <= 256


def test_an_untitled_statement_is_linked_by_its_address_never_by_empty_text() -> None:
    """A microblog post has no title: its link must still show (Discord renders ``[](url)`` as nothing)."""
    post = "https://social.example.org/@jane/113456789012345678"
    short = dataclasses.replace(clash(), statement="Ordered GPUs.", position_claim="Signed the letter.", reason="r")
    card = AlertCard.for_clash(dataclasses.replace(short, article_title="", article_url=post))
    statement = next(value for name, value in card.fields if post in value)
    assert f"[social.example.org/@jane/113456789012345678]({post})" in statement
    assert "[](" not in str(card.fields)


def test_statements_that_joined_an_alert_count_once_with_it() -> None:
    from domain.clash import distinct_clashes
    from domain.records import Judgement

    def judged(position: str, day: int) -> Judgement:
        return Judgement(
            position,
            "elon-musk",
            f"s{position}{day}",
            "inconsistent",
            0.9,
            "r",
            judged_at=f"2026-11-{day:02d}T10:00:00Z",
        )

    alerted = [judged("pause", 1), judged("pause", 3), judged("pause", 7), judged("pause", 12), judged("sb1047", 3)]
    assert distinct_clashes(alerted) == 3  # pause: days 1-7 one alert, day 12 a new one; sb1047 its own
