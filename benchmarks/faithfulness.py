"""Faithfulness benchmark: what the default model writes about a source sentence, and what an alert then shows.

    python benchmarks/faithfulness.py [--limit N]

For each Korean sentence of ``evals/faithfulness_cases.json`` the model writes a literal English translation
(the line an alert shows beside a source sentence whose wording failed); ``domain.facts.unfaithful`` checks it.
Printed: how many translations the check kept and why it refused the others, and, over what would be shown
(a kept translation, else the source alone), how many numbers differ from the case's own faithful wording: the
figure that must be 0. Then the demo's Korean report goes through extraction, and the statement an alert would
show is printed. MODEL_PATH applies as for the bot (the default model otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cli.demo import ITEMS
from domain.facts import quantities, unfaithful, with_digits
from domain.language import has_hangul
from domain.records import Person
from llm.runtime.engine import LLMEngine
from llm.tasks.extract import extract_statements
from llm.tasks.prompts import translate_messages
from llm.tasks.translate import literal_translation
from settings import Settings

CASES = Path(__file__).resolve().parent.parent / "evals" / "faithfulness_cases.json"
MUSK = Person("elon-musk", "Elon Musk", ["Musk", "일론 머스크", "머스크"])


async def run(limit: int | None) -> None:
    data = json.loads(CASES.read_text(encoding="utf-8"))
    names = {name: tuple(aliases) for name, aliases in data["names"].items()}
    korean = [case for case in data["cases"] if has_hangul(case["source"])][:limit]
    engine = LLMEngine.load(Settings.from_env())
    try:
        kept = altered = 0
        started = time.perf_counter()
        for case in korean:
            raw = " ".join((await engine.chat(translate_messages(with_digits(case["source"])), max_tokens=160)).split())
            shown = await literal_translation(engine, case["source"], names)
            kept += bool(shown)
            altered += bool(shown) and quantities(shown) != quantities(case["faithful"])
            verdict = "kept" if shown else "; ".join(unfaithful(raw, case["source"], names=names)) or "refused"
            print(f"{verdict[:60]:60s} {raw[:90]}")
        seconds = (time.perf_counter() - started) / max(len(korean), 1) / 2
        print(f"\n{kept} of {len(korean)} translations kept; numbers altered in what is shown: {altered} (target 0)")
        print(f"seconds per translation: {seconds:.2f}")
        title, text = ITEMS[1]["title"], ITEMS[1]["content"]
        for statement in await extract_statements(engine, title, text, [MUSK]):
            print(f"\ndemo's Korean report: origin={statement.origin}\n  shows: {statement.text}")
            if statement.translation:
                print(f"  machine translation: {statement.translation}")
    finally:
        engine.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None)
    asyncio.run(run(parser.parse_args().limit))


if __name__ == "__main__":
    main()
