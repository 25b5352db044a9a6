"""``reviews export FILE.jsonl [--guild ID]``: moderators' reviews as labelled pairs (``bot.py eval`` reads them)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from analysis.reviews import review_pairs
from app import open_store_for
from settings import Settings
from storage.atomic import atomic_write_text


def register(sub: Any) -> None:
    reviews = sub.add_parser("reviews", help="export moderators' reviews as labelled pairs")
    reviews.add_argument("action", choices=["export"])
    reviews.add_argument("file", type=Path, help="where the JSON lines go (replaced whole)")
    reviews.add_argument("--guild", type=int, help="one server's reviews only (its id)")
    reviews.set_defaults(func=command)


def command(settings: Settings, args: argparse.Namespace) -> int:
    if not args.file.parent.is_dir():
        print(f"reviews: {args.file.parent} is not a folder; the export needs one to write into.", file=sys.stderr)
        return 2
    with open_store_for(settings, read_only=True) as store:
        reviews = store.moderator_reviews(args.guild)
        judgements = {j.id: j for j in store.judgements()}
        positions = {p.id: p for p in store.positions(status=None)}
        questions = {q.id: q for q in store.questions()}
    pairs = review_pairs(reviews, judgements, positions, questions)
    atomic_write_text(args.file, "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pairs))
    where = f"server {args.guild}" if args.guild is not None else "every server"
    print(f"Wrote {len(pairs)} labelled pairs from {len(reviews)} reviews of {where} to {args.file}.")
    return 0
