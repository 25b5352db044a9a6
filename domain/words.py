"""The content words of a text: how a statement, a stored claim and a question are found to be about the same thing.

Used by the analysis to pick which positions a statement is judged against and by /ask to pick evidence. A word is
a run of letters or digits (Hangul included, so Korean words count whole) of three or more characters, not one of
the commonest English function words.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+")
_STOPWORDS = frozenset(
    """a an the and or but of to in on for with by at from as is are was were be been it its this that these those
    we our you your they their he she his her i my not no do does did will would should could can may must have
    has had more most all any some such than then there here about into over after before also only very""".split()
)


def topic_words(text: str) -> set[str]:
    """The text's distinct content words, case-folded."""
    words = {w.casefold() for w in _WORD.findall(text)}
    return {w for w in words if len(w) > 2 and w not in _STOPWORDS}
