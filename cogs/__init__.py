"""The Discord layer: one cog a file; how things look in Discord (``cards``), what the cogs share (``common``)
and the Korean command names (``translator``). Only this layer, ``bot.py`` and ``cli/`` import discord."""
