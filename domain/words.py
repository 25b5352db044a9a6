"""The content words of a text: how a statement, a stored claim and a question are found to be about the same thing.

Used by the analysis to pick which positions a statement is judged against and by /ask to pick evidence. A word is
a run of letters or digits (Hangul included, so Korean words count whole) of three or more characters, not one of
the commonest English function words.
"""

from __future__ import annotations

import functools
import re

from domain.language import has_hangul

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


_KOREAN_WORD = re.compile(r"[가-힣]{2,}")
_KOREAN_FUNCTION = frozenset(
    "있다 있는 있었 했다 하는 하고 하기 하지 해야 한다 위해 대한 것으 것이 에서 통해 따르 밝혔 말했 지난"
    " 이번 이후 관련 같은 또한 그러 그는 이는 않는 않겠 없는 이다 되는 되었 됐다 모든 어떤".split()
)


def korean_stems(text: str) -> set[str]:
    """The first two syllables of each Korean word of two or more, the commonest endings and function words left
    out: how a noun is matched whatever particle follows it (무기에, 무기를 and 무기 share 무기). Loose by design
    (인공지능 and 인공위성 share 인공): it widens which positions are judged, never what alerts."""
    return {w[:2] for w in _KOREAN_WORD.findall(text)} - _KOREAN_FUNCTION


SIDE_TERMS: tuple[tuple[str, ...], ...] = (
    ("build", "develop", "구축", "개발", "만들"),
    ("train", "훈련", "학습"),
    ("fund", "invest", "raise", "raising", "투자", "자금", "유치"),
    ("buy", "bought", "purchas", "acquir", "구입", "구매", "매입", "사들", "인수"),
    ("launch", "release", "출시", "선보", "내놓"),
    ("company", "startup", "found", "회사", "기업", "설립", "스타트업"),
    ("computing power", "compute", "gpu", "chip", "supercomputer", "data cent",
     "컴퓨팅", "칩", "슈퍼컴퓨터", "데이터 센터", "데이터센터"),
    ("law", "regulat", "rule", "bill", "act", "법", "규제", "법안", "규칙"),
    ("lobb", "로비"),
    ("approv", "licen", "승인", "허가", "면허", "라이선스"),
    ("leave", "withdraw", "exit", "pull out", "철수", "떠나", "운영을 중단"),
    ("oppos", "against", "반대"),
    ("pause", "halt", "stop", "moratorium", "slow down", "중단", "멈추", "유예", "늦추"),
    ("open source", "open-source", "open weights", "오픈소스", "오픈 소스"),
    ("safety", "안전"),
    ("superintelligen", "초지능"),
    ("threat", "danger", "catastroph", "disaster", "재앙", "위험", "위협"),
)  # fmt: skip
"""Terms that name one action or thing across English and Korean (English as stems, matched at a word's start).

The judge reads a question's side descriptions ("builds, trains, funds or buys computing power for powerful AI
systems…"); a statement that does one of those things in other words (xAI가 슈퍼컴퓨터를 구축했다) must still reach
it. Written for the starter pack's questions and kept small: a term here widens what is judged, never what alerts.
"""


def _has_term(lowered: str, term: str) -> bool:
    if term.isascii():
        return re.search(rf"(?<![a-z]){re.escape(term)}", lowered) is not None
    return term in lowered


@functools.lru_cache(maxsize=1024)  # a question's side descriptions are read for every statement judged
def side_groups(text: str) -> frozenset[int]:
    """The :data:`SIDE_TERMS` groups ``text`` names (by index)."""
    lowered = text.casefold()
    return frozenset(n for n, group in enumerate(SIDE_TERMS) if any(_has_term(lowered, term) for term in group))


_AI = re.compile(
    r"(?<![A-Za-z])(?:A\.?I\.?|AGI|LLMs?|GPUs?|artificial intelligence|chatbots?|language models?|AI models?)"
    r"(?![A-Za-z])|인공지능|챗봇|언어\s?모델|초지능|GPU|[가-힣\s]AI|AI[가-힣]",
)


def mentions_ai(text: str) -> bool:
    """Whether ``text`` is about AI at all (``AI``, ``GPU``, ``인공지능``, ``챗봇``…): side terms count only then, so
    "Elon Musk launched a rocket" never reaches a question about launching AI models."""
    return _AI.search(text) is not None


def keyword_phrases(text: str) -> list[str]:
    """A filter as a subscriber types it: words or phrases separated by commas, trimmed, blanks dropped."""
    return [" ".join(part.split()) for part in text.split(",") if part.strip()]


def mentions_keyword(text: str, phrase: str) -> bool:
    """Whether ``text`` holds ``phrase``, case-insensitive: a Korean phrase anywhere (Korean attaches particles,
    인공지능은 holds 인공지능), any other on word boundaries ("ai act" is not in "said actors")."""
    folded, wanted = text.casefold(), phrase.casefold()
    if has_hangul(wanted):
        return wanted in folded
    return re.search(rf"(?<!\w){re.escape(wanted)}(?!\w)", folded) is not None


def passes_filter(text: str, include: list[str], exclude: list[str]) -> bool:
    """A subscription's keyword filter: at least one ``include`` phrase when it has any, and no ``exclude`` one."""
    if include and not any(mentions_keyword(text, p) for p in include):
        return False
    return not any(mentions_keyword(text, p) for p in exclude)
