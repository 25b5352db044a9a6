"""Running a model: the :class:`~llm.runtime.backend.LLM` interface, the in-process llama.cpp engine, the remote
backend, and the pinned, hash-verified model files (``pins/``) they load."""
