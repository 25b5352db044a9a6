"""A data directory that ``store copy`` fills: complete or absent, never a partial store that opens as a whole one.

The copy is written to a hidden folder beside the target, marked as in progress (:data:`COPYING`) until every record
is copied and verified, and only then renamed to the name asked for.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from domain.errors import StorageError
from storage.atomic import fsync_dir
from storage.files.store import COPYING, Store


@contextlib.contextmanager
def new_data_dir(target: Path) -> Iterator[Store]:
    """An empty file store that becomes ``target`` when the block ends without an error, and is removed otherwise.

    Raises :class:`StorageError` when ``target`` is a file or a directory that holds anything.
    """
    if target.exists() and not target.is_dir():
        raise StorageError(f"{target} is a file; name a new or empty directory to copy into.")
    if target.is_dir() and any(target.iterdir()):
        raise StorageError(f"{target} is not empty; copy only into a new or empty directory.")
    staging = target.parent / f".{target.name}.copying-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        store = Store(staging)
        (staging / COPYING).touch()  # from now on, nothing opens this folder as a store
        try:
            yield store
        finally:
            store.close()
        (staging / COPYING).unlink()
        fsync_dir(staging)
        if target.is_dir():
            target.rmdir()  # empty, checked above
        staging.rename(target)
        fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
