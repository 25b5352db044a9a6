"""``store copy --to URL|DIR``: the whole store copied to the other backend, then verified record by record."""

from __future__ import annotations

import argparse
import contextlib
from typing import Any

from app import open_store_for
from settings import Settings
from storage import open_store
from storage.copy import copy_store


def register(sub: Any) -> None:
    store = sub.add_parser("store", help="copy the whole store to another backend (stop the bot first)")
    store.add_argument("action", choices=["copy"])
    store.add_argument("--to", required=True, help="a postgresql:// URL or a data directory; it must be empty")
    store.set_defaults(func=command)


def command(settings: Settings, args: argparse.Namespace) -> int:
    with open_store_for(settings, seed=False) as source, contextlib.closing(open_store(args.to, seed=False)) as target:
        counts = copy_store(source, target)
        where = (source.describe(), target.describe())
    listed = ", ".join(f"{n} {table}" for table, n in counts.items())
    print(f"Copied {where[0]} to {where[1]} and verified every record: {listed}.")
    return 0
