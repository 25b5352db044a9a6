"""``models install [NAME ...]`` and ``models path NAME``: the pinned models (set-up installs the default)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from typing import Any

from llm.runtime.locate import ModelNotFoundError
from llm.runtime.weights import CATALOG, DEFAULT_MODEL, MODEL_NAMES, install, named_model_path
from settings import Settings


def register(sub: Any) -> None:
    models = sub.add_parser("models", help="download, assemble and verify the pinned models, or print one's path")
    actions = models.add_subparsers(dest="action", required=True)
    add = actions.add_parser("install", help="download, assemble and verify pinned models")
    add.add_argument("names", nargs="*", metavar="NAME", help=f"one of {', '.join(CATALOG)} (default {DEFAULT_MODEL})")
    add.set_defaults(func=install_command)
    where = actions.add_parser("path", help="print the verified file of a model")
    where.add_argument("name", choices=MODEL_NAMES)
    where.set_defaults(func=path_command)


def install_command(settings: Settings, args: argparse.Namespace) -> int:
    unknown = [n for n in args.names if n not in CATALOG]
    if unknown:
        print(f"models: unknown model {unknown[0]!r}: choose from {', '.join(CATALOG)}.", file=sys.stderr)
        return 2
    try:
        for name in args.names or [DEFAULT_MODEL]:
            install(name)
    except (ModelNotFoundError, OSError, subprocess.CalledProcessError) as exc:
        print(f"models: could not install the model: {exc}", file=sys.stderr)
        return 2
    return 0


def path_command(settings: Settings, args: argparse.Namespace) -> int:
    print(named_model_path(args.name))
    return 0
