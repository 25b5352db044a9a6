"""The pipeline's model calls, recorded on the real weights and replayed at the same lengths on another machine.

A GPU machine that only a small upload reaches cannot hold the default model's weights, so ``benchmarks/llm.py``
runs there on a file of the same shape with zero weights (``benchmarks/shape_model.py``), whose text means nothing:
the live pipeline would take other paths there. Instead the pipeline runs once where the weights are
(``--record FILE``): every call the engine serves is kept with the task that asked for it (the ``llm.tasks`` or
``analysis`` module), its messages and the number of tokens it generated, and the time outside the model is measured.
``--replay FILE`` then makes each call again through the engine's own queue, in the same order (so llama.cpp reuses
the same KV prefixes), generating exactly the recorded number of tokens: a zero-weight model never emits its end
token. JSON-schema grammars are left out of the replay, because over zero logits the grammar would reject nearly
every token; with real weights the first candidate almost always passes. Articles a minute on the replaying machine
are the recorded articles over (the replayed model seconds + the recorded seconds outside the model), the latter
measured on the recording machine, usually the slower one.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from llm.runtime.backend import Messages
from llm.runtime.engine import LLMEngine
from llm.tasks.judge import ClashJudge

TASK_PACKAGES = ("llm.tasks.", "analysis.")


@dataclass
class Call:
    task: str  # the module that asked: judge, summarize, extract, relevance, translate, …
    kind: str  # "chat" (generation) or "labels" (label probabilities: prompt evaluation only)
    messages: Messages
    tokens: int = 0  # chat: tokens generated, the end token included
    labels: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class Trace:
    machine: str
    articles: int = 0
    pairs: int = 0  # ClashJudge.judge calls: one statement against one stored position
    wall_seconds: float = 0.0
    calls: list[Call] = field(default_factory=list)

    @property
    def model_seconds(self) -> float:
        return sum(call.seconds for call in self.calls)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Trace:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(**{**data, "calls": [Call(**call) for call in data["calls"]]})


def _asking_task() -> str:
    """The innermost task module on the awaiting chain (coroutine frames chain through ``f_back`` while running)."""
    frame = sys._getframe(2)
    while frame is not None:
        name = str(frame.f_globals.get("__name__", ""))
        if name.startswith(TASK_PACKAGES):
            return name.rsplit(".", 1)[-1]
        frame = frame.f_back  # type: ignore[assignment]
    return "other"


@contextlib.contextmanager
def record(engine: LLMEngine, judge: ClashJudge, trace: Trace) -> Iterator[None]:
    """Within the block, ``engine``'s two calls and ``judge.judge`` on these instances append to ``trace``; the
    instances' own methods come back when it ends."""
    chat, labels, judge_pair = engine.chat, engine.label_probabilities, judge.judge

    async def timed(call: Call, run: Awaitable[Any]) -> Any:
        started = time.perf_counter()
        result = await run
        call.seconds = time.perf_counter() - started
        trace.calls.append(call)
        return result

    async def recorded_chat(messages: Messages, **kwargs: Any) -> str:
        call = Call(_asking_task(), "chat", messages)
        text: str = await timed(call, chat(messages, **kwargs))
        call.tokens = engine.count_tokens(text) + 1
        return text

    async def recorded_labels(messages: Messages, wanted: tuple[str, ...], **kwargs: Any) -> dict[str, float]:
        return await timed(  # type: ignore[no-any-return]
            Call(_asking_task(), "labels", messages, labels=list(wanted)), labels(messages, wanted, **kwargs)
        )

    async def counted_judge(*args: Any, **kwargs: Any) -> Any:
        trace.pairs += 1
        return await judge_pair(*args, **kwargs)

    engine.chat = recorded_chat  # type: ignore[method-assign]
    engine.label_probabilities = recorded_labels  # type: ignore[method-assign]
    judge.judge = counted_judge  # type: ignore[method-assign]
    try:
        yield
    finally:  # the wrappers are instance attributes over the class's methods: removing them restores those
        del engine.chat, engine.label_probabilities, judge.judge


async def replay(engine: LLMEngine, trace: Trace) -> Trace:
    """Each recorded call again, in order, through ``engine``'s queue; the replayed trace with this machine's times."""
    replayed = Trace(engine.info.describe(), trace.articles, trace.pairs)
    for call in trace.calls:
        run = _replay_labels(engine, call) if call.kind == "labels" else _replay_chat(engine, call)
        started = time.perf_counter()
        tokens = await engine.submit(lambda cancelled, run=run: run())
        replayed.calls.append(Call(call.task, call.kind, call.messages, tokens, call.labels,
                                   time.perf_counter() - started))  # fmt: skip
    replayed.wall_seconds = replayed.model_seconds + (trace.wall_seconds - trace.model_seconds)
    return replayed


def _replay_labels(engine: LLMEngine, call: Call) -> Callable[[], int]:
    def run() -> int:
        engine._label_probabilities(call.messages, tuple(call.labels))
        return 0

    return run


def _replay_chat(engine: LLMEngine, call: Call) -> Callable[[], int]:
    """The generation, ``call.tokens`` long on a zero-weight model; returns the tokens it generated."""

    def run() -> int:
        formatted = engine._formatter(messages=call.messages)  # type: ignore[arg-type]
        prompt = engine.llama.tokenize(formatted.prompt.encode("utf-8"), add_bos=False, special=True)
        result: Any = engine.llama.create_completion(
            prompt=prompt, max_tokens=max(call.tokens, 1), temperature=0.0, repeat_penalty=1.1
        )
        return int(result["usage"]["completion_tokens"])

    return run


def report(trace: Trace, baseline: Trace | None = None) -> None:
    """Articles a minute, judge milliseconds a pair and each task's model seconds, beside ``baseline``'s."""
    rows = [("this run", trace)] + ([("recorded", baseline)] if baseline else [])
    for name, t in rows:
        per_task = Counter[str]()
        for call in t.calls:
            per_task[call.task] += call.seconds
        judge_ms = per_task["judge"] / max(t.pairs, 1) * 1000
        print(
            f"pipeline, {name:9} {t.articles / t.wall_seconds * 60:8.2f} articles/minute; {judge_ms:8.1f} ms a judged "
            f"pair ({t.pairs} pairs); model {t.model_seconds:6.1f} s of {t.wall_seconds:6.1f} s   [{t.machine}]"
        )
        print("    model seconds by task: " + ", ".join(f"{k} {v:.2f}" for k, v in per_task.most_common()))
    if baseline and (short := sum(b.tokens - t.tokens for t, b in zip(trace.calls, baseline.calls, strict=True))):
        print(f"    the replay generated {short} tokens fewer than recorded: its model is not a zero-weight one")
