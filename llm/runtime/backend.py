"""The model interface the pipeline uses, and the choice of backend by configuration.

Two backends implement it: :class:`llm.runtime.engine.LLMEngine` runs llama.cpp in this
process; :class:`llm.runtime.remote.RemoteEngine` speaks the OpenAI-compatible chat API of
a server (llama.cpp's, llama-cpp-python's, vLLM) that several bot processes can share.
``LLM_BASE_URL`` decides which; no code changes.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any, Protocol

Messages = list[dict[str, str]]
"""A chat: ``{"role": "system" | "user" | "assistant", "content": text}`` in order."""


class Priority(IntEnum):
    INTERACTIVE = 0
    BACKGROUND = 10


def json_object(text: str, schema: dict[str, Any]) -> dict[str, Any] | None:
    """The reply as a JSON object holding the schema's required keys, or None."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    if isinstance(value, dict) and all(key in value for key in schema.get("required", [])):
        return value
    return None


class JSONChat(ABC):
    """``chat_json``, written once on top of each backend's ``chat``."""

    @abstractmethod
    async def chat(
        self,
        messages: Messages,
        *,
        max_tokens: int,
        schema: dict[str, Any] | None = None,
        priority: Priority = Priority.BACKGROUND,
        timeout: float | None = None,
    ) -> str: ...

    async def chat_json(
        self,
        messages: Messages,
        schema: dict[str, Any],
        *,
        max_tokens: int,
        priority: Priority = Priority.BACKGROUND,
        timeout: float | None = None,
    ) -> dict[str, Any] | None:
        """A JSON object holding ``schema``'s required keys, asked twice at most; None: the model gave none."""
        for _ in range(2):
            text = await self.chat(messages, max_tokens=max_tokens, schema=schema, priority=priority, timeout=timeout)
            value = json_object(text, schema)
            if value is not None:
                return value
        return None


@dataclass(frozen=True)
class EngineInfo:
    model_path: Path
    sha256: str
    size_bytes: int
    n_ctx: int
    n_gpu_layers: int
    gpu_offload_supported: bool

    @property
    def model_name(self) -> str:
        return self.model_path.name

    @property
    def device(self) -> str:
        if self.n_gpu_layers == 0:
            return "CPU" if self.gpu_offload_supported else "CPU (this llama.cpp build has no GPU support)"
        layers = "all layers" if self.n_gpu_layers < 0 else f"{self.n_gpu_layers} layers"
        return f"GPU ({layers})"

    def describe(self) -> str:
        return (
            f"model {self.model_path} ({self.size_bytes / 2**20:.0f} MiB), context {self.n_ctx} tokens, "
            f"layers on {self.device}"
        )


class ModelInfo(Protocol):
    @property
    def model_name(self) -> str: ...
    @property
    def sha256(self) -> str: ...
    @property
    def device(self) -> str: ...
    def describe(self) -> str: ...


class LLM(Protocol):
    @property
    def info(self) -> ModelInfo: ...
    @property
    def queue_depth(self) -> int: ...

    async def chat(
        self,
        messages: Messages,
        *,
        max_tokens: int,
        schema: dict[str, Any] | None = None,
        priority: Priority = ...,
        timeout: float | None = None,
    ) -> str: ...

    async def chat_json(
        self,
        messages: Messages,
        schema: dict[str, Any],
        *,
        max_tokens: int,
        priority: Priority = ...,
        timeout: float | None = None,
    ) -> dict[str, Any] | None: ...

    async def label_probabilities(
        self, messages: Messages, labels: tuple[str, ...], *, priority: Priority = ...
    ) -> dict[str, float]: ...

    def truncate(self, text: str, max_tokens: int) -> str: ...
    async def aclose(self) -> None: ...
