"""The command line (``python bot.py COMMAND`` or ``python -m cli COMMAND``): one module per command group.

Each module's ``register`` adds its subcommands with ``set_defaults(func=...)``; a command builds what it needs
through :mod:`app`, the one composition root. Every error a user can cause ends as one sentence on stderr and
exit status 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable

from cli import ask, demo, evals, models, run, scan, stances, store, timeline
from domain.errors import StorageError
from domain.records import RecordError
from drawing.timeline import FontMissingError
from llm.runtime.locate import ModelNotFoundError
from llm.tasks.profile import ProfileError
from settings import ConfigError, Settings

log = logging.getLogger("stancewatch")
Command = Callable[[Settings, argparse.Namespace], int]
GROUPS = (run, demo, scan, evals, ask, timeline, store, stances, models)
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
    """Replaces the bot token anywhere in a log record, in case a library ever prints it."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(s in message for s in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "********")
            record.msg, record.args = message, None
        return True


def setup_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets([settings.discord_token.value, settings.llm_api_key.value]))
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
    try:
        settings = Settings.from_env()
        setup_logging(settings)
        return command(settings, args)
    except USER_ERRORS as exc:
        print(f"{args.command}: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a defect, not bad input: still one sentence, with the traceback in the debug log
        log.debug("Unexpected error in %s", args.command, exc_info=True)
        print(f"{args.command}: unexpected {type(exc).__name__}: {exc} (LOG_LEVEL=DEBUG shows where).", file=sys.stderr)
        return 2
