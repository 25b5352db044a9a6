"""The timeline picture: its size, its pixels, its Korean, its cache, and /person show through fake interactions."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from cogs.common import PersonTransformer, UserError, tracked_person
from cogs.people import People
from domain.records import Article, Judgement, Position, RecordError, Review, Statement
from drawing.timeline import (
    BACKGROUND,
    COLOURS,
    HEIGHT,
    LANE_SHADE,
    RADIUS,
    WIDTH,
    Layout,
    TimelineCache,
    _clash_line,
    build_timeline,
    font,
    font_path,
    parse_day,
    render,
)
from storage.files.store import Store
from tests.test_cogs import fake_bot, interaction

GPUS = "Twitter bought 10,000 GPUs for a generative AI project"
SUPERCOMPUTER = "xAI will build the world's biggest supercomputer"
EU_ACT = "Musk backed the EU AI Act"


@pytest.fixture
def record(store: Store) -> Store:
    """Musk with a confirmed and a dismissed clash, a consistent statement and a proposed position."""
    statements = [
        Statement("s1", "elon-musk", GPUS, "https://n.example/1", date="2023-04-17"),
        Statement("s2", "elon-musk", SUPERCOMPUTER, "https://n.example/2", date="2024-05-20"),
        Statement("s3", "elon-musk", EU_ACT, "https://n.example/3", date="2024-09-01"),
    ]
    judgements = [
        Judgement("musk-fli-pause-2023", "elon-musk", GPUS, "inconsistent", 0.8, "r", judged_at="2023-04-18"),
        Judgement("musk-fli-pause-2023", "elon-musk", SUPERCOMPUTER, "inconsistent", 0.7, "r", judged_at="2024-05-21"),
        Judgement("musk-nga-regulate-2017", "elon-musk", EU_ACT, "consistent", 0.7, "r", judged_at="2024-09-02"),
    ]
    store.record_article(Article("a1", "https://n.example/1"), judgements, statements)
    for clash, review in zip(judgements[:2], ("confirmed", "dismissed"), strict=True):
        store.claim_alert(clash.id)
        store.review(clash.id, review, "mod")  # type: ignore[arg-type]
    store.add_position(
        Position(
            "proposed-grok",
            "elon-musk",
            "open-weights",
            "mixed",
            "Released Grok's weights",
            "https://n.example/4",
            "2024-03-17",
            status="proposed",
        )
    )
    return store


def test_a_timeline_is_a_png_of_discords_preview_size(record: Store) -> None:
    timeline = build_timeline(record, "elon-musk")
    picture = Image.open(io.BytesIO(render(timeline)))
    assert picture.format == "PNG" and picture.size == (WIDTH, HEIGHT) == (1000, 500)
    assert timeline.counts == {"statements": 3, "clashes": 2, "confirmed": 1, "dismissed": 1}
    assert [lane for lane, _ in timeline.lanes] == ["pause-frontier-ai", "regulate-ai", "open-weights"]


def test_every_marker_has_its_colour_and_a_proposed_one_is_hollow(record: Store) -> None:
    timeline = build_timeline(record, "elon-musk")
    picture = Image.open(io.BytesIO(render(timeline))).convert("RGB")
    seen = set()
    for mark, (x, y) in Layout.of(timeline).centres():
        colour = COLOURS[mark.value]
        if mark.hollow:
            assert picture.getpixel((x, y)) in (BACKGROUND, LANE_SHADE), mark  # hollow: the lane shows through
            assert picture.getpixel((x, y - RADIUS + 1)) == colour, mark  # its outline has the stance's colour
        else:
            assert picture.getpixel((x, y)) == colour, mark
            assert picture.getpixel((x, y + 2)) == colour, mark
        seen.add((mark.kind, mark.value, mark.hollow))
    assert seen >= {
        ("position", "favor", False),
        ("position", "mixed", True),
        ("statement", "inconsistent", False),
        ("statement", "consistent", False),
    }


def test_confirmed_dismissed_and_unreviewed_clashes_are_drawn_differently() -> None:
    """Solid and thick with a tick, dashed with a cross, thin with no mark: sampled along each line."""

    def drawn(review: Review) -> Image.Image:
        image = Image.new("RGB", (300, 60), BACKGROUND)
        _clash_line(ImageDraw.Draw(image), (40, 40), (280, 40), review)
        return image

    def inked(image: Image.Image, y: int) -> float:
        return sum(1 for x in range(60, 270) if sum(image.getpixel((x, y))) < 200) / 210  # type: ignore[arg-type]

    confirmed, dismissed, unreviewed = drawn("confirmed"), drawn("dismissed"), drawn("unreviewed")
    assert inked(confirmed, 40) == 1.0 and inked(confirmed, 41) == 1.0  # solid and thick
    assert 0.3 < inked(dismissed, 40) < 0.7  # dashed
    assert inked(unreviewed, 40) == 1.0 and inked(unreviewed, 42) == 0.0  # solid and thin
    mark = (40 + RADIUS + 6, 40 - RADIUS - 4)  # beside the statement's end

    def ink_near(image: Image.Image) -> int:
        x, y = mark
        return sum(1 for dx in range(-6, 7) for dy in range(-6, 7) if sum(image.getpixel((x + dx, y + dy))) < 200)  # type: ignore[arg-type]

    assert ink_near(confirmed) > 10 and ink_near(dismissed) > 10 and ink_near(unreviewed) == 0
    corner = (mark[0] - 4, mark[1] - 4)  # a cross reaches its upper-left corner; a tick does not
    assert sum(dismissed.getpixel(corner)) < 200 < sum(confirmed.getpixel(corner))  # type: ignore[arg-type]


def test_hangul_renders_as_glyphs_not_missing_boxes(record: Store) -> None:
    assert font_path().is_file()  # the pinned font is installed: without it this test fails, it never skips

    def drawn(text: str) -> bytes:
        image = Image.new("L", (200, 40), 255)
        ImageDraw.Draw(image).text((4, 4), text, font=font(20), fill=0)
        return image.tobytes()

    missing = drawn("\U000f0000" * 3)  # a private-use character: the font draws its missing-glyph box
    assert drawn("일론 머") != missing and drawn("일론 머") != drawn("   ")
    assert drawn("일") != drawn("론")  # each syllable its own glyph, not one box for all
    timeline = build_timeline(record, "elon-musk", "ko")
    assert timeline.title == "일론 머스크 (Elon Musk)"
    assert timeline.lanes[0][1] == "최첨단 AI 개발을 일시 중단해야 하는가?"


def test_the_picture_is_cached_until_the_persons_records_change(record: Store) -> None:
    cache = TimelineCache()
    first = cache.get(build_timeline(record, "elon-musk"))
    assert cache.get(build_timeline(record, "elon-musk")) is first and cache.renders == 1
    record.review(record.judgements("elon-musk")[0].id, "dismissed", "mod2")
    cache.get(build_timeline(record, "elon-musk"))
    assert cache.renders == 2


def test_two_hundred_markers_render_at_the_same_size(store: Store) -> None:
    statements = [
        Statement(
            f"s{i}", "elon-musk", f"statement {i}", "https://n.example/x", date=f"{2015 + i % 10}-0{1 + i % 9}-1{i % 9}"
        )
        for i in range(200)
    ]
    judgements = [
        Judgement(
            "musk-fli-pause-2023", "elon-musk", s.text, ("consistent", "unrelated", "inconsistent")[i % 3], 0.5, "r"
        )
        for i, s in enumerate(statements)
    ]
    store.record_article(Article("a", "https://n.example/x"), judgements, statements)
    timeline = build_timeline(store, "elon-musk")
    assert len(timeline.marks) >= 200
    assert Image.open(io.BytesIO(render(timeline))).size == (WIDTH, HEIGHT)


async def test_person_show_answers_with_the_picture_attached(record: Store, tmp_path: Path) -> None:
    cog = People(fake_bot(record))
    inter = interaction()
    musk = await tracked_person(record, "머스크")  # what the PersonTransformer hands the command
    await cog.person_show.callback(cog, inter, person=musk)
    assert inter.response.deferred
    [sent] = inter.followup.sent
    embed, attached = sent.kwargs["embed"], sent.kwargs["file"]
    assert attached.filename == "timeline.png" and embed.image.url == "attachment://timeline.png"
    assert Image.open(attached.fp).size == (WIDTH, HEIGHT)
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Should frontier AI development be paused?"].startswith("in favour, 2023-03-22")
    assert fields["Record"].startswith("3 statements judged · 2 clashes alerted · 1 confirmed · 1 dismissed")
    again = interaction()
    await cog.person_show.callback(cog, again, person=musk)
    assert cog.timelines.renders == 1  # nothing changed: the cached picture


async def test_person_show_refuses_an_unknown_person(record: Store) -> None:
    inter = interaction()
    inter.client = fake_bot(record)
    with pytest.raises(UserError, match="I know no person called 'Nobody'"):
        await PersonTransformer().transform(inter, "Nobody")  # before /person show runs


def test_twenty_thousand_marks_and_a_huge_name_still_draw() -> None:
    """Before: placing marks was quadratic (5,000 positions took 51 s) and a 10,000-character name took 11 s;
    benchmarks/timeline.py measures the time, this checks the picture."""
    from benchmarks.timeline import timeline

    picture = render(timeline(20_000, long_text=True))
    assert Image.open(io.BytesIO(picture)).size == (WIDTH, HEIGHT)


def test_a_date_past_the_calendar_is_refused_at_import_and_never_crashes_the_picture(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "data")
    try:
        row = {"id": "far", "person": "elon-musk", "question": "pause-frontier-ai", "stance": "favor",
               "claim": "c", "source_url": "https://example.org", "date": "9999-12-31"}  # fmt: skip
        with pytest.raises(RecordError, match="must lie in 1900 to 2100"):
            store.import_data({"positions": [row]})
        assert parse_day("9999-12-31") is None  # a date stored before the rule is left off the picture
    finally:
        store.close()
