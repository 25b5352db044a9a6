"""Persistence: TinyDB files made crash-safe, and the records they hold."""
