"""The polling cadence learned from a feed's publishing: faster when active, slower when quiet, within bounds."""

from __future__ import annotations

import pytest

from domain.records import Feed
from pipeline.cadence import Cadence

HOUR = 3600.0
CADENCE = Cadence(base_s=600.0, floor_s=300.0, ceiling_s=6 * HOUR)


def published_every(gap_s: float, times: int, start: float = 1_000_000.0) -> tuple[Feed, float]:
    """A feed polled each time it published, ``times`` times ``gap_s`` apart; and the last poll's time."""
    feed, now = Feed("https://news.example.com/feed.xml"), start
    for _ in range(times):
        now += gap_s
        feed = CADENCE.learned(feed, now, new_items=1)
    return feed, now


def test_a_new_feed_is_polled_at_the_base_interval() -> None:
    assert CADENCE.interval(Feed("u"), 0.0) == 600.0
    once, now = published_every(HOUR, 1)
    assert once.cadence_s == 0 and CADENCE.interval(once, now) == 600.0  # one find is no gap yet


@pytest.mark.parametrize(
    ("gap_s", "expected"),
    [(24 * HOUR, 600.0), (4 * 24 * HOUR, 1200.0), (4 * HOUR, 300.0), (HOUR, 300.0)],
    ids=["daily-base", "every-4-days", "every-4-hours-floor", "hourly-floor"],
)
def test_the_interval_grows_with_the_square_root_of_the_expected_gap(gap_s: float, expected: float) -> None:
    feed, now = published_every(gap_s, 6)
    assert feed.cadence_s == pytest.approx(gap_s)
    assert CADENCE.interval(feed, now) == pytest.approx(expected)


def test_a_quiet_feed_backs_off_by_itself_and_comes_back_when_it_publishes() -> None:
    feed, now = published_every(HOUR, 6)
    assert CADENCE.interval(feed, now + HOUR) == 300.0
    assert CADENCE.interval(feed, now + 8 * 24 * HOUR) == pytest.approx(1200.0)  # quiet 8 days: as if every 4
    back = CADENCE.learned(feed, now + 8 * 24 * HOUR, new_items=3)
    assert CADENCE.interval(back, now + 8 * 24 * HOUR) < 1200.0  # one long gap weighs 0.3 of the mean
    assert CADENCE.learned(feed, now + 60, new_items=0) is feed  # nothing new: nothing learned
