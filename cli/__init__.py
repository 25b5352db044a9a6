"""The command line (``python bot.py COMMAND`` or ``python -m cli COMMAND``): one module per command group.

Each module's ``register`` adds its subcommands with ``set_defaults(func=...)``; a command builds what it needs
through :mod:`app`, the one composition root. Every error a user can cause ends as one sentence on stderr and
exit status 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable

from cli import ask, demo, evals, models, reviews, run, scan, stances, store, timeline
from domain.errors import StorageError
from domain.records import RecordError
from drawing.timeline import FontMissingError
from llm.runtime.locate import ModelNotFoundError
from llm.tasks.profile import ProfileError
from settings import ConfigError, Settings, redact, url_secrets

log = logging.getLogger("stancewatch")
Command = Callable[[Settings, argparse.Namespace], int]
GROUPS = (run, demo, scan, evals, ask, timeline, store, stances, models, reviews)
USER_ERRORS = (
    ConfigError,
    RecordError,
    StorageError,
    ProfileError,
    FontMissingError,
    ModelNotFoundError,
    FileNotFoundError,
    json.JSONDecodeError,
)


class RedactSecrets(logging.Filter):
    """Replaces every secret (tokens, the database password) anywhere in a log record, tracebacks included."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if any(s in message or s in (record.exc_text or "") for s in self.secrets):
            record.msg, record.args = redact(message, self.secrets), None
            record.exc_text = redact(record.exc_text or "", self.secrets) or None
        return True


def setup_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(settings.secrets()))
    logging.basicConfig(level=settings.log_level, handlers=[handler])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bot.py", description="Stancewatch: AI-policy stance monitor for Discord.")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command: Command = args.func
    secrets = url_secrets(os.environ.get("DATABASE_URL", ""))  # until the settings are read, and if they cannot be
    try:
        settings = Settings.from_env()
        secrets = settings.secrets()
        setup_logging(settings)
        return command(settings, args)
    except USER_ERRORS as exc:
        print(redact(f"{args.command}: {exc}", secrets), file=sys.stderr)
        return 2
    except Exception as exc:  # a defect, not bad input: still one sentence, with the traceback in the debug log
        log.debug("Unexpected error in %s", args.command, exc_info=True)
        message = f"{args.command}: unexpected {type(exc).__name__}: {exc} (LOG_LEVEL=DEBUG shows where)."
        print(redact(message, secrets), file=sys.stderr)
        return 2
