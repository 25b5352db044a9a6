"""The errors every layer shares, so that no layer imports another's to name what went wrong.

:class:`Unavailable` and its subclasses are *transient*: a resource the bot needs did not answer just now
(a database restarting, a model server being replaced). Work that meets one is kept and retried later,
never dropped; any other exception is the work's own fault and is retried a bounded number of times.
"""

from __future__ import annotations


class StorageError(RuntimeError):
    """The store cannot be read or written as asked; the message names the file or database and what to do."""


class Unavailable(Exception):
    """A resource did not answer (connection refused or reset, a time-out, a 5xx): try again later."""


class StoreUnavailable(Unavailable, StorageError):
    """The database could not be reached, or dropped the connection mid-transaction (nothing was committed)."""


class ModelUnavailable(Unavailable):
    """The model server could not be reached, timed out, or answered with a server error."""


class FeedError(Exception):
    """A feed or page could not be fetched or parsed; the message says why in one sentence."""
