"""A clash: a statement judged inconsistent with a stored position, above the alert threshold.

The analysis finds clashes, delivery routes them to the channels that want them, and the Discord layer and the CLI
render them; all three read this one shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.records import FeedItem, Judgement, Position, Question, judgement_id

JOIN_DAYS = 7
"""A later statement on the same clash (person and position) joins its alert for this many days after the alert."""


def distinct_clashes(alerted: list[Judgement]) -> int:
    """How many clash alerts ``alerted`` judgements make: on one position, those within :data:`JOIN_DAYS` of the
    first joined its alert and count once with it (ISO 8601 ``judged_at`` stamps; a missing one starts its own)."""
    count = 0
    opened: dict[str, str] = {}
    for judgement in sorted(alerted, key=lambda j: j.judged_at):
        first = opened.get(judgement.position)
        if first is None or not judgement.judged_at or _days_between(first, judgement.judged_at) > JOIN_DAYS:
            opened[judgement.position] = judgement.judged_at
            count += 1
    return count


def _days_between(earlier: str, later: str) -> float:
    try:
        start, end = (datetime.fromisoformat(s.replace("Z", "+00:00")) for s in (earlier, later))
    except ValueError:
        return float("inf")
    return (end - start).total_seconds() / 86400


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
    """Where the position was taken: its link, or the feed and item it was extracted from (see Position.source)."""
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
    profile: str = ""
    subtype: str = ""
    severity: str = ""
    flagged: bool = False
    """The source held instruction-like text aimed at the model; it was left out of the judgement."""
    statement_translation: str = ""
    """A literal machine translation of a statement shown in its own language (the model's wording failed the
    fact check); "" when there is none."""
    alert_in: tuple[int, ...] = ()
    """The servers (guild ids) whose judge alerts on it, when a server's learned judge differs from the shipped
    one (:mod:`analysis.learning`); empty: every server."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "alert_in", tuple(self.alert_in))  # a list when read back from an outbox row

    @property
    def judgement_id(self) -> str:
        return judgement_id(self.position_id, self.statement)

    @classmethod
    def of(
        cls,
        judgement: Judgement,
        person: str,
        position: Position,
        question: Question | None,
        item: FeedItem,
        *,
        quote: str = "",
        translation: str = "",
        flagged: bool = False,
        alert_in: tuple[int, ...] = (),
    ) -> Clash:
        """The clash a judgement of ``item``'s statement against ``position`` makes."""
        return cls(
            person_id=judgement.person,
            person=person,
            question_id=position.question,
            question=question.text if question else position.question,
            position_id=position.id,
            position_claim=position.claim,
            position_date=position.date,
            position_source=position.source(),
            statement=judgement.statement,
            statement_quote=quote,
            article_url=item.url,
            article_title=item.title,
            article_date=item.published,
            verdict=judgement.verdict,
            confidence=judgement.confidence,
            reason=judgement.reason,
            model=judgement.model,
            prompt_version=judgement.prompt_version,
            profile=judgement.profile,
            subtype=judgement.subtype,
            severity=judgement.severity,
            flagged=flagged,
            statement_translation=translation,
            alert_in=alert_in,
        )
