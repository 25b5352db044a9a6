"""What the command line prints of untrusted text (feed titles, article text, model output): no control characters.

A feed title holding ``ESC[2J`` would clear the operator's terminal, and other escape sequences can rewrite what
it shows; everything from outside passes through :func:`printable` on its way to a terminal.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` without control characters (line breaks and tabs kept) nor bidirectional overrides."""
    return _CONTROL.sub("", text)
