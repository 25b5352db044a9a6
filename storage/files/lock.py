"""One writer per data directory: an exclusive ``flock`` held for as long as a writing process has the store open.

Without it, ``stances import`` beside a running bot printed "Imported …" and the bot's next flush erased the import.
The lock file names its holder, so the second writer's one sentence says which process to stop. The kernel drops
the lock when its process dies, even by SIGKILL: a stale lock file never blocks a restart.
"""

from __future__ import annotations

import fcntl
import os
import sys
from pathlib import Path

from domain.errors import StorageError

LOCK_FILE = ".lock"


# Descriptors this process holds, by lock file, with how many stores share each: the lock is between processes
# (a store reopened in the same process, as the crash tests do, shares it).
_HELD: dict[str, list[int]] = {}


class DataDirLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_FILE
        self._key = os.path.realpath(self.path)
        self._held = False

    def acquire(self) -> None:
        if self._key in _HELD:
            _HELD[self._key][1] += 1
            self._held = True
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 512, 0).decode("utf-8", errors="replace").strip() or "another process"
            os.close(fd)
            raise StorageError(
                f"{self.path.parent} is in use by {holder}: stop it first (to change stances while the bot runs, "
                "use its /manage-stances and /manage-people commands)."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"process {os.getpid()} ({' '.join(os.path.basename(a) for a in sys.argv[:3])})\n".encode(), 0)
        _HELD[self._key] = [fd, 1]
        self._held = True

    def release(self) -> None:
        if not self._held:
            return
        self._held = False
        entry = _HELD[self._key]
        entry[1] -= 1
        if entry[1] == 0:
            del _HELD[self._key]
            os.close(entry[0])  # closing the descriptor drops the flock
