"""What every area of the file store reads and writes: loaded by :class:`storage.files.store.Store`, one lock."""

from __future__ import annotations

import threading

from tinydb import TinyDB

from domain.records import Feed, ModeratorReview, Person, Position, PostedClash, Question, ReviewDesk, Subscription
from storage.files.identities import IdentityLog
from storage.files.inbox import Inbox
from storage.files.month_archive import ArticleArchive
from storage.files.tables import IndexedTable


class FileState:
    _lock: threading.RLock
    _hot: TinyDB
    _people: IndexedTable[str, Person]
    _questions: IndexedTable[str, Question]
    _positions: IndexedTable[str, Position]
    _feeds: IndexedTable[str, Feed]
    _subs: IndexedTable[tuple[int, str, str], Subscription]
    _posted: IndexedTable[int, PostedClash]
    _desks: IndexedTable[int, ReviewDesk]
    _reviews: IndexedTable[str, ModeratorReview]
    _seen: IdentityLog
    _inbox: Inbox
    _archive: ArticleArchive
    _alerted: set[str]
    _leases: dict[str, float]
    """Feed URL → until when (``time.time()``) it is leased."""
    _item_leases: dict[str, tuple[str, float]]
    """Inbox identity → (holder, until when)."""
