"""The event loop's largest lag while some work runs, measured with a ticker task."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

TICK_S = 0.005


async def measure_lag(work: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    """Run ``work`` while a ticker sleeps ``TICK_S`` at a time; returns (seconds, largest lag in ms)."""
    lag, stop = 0.0, False

    async def ticker() -> None:
        nonlocal lag
        while not stop:
            before = time.perf_counter()
            await asyncio.sleep(TICK_S)
            lag = max(lag, time.perf_counter() - before - TICK_S)

    task = asyncio.create_task(ticker())
    started = time.perf_counter()
    await work()
    elapsed = time.perf_counter() - started
    stop = True
    await task
    return elapsed, lag * 1000
