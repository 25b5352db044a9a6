"""A fake model for tests about the plumbing around it (transactions, crashes), not about its judgement."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llm.runtime.backend import EngineInfo, Messages

ARTICLE = "Elon Musk's Twitter bought 10,000 GPUs for a generative AI project, weeks after the pause letter."


class ClashingModel:
    """Answers every call the pipeline makes: Musk bought GPUs, which is on the other side of pausing AI."""

    info = EngineInfo(Path("fake.gguf"), "", 0, 0, 0, False)
    queue_depth = 0

    async def chat(self, messages: Messages, **_: Any) -> str:
        return "Twitter bought GPUs."

    async def chat_json(self, messages: Messages, schema: dict[str, Any], **_: Any) -> dict[str, Any] | None:
        if "statements" in schema["properties"]:
            quote = "Elon Musk's Twitter bought 10,000 GPUs"
            title = messages[-1]["content"].split("\n")[1]  # one statement an article: one alert each
            claim = f"{ARTICLE} ({title})"
            if any(c.isdigit() for c in title):  # a number the claim must take from where it is written
                quote, claim = title, f"{title}, weeks after the pause letter"
            return {"statements": [{"person": "Elon Musk", "kind": "did", "claim": claim, "quote": quote}]}
        return {"reason": "Buying GPUs works against a pause."}

    async def label_probabilities(self, messages: Messages, labels: tuple[str, ...], **_: Any) -> dict[str, float]:
        if labels == ("yes", "no"):
            builds = "builds, trains" in messages[-1]["content"]
            return {"yes": 0.9 if builds else 0.1, "no": 0.1 if builds else 0.9}
        return {label: 1 / len(labels) for label in labels}

    def truncate(self, text: str, max_tokens: int) -> str:
        return text[: max_tokens * 4]

    async def aclose(self) -> None:
        return None
