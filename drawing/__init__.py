"""Pictures: a person's timeline of positions, statements and clashes, drawn with Pillow for Discord and the CLI."""
