"""``store copy --to URL|DIR``: the whole store copied to the other backend, then verified record by record."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any

from app import open_store_for
from settings import Settings, is_database_url
from storage import open_store
from storage.copy import copy_store
from storage.files.copy_target import new_data_dir
from storage.interfaces import StanceStore


def register(sub: Any) -> None:
    store = sub.add_parser("store", help="copy the whole store to another backend (stop the bot first)")
    store.add_argument("action", choices=["copy"])
    store.add_argument("--to", required=True, help="a postgresql:// URL or a data directory; it must be empty")
    store.set_defaults(func=command)


def command(settings: Settings, args: argparse.Namespace) -> int:
    target = args.to if is_database_url(args.to) else Path(args.to)
    try:
        with open_store_for(settings, seed=False) as source, _target(target) as copy:
            counts = copy_store(source, copy)
            where = (source.describe(), copy.describe() if isinstance(target, str) else f"TinyDB files in {target}")
    except KeyboardInterrupt:
        if isinstance(target, Path) and target.is_dir() and any(target.iterdir()):
            # It landed after the rename, while the source closed: the copy is whole and verified.
            print(f"store: interrupted after the copy was complete and verified; {target} holds it.", file=sys.stderr)
            return 0
        print("store: interrupted; nothing was copied (the partial copy was removed).", file=sys.stderr)
        return 2
    listed = ", ".join(f"{n} {table}" for table, n in counts.items())
    print(f"Copied {where[0]} to {where[1]} and verified every record: {listed}.")
    return 0


def _target(target: str | Path) -> contextlib.AbstractContextManager[StanceStore]:
    """A directory is filled through a staging folder (complete or absent); a database in one transaction each."""
    if isinstance(target, Path):
        return new_data_dir(target)
    return contextlib.closing(open_store(target, seed=False))
