"""Timeline benchmark: drawing a person's picture with 200 markers, beside Pillow saving a blank picture.

    python benchmarks/timeline.py [--markers 200] [--repeat 10]

The target is under 1 s on two cores; the baseline (a blank 1,000 × 500 PNG through the same encoder) shows how
much of it is drawing and how much is encoding, whatever the machine's speed.
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


def timeline(markers: int) -> Timeline:
    start = date(2015, 1, 1)
    marks = [
        Mark(LANES[i % 5][0], start + timedelta(days=17 * i), *VALUES[i % 4], hollow=i % 7 == 0, key=f"m{i}")  # type: ignore[arg-type]
        for i in range(markers)
    ]
    clashes = [ClashLink(f"m{i}", f"m{i - 3}", "confirmed" if i % 2 else "dismissed") for i in range(3, markers, 8)]
    return Timeline("일론 머스크 (Elon Musk)", LANES, marks, clashes)


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
    parser.add_argument("--markers", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    picture = timeline(args.markers)
    render(picture)  # the font loads once
    ours, baseline = best(lambda: render(picture), args.repeat), best(blank, args.repeat)
    print(f"{args.markers} markers, {len(picture.clashes)} clash lines, best of {args.repeat}")
    print(f"render timeline      {ours * 1000:8.1f} ms   target < 1000 ms")
    print(f"blank PNG (baseline) {baseline * 1000:8.1f} ms   timeline = {ours / baseline:.1f}x the baseline")


if __name__ == "__main__":
    main()
