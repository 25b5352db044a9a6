"""The Discord layer: one cog a file, each thin over the Discord-free core."""
