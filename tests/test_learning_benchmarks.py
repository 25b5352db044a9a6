"""The offline re-fit benchmarks' own rules: the false-alert-halving rule and the twin map of the labelled set."""

from __future__ import annotations

from analysis.learning import ReviewedScore
from analysis.pairs import LABELLED
from benchmarks.learning_refit import halved
from benchmarks.learning_twins import twins


def test_the_halving_rule_takes_the_lowest_threshold_that_halves_the_reviews_false_alerts() -> None:
    """The shipped judge alerted 4 dismissed reviews (shipped ≥ 0.3); the learned scores of those are 0.9, 0.6, 0.5
    and 0.2: at 0.6 two still alert (half of four), so 0.6 is the lowest threshold that halves them, and the clash
    at 0.7 stays alerted."""
    scores = [ReviewedScore(False, 0.5, s) for s in (0.9, 0.6, 0.5, 0.2)] + [ReviewedScore(True, 0.4, 0.7)]
    assert halved(scores, 0.3) == 0.6
    assert halved([ReviewedScore(False, 0.1, 0.2)], 0.3) == 0.3  # nothing alerted to halve: the shipped threshold


def test_the_twin_map_pairs_each_event_told_in_both_languages() -> None:
    found = twins(LABELLED)
    assert found["aip-001"] == "aip-002" and found["aip-002"] == "aip-001"
    assert len(found) % 2 == 0 and all(found[twin] == pair for pair, twin in found.items())
