"""The floor every layer stands on: the records, errors and text rules that mean one thing everywhere.

It imports nothing of the project; every other package may import it.
"""
