"""The language model: ``runtime`` runs one (llama.cpp in process, or an OpenAI-compatible server), ``tasks`` asks it
things (relevance, summaries, who said what, clash judgements, which way a question points).

It stands on :mod:`domain` and :mod:`settings` only; nothing here knows of feeds, storage, the pipeline or Discord.
"""
