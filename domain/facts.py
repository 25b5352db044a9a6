"""The facts a model's rendering must keep from its source: numbers, negation, who is named, who did what.

A model's English line about a Korean report is what people read, so it may assert nothing its source does not.
:func:`unfaithful` compares a rendering with its source, in English or Korean either side, and names each fact the
rendering changed; the callers then show the source itself instead (see :mod:`llm.tasks.extract`).

Numbers are compared as values: ``10,000``, ``ten thousand``, ``1만`` and ``약 1만 개`` are one number, ``10만`` is
100,000 (Korean counts in 만 = 10⁴, 억 = 10⁸, 조 = 10¹², with 천 and 백 inside them); a percentage is a number of its
own kind. Stdlib only: it runs wherever a rendering is made and in the tests without a model.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from domain.names import split_sentences

_KO_BIG = {"만": Decimal(10**4), "억": Decimal(10**8), "조": Decimal(10**12)}
_KO_SMALL = {"천": Decimal(1000), "백": Decimal(100), "십": Decimal(10)}
_EN_SCALE = {
    "hundred": Decimal(100), "thousand": Decimal(1000), "million": Decimal(10**6), "billion": Decimal(10**9),
    "trillion": Decimal(10**12), "k": Decimal(1000), "bn": Decimal(10**9), "mn": Decimal(10**6),
}  # fmt: skip
_EN_WORDS = {
    word: Decimal(n)
    for n, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen twenty".split()
    )
}
_EN_WORDS.update({"thirty": Decimal(30), "forty": Decimal(40), "fifty": Decimal(50), "hundred": Decimal(100)})
_DIGITS = r"(?:\d{1,3}(?:,\d{3}){1,8}(?:\.\d{1,6})?|\d{1,18}(?:\.\d{1,6})?)(?![\d])"  # a longer run is no number
_KO_NUMBER = re.compile(rf"(?<![\d,.])(?:{_DIGITS})\s?(?:조|억|만|천|백)(?:\s?(?:{_DIGITS})?\s?(?:조|억|만|천|백))*")
_KO_PART = re.compile(rf"({_DIGITS})?\s?(조|억|만|천|백)")
_EN_NUMBER = re.compile(
    rf"(?<![\w.])({_DIGITS}|{'|'.join(sorted(_EN_WORDS, key=len, reverse=True))})"
    rf"(?:[\s-]?({'|'.join(_EN_SCALE)})\b)?(\s?(?:%|percent\b|per cent\b|퍼센트|프로))?",
    re.IGNORECASE,
)
_PERCENT_AFTER = re.compile(r"^\s?(?:%|퍼센트|프로)")

Quantity = tuple[Decimal, bool]
"""A number's value, and whether it is a percentage."""


def quantities(text: str) -> set[Quantity]:
    """Every number ``text`` states, as values: Korean units, English scale words and number words read."""
    found: set[Quantity] = set()
    spans: list[tuple[int, int]] = []
    for match in _KO_NUMBER.finditer(text):
        value = _korean_value(match.group(0))
        if value is not None:
            found.add((value, bool(_PERCENT_AFTER.match(text[match.end() :]))))
            spans.append(match.span())
    for match in _EN_NUMBER.finditer(text):
        if any(start <= match.start() < end for start, end in spans):
            continue
        value = _english_value(match.group(1), match.group(2))
        if value is not None:
            found.add((value, bool(match.group(3))))
    return found


_WRITTEN_OUT_LIMIT = Decimal(10) ** 24


def with_digits(text: str) -> str:
    """``text`` with its Korean-unit numbers written out in digits (``GPU 약 1만 개`` → ``GPU 약 10,000 개``).

    A small model translating ``1만`` writes 1,000 as often as 10,000; given the digits, it copies them.
    """

    def written(match: re.Match[str]) -> str:
        value = _korean_value(match.group(0))
        if value is None or value >= _WRITTEN_OUT_LIMIT:  # no report counts past 10²⁴; hostile text may
            return match.group(0)
        return f"{int(value):,}" if value == value.to_integral_value() else f"{value:,f}"

    return _KO_NUMBER.sub(written, text)


def _decimal(digits: str) -> Decimal | None:
    try:
        return Decimal(digits.replace(",", ""))
    except InvalidOperation:
        return None


def _korean_value(span: str) -> Decimal | None:
    """``1조 2천억`` is 1.2 × 10¹², ``3억 5천만`` 3.5 × 10⁸, ``5천만`` 5 × 10⁷, ``1만`` 10⁴."""
    total, group = Decimal(0), Decimal(0)
    for digits, unit in _KO_PART.findall(span):
        number = _decimal(digits) if digits else None
        if unit in _KO_SMALL:
            group += (number if number is not None else Decimal(1)) * _KO_SMALL[unit]
        else:
            total += (group + (number or Decimal(0)) or Decimal(1)) * _KO_BIG[unit]
            group = Decimal(0)
    value = total + group
    return value.normalize() if value else None


def _english_value(number: str, scale: str | None) -> Decimal | None:
    value = _EN_WORDS.get(number.lower()) if not number[:1].isdigit() else _decimal(number)
    if value is None:
        return None
    return (value * _EN_SCALE[scale.lower()] if scale else value).normalize()


_NEGATION = re.compile(
    r"\b(?:not|no|never|none|nobody|nothing|neither|nor|without|cannot|refus\w*|reject\w*|oppos\w*|against|"
    r"den(?:y|ies|ied)|declin\w*)\b|n't\b|"
    r"(?:않|못(?=\s|하|했|한)|없|아니|반대|거부|거절|말라|말자|반발|부인(?=했|하|한|해))"
    r"|(?:^|\s)안(?=\s)",
    re.IGNORECASE,
)
_SPEECH = re.compile(
    r"\b(?:said|says|say|stated|states|told|tells|announced|announces|claimed|claims|declared|promised|vowed|"
    r"pledged|wrote|tweeted|posted|argued|insisted)\b|[\"“”「」『』]|"
    r"(?:말했|말한|말하|밝혔|전했|언급|발표|주장|약속|강조|했다고|라고|이라며|라며|트윗)",
    re.IGNORECASE,
)


def negations(text: str) -> int:
    """How many negations, refusals and oppositions ``text`` holds, in English or Korean.

    Compared by parity: "would not oppose" and "반대하지 않겠다" both hold two, and say the same.
    """
    return len(_NEGATION.findall(text))


_DISMISSAL = re.compile(
    r"\b(?:mistak\w*|nonsense|preposterous|obscurantis\w*|critici[sz]\w*|dismiss\w*|ridicul\w*|absurd\w*|"
    r"misguided|overblown|fear-?monger\w*)\b|(?:잘못|비판|비난|터무니|헛소리|반계몽|일축)",
    re.IGNORECASE,
)


def disputes(text: str) -> bool:
    """Whether ``text`` negates, refuses, opposes or dismisses something: a word :func:`negations` counts, or a
    dismissal ("a mistake", "complete nonsense", "criticised", 잘못, 비판, 일축).

    The judge's cue that a statement may take a side *against* what it names ("said calls to slow down AI research
    were a mistake" holds no negation word, yet is against slowing down). Dismissals are not counted for parity:
    calling a plan a mistake does not turn the sentence's own claim around.
    """
    return bool(negations(text)) or _DISMISSAL.search(text) is not None


def negated(text: str) -> bool:
    """Whether ``text`` says no overall: an odd number of negations (:func:`negations`)."""
    return negations(text) % 2 == 1


def reports_speech(text: str) -> bool:
    """Whether ``text`` reports something said or written (a speech verb or a quotation mark)."""
    return _SPEECH.search(text) is not None


ACTORS: dict[str, tuple[str, ...]] = {
    "Twitter": ("트위터",), "xAI": (), "OpenAI": ("오픈AI", "오픈에이아이"), "Google": ("구글",),
    "Microsoft": ("마이크로소프트",), "Meta": ("메타",), "Tesla": ("테슬라",), "Nvidia": ("NVIDIA", "엔비디아"),
    "Apple": ("애플",), "Amazon": ("아마존",), "Anthropic": ("앤트로픽",), "Samsung": ("삼성",),
    "Naver": ("네이버",), "Kakao": ("카카오",), "DeepMind": ("딥마인드",),
    "European Union": ("EU", "유럽연합", "유럽 연합"), "Congress": ("의회",), "Senate": ("상원",),
    "White House": ("백악관",), "Korea": ("한국",), "China": ("중국",), "United States": ("U.S.", "미국"),
    "Future of Life Institute": ("FLI", "퓨처 오브 라이프", "생명의 미래 연구소"),
}  # fmt: skip
"""Organisations and places that reports on AI policy name, with the names they go by in English and Korean."""

_ACTIONS = {
    "buy": (r"bought|buys|buy|purchased|purchases|purchase|acquired|acquires|ordered", "구매|구입|매입|사들|인수|주문"),
    "invest": (r"invested|invests", "투자"),
    "raise": (r"raised|raises", "유치"),
    "fire": (r"fired|fires", "해고"),
    "sue": (r"sued|sues", "고소|제소"),
    "sign": (r"signed|signs|sign", "서명"),
    "ban": (r"banned|bans", "금지"),
}
"""Actions whose doer a rendering must keep: English verbs and their Korean stems, by kind."""
_ACTION = {kind: re.compile(rf"\b(?:{english})\b", re.IGNORECASE) for kind, (english, _) in _ACTIONS.items()}
_KO_ACTION = {kind: re.compile(korean) for kind, (_, korean) in _ACTIONS.items()}
_BUY = re.compile(r"\b(?:bought|buys|buy|purchased|purchases|purchase|acquired|acquires|ordered)\b", re.I)


def unfaithful(
    rendering: str, source: str, *, names: dict[str, tuple[str, ...]] | None = None, context: str = ""
) -> list[str]:
    """What ``rendering`` asserts that ``source`` does not; empty when it keeps every fact this checks.

    ``names`` adds people (canonical name → aliases, any language) to :data:`ACTORS`. Checked: every number
    (values, so across languages), negation present in one and not the other, speech reported where the source
    reports none ("said he would stop" for an action), a named actor the source does not name, and the buyer
    of a purchase turned into its seller. ``context`` (the sentences around the source) may supply numbers and
    names too: a wording that quotes a headline may take the figure from the sentence below it.
    """
    problems = []
    invented = quantities(rendering) - quantities(f"{source}\n{context}")
    if invented:
        shown = ", ".join(sorted(f"{_shown(value)}{'%' if percent else ''}" for value, percent in invented))
        problems.append(f"numbers not in the source: {shown}")
    if negated(rendering) != negated(source):
        problems.append("negation changed" if negated(source) else "negation added")
    if reports_speech(rendering) and not reports_speech(source):
        problems.append("reports speech the source does not")
    actors = {**ACTORS, **(names or {})}
    absent = [name for name in _named(rendering, actors) if not _named_in(name, f"{source}\n{context}", actors)]
    if absent:
        problems.append(f"names not in the source: {', '.join(absent)}")
    did, source_did = _agents(rendering, actors), _agents(source, actors)
    for kind in did.keys() & source_did.keys():
        if did[kind] != source_did[kind]:
            problems.append(f"says {did[kind]} did what the source says {source_did[kind]} did ({kind})")
    seller = _seller(rendering, actors)
    if seller and seller == source_did.get("buy"):
        problems.append(f"turns the buyer ({seller}) into the seller")
    return problems


def _shown(value: Decimal) -> str:
    """``10,000`` and ``1.5``; a year-sized whole number (``2023``) without a separator."""
    return f"{value:f}" if value < 10000 else f"{value:,f}"


def _mentions(text: str, alias: str) -> bool:
    """Whether ``text`` names ``alias``: Latin names as whole words, case-blind from four letters on (``EU``,
    ``FLI`` and ``xAI`` as written, so "us" is never the United States); Korean names as they appear, particles
    attached (``삼성전자는``)."""
    if re.fullmatch(r"[\w .&'-]+", alias, re.ASCII):
        flags = re.IGNORECASE if len(alias) > 3 else 0
        return re.search(rf"(?<![\w]){re.escape(alias)}(?![\w])", text, flags) is not None
    return alias.casefold() in text.casefold()


def shared_facts(first: str, second: str) -> int:
    """How many numbers (as values, :func:`quantities`) and organisations or places (:data:`ACTORS`) both texts
    hold, in either language: "six months … GPT-4 … Future of Life Institute" and "GPT-4 … 6개월 … 퓨처 오브 라이프"
    share three."""
    named = set(_named(first, ACTORS)) & set(_named(second, ACTORS))
    return len(quantities(first) & quantities(second)) + len(named)


def _named(text: str, actors: dict[str, tuple[str, ...]]) -> list[str]:
    return [name for name, aliases in actors.items() if any(_mentions(text, a) for a in (name, *aliases))]


def _named_in(name: str, text: str, actors: dict[str, tuple[str, ...]]) -> bool:
    return any(_mentions(text, alias) for alias in (name, *actors.get(name, ())))


def _last_named(text: str, actors: dict[str, tuple[str, ...]], *, subject: bool = False) -> str:
    """The actor whose name ends last in ``text``; with ``subject``, only a Korean subject (name, then 은/는/이/가)."""
    ends: dict[str, int] = {}
    marker = r"\w*?(?:가|이|은|는|도)(?=\s)" if subject else ""
    for name, aliases in actors.items():
        for alias in (name, *aliases):
            for found in re.finditer(re.escape(alias) + marker, text, re.IGNORECASE):
                if _mentions(text[max(0, found.start() - 1) : found.start() + len(alias) + 1], alias) or subject:
                    ends[name] = max(ends.get(name, -1), found.end())
    return max(ends, key=lambda name: ends[name]) if ends else ""


def _seller(rendering: str, actors: dict[str, tuple[str, ...]]) -> str:
    """Who a rendering says sold: X in "bought … from X"."""
    match = _BUY.search(rendering)
    tail = rendering[match.end() :] if match else ""
    source = re.search(r"\bfrom\s+(.{1,60})", tail)
    return _first_named(source.group(1), actors) if source else ""


def _first_named(text: str, actors: dict[str, tuple[str, ...]]) -> str:
    """The actor whose name starts first in ``text``."""
    starts: dict[str, int] = {}
    for name, aliases in actors.items():
        for alias in (name, *aliases):
            found = re.search(re.escape(alias), text, re.IGNORECASE)
            if found and _mentions(text[max(0, found.start() - 1) : found.end() + 1], alias):
                starts[name] = min(starts.get(name, len(text)), found.start())
    return min(starts, key=lambda name: starts[name]) if starts else ""


def _agents(text: str, actors: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Who ``text`` says did each kind of action (:data:`_ACTIONS`): the actor named last before an English verb,
    or the subject (은/는/이/가) nearest before a Korean one."""
    found: dict[str, str] = {}
    for kind in _ACTIONS:
        match = _ACTION[kind].search(text)
        if match:
            doer = _last_named(text[: match.start()][-60:], actors)
        else:
            korean = _KO_ACTION[kind].search(text)
            doer = _last_named(text[: korean.start()], actors, subject=True) if korean else ""
        if doer:
            found[kind] = doer
    return found


def unsupported(sentence: str, article: str, *, names: dict[str, tuple[str, ...]] | None = None) -> list[str]:
    """What a summary's ``sentence`` states that its ``article`` does not: a number or a name found nowhere in it, or
    a negation turned round against the article sentence it retells (the one sharing most of its numbers, names and
    words). Empty when it keeps them all."""
    problems = []
    invented = quantities(sentence) - quantities(article)
    if invented:
        problems.append(f"numbers not in the article: {', '.join(sorted(_shown(v) for v, _ in invented))}")
    actors = {**ACTORS, **(names or {})}
    absent = [name for name in _named(sentence, actors) if not _named_in(name, article, actors)]
    if absent:
        problems.append(f"names not in the article: {', '.join(absent)}")
    retold = _retold(sentence, split_sentences(article), actors)
    if retold and negated(sentence) != negated(retold):
        problems.append("negation turned round")
    return problems


def _retold(sentence: str, candidates: list[str], actors: dict[str, tuple[str, ...]]) -> str:
    """The candidate ``sentence`` most likely retells: most shared numbers, names and words (a name at least)."""
    numbers, named = quantities(sentence), set(_named(sentence, actors))
    words = set(re.findall(r"\w{3,}", sentence.casefold()))

    def shared(candidate: str) -> int:
        common = len(words & set(re.findall(r"\w{3,}", candidate.casefold())))
        return 3 * len(numbers & quantities(candidate)) + 2 * len(named & set(_named(candidate, actors))) + common

    best = max(candidates, key=shared, default="")
    return best if best and shared(best) >= 2 else ""


def supported_summary(summary: str, article: str, *, names: dict[str, tuple[str, ...]] | None = None) -> str:
    """``summary`` without the sentences :func:`unsupported` finds fault with; "" when none is left."""
    return " ".join(s for s in split_sentences(summary) if not unsupported(s, article, names=names))
