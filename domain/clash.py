"""A clash: a statement judged inconsistent with a stored position, above the alert threshold.

The analysis finds clashes, delivery routes them to the channels that want them, and the Discord layer and the CLI
render them; all three read this one shape.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.records import FeedItem, Judgement, Position, Question, judgement_id


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
        )
