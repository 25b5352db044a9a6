"""Judge profiles: the class weights and alert threshold fitted for one model file.

Weights that suit one model are wrong for another (SmolLM2's, applied to Qwen2.5-Coder-0.5B, dropped its macro-F1
from 0.41 to 0.18), so they belong to the model file, keyed by its SHA-256, not to the code.
``bot.py eval FILE --tune`` fits them on the tune split and writes a profile; the shipped models' profiles live in
``models/profiles``. An unknown model runs with neutral weights and says so.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

from domain.records import VERDICTS

log = logging.getLogger(__name__)
SHIPPED = Path(__file__).resolve().parent / "profiles"
NEUTRAL: dict[str, float] = {verdict: 1.0 for verdict in VERDICTS}
DEFAULT_THRESHOLD = 0.5


class ProfileError(ValueError):
    """A profile file that cannot be used; the message names it."""


@dataclass(frozen=True)
class JudgeProfile:
    name: str
    sha256: str
    model: str
    pair_weights: dict[str, float] = field(default_factory=lambda: dict(NEUTRAL))
    """Class weights of the pair method (no stored question: the public benchmark, positions without a stance)."""
    pair_threshold: float = DEFAULT_THRESHOLD
    stance_weights: dict[str, float] = field(default_factory=lambda: dict(NEUTRAL))
    """Class weights of the stance method (a position with a question and a favor/against stance)."""
    stance_threshold: float = DEFAULT_THRESHOLD
    stance_check_threshold: float | None = None
    """Where set, a would-be stance alert gets the second look (:mod:`llm.tasks.judge`) and alerts only when its
    score (P(other side) × P(yes) with worked examples × (1 - P(against the other side))) reaches this."""
    tuned_on: dict[str, str] = field(default_factory=dict)
    """Per method, the data its weights and threshold were fitted on."""

    @property
    def neutral(self) -> bool:
        return not self.tuned_on

    def weights(self, method: str) -> dict[str, float]:
        return self.stance_weights if method == "stance" else self.pair_weights

    def threshold(self, method: str) -> float:
        return self.stance_threshold if method == "stance" else self.pair_threshold

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def read(cls, path: Path) -> JudgeProfile:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            profile = cls(**data)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, TypeError) as exc:
            raise ProfileError(f"{path} is not a judge profile ({exc}).") from None
        for weights in (profile.pair_weights, profile.stance_weights):
            if set(weights) != set(VERDICTS) or not all(isinstance(w, int | float) and w > 0 for w in weights.values()):
                raise ProfileError(f"{path}: weights need a positive number for each of {', '.join(VERDICTS)}.")
        thresholds = (profile.pair_threshold, profile.stance_threshold, profile.stance_check_threshold or 0.0)
        if not all(isinstance(t, int | float) and 0.0 <= t <= 1.0 for t in thresholds):
            raise ProfileError(f"{path}: thresholds must be between 0 and 1.")
        return profile


def neutral_profile(sha256: str, model: str) -> JudgeProfile:
    return JudgeProfile(name=f"neutral ({model})", sha256=sha256, model=model)


def find_profile(sha256: str, model: str, folders: list[Path]) -> JudgeProfile:
    """The first profile for this file's SHA-256 in ``folders`` (the user's first, then the shipped ones).

    A remote server's file cannot be hashed here, so its profile is matched by the model name it reports.
    """
    for folder in [*folders, SHIPPED]:
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            profile = JudgeProfile.read(path)
            if (profile.sha256 == sha256) if sha256 else (profile.model == model):
                return profile
    log.warning("No judge profile for %s (sha256 %s): neutral class weights; tune one with `bot.py eval FILE --tune`.",
                model, sha256[:12])  # fmt: skip
    return neutral_profile(sha256, model)
