"""Moderators' reviews as labelled pairs: a server's own evaluation set, in ``evals/ai_policy_pairs.jsonl``'s format.

A Confirm labels the pair ``inconsistent`` (a clash). A Dismiss labels it ``consistent``: the format has no "not
a clash" label, a dismissed alert may be either consistent or unrelated, and the alert figures (precision,
recall, false-alert rate) read only clash against not-clash. Ids run ``rv-001``, ``rv-002`` … in review order, so
the evaluation's split rule (even ids tune, odd ids are held out) applies unchanged.
"""

from __future__ import annotations

from typing import Any

from domain.records import Judgement, ModeratorReview, Position, Question


def review_pairs(
    reviews: list[ModeratorReview],
    judgements: dict[str, Judgement],
    positions: dict[str, Position],
    questions: dict[str, Question],
) -> list[dict[str, Any]]:
    """One JSON-ready pair a review, oldest first; a review whose judgement or position is gone is left out."""
    pairs: list[dict[str, Any]] = []
    for review in reviews:
        judgement = judgements.get(review.judgement_id)
        position = positions.get(judgement.position) if judgement else None
        if judgement is None or position is None:
            continue
        question = questions.get(position.question)
        pairs.append(
            {
                "id": f"rv-{len(pairs) + 1:03d}",
                "person": position.person,
                "position_id": position.id,
                "question": question.text if question else "",
                "supports": question.supports if question else "",
                "opposes": question.opposes if question else "",
                "stance": position.stance,
                "text1": position.claim,
                "text2": judgement.statement,
                "label": "inconsistent" if review.verdict == "confirmed" else "consistent",
                "guild_id": review.guild_id,
                "reviewed_by": review.by,
                "reviewed_at": review.at,
                "judgement_id": review.judgement_id,
            }
        )
    return pairs
