"""The learning curve as a picture: false-alert rate and recall on unseen pairs against the number of reviews.

Drawn with Pillow and the pinned Noto Sans KR, as the timeline is, in Okabe-Ito colours; one line a measure,
a dot a point, its value written beside it: the rates at the shipped threshold and at the re-fitted one.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from drawing.timeline import BACKGROUND, COLOURS, INK, MUTED, font

WIDTH, HEIGHT = 800, 420
LEFT, RIGHT, TOP, BOTTOM = 70, 740, 60, 360


SERIES = (
    ("false-alert rate", COLOURS["against"]),
    ("recall", COLOURS["favor"]),
    ("false-alert rate, re-fitted threshold", COLOURS["mixed"]),
    ("recall, re-fitted threshold", COLOURS["consistent"]),
)
"""One line per measure, in the order of a point's values after its review count."""


def render_curve(points: list[tuple[int, float, float, float, float]], title: str) -> bytes:
    """``points``: (reviews, then one rate 0-1 per ``SERIES`` entry). A PNG of ``WIDTH`` × ``HEIGHT``."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.text((20, 14), title, font=font(20), fill=INK)
    most = max((point[0] for point in points), default=1) or 1

    def x(k: int) -> int:
        return LEFT + round((RIGHT - LEFT) * k / most)

    def y(rate: float) -> int:
        return BOTTOM - round((BOTTOM - TOP) * rate)

    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        draw.line([(LEFT, y(tick)), (RIGHT, y(tick))], fill=(230, 230, 230))
        draw.text((20, y(tick) - 9), f"{tick:.2f}", font=font(13), fill=MUTED)
    for point in points:
        draw.text((x(point[0]) - 8, BOTTOM + 8), str(point[0]), font=font(13), fill=MUTED)
    draw.text((LEFT, BOTTOM + 30), "reviews a server has made", font=font(14), fill=INK)
    for index, (name, colour) in enumerate(SERIES, start=1):
        values = [(x(point[0]), y(point[index])) for point in points]
        draw.line(values, fill=colour, width=3)
        for (px, py), point in zip(values, points, strict=True):
            draw.ellipse([px - 5, py - 5, px + 5, py + 5], fill=colour)
            below = index > 2  # the re-fitted rates' values under their dots, the shipped threshold's above
            draw.text((px + 7, py + 4 if below else py - 20), f"{point[index]:.2f}", font=font(13), fill=colour)
        draw.text((RIGHT - 280, TOP + 4 + 18 * (index - 1)), name, font=font(14), fill=colour)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
