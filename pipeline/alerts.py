"""What an alert says, independent of Discord: the demo prints it, the cog turns it into an embed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
    person: str
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

    def to_payload(self) -> dict[str, Any]:
        return {"title": self.title, "url": self.url, "colour": self.colour, "fields": self.fields, "footer": self.footer}

    def render_text(self) -> str:
        lines = [f"┌ {self.title}", f"│ {self.url}"]
        for name, value in self.fields:
            lines.append(f"│ {name}:")
            lines.extend(f"│   {line}" for line in value.splitlines())
        lines.append(f"└ {self.footer}")
        return "\n".join(lines)
