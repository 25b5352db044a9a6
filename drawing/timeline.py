"""A person's record as a picture: positions, judged statements and alerted clashes on one timeline per question.

Time runs left to right, one lane per question. Shape carries the meaning and colour repeats it (Okabe-Ito
colours, safe for colour-blind readers): a position is a triangle (up: in favour, down: against, a diamond: mixed),
hollow while it is only proposed; a judged statement is a circle (consistent), a square (inconsistent) or a small
dot (unrelated). An alerted clash is a line from the statement to the position it clashes with: thick with a tick
when a moderator confirmed it, dashed with a cross when one dismissed it, thin until reviewed.
The picture is sized for Discord's preview (1,000 × 500) and drawn with a pinned Noto Sans KR, so Korean renders.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import itertools
import json
import math
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw, ImageFont

from domain.clash import distinct_clashes
from domain.records import YEARS, Person, Position, Question, Review
from storage.interfaces import StanceStore

WIDTH, HEIGHT = 1000, 500
LEFT, RIGHT, TOP, BOTTOM = 250, 975, 58, 410
RADIUS = 9
BACKGROUND = (255, 255, 255)
LANE_SHADE = (244, 244, 244)
INK = (34, 34, 34)
MUTED = (110, 110, 110)
COLOURS = {  # Okabe & Ito's palette
    "favor": (0, 114, 178),
    "against": (213, 94, 0),
    "mixed": (230, 159, 0),
    "consistent": (0, 158, 115),
    "inconsistent": (204, 121, 167),
    "unrelated": (153, 153, 153),
}
FONT_PACKAGE = "pylopdf-fonts-ko"
FONT_FILE = "pylopdf_fonts_ko/NotoSansKR-Regular.otf"
FONT_SHA256 = "69975a0ac8472717870aefeab0a4d52739308d90856b9955313b2ad5e0148d68"
SEVERITY = {"unrelated": 0, "consistent": 1, "inconsistent": 2}
MarkKind = Literal["position", "statement"]


class FontMissingError(RuntimeError):
    """The pinned Hangul font is not installed or not the pinned file: Korean would render as empty boxes."""


@cache
def font_path() -> Path:
    """The pinned Noto Sans KR, found through the wheel's metadata (its package is never imported) and verified."""
    try:
        path = Path(str(importlib.metadata.distribution(FONT_PACKAGE).locate_file(FONT_FILE)))
    except importlib.metadata.PackageNotFoundError:
        raise FontMissingError(f"The Hangul font ({FONT_PACKAGE}) is not installed; run `make` set-up.") from None
    if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != FONT_SHA256:
        raise FontMissingError(f"{path} is missing or not the pinned Noto Sans KR; reinstall {FONT_PACKAGE}.")
    return path


@cache
def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path()), size)


@dataclass(frozen=True)
class Mark:
    lane: str
    day: date
    kind: MarkKind
    value: str
    """A stance (positions) or a verdict (statements)."""
    hollow: bool = False
    key: str = ""
    """The position id, or the statement's text: what a clash line joins."""


@dataclass(frozen=True)
class ClashLink:
    statement: str
    position: str
    review: Review


@dataclass(frozen=True)
class Timeline:
    title: str
    lanes: list[tuple[str, str]]
    """(question id, label) from top to bottom."""
    marks: list[Mark] = field(default_factory=list)
    clashes: list[ClashLink] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def digest(self) -> str:
        """Equal for equal records: the render cache's key."""
        return hashlib.sha256(json.dumps(asdict(self), default=str, sort_keys=True).encode()).hexdigest()


def parse_day(text: str) -> date | None:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (or a timestamp) as a day; a year or month is placed at its start.

    None for a day outside the years records may hold (:data:`domain.records.YEARS`): stored before that rule,
    such a date would push the picture's axis past the calendar's end.
    """
    parts = text[:10].split("-")
    try:
        numbers = [int(p) for p in parts if p]
        day = date(numbers[0], numbers[1] if len(numbers) > 1 else 1, numbers[2] if len(numbers) > 2 else 1)
    except (ValueError, IndexError):
        return None
    return day if day.year in YEARS else None


def lane_label(question: Question, language: str) -> str:
    return question.translations.get(language) or question.text


def build_timeline(store: StanceStore, person_id: str, language: str = "en") -> Timeline:
    """On the store's thread: everything the picture shows about one person, read in one transaction."""
    person = store.person(person_id)
    if person is None:
        raise KeyError(person_id)
    questions = {q.id: q for q in store.questions()}
    positions = [p for p in store.positions(person_id, status=None) if p.status in ("active", "proposed")]
    statements = {s.text: s for s in store.statements(person_id)}
    judgements = store.judgements(person_id)
    by_position = {p.id: p for p in positions}
    marks: list[Mark] = []
    for position in positions:
        day = parse_day(position.date)
        if day is not None and position.question in questions:
            hollow = position.status == "proposed"
            marks.append(Mark(position.question, day, "position", position.stance, hollow, position.id))
    verdicts: dict[str, tuple[str, str, date]] = {}  # statement text -> (verdict, lane, day)
    for judgement in judgements:
        judged = by_position.get(judgement.position)
        statement = statements.get(judgement.statement)
        day = parse_day(statement.date if statement and statement.date else judgement.judged_at)
        if judged is None or day is None:
            continue
        earlier = verdicts.get(judgement.statement)
        if earlier is None or SEVERITY[judgement.verdict] > SEVERITY[earlier[0]]:
            verdicts[judgement.statement] = (judgement.verdict, judged.question, day)
    for text, (verdict, lane, day) in verdicts.items():
        marks.append(Mark(lane, day, "statement", verdict, key=text))
    alerted = [j for j in judgements if j.position in by_position and store.is_alerted(j.id)]
    clashes = [ClashLink(j.statement, j.position, j.review) for j in alerted if j.statement in verdicts]
    used = list(dict.fromkeys(m.lane for m in sorted(marks, key=lambda m: m.lane)))
    lanes = [(q, lane_label(questions[q], language)) for q in questions if q in used]
    local = person.name_in(language)
    title = f"{local} ({person.name})" if local != person.name else person.name
    counts = {
        "statements": len(verdicts),
        "clashes": distinct_clashes(alerted),  # a statement that joined an alert counts with it
        "confirmed": sum(1 for j in alerted if j.review == "confirmed"),
        "dismissed": sum(1 for j in alerted if j.review == "dismissed"),
    }
    return Timeline(title, lanes, marks, clashes, counts)


@dataclass(frozen=True)
class PersonRecord:
    """What ``/person show`` shows: the person, their current stance per question, and the timeline."""

    person: Person
    current: list[tuple[str, Position]]
    timeline: Timeline


def person_record(store: StanceStore, person_id: str, language: str = "en") -> PersonRecord:
    """On the store's thread; the latest active position per question is the current stance."""
    timeline = build_timeline(store, person_id, language)
    person = store.person(person_id)
    assert person is not None  # build_timeline raised otherwise
    latest: dict[str, Position] = {}
    for position in sorted(store.positions(person_id), key=lambda p: p.date):
        latest[position.question] = position
    labels = {q.id: lane_label(q, language) for q in store.questions()}
    current = [(labels.get(q, q), p) for q, p in latest.items()]
    return PersonRecord(person, current, timeline)


@dataclass(frozen=True)
class Layout:
    """Where things go: shared by the renderer and by the tests that check its pixels."""

    timeline: Timeline
    start: date
    end: date

    @classmethod
    def of(cls, timeline: Timeline) -> Layout:
        days = [m.day for m in timeline.marks] or [date.today()]
        span = max((max(days) - min(days)).days, 1)
        pad = timedelta(days=max(30, span // 12))
        return cls(timeline, min(days) - pad, max(days) + pad)

    def x(self, day: date) -> int:
        return round(LEFT + (day - self.start).days / (self.end - self.start).days * (RIGHT - LEFT))

    def lane_height(self) -> float:
        return (BOTTOM - TOP) / max(len(self.timeline.lanes), 1)

    def lane_y(self, lane: str) -> int:
        index = [q for q, _ in self.timeline.lanes].index(lane)
        return round(TOP + (index + 0.5) * self.lane_height())

    def centres(self) -> list[tuple[Mark, tuple[int, int]]]:
        """Each mark's centre; marks that would overlap in a lane are stacked up and down around its middle.

        Linear in the number of marks: a mark is checked against the few already placed in the grid cells around
        it (cells as wide as two markers), and a column found full once is not searched again.
        """
        placed: list[tuple[Mark, tuple[int, int]]] = []
        step = 2 * RADIUS + 2
        room = max(int(self.lane_height() / 2) - RADIUS, 0)
        shifts = sorted(range(-room, room + 1, step), key=abs)
        lanes = {q: self.lane_y(q) for q, _ in self.timeline.lanes}
        grid: dict[tuple[str, int, int], list[tuple[int, int]]] = {}
        full: set[tuple[str, int]] = set()

        def free(lane: str, point: tuple[int, int]) -> bool:
            cx, cy = point[0] // step, point[1] // step
            return all(
                math.dist(point, other) >= step
                for dx in (-1, 0, 1)
                for dy in (-1, 0, 1)
                for other in grid.get((lane, cx + dx, cy + dy), ())
            )

        for mark in sorted(self.timeline.marks, key=lambda m: (m.lane, m.day, m.kind, m.key)):
            x, y = self.x(mark.day), lanes[mark.lane]
            if (mark.lane, x) not in full:
                spot = next(((x, y + s) for s in shifts if free(mark.lane, (x, y + s))), None)
                if spot is None:
                    full.add((mark.lane, x))  # every later mark on this column lands in the middle too
                else:
                    y = spot[1]
            grid.setdefault((mark.lane, x // step, y // step), []).append((x, y))
            placed.append((mark, (x, y)))
        return placed


def render(timeline: Timeline) -> bytes:
    """The timeline as a PNG (``WIDTH`` × ``HEIGHT``); pure CPU work, called off the event loop."""
    layout = Layout.of(timeline)
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.text((20, 14), _fit(timeline.title, font(22), WIDTH - 40), font=font(22), fill=INK)
    lane_h = layout.lane_height()
    for index, (_, label) in enumerate(timeline.lanes):
        top = TOP + index * lane_h
        if index % 2 == 0:
            draw.rectangle((LEFT - 8, top, RIGHT + 8, top + lane_h), fill=LANE_SHADE)
        _lane_label(draw, label, top, lane_h)
    _axis(draw, layout)
    centres = layout.centres()
    where = {(m.kind, m.key): xy for m, xy in centres}
    for index, clash in enumerate(timeline.clashes):
        start, end = where.get(("statement", clash.statement)), where.get(("position", clash.position))
        if start and end:
            _clash_line(draw, start, end, clash.review, lane=index % 3)
    for mark, (x, y) in centres:
        _marker(draw, mark.kind, mark.value, x, y, RADIUS, hollow=mark.hollow)
    _legend(draw)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=False)
    return buffer.getvalue()


MAX_TEXT = 400
"""Characters of a title or label ever measured: more never fits the picture, and a 10,000-character name
would otherwise cost seconds of text measuring."""


def _fit(text: str, typeface: ImageFont.FreeTypeFont, width: int) -> str:
    """``text``, cut with an ellipsis where it would pass ``width`` pixels (a binary search over its length)."""
    if len(text) <= MAX_TEXT and typeface.getlength(text) <= width:
        return text
    text = text[:MAX_TEXT]
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if typeface.getlength(text[:middle] + "…") <= width:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + "…"


def _wrap(text: str, typeface: ImageFont.FreeTypeFont, width: int, lines: int) -> list[str]:
    """Greedy word wrap into at most ``lines`` lines (words are spaces; a long word is cut)."""
    out: list[str] = []
    words = text[: MAX_TEXT * lines].split()
    while words and len(out) < lines:
        line = words.pop(0)
        while words and typeface.getlength(f"{line} {words[0]}") <= width:
            line = f"{line} {words.pop(0)}"
        out.append(line)
    if words:
        out[-1] = _fit(f"{out[-1]} {' '.join(words)}", typeface, width)
    return [_fit(line, typeface, width) for line in out]


def _lane_label(draw: ImageDraw.ImageDraw, label: str, top: float, height: float) -> None:
    typeface = font(15)
    line_h = 19
    lines = _wrap(label, typeface, LEFT - 30, max(1, min(3, int(height // line_h))))
    y = top + (height - line_h * len(lines)) / 2
    for line in lines:
        draw.text((14, y), line, font=typeface, fill=INK)
        y += line_h


def _axis(draw: ImageDraw.ImageDraw, layout: Layout) -> None:
    draw.line((LEFT - 8, BOTTOM + 4, RIGHT + 8, BOTTOM + 4), fill=MUTED, width=1)
    years = range(layout.start.year + 1, layout.end.year + 1)
    step = max(1, math.ceil(len(years) / 8))
    typeface = font(13)
    for year in years[::step]:
        x = layout.x(date(year, 1, 1))
        draw.line((x, BOTTOM + 4, x, BOTTOM + 9), fill=MUTED, width=1)
        draw.text((x, BOTTOM + 11), str(year), font=typeface, fill=MUTED, anchor="ma")
    if not years:
        draw.text((LEFT, BOTTOM + 11), layout.start.isoformat(), font=typeface, fill=MUTED)


def _marker(draw: ImageDraw.ImageDraw, kind: str, value: str, x: int, y: int, r: int, *, hollow: bool) -> None:
    colour = COLOURS[value]
    fill = None if hollow else colour
    if kind == "position":
        shape = {
            "favor": [(x, y - r), (x + r, y + r - 2), (x - r, y + r - 2)],
            "against": [(x - r, y - r + 2), (x + r, y - r + 2), (x, y + r)],
            "mixed": [(x, y - r), (x + r, y), (x, y + r), (x - r, y)],
        }[value]
        draw.polygon(shape, fill=fill, outline=colour, width=3 if hollow else 1)
    elif value == "inconsistent":
        draw.rectangle((x - r + 1, y - r + 1, x + r - 1, y + r - 1), fill=fill, outline=colour, width=2)
    elif value == "consistent":
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fill, outline=colour, width=2)
    else:
        small = r // 2
        draw.ellipse((x - small, y - small, x + small, y + small), fill=fill, outline=colour)


def _clash_line(
    draw: ImageDraw.ImageDraw, start: tuple[int, int], end: tuple[int, int], review: Review, lane: int = 0
) -> None:
    """A clash from the statement (``start``) to the position; a moderator's review is marked on it.

    Far apart, a straight line with the mark beside the statement. Close in time (the usual news cycle of a
    flip on a years-long axis), the markers sit one above the other and a straight line would hide under them,
    so the line leaves both to the right and joins them on a rail of its own (``lane`` keeps rails apart).
    """
    (sx, sy), (px, py) = start, end
    if abs(sx - px) >= 4 * RADIUS:
        points = [start, end]
        mark = (sx + RADIUS + 6, sy - RADIUS - 4)
    else:
        rail = max(sx, px) + RADIUS + 8 + 7 * lane
        points = [(sx + RADIUS + 1, sy), (rail, sy), (rail, py), (px + RADIUS + 1, py)]
        mark = (rail + 8, (sy + py) // 2)
    for a, b in itertools.pairwise(points):
        if review == "dismissed":
            dashes = max(int(math.dist(a, b) // 8), 1)
            for i in range(0, dashes, 2):
                draw.line((*_along(a, b, i / dashes), *_along(a, b, min((i + 1) / dashes, 1.0))), fill=INK, width=2)
        else:
            draw.line((*a, *b), fill=INK, width=3 if review == "confirmed" else 1)
    _review_mark(draw, *mark, review)


def _review_mark(draw: ImageDraw.ImageDraw, x: int, y: int, review: Review) -> None:
    """A tick for confirmed, a cross for dismissed, nothing while unreviewed: shapes, not only colours."""
    if review == "confirmed":
        draw.line((x - 5, y, x - 1, y + 4, x + 6, y - 5), fill=INK, width=3, joint="curve")
    elif review == "dismissed":
        draw.line((x - 4, y - 4, x + 4, y + 4), fill=INK, width=3)
        draw.line((x - 4, y + 4, x + 4, y - 4), fill=INK, width=3)


def _along(start: tuple[int, int], end: tuple[int, int], t: float) -> tuple[int, int]:
    return round(start[0] + (end[0] - start[0]) * t), round(start[1] + (end[1] - start[1]) * t)


LEGEND: list[tuple[str, str, str, bool]] = [
    ("position", "favor", "in favour", False),
    ("position", "against", "against", False),
    ("position", "mixed", "mixed", False),
    ("position", "favor", "proposed", True),
    ("statement", "consistent", "consistent", False),
    ("statement", "inconsistent", "clash", False),
    ("statement", "unrelated", "unrelated", False),
]


def _legend(draw: ImageDraw.ImageDraw) -> None:
    typeface = font(13)
    x, y = 20, HEIGHT - 34
    for kind, value, text, hollow in LEGEND:
        _marker(draw, kind, value, x + 7, y + 8, 7, hollow=hollow)
        draw.text((x + 19, y), text, font=typeface, fill=INK)
        x += 19 + int(typeface.getlength(text)) + 16
    reviews: list[tuple[Review, str]] = [
        ("confirmed", "confirmed"),
        ("dismissed", "dismissed"),
        ("unreviewed", "alerted"),
    ]
    for review, text in reviews:
        draw.line((x, y + 8, x + 22, y + 8), fill=INK, width=3 if review == "confirmed" else 1)
        _review_mark(draw, x + 30, y + 8, review)
        draw.text((x + 40, y), text, font=typeface, fill=INK)
        x += 40 + int(typeface.getlength(text)) + 16


class TimelineCache:
    """Rendered pictures by the digest of what they show: a person's picture is redrawn only when a record changes."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self.renders = 0
        self._pictures: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()  # called from worker threads; one render at a time is plenty

    def get(self, timeline: Timeline) -> bytes:
        key = timeline.digest()
        with self._lock:
            if key not in self._pictures:
                self._pictures[key] = render(timeline)
                self.renders += 1
                while len(self._pictures) > self.size:
                    self._pictures.popitem(last=False)
            self._pictures.move_to_end(key)
            return self._pictures[key]
