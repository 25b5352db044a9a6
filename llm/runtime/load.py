"""The choice of backend by configuration: ``LLM_BASE_URL`` set means a server, else llama.cpp in this process.

Apart from :mod:`llm.runtime.backend` (the interface both backends implement), so that the interface never imports
its implementations; llama.cpp itself is imported only when the in-process engine is chosen.
"""

from __future__ import annotations

import asyncio

from llm.runtime.backend import LLM
from settings import Settings


async def load_backend(settings: Settings) -> LLM:
    """The remote backend when ``LLM_BASE_URL`` is set, else the model file in this process."""
    if settings.llm_base_url:
        from llm.runtime.remote import RemoteEngine

        return await RemoteEngine.connect(settings)
    from llm.runtime.engine import LLMEngine

    engine: LLM = await asyncio.to_thread(LLMEngine.load, settings)
    return engine
