"""A moderator's own question: the model drafts both sides, the moderator confirms or rewrites them, and only
confirmed sides reach the judge."""

from __future__ import annotations

import pytest

from cogs.common import UserError
from cogs.stances import confirmed_sides, sides_text
from domain.records import Question
from llm.tasks.judge import sides
from llm.tasks.prompts import side_draft_messages
from llm.tasks.sides import cleaned, described, draft_sides

DRAFT = {
    "en": {"supports": "calls for a ban on lethal autonomous weapons", "opposes": "builds autonomous weapons"},
    "ko": {"supports": "치명적 자율무기 금지를 촉구한다", "opposes": "자율무기를 만든다"},
}
QUESTION = Question("ban", "Should lethal autonomous weapons be banned?", draft=DRAFT)


def test_a_draft_is_never_what_the_judge_reads() -> None:
    supports, opposes = sides(QUESTION)
    assert "yes answer to the question" in supports and "no answer" in opposes  # the generic wording
    assert "autonomous weapons" not in supports.replace(QUESTION.text, "")


def test_confirming_takes_the_draft_in_both_languages_and_clears_it() -> None:
    confirmed = confirmed_sides(QUESTION, {"en": ("", ""), "ko": ("", "")})
    assert sides(confirmed) == (DRAFT["en"]["supports"], DRAFT["en"]["opposes"])
    assert confirmed.side_translations == {"ko": DRAFT["ko"]} and confirmed.draft == {}


def test_a_moderators_wording_replaces_the_drafts_side_by_side() -> None:
    confirmed = confirmed_sides(QUESTION, {"en": ("", "develops or sells weapons that pick targets"), "ko": ("", "")})
    assert (
        confirmed.supports == DRAFT["en"]["supports"]
        and confirmed.opposes == "develops or sells weapons that pick targets"
    )


def test_confirming_without_an_english_side_is_refused_in_one_sentence() -> None:
    with pytest.raises(UserError, match="Both sides need an English description"):
        confirmed_sides(Question("q", "Should it?"), {"en": ("calls for it", ""), "ko": ("", "")})


def test_the_moderator_sees_the_draft_marked_as_unread_and_how_to_confirm_it() -> None:
    text = sides_text(QUESTION)
    assert "not read by the judge until confirmed" in text and "confirm:True" in text
    assert DRAFT["ko"]["opposes"] in text
    confirmed = sides_text(confirmed_sides(QUESTION, {"en": ("", ""), "ko": ("", "")}))
    assert "Confirmed (the judge reads these)" in confirmed and "Drafted" not in confirmed


def test_a_drafted_side_loses_echoed_tags_line_breaks_and_its_full_stop() -> None:
    assert cleaned("<statement> 금지를\n촉구한다.</statement>") == "금지를 촉구한다"
    assert cleaned(" calls  for a ban. ") == "calls for a ban"


def test_only_confirmed_questions_serve_as_worked_examples() -> None:
    assert described([QUESTION, confirmed_sides(QUESTION, {"en": ("", ""), "ko": ("", "")})]) == [
        (QUESTION.text, DRAFT["en"]["supports"], DRAFT["en"]["opposes"])
    ]


async def test_the_no_side_is_drafted_as_the_opposite_of_the_drafted_yes_side() -> None:
    """Before: asked alone, the default model described the no side of the ban question as "supports the ban"."""
    asked: list[str] = []

    class Drafter:
        async def chat(self, messages: list[dict[str, str]], **_: object) -> str:
            asked.append(messages[-1]["content"])
            return ("calls for a ban", "builds or sells such weapons", "금지를 촉구한다", "무기를 만든다")[
                len(asked) - 1
            ]

    example = confirmed_sides(QUESTION, {"en": ("", ""), "ko": ("", "")})
    draft = await draft_sides(Drafter(), "Should facial recognition be banned?", [example])  # type: ignore[arg-type]
    assert draft is not None and draft.sides["en"] == ("calls for a ban", "builds or sells such weapons")
    assert "Answer: yes" in asked[0] and "opposite" not in asked[0]
    assert asked[1].endswith("Answer: no\nThe opposite of: calls for a ban")
    shown = side_draft_messages("q", "no", described([example]), contrast="x")
    assert shown[3]["content"].endswith("Answer: no\nThe opposite of: " + DRAFT["en"]["supports"])
