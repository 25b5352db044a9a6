"""Parse the dates feeds actually carry: RFC 822, ISO 8601, date-only, non-English names, Korean.

A date is only ever shown and stored; it never decides whether an item is new, so a
missing, unreadable or impossible date yields "" rather than a guess (``25:14`` is no
hour, ``99 Jun`` no day, ``-99:99`` no offset). A date up to a day in the future is
clamped to the fetch time (clock skew); a later one is no date. A time-zone name that
Python's RFC 822 reader does not know (PT, ET, MEST…) is left to feedparser's reader,
which knows them, instead of being read as UTC.
"""

from __future__ import annotations

import calendar
import re
import time
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_tz

import feedparser

from domain.language import has_hangul

KST = timezone(timedelta(hours=9))
_MONTHS = {
    # German, French, Spanish, Italian, Portuguese, Dutch abbreviations and names
    "jan": ["jän", "janv", "janvier", "januar", "ene", "enero", "gen", "gennaio", "janeiro", "januari"],
    "feb": ["févr", "fevr", "février", "februar", "febrero", "febbraio", "fev", "fevereiro", "februari"],
    "mar": ["mär", "märz", "mars", "marzo", "março", "maart", "mrt"],
    "apr": ["avr", "avril", "abr", "abril", "aprile", "april"],
    "may": ["mai", "mayo", "mag", "maggio", "maio", "mei"],
    "jun": ["juin", "juni", "junio", "giu", "giugno", "junho"],
    "jul": ["juil", "juillet", "juli", "julio", "lug", "luglio", "julho"],
    "aug": ["août", "aout", "ago", "agosto", "augustus"],
    "sep": ["sept", "septembre", "sett", "settembre", "set", "setembro", "septiembre", "september"],
    "oct": ["okt", "oktober", "octobre", "octubre", "ottobre", "out", "outubro"],
    "nov": ["novembre", "noviembre", "novembro", "november"],
    "dec": ["dez", "dezember", "déc", "décembre", "dic", "diciembre", "dicembre", "dezembro", "december"],
}
_MONTH_WORD = {word: english for english, words in _MONTHS.items() for word in words}
_WORD = re.compile(r"[^\W\d_]+\.?", re.UNICODE)
_KOREAN = re.compile(
    r"(\d{4})\s*[년.\-/]\s*(\d{1,2})\s*[월.\-/]\s*(\d{1,2})\s*일?"
    r"(?:\s*(오전|오후)?\s*(\d{1,2})\s*[:시]\s*(\d{1,2})\s*분?(?:\s*[:]?\s*(\d{1,2})\s*초?)?)?"
)
_ZONES = {"GMT", "UT", "UTC", "Z", "EST", "EDT", "CST", "CDT", "MST", "MDT", "PST", "PDT"}
_ISO_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d")
_BARE_DATE = re.compile(r"^\d{4}[.\-/]\s*\d{1,2}[.\-/]\s*\d{1,2}\.?(\s+\d{1,2}:\d{2}(:\d{2})?)?$")
FUTURE_SKEW_S = 86400
_NO_ZONE = re.compile(r"\d{1,2}:\d{2}(:\d{2})?|\d{4}|[+-]00:?00|GMT|UTC?|Z", re.I)


def parse_date(raw: str, *, now: float | None = None) -> str:
    """ISO 8601 UTC (``YYYY-MM-DDTHH:MM:SSZ``) for a feed date, or "" when there is none."""
    raw = raw.strip()
    if raw.endswith(" KST"):
        raw = raw[:-3] + "+0900"
    if not raw:
        return ""
    moment = _iso(raw)
    if moment is None and not _ISO_LIKE.match(raw):  # ISO 8601 with a time is valid as such or no date at all
        moment = _rfc822(raw) or _korean(raw) or _feedparser(raw)
        if moment is None:
            english = _english_months(raw)
            moment = _rfc822(english) or _feedparser(english)
    limit = time.time() if now is None else now
    if moment is None or moment > limit + FUTURE_SKEW_S:
        return ""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(min(moment, limit)))


def _iso(raw: str) -> float | None:
    try:
        parsed = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _rfc822(raw: str) -> float | None:
    parts = parsedate_tz(raw)
    if parts is None:
        return None
    zone = raw.split()[-1] if raw.split() else ""
    if not parts[9] and not _NO_ZONE.fullmatch(zone):
        return None  # a zone Python does not know (PT, MEST, -01:01) would be read as UTC: feedparser's reader knows
    try:
        datetime(*parts[:6])  # 99 Jun is no day: no rollover into September
        return calendar.timegm((*parts[:6], 0, 1, 0)) - (parts[9] or 0)
    except (OverflowError, ValueError, TypeError):
        return None


def _english_months(raw: str) -> str:
    """Swap month names in other languages for English ones and drop weekday names."""

    def swap(match: re.Match[str]) -> str:
        if match.group(0) in _ZONES:
            return match.group(0)
        word = match.group(0).rstrip(".").lower()
        if word[:3] in _MONTHS and len(word) <= 9:
            return word[:3].title()
        english = _MONTH_WORD.get(word)
        return english.title() if english else ""

    return re.sub(r"\s+", " ", _WORD.sub(swap, raw)).strip(" ,")


def _korean(raw: str) -> float | None:
    """Korean news dates: with Hangul (2023년 4월 11일 오후 3시), or bare digits with no zone (KST implied)."""
    if not (has_hangul(raw) or _BARE_DATE.match(raw)):
        return None
    match = _KOREAN.search(raw)
    if match is None:
        return None
    year, month, day, half, hour, minute, second = match.groups()
    h = int(hour or 0) % 12 + (12 if half == "오후" else 0) if half else int(hour or 0)
    try:
        stamp = datetime(int(year), int(month), int(day), h, int(minute or 0), int(second or 0), tzinfo=KST)
    except ValueError:
        return None
    return stamp.timestamp()


def _feedparser(raw: str) -> float | None:
    parsed = feedparser.datetimes._parse_date(raw)  # feedparser's many-format date reader
    if not parsed or _impossible_day(raw):
        return None
    return float(calendar.timegm(parsed))


def _impossible_day(raw: str) -> bool:
    """A day of month past 31 (``Sun, 99 Jun 2009``), which date readers roll over into a later month."""
    return any(int(day) > 31 for day in re.findall(r"(?<![\d:])(\d{2})\s+[A-Za-z]{3}", raw))
