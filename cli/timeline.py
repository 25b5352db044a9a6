"""``timeline NAME --out FILE.png``: a tracked person's timeline picture, as /person show draws it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app import open_store_for
from domain.records import RecordError
from drawing.timeline import build_timeline, render
from settings import Settings
from storage.atomic import atomic_write_bytes


def register(sub: Any) -> None:
    timeline = sub.add_parser("timeline", help="draw a tracked person's timeline as a PNG")
    timeline.add_argument("name", help="the person's name, alias or id")
    timeline.add_argument("--out", type=Path, required=True, help="the PNG file to write")
    timeline.add_argument("--language", choices=["en", "ko"], default="en", help="language of the lane labels")
    timeline.set_defaults(func=command)


def command(settings: Settings, args: argparse.Namespace) -> int:
    with open_store_for(settings, read_only=True) as store:
        person = store.find_person(args.name)
        if person is None:
            raise RecordError("name", f"no tracked person is called {args.name!r}")
        picture = render(build_timeline(store, person.id, args.language))
    atomic_write_bytes(args.out, picture)
    print(f"Wrote {person.name}'s timeline to {args.out}.")
    return 0
