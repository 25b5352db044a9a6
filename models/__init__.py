"""The local LLM: one engine, the prompts, and the tasks built on them."""
