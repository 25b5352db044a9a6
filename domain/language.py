"""Which language a text is in, for the two the bot speaks (English and Korean), and Korean grammar it needs."""

from __future__ import annotations

import re

HANGUL = re.compile(r"[\uac00-\ud7a3]")
"""A precomposed Hangul syllable (가 to 힣): the one definition of "Korean text" in the project."""


def has_hangul(text: str) -> bool:
    """Whether ``text`` holds a Hangul syllable (a Korean name, a Korean date, a Korean article)."""
    return HANGUL.search(text) is not None


def detect_language(text: str) -> str:
    """'ko' when Hangul makes up a fair share of the letters, else 'en'."""
    letters = [c for c in text if c.isalpha()]
    hangul = sum(1 for c in letters if HANGUL.match(c))
    return "ko" if letters and hangul / len(letters) > 0.3 else "en"


def topic_particle(word: str) -> str:
    """은 after a final consonant, 는 after a vowel; 은(는) when the word does not end in Hangul."""
    last = word[-1:] if word else ""
    if not HANGUL.match(last):
        return "은(는)"
    return "은" if (ord(last) - 0xAC00) % 28 else "는"


def korean_date(date: str) -> str:
    """'2023-03-22' as 2023년 3월 22일, '2024-08' as 2024년 8월, '2023' as 2023년; anything else unchanged."""
    parts = date[:10].split("-")
    if not all(p.isdigit() for p in parts):
        return date
    units = ("년", "월", "일")
    return " ".join(f"{int(p) if i else p}{units[i]}" for i, p in enumerate(parts[:3]))
