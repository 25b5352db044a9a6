"""Writes to a store as fast as it can until killed; run by test_store's SIGKILL test.

Every round writes generation ``g`` everywhere (identities, an archived article, a
feed, the outbox) and flushes; the test then checks that what survives is one
consistent generation per file, never a torn one.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain.records import Article, Feed
from storage.files.store import Store


def main(data_dir: Path) -> None:
    store = Store.open(data_dir, seed=False)
    marker = store.feed("generation")
    generation = int(marker.last_error) if marker else 0
    while True:
        generation += 1
        store.mark_seen(f"id:{generation}:{i}" for i in range(50))
        store.record_article(
            Article(identity=f"a:{generation}", url=f"https://e.com/{generation}", text="x" * 4000), []
        )
        store.save_feed(Feed(url="generation", last_error=str(generation)))
        store.enqueue(1, {"kind": "summary", "generation": generation})
        store.flush()
        print(generation, flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
