"""The remote backend: an OpenAI-compatible chat server that several bot processes share.

Structured output uses the server's JSON-schema support (``response_format`` with a
``schema``, as llama.cpp's and llama-cpp-python's servers accept); label
probabilities come from the logprobs of the first answer token, summed over the
tokens that begin each label. Requests wait in a priority gate, so an interactive
``/ask`` overtakes background article work here too. Without the server's tokenizer,
text is cut by a conservative estimate of tokens per character (one a character for
Hangul, one per three otherwise).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
from dataclasses import dataclass
from typing import Any

import aiohttp

from domain.errors import ModelUnavailable
from domain.language import has_hangul
from llm.runtime.backend import JSONChat, Messages, Priority
from settings import ConfigError, Settings

TOP_LOGPROBS = 20


@dataclass(frozen=True)
class RemoteInfo:
    base_url: str
    model: str

    @property
    def model_name(self) -> str:
        return self.model

    @property
    def sha256(self) -> str:
        return ""  # the server's file is not ours to hash: its profile is found by model name

    @property
    def device(self) -> str:
        return f"remote server {self.base_url}"

    def describe(self) -> str:
        return f"model {self.model} served by {self.base_url}"


class PriorityGate:
    """At most ``slots`` requests at once; waiting ones go in priority order, then arrival order."""

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    @property
    def depth(self) -> int:
        return len(self._waiting)

    async def acquire(self, priority: int) -> None:
        if self._free > 0 and not self._waiting:
            self._free -= 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._seq), turn))
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.release()  # our turn came as we were cancelled: pass it on
            raise

    def release(self) -> None:
        while self._waiting:
            _, _, turn = heapq.heappop(self._waiting)
            if not turn.done():
                turn.set_result(None)
                return
        self._free += 1


class RemoteEngine(JSONChat):
    def __init__(self, session: aiohttp.ClientSession, base_url: str, model: str, concurrency: int) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.info = RemoteInfo(self.base_url, model)
        self._gate = PriorityGate(concurrency)
        self._running = 0

    @classmethod
    async def connect(cls, settings: Settings) -> RemoteEngine:
        """Open a session and ask the server which model it serves; a clear error when it does not answer."""
        headers = {"Authorization": f"Bearer {settings.llm_api_key.value}"} if settings.llm_api_key.value else {}
        session = aiohttp.ClientSession(headers=headers, timeout=aiohttp.ClientTimeout(total=600, sock_connect=10))
        base = settings.llm_base_url.rstrip("/")
        try:
            async with session.get(f"{base}/models") as resp:
                resp.raise_for_status()
                listed = [m["id"] for m in (await resp.json()).get("data", [])]
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            await session.close()
            raise ConfigError(f"LLM_BASE_URL {base} did not answer as an OpenAI-compatible server ({exc}).") from None
        model = settings.llm_model or (listed[0] if listed else "")
        if not model:
            await session.close()
            raise ConfigError(f"LLM_BASE_URL {base} lists no model; set LLM_MODEL.")
        return cls(session, base, model, settings.llm_concurrency)

    @property
    def queue_depth(self) -> int:
        return self._gate.depth + self._running

    async def _complete(self, body: dict[str, Any], priority: Priority, timeout: float | None) -> dict[str, Any]:
        await self._gate.acquire(priority)
        self._running += 1
        try:
            request = self.session.post(f"{self.base_url}/chat/completions", json={"model": self.info.model, **body})
            async with asyncio.timeout(timeout):
                async with request as resp:
                    if resp.status >= 500:
                        raise ModelUnavailable(f"{self.base_url} answered HTTP {resp.status}.")
                    if resp.status != 200:
                        raise RuntimeError(f"{self.base_url} answered HTTP {resp.status}: {(await resp.text())[:200]}")
                    reply: dict[str, Any] = await resp.json()
                    return reply
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError) as exc:
            # Refused, reset or timed out: the server is restarting or overloaded, not wrong about this article.
            raise ModelUnavailable(f"{self.base_url} did not answer ({type(exc).__name__}).") from exc
        finally:
            self._running -= 1
            self._gate.release()

    async def chat(
        self,
        messages: Messages,
        *,
        max_tokens: int,
        schema: dict[str, Any] | None = None,
        priority: Priority = Priority.BACKGROUND,
        timeout: float | None = None,
    ) -> str:
        body: dict[str, Any] = {"messages": messages, "max_tokens": max_tokens, "temperature": 0.0}
        if schema is not None:
            body["response_format"] = {"type": "json_object", "schema": schema}
        reply = await self._complete(body, priority, timeout)
        return str(reply["choices"][0]["message"].get("content") or "").strip()

    async def label_probabilities(
        self, messages: Messages, labels: tuple[str, ...], *, priority: Priority = Priority.BACKGROUND
    ) -> dict[str, float]:
        body = {
            "messages": messages,
            "max_tokens": 1,
            "temperature": 0.0,
            "logprobs": True,
            "top_logprobs": TOP_LOGPROBS,
        }
        reply = await self._complete(body, priority, None)
        content = (reply["choices"][0].get("logprobs") or {}).get("content") or []
        top = content[0].get("top_logprobs", []) if content else []
        return first_token_probabilities(top, labels)

    def truncate(self, text: str, max_tokens: int) -> str:
        budget, kept = float(max_tokens), 0
        for kept, char in enumerate(text):
            budget -= 1.0 if has_hangul(char) else 1 / 3
            if budget < 0:
                return text[:kept]
        return text

    async def aclose(self) -> None:
        await self.session.close()


def first_token_probabilities(top: list[dict[str, Any]], labels: tuple[str, ...]) -> dict[str, float]:
    """Share each top first token's probability among the labels it begins; normalised over the labels."""
    mass = dict.fromkeys(labels, 0.0)
    for entry in top:
        piece = str(entry.get("token", "")).strip().casefold()
        matches = [label for label in labels if piece and label.casefold().startswith(piece)]
        for label in matches:
            mass[label] += math.exp(float(entry["logprob"])) / len(matches)
    total = sum(mass.values())
    if total == 0:
        return {label: 1 / len(labels) for label in labels}
    return {label: m / total for label, m in mass.items()}
