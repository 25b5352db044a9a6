"""LLM benchmark: raw llama.cpp against the project's engine on the same prompts, in one run.

    python benchmarks/llm.py [--runs 5] [--tokens 64]
    python benchmarks/llm.py --threads      # tokens/s at 1, 2, 4 … N threads, beside the chosen default

Measured: generation tokens per second through raw ``Llama.create_chat_completion``
and through the engine (its queue, worker thread and cancellation hook); prompt
processing tokens per second; the speed-up llama.cpp's KV-prefix reuse gives the
judge's second and later calls (same system prompt, other pairs); the event loop's
largest lag while the engine generates; and articles per minute through the whole
pipeline (relevance, summary, extraction, judging) on the demo's and shared articles.
MODEL_PATH, N_GPU_LAYERS and the other settings apply as for the bot.

It also measures what portability costs: the installed (portable) llama.cpp build against a native
(``-march=native``) build of the same version, in child processes on the same model and prompt, alternating.
The native wheel comes from set-up's wheel cache: ``LLAMA_NATIVE=1 make llama`` builds it (then ``make llama``
puts the portable one back), or ``--native-wheel`` names one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import platform
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.article import ArticleAnalysis
from benchmarks import trace
from benchmarks.lag import measure_lag
from cli.demo import ENGLISH_PAGE, ITEMS
from domain.records import FeedItem
from ingest.parse import html_to_text
from llm.runtime.backend import Messages
from llm.runtime.engine import LLMEngine
from llm.runtime.threads import allowed_cpus, default_threads
from llm.tasks.judge import ClashJudge
from llm.tasks.prompts import JUDGE_LABELS, judge_messages, summary_messages
from settings import Settings
from storage.files.store import Store
from tools import llama_build

BUILD_PROBE = """
import sys, time
from llama_cpp import Llama
llama = Llama(model_path=sys.argv[1], n_ctx=1024, verbose=False)
prompt = llama.tokenize(b"Write a short paragraph about the history of the printing press.")
def rate(count):
    llama.reset()
    started = time.perf_counter()
    for number, _ in enumerate(llama.generate(prompt, temp=0.0), start=1):  # greedy, past any end-of-text
        if number == count:
            return count / (time.perf_counter() - started)
rate(8)
print(max(rate(int(sys.argv[2])) for _ in range(3)))
"""

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
PAIRS = [
    ("We call for a six-month pause on giant AI experiments.", "We bought 10,000 GPUs for our own AI model."),
    ("Governments must regulate AI before it is too late.", "California should pass the SB 1047 AI safety bill."),
    ("Open models are safer than closed ones.", "We will keep our largest model's weights private."),
    ("AI is a risk of human extinction.", "Fears of AI killing everyone are preposterous."),
    ("A new agency should license frontier AI.", "Licensing AI would only help the incumbents."),
    ("We support strict rules for AI labs.", "We lobbied against the EU AI Act's rules for foundation models."),
]


def articles() -> list[FeedItem]:
    texts = [("Twitter buys thousands of GPUs", html_to_text(ENGLISH_PAGE))]
    texts += [(item["title"], item["content"] or item["description"]) for item in ITEMS[1:]]
    korean = SHARED / "fixtures" / "musk-twitter-ai-ko.txt"
    if korean.exists():
        texts.append(("머스크 트위터 AI", korean.read_text(encoding="utf-8")))
    return [
        FeedItem(f"bench:{i}", f"https://bench.example.com/{i}", t, x, "", "bench") for i, (t, x) in enumerate(texts)
    ]


def prompts(runs: int) -> list[Messages]:
    return [summary_messages(f"Article {i}", html_to_text(ENGLISH_PAGE), "en") for i in range(runs)]


async def generation(engine: LLMEngine, runs: int, tokens: int) -> tuple[float, float, int]:
    """(raw tokens/s, engine tokens/s, prompts whose outputs differed), alternating on the same prompts.

    Greedy decoding makes both produce the same tokens, so the engine's rate is the raw token
    count over the engine's time: the ratio is pure overhead.
    """
    generated = raw_time = engine_time = 0.0
    differed = 0

    def raw(messages: Messages) -> dict:  # type: ignore[type-arg]
        engine.llama.reset()
        return engine.llama.create_chat_completion(  # type: ignore[return-value]
            messages=messages,  # type: ignore[arg-type]
            max_tokens=tokens,
            temperature=0.0,
            repeat_penalty=1.1,  # the engine's sampling settings, so both generate the same text
        )

    for number, messages in enumerate(prompts(runs)):
        for first_raw in (number % 2 == 0, number % 2 == 1):  # alternate the order: no side gets the warm start
            if first_raw:
                started = time.perf_counter()
                result = await asyncio.to_thread(raw, messages)
                raw_time += time.perf_counter() - started
                generated += result["usage"]["completion_tokens"]
                expected = (result["choices"][0]["message"]["content"] or "").strip()
            else:
                engine.llama.reset()
                started = time.perf_counter()
                text = await engine.chat(messages, max_tokens=tokens)
                engine_time += time.perf_counter() - started
        differed += text != expected
    return generated / raw_time, generated / engine_time, differed


def prompt_processing(engine: LLMEngine) -> float:
    tokens = engine.llama.tokenize(html_to_text(ENGLISH_PAGE).encode() * 3, add_bos=True)
    engine.llama.reset()
    started = time.perf_counter()
    engine.llama.eval(tokens)
    return len(tokens) / (time.perf_counter() - started)


async def prefix_reuse(engine: LLMEngine) -> tuple[float, float]:
    """(first call seconds, mean seconds of the later calls) for the judge's label probabilities."""
    engine.llama.reset()
    started = time.perf_counter()
    await engine.label_probabilities(judge_messages(*PAIRS[0]), JUDGE_LABELS)
    first = time.perf_counter() - started
    started = time.perf_counter()
    for pair in PAIRS[1:]:
        await engine.label_probabilities(judge_messages(*pair), JUDGE_LABELS)
    return first, (time.perf_counter() - started) / (len(PAIRS) - 1)


async def loop_lag(engine: LLMEngine, tokens: int) -> float:
    async def generate() -> None:
        for messages in prompts(2):
            await engine.chat(messages, max_tokens=tokens)

    _, lag_ms = await measure_lag(generate)
    return lag_ms


async def pipeline_rate(
    engine: LLMEngine, settings: Settings, recording: trace.Trace | None = None
) -> tuple[int, float]:
    """(articles, articles a minute) through the whole pipeline; with ``recording``, every model call is kept in it."""
    with tempfile.TemporaryDirectory(prefix="stancewatch-bench-") as tmp:
        store = Store.open(Path(tmp))
        judge = ClashJudge.for_engine(engine, settings)
        pipeline = ArticleAnalysis(engine, store, judge)
        batch = articles()
        started = time.perf_counter()
        with trace.record(engine, judge, recording) if recording is not None else contextlib.nullcontext():
            for item in batch:
                await pipeline.analyse(item)
        elapsed = time.perf_counter() - started
        store.close()
    if recording is not None:
        recording.articles, recording.wall_seconds = len(batch), elapsed
    return len(batch), len(batch) / elapsed * 60


def build_rate(model: Path, tokens: int, path: str | None) -> float:
    """Best generation tokens/s of the llama.cpp found first on ``path`` (None: the installed build)."""
    env = {**os.environ, "PYTHONPATH": path} if path else dict(os.environ)
    out = subprocess.run(
        [sys.executable, "-c", BUILD_PROBE, str(model), str(tokens)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def native_wheel(given: Path | None) -> Path | None:
    if given is not None:
        return given
    folder = llama_build.wheel_dir(llama_build.cmake_args(platform.machine(), {"LLAMA_NATIVE": "1"}), dict(os.environ))
    wheels = sorted(folder.glob("llama_cpp_python-*.whl"))
    return wheels[-1] if wheels else None


def portability(model: Path, tokens: int, wheel: Path | None, rounds: int = 2) -> None:
    """Portable (installed) against native build, alternating order, best of each."""
    if wheel is None:
        print("portable vs native build        skipped: no native wheel (build one with LLAMA_NATIVE=1 make llama)")
        return
    with tempfile.TemporaryDirectory(prefix="stancewatch-native-") as tmp:
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(tmp)
        portable = native = 0.0
        for number in range(rounds):
            for which in ("portable", "native") if number % 2 == 0 else ("native", "portable"):
                if which == "portable":
                    portable = max(portable, build_rate(model, tokens, None))
                else:
                    native = max(native, build_rate(model, tokens, tmp))
    print(f"generation, portable build     {portable:8.1f} tokens/s   (x86-64-v3 on x86_64; {model.name})")
    print(
        f"generation, native build       {native:8.1f} tokens/s   (portable runs at {portable / native:.1%} of native)"
    )


async def thread_table(settings: Settings, runs: int, tokens: int) -> None:
    """Generation (raw and through the engine) and prompt processing at each thread count, one model load each."""
    allowed = len(allowed_cpus())
    counts = sorted({1, allowed, *(2**k for k in range(1, 8) if 2**k < allowed)})
    chosen = default_threads()
    print(f"usable CPUs {allowed}, default threads {chosen} (physical cores within affinity and cgroup quota)")
    print(f"{'threads':>7} {'raw tok/s':>10} {'engine tok/s':>13} {'engine/raw':>11} {'prompt tok/s':>13}")
    for count in counts:
        engine = await asyncio.to_thread(
            LLMEngine.load, dataclasses.replace(settings, llm_threads=count, llm_batch_threads=count)
        )
        raw, ours, _ = await generation(engine, runs, tokens)
        mark = "  <- default" if count == chosen else ""
        print(f"{count:7d} {raw:10.1f} {ours:13.1f} {ours / raw:11.1%} {prompt_processing(engine):13.1f}{mark}")
        await engine.aclose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--native-wheel", type=Path, help="a llama-cpp-python wheel built with -DGGML_NATIVE=ON")
    parser.add_argument("--threads", action="store_true", help="only the table of speed by thread count")
    parser.add_argument("--record", type=Path, help="keep the pipeline's model calls in FILE (trace.py)")
    parser.add_argument("--replay", type=Path, help="replay a recorded pipeline instead of running it (a shape model)")
    args = parser.parse_args()
    settings = Settings.from_env(env_file=None)
    if args.threads:
        await thread_table(settings, args.runs, args.tokens)
        return
    engine = await asyncio.to_thread(LLMEngine.load, settings)
    print(engine.info.describe())
    portability(engine.info.model_path, args.tokens, native_wheel(args.native_wheel))
    raw, ours, differed = await generation(engine, args.runs, args.tokens)
    print(f"generation, raw llama.cpp      {raw:8.1f} tokens/s")
    print(f"generation, the engine         {ours:8.1f} tokens/s   ({ours / raw:.1%} of raw; target >= 95%)")
    print(f"outputs that differed           {differed:7d} of {args.runs} (greedy decoding: expected 0)")
    print(f"prompt processing              {prompt_processing(engine):8.1f} tokens/s")
    first, later = await prefix_reuse(engine)
    print(f"judge call, cold cache         {first * 1000:8.1f} ms")
    print(f"judge call, shared prefix      {later * 1000:8.1f} ms   (speed-up {first / later:.1f}x)")
    print(f"event-loop lag while generating {await loop_lag(engine, args.tokens):7.1f} ms (target < 50 ms)")
    if args.replay:
        recorded = trace.Trace.load(args.replay)
        trace.report(await trace.replay(engine, recorded), recorded)
    else:
        recording = trace.Trace(engine.info.describe()) if args.record else None
        count, rate = await pipeline_rate(engine, settings, recording)
        print(f"full pipeline                  {rate:8.1f} articles/minute ({count} articles)")
        if recording is not None:
            recording.save(args.record)
            trace.report(recording)
    await engine.aclose()


if __name__ == "__main__":
    asyncio.run(main())
