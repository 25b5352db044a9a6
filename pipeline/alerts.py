"""What an alert says, independent of Discord: the demo prints it, the cog turns it into an embed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from storage.records import Subscription

if TYPE_CHECKING:
    from pipeline.process import ArticleReport
    from storage.store import Store

# Discord's embed limits, kept here so every renderer cuts text the same way.
TITLE_LIMIT = 256
FIELD_LIMIT = 1024
DESCRIPTION_LIMIT = 4096
COLOURS = {"inconsistent": 0xD64541, "consistent": 0x2E8B57, "unrelated": 0x808080}


def clip(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters on a word boundary, ending with an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


@dataclass(frozen=True)
class Clash:
    person_id: str
    person: str
    question_id: str
    question: str
    position_id: str
    position_claim: str
    position_date: str
    position_source: str
    statement: str
    statement_quote: str
    article_url: str
    article_title: str
    article_date: str
    verdict: str
    confidence: float
    reason: str
    model: str
    prompt_version: str


@dataclass(frozen=True)
class AlertCard:
    title: str
    url: str
    colour: int
    fields: list[tuple[str, str]] = field(default_factory=list)
    footer: str = ""

    @classmethod
    def for_clash(cls, clash: Clash) -> AlertCard:
        old = f"{clash.position_claim}\n— {clash.position_date}, {clash.position_source}"
        new = clash.statement
        if clash.statement_quote and clash.statement_quote != clash.statement:
            new += f"\n> {clash.statement_quote}"
        new += f"\n— {clash.article_date or 'undated'}, [{clash.article_title}]({clash.article_url})"
        return cls(
            title=clip(f"Possible clash: {clash.person} on “{clash.question}”", TITLE_LIMIT),
            url=clash.article_url,
            colour=COLOURS.get(clash.verdict, 0x808080),
            fields=[
                ("Earlier position", clip(old, FIELD_LIMIT)),
                ("New statement", clip(new, FIELD_LIMIT)),
                ("Verdict", f"{clash.verdict} (confidence {clash.confidence:.2f})"),
                ("Why", clip(clash.reason, FIELD_LIMIT)),
            ],
            footer=f"{clash.model} · prompts {clash.prompt_version} · automated judgement, verify the sources",
        )

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> AlertCard:
        return cls(
            payload["title"],
            payload["url"],
            payload["colour"],
            [tuple(f) for f in payload["fields"]],
            payload["footer"],
        )

    def to_payload(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "url": self.url,
            "colour": self.colour,
            "fields": self.fields,
            "footer": self.footer,
        }

    def render_text(self) -> str:
        lines = [f"┌ {self.title}", f"│ {self.url}"]
        for name, value in self.fields:
            lines.append(f"│ {name}:")
            lines.extend(f"│   {line}" for line in value.splitlines())
        lines.append(f"└ {self.footer}")
        return "\n".join(lines)


def subscription_wants(sub: Subscription, *, feed_url: str, clash: Clash | None = None) -> bool:
    """Whether a subscription receives this clash (or, with ``clash=None``, this article's summary)."""
    if sub.paused_reason:
        return False
    if clash is None:
        return (
            sub.receive in {"summaries", "both"}
            and sub.target_kind in {"all", "feed"}
            and (sub.target_kind == "all" or sub.target == feed_url)
        )
    if sub.receive not in {"clashes", "both"} or clash.confidence < sub.min_confidence:
        return False
    return {
        "all": True,
        "person": sub.target == clash.person_id,
        "question": sub.target == clash.question_id,
        "feed": sub.target == feed_url,
    }[sub.target_kind]


def route_report(store: Store, feed_url: str, report: ArticleReport) -> int:
    """Write a report's clash alerts and summary to the outbox of each channel that wants them.

    Runs on the store thread in the same transaction that finishes the article, so a
    message is queued exactly once. Returns the number of messages queued.
    """
    subs = store.subscriptions()
    queued = 0
    for clash in report.clashes:
        payload = {"kind": "clash", "card": AlertCard.for_clash(clash).to_payload()}
        for channel_id in sorted({s.channel_id for s in subs if subscription_wants(s, feed_url=feed_url, clash=clash)}):
            store.enqueue(channel_id, payload)
            queued += 1
    if report.relevant and report.summary:
        payload = {"kind": "summary", "title": report.title, "url": report.url, "summary": report.summary}
        for channel_id in sorted({s.channel_id for s in subs if subscription_wants(s, feed_url=feed_url)}):
            store.enqueue(channel_id, payload)
            queued += 1
    return queued


def route_notice(store: Store, feed_url: str, reason: str) -> int:
    """Tell every channel that follows a feed (directly or through "everything") that it was paused."""
    channels = {
        s.channel_id
        for s in store.subscriptions()
        if not s.paused_reason and (s.target_kind == "all" or (s.target_kind == "feed" and s.target == feed_url))
    }
    payload = {
        "kind": "notice",
        "title": "Feed paused",
        "text": f"Stancewatch stopped polling {feed_url} because {reason}. "
        f"A moderator can restart it with /feed resume url:{feed_url}",
    }
    for channel_id in sorted(channels):
        store.enqueue(channel_id, payload)
    return len(channels)
