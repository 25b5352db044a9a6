"""Is an article about AI policy? A keyword and entity pre-filter first, the model only for the rest.

The pre-filter is multilingual (English and Korean) and cheap: an article that names
no AI term at all is discarded without calling the model; one that names AI, a policy
term and a tracked person is kept without calling it either. Everything in between is
left to the model, which answers by the probabilities of "yes" and "no".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from llm.runtime.backend import LLM
from llm.tasks.prompts import RELEVANCE_LABELS, relevance_messages
from settings import Settings

_AI = re.compile(
    r"(?<![A-Za-z])(AI|A\.I\.|AGI|LLMs?|GPT-?\w*|ChatGPT|OpenAI|DeepMind|Anthropic|xAI)(?![A-Za-z])"
    r"|artificial intelligence|machine learning|generative|chatbot|neural network|frontier model"
    r"|인공지능|생성형|챗GPT|오픈AI|딥마인드|머신러닝|초거대",
    re.IGNORECASE,
)
_POLICY = re.compile(
    r"regulat\w*|legislat\w*|\blaws?\b|\bbills?\b|\bact\b|polic\w*|government|senate|congress|parliament|ban\w*"
    r"|pause|moratorium|open letter|safety|risk|licen[cs]\w*|oversight|executive order|treaty|summit|GPU"
    r"|규제|법안|법률|정책|정부|의회|금지|중단|공개서한|안전|위험|허가|감독|서명|GPU",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class RelevanceConfig:
    """Both stages are per-deployment settings; with the model off, unclear articles are kept."""

    prefilter: bool = True
    model: bool = True
    extra_terms: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> RelevanceConfig:
        return cls(settings.relevance_prefilter, settings.relevance_model, settings.relevance_terms)


class Decision(Enum):
    RELEVANT = "relevant"
    IRRELEVANT = "irrelevant"
    ASK_MODEL = "ask-model"


def prefilter(text: str, *, names_tracked_person: bool, extra_terms: tuple[str, ...] = ()) -> Decision:
    lowered = text.casefold()
    if not _AI.search(text) and not any(term.casefold() in lowered for term in extra_terms):
        return Decision.IRRELEVANT
    if _POLICY.search(text) and names_tracked_person:
        return Decision.RELEVANT
    return Decision.ASK_MODEL


async def is_relevant(
    engine: LLM, title: str, text: str, *, names_tracked_person: bool, config: RelevanceConfig | None = None
) -> bool:
    config = config or RelevanceConfig()
    decision = Decision.ASK_MODEL
    if config.prefilter:
        decision = prefilter(
            f"{title}\n{text}", names_tracked_person=names_tracked_person, extra_terms=config.extra_terms
        )
    if decision is not Decision.ASK_MODEL:
        return decision is Decision.RELEVANT
    if not config.model:
        return True
    probs = await engine.label_probabilities(relevance_messages(title, engine.truncate(text, 600)), RELEVANCE_LABELS)
    return probs["yes"] >= probs["no"]
