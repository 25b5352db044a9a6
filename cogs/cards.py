"""How Stancewatch looks in Discord: embed limits, markdown escaping, and the clash card's layout.

Every renderer cuts text the same way here, and the CLI prints the same card as plain text
(:meth:`AlertCard.render_text`).
Text from feeds, articles and the model is untrusted: it is shown through :func:`plain` and :func:`link`, so it
cannot mention anyone, format itself or become a link it did not earn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from domain.clash import Clash
from ingest.links import link_name

# Discord's embed limits, kept here so every renderer cuts text the same way.
TITLE_LIMIT = 256
FIELD_LIMIT = 1024
DESCRIPTION_LIMIT = 4096
THREAD_NAME_LIMIT = 100
"""A thread's name, like any channel's: 1 to 100 characters."""
TOTAL_LIMIT = 6000
MAX_CLASHES_PER_CARD = 6
USERNAME_LIMIT = 32
HOLD_ROOM = 160
"""Room kept on a held alert's card for the line saying where Confirm posts it (cogs.alerts.hold_line)."""
REVIEW_ROOM = len("Review") + len("Dismissed by ") + USERNAME_LIMIT + HOLD_ROOM


def review_field(state: str, reviewer: str) -> tuple[str, str]:
    """The field a review adds to an alert card, within the room the card keeps for it."""
    return "Review", f"{state.title()} by {reviewer[:USERNAME_LIMIT]}"


COLOURS = {"inconsistent": 0xD64541, "consistent": 0x2E8B57, "unrelated": 0x808080}


URL_LIMIT = 2048
_MARKDOWN = re.compile(r"([\\*_~`|\[\]])")
_LINE_START = re.compile(r"^(\s*)([#>-]|\d+(?=\.))", re.MULTILINE)


def plain(text: str) -> str:
    """Text from a feed, an article or a model, shown as it reads: Discord markdown escaped, so a title like
    ``[Real story](https://phish.example/login)`` cannot become a masked link, nor ``# big`` a heading."""
    escaped = _MARKDOWN.sub(r"\\\1", text)
    return _LINE_START.sub(lambda m: m[0] + "\\" if m[2][0].isdigit() else f"{m[1]}\\{m[2]}", escaped)


def safe_url(url: str) -> str | None:
    """An http(s) URL of at most 2,048 characters with a host, fit for an embed or a link; None otherwise."""
    if len(url) > URL_LIMIT or any(c.isspace() or ord(c) < 32 for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in {"http", "https"} and parts.hostname else None


def link(text: str, url: str) -> str:
    """A masked link when the URL is safe, else the escaped text alone; an item without a title (a microblog post)
    is linked by its address's host and path, never by empty text, which Discord shows as nothing."""
    target = safe_url(url)
    shown = text.strip() or (link_name(target) or "source" if target else "")
    return f"[{plain(shown)}]({target})" if target else plain(shown)


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
class AlertCard:
    title: str
    url: str
    colour: int
    fields: list[tuple[str, str]] = field(default_factory=list)
    footer: str = ""
    judgements: list[str] = field(default_factory=list)
    """The judgement ids the card shows, for moderators' Confirm and Dismiss."""

    @classmethod
    def for_clash(cls, clash: Clash) -> AlertCard:
        return cls.for_clashes([clash])

    @classmethod
    def for_clashes(cls, clashes: list[Clash]) -> AlertCard:
        """One card for one person's clashes in one article (at most six, within Discord's limits)."""
        shown = clashes[:MAX_CLASHES_PER_CARD]
        first = shown[0]
        raw: list[tuple[str, str]] = []
        for number, clash in enumerate(shown, start=1):
            prefix = f"{number}. " if len(shown) > 1 else ""
            source = safe_url(clash.position_source) or "source not given"
            old = f"{plain(clash.position_claim)}\n— {clash.position_date}, {source}"
            new = plain(clash.statement)
            if clash.statement_quote and clash.statement_quote not in clash.statement:
                new += f"\n> {plain(clash.statement_quote)}"
            if clash.statement_translation:
                new += f"\n*Machine translation:* {plain(clash.statement_translation)}"
            new += f"\n— {clash.article_date or 'undated'}, {link(clash.article_title, clash.article_url)}"
            if clash.flagged:  # first, so that no cut to Discord's limits can drop it
                new = f"⚠ The source held instruction-like text aimed at the model; it was left out.\n{new}"
            detail = ", ".join(x for x in (clash.subtype, clash.severity) if x)
            verdict = f"{clash.verdict}{f' ({detail})' if detail else ''}, confidence {clash.confidence:.2f}"
            raw += [
                (f"{prefix}Earlier position", old),
                (f"{prefix}New statement", new),
                (f"{prefix}Verdict: {verdict}", plain(clash.reason) if clash.reason else "no reason given"),
            ]
        questions = list(dict.fromkeys(c.question for c in shown))
        about = f"“{plain(questions[0])}”" if len(questions) == 1 else f"{len(questions)} questions"
        title = clip(
            f"Possible clash: {plain(first.person)} on {about}"
            if len(shown) == 1
            else f"{len(shown)} possible clashes: {plain(first.person)} on {about}",
            TITLE_LIMIT,
        )
        footer = (
            f"{first.model} · profile {first.profile or 'neutral'} · prompts {first.prompt_version} · "
            "automated judgement, verify the sources"
        )
        # The moderator's Review field is added later: its room is kept now, so the card never passes 6,000.
        budget = TOTAL_LIMIT - REVIEW_ROOM - len(title) - len(footer) - sum(len(name) for name, _ in raw)
        limit = min(FIELD_LIMIT, budget // len(raw))
        fields = [(name, clip(value, limit)) for name, value in raw]
        return cls(
            title=title,
            url=safe_url(first.article_url) or "",
            colour=COLOURS.get(first.verdict, 0x808080),
            fields=fields,
            footer=footer,
            judgements=[c.judgement_id for c in shown],
        )

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> AlertCard:
        return cls(
            payload["title"],
            payload["url"],
            payload["colour"],
            [tuple(f) for f in payload["fields"]],
            payload["footer"],
            list(payload.get("judgements", [])),
        )

    def to_payload(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "url": self.url,
            "colour": self.colour,
            "fields": self.fields,
            "footer": self.footer,
            "judgements": self.judgements,
        }

    def render_text(self) -> str:
        lines = [f"┌ {self.title}", f"│ {self.url}"]
        for name, value in self.fields:
            lines.append(f"│ {name}:")
            lines.extend(f"│   {line}" for line in value.splitlines())
        lines.append(f"└ {self.footer}")
        return "\n".join(lines)
