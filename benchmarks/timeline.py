"""Timeline benchmark: drawing a person's picture, beside Pillow saving a blank picture.

    python benchmarks/timeline.py [--markers 200 5000 20000] [--repeat 3]

Each size is drawn twice: as a year of records (marks crowd their columns) and with a 10,000-character name and
lane labels. The target is under 1 s for each on two cores; the baseline (a blank 1,000 × 500 PNG through the
same encoder) shows how much of it is drawing and how much is encoding, whatever the machine's speed.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drawing.timeline import HEIGHT, WIDTH, ClashLink, Mark, Timeline, render

LANES = [(f"q{i}", f"Question {i}: should frontier AI development be paused for six months?") for i in range(5)]
VALUES = [("position", "favor"), ("position", "against"), ("statement", "consistent"), ("statement", "inconsistent")]


def timeline(markers: int, *, long_text: bool = False) -> Timeline:
    """``markers`` marks over one year (the hard case: crowded columns), or at most 17 days apart when few."""
    start = date(2025, 1, 1)
    spacing = 17 if markers <= 200 else 365 / markers
    marks = [
        Mark(LANES[i % 5][0], start + timedelta(days=int(spacing * i)), *VALUES[i % 4], hollow=i % 7 == 0, key=f"m{i}")  # type: ignore[arg-type]
        for i in range(markers)
    ]
    clashes = [ClashLink(f"m{i}", f"m{i - 3}", "confirmed" if i % 2 else "dismissed") for i in range(3, markers, 8)]
    title = "일론 머스크 (Elon Musk)" + (" Musk" * 2000 if long_text else "")
    lanes = [(q, label * 100) for q, label in LANES] if long_text else LANES
    return Timeline(title, lanes, marks, clashes)


def blank() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (WIDTH, HEIGHT), "white").save(buffer, "PNG")
    return buffer.getvalue()


def best(fn: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markers", type=int, nargs="+", default=[200, 5000, 20000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    render(timeline(10))  # the font loads once
    baseline = best(blank, args.repeat)
    print(f"best of {args.repeat}; target < 1000 ms each")
    print(f"{'blank PNG (baseline)':34} {baseline * 1000:8.1f} ms")
    for markers in args.markers:
        for long_text in (False, True):
            picture = timeline(markers, long_text=long_text)
            ours = best(lambda picture=picture: render(picture), args.repeat)  # type: ignore[misc]
            label = f"{markers} markers{', 10,000-char texts' if long_text else ''}"
            print(f"{label:34} {ours * 1000:8.1f} ms   {ours / baseline:6.1f}x the baseline")


if __name__ == "__main__":
    main()
