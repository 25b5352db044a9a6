"""``stances import FILE`` and ``stances export FILE``: the stance store as JSON."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app import open_store_for
from domain.records import RecordError
from settings import Settings
from storage.exchange import read_import, with_line


def register(sub: Any) -> None:
    stances = sub.add_parser("stances", help="import or export the stance store as JSON")
    stances.add_argument("action", choices=["import", "export"])
    stances.add_argument("file", type=Path)
    stances.set_defaults(func=command)


def command(settings: Settings, args: argparse.Namespace) -> int:
    file: Path = args.file
    with open_store_for(settings, read_only=args.action == "export") as store:
        if args.action == "export":
            store.export_file(file)
            print(f"Exported the stance store to {file}.")
            return 0
        text, data = read_import(file)
        try:
            counts = store.import_data(data)
        except RecordError as exc:
            raise with_line(exc, file, text) from None
        store.flush()
    print(f"Imported {counts['people']} people, {counts['questions']} questions, {counts['positions']} positions.")
    return 0
