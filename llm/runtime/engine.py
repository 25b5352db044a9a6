"""One llama.cpp model per process, behind an async front that never blocks the event loop.

Every call becomes a job on a priority queue served by one dedicated worker thread
(llama.cpp contexts are not thread-safe, and one model cannot run two calls at once
anyway). Interactive work (``/ask``) overtakes background article work; a job can be
cancelled or timed out, and a running generation then stops at the next token.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import json
import logging
import math
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import llama_cpp
import numpy as np
from llama_cpp import Llama, LlamaGrammar, StoppingCriteriaList
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from llm.runtime.backend import EngineInfo, JSONChat, Messages, Priority
from llm.runtime.threads import default_threads
from llm.runtime.weights import file_sha256, resolve_model_path
from settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


class LLMCancelled(Exception):
    """The job was cancelled or timed out while the model was generating."""


@dataclass(order=True)
class _Job:
    priority: int
    seq: int
    fn: Callable[[], Any] = field(compare=False)
    future: concurrent.futures.Future[Any] = field(compare=False)
    cancelled: threading.Event = field(compare=False)


class LLMEngine(JSONChat):
    def __init__(self, llama: Llama, info: EngineInfo) -> None:
        self.llama = llama
        self.info = info
        self._queue: queue.PriorityQueue[_Job] = queue.PriorityQueue()
        self._seq = itertools.count()
        self._current: _Job | None = None
        self._formatter = _chat_formatter(llama)
        self._grammars: dict[str, LlamaGrammar] = {}
        self._worker = threading.Thread(target=self._work, name="llm-worker", daemon=True)
        self._worker.start()

    @classmethod
    def load(cls, settings: Settings) -> LLMEngine:
        """Load the configured model (blocking: call it off the event loop)."""
        path = resolve_model_path(settings.model_path)
        supported = bool(llama_cpp.llama_supports_gpu_offload())
        layers = settings.n_gpu_layers if settings.n_gpu_layers is not None else (-1 if supported else 0)
        if not supported:
            layers = 0
        threads = settings.llm_threads or default_threads()
        llama = Llama(
            model_path=str(path),
            n_ctx=settings.n_ctx,
            n_batch=settings.n_batch,
            n_threads=threads,
            n_threads_batch=settings.llm_batch_threads or threads,
            n_gpu_layers=layers,
            flash_attn=supported and layers != 0,
            verbose=False,
        )
        info = EngineInfo(path, file_sha256(path), path.stat().st_size, llama.n_ctx(), layers, supported)
        log.info("Loaded %s", info.describe())
        return cls(llama, info)

    # -- the queue -------------------------------------------------------------------

    @property
    def queue_depth(self) -> int:
        return self._queue.qsize() + (1 if self._current is not None else 0)

    async def submit(
        self,
        fn: Callable[[threading.Event], T],
        *,
        priority: Priority = Priority.BACKGROUND,
        timeout: float | None = None,
    ) -> T:
        """Run ``fn(cancel_event)`` on the model thread; cancellation and timeouts set the event."""
        cancelled = threading.Event()
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._queue.put(_Job(int(priority), next(self._seq), lambda: fn(cancelled), future, cancelled))
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout)
        except (asyncio.CancelledError, TimeoutError):
            cancelled.set()
            raise

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job.seq < 0:  # the stop sentinel from close()
                return
            if not job.future.set_running_or_notify_cancel():
                continue
            self._current = job
            try:
                job.future.set_result(job.fn())
            except BaseException as exc:
                job.future.set_exception(exc)
            finally:
                self._current = None

    # -- calls -----------------------------------------------------------------------

    async def chat(
        self,
        messages: Messages,
        *,
        max_tokens: int,
        schema: dict[str, Any] | None = None,
        priority: Priority = Priority.BACKGROUND,
        timeout: float | None = None,
    ) -> str:
        """Greedy chat completion; with ``schema`` the output is constrained by a JSON-schema grammar.

        The chat template is applied here and the completion API called directly,
        because only that API takes a stopping criterion, the cheap per-token check
        that lets a cancelled or timed-out call stop at the next token.
        """

        def run(cancelled: threading.Event) -> str:
            formatted = self._formatter(messages=messages)  # type: ignore[arg-type]
            prompt = self.llama.tokenize(formatted.prompt.encode("utf-8"), add_bos=False, special=True)
            result: Any = self.llama.create_completion(
                prompt=prompt,
                max_tokens=max_tokens,
                temperature=0.0,
                repeat_penalty=1.1,
                stop=formatted.stop,
                stopping_criteria=StoppingCriteriaList([_stop_when(cancelled)]),
                grammar=self._grammar(schema) if schema is not None else None,
            )
            if cancelled.is_set():
                raise LLMCancelled("cancelled while generating")
            return str(result["choices"][0]["text"] or "").strip()

        return await self.submit(run, priority=priority, timeout=timeout)

    def _grammar(self, schema: dict[str, Any]) -> LlamaGrammar:
        """The JSON-schema grammar, built once per schema (building one takes milliseconds)."""
        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            self._grammars[key] = LlamaGrammar.from_json_schema(key, verbose=False)
        return self._grammars[key]

    async def label_probabilities(
        self, messages: Messages, labels: tuple[str, ...], *, priority: Priority = Priority.BACKGROUND
    ) -> dict[str, float]:
        """P(label) for each label, read from the model's next-token distribution (no sampling)."""

        def run(cancelled: threading.Event) -> dict[str, float]:
            return self._label_probabilities(messages, labels)

        return await self.submit(run, priority=priority)

    def _label_probabilities(self, messages: Messages, labels: tuple[str, ...]) -> dict[str, float]:
        prompt = self._formatter(messages=messages).prompt  # type: ignore[arg-type]
        tokens = self.llama.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        scores = {label: self._sequence_logprob(tokens, label) for label in labels}
        top = max(scores.values())
        weights = {label: math.exp(score - top) for label, score in scores.items()}
        total = sum(weights.values())
        return {label: w / total for label, w in weights.items()}

    def _sequence_logprob(self, prompt: list[int], label: str) -> float:
        """log P(label | prompt), summed over the label's tokens."""
        ids = self.llama.tokenize(label.encode("utf-8"), add_bos=False, special=False)
        logprob = 0.0
        for i, token in enumerate(ids):
            self._eval_reusing_prefix(prompt + ids[:i])
            logprob += float(self._next_token_logprobs()[token])
        return logprob

    def _next_token_logprobs(self) -> np.ndarray:
        """Log-softmax of the logits the last evaluated token produced."""
        n_vocab = self.llama.n_vocab()
        logits = np.ctypeslib.as_array(self.llama._ctx.get_logits_ith(-1), shape=(n_vocab,)).astype(np.float64)
        shifted = logits - logits.max()
        return shifted - math.log(np.exp(shifted).sum())

    def _eval_reusing_prefix(self, tokens: list[int]) -> None:
        """Evaluate ``tokens``, keeping the KV cache of the prefix shared with the last call.

        At least the last token is evaluated, so its logits (predicting the next token) exist.
        """
        cached = self.llama.input_ids[: self.llama.n_tokens].tolist()
        prefix = min(Llama.longest_token_prefix(cached, tokens), len(tokens) - 1)
        self.llama.n_tokens = prefix
        self.llama.eval(tokens[prefix:])

    # -- tokens ----------------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def truncate(self, text: str, max_tokens: int) -> str:
        """Cut ``text`` to ``max_tokens`` tokens (not characters: Korean costs several tokens a syllable)."""
        tokens = self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False)
        if len(tokens) <= max_tokens:
            return text
        return self.llama.detokenize(tokens[:max_tokens]).decode("utf-8", errors="ignore")

    def close(self) -> None:
        """Stop the worker before freeing the model: freeing it under a running generation crashes the process."""
        current = self._current
        if current is not None:
            current.cancelled.set()  # the generation stops at its next token
        stop: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._queue.put(_Job(-1, -1, lambda: None, stop, threading.Event()))  # sorts before every job
        self._worker.join()
        self.llama.close()

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)


def _chat_formatter(llama: Llama) -> Jinja2ChatFormatter:
    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        raise ValueError("The model file has no chat template; choose an instruction-tuned GGUF for MODEL_PATH.")
    eos, bos = llama.token_eos(), llama.token_bos()
    return Jinja2ChatFormatter(
        template=template,
        eos_token=llama._model.token_get_text(eos) if eos != -1 else "",
        bos_token=llama._model.token_get_text(bos) if bos != -1 else "",
        add_generation_prompt=True,
    )


def _stop_when(cancelled: threading.Event) -> Callable[[Any, Any], bool]:
    """A stopping criterion checked after every token (a logits processor would cost 5% of the speed)."""

    def criterion(input_ids: Any, logits: Any) -> bool:
        return cancelled.is_set()

    return criterion
