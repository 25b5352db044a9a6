"""Typed configuration, read once from the environment (and an optional ``.env`` file).

Every setting is listed in ``.env.example``. Secrets are kept in :class:`Secret` so that
they never show up in a ``repr`` or a log line by accident.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote


def url_secrets(url: str) -> list[str]:
    """The password in a URL, as written and percent-decoded, longest first; found even in a URL too malformed to
    parse (the text between the scheme's ``:`` and the last ``@``), since such a URL is the one errors repeat."""
    _, scheme, rest = url.partition("://")
    if not scheme or "@" not in rest:
        return []
    _, colon, password = rest.rpartition("@")[0].partition(":")
    if not colon or not password:
        return []
    pieces = [p for p in re.split(r"[/?#@:\[\]]", password) if len(p) >= 4]  # what a parser may echo of it
    return sorted({password, unquote(password, errors="replace"), *pieces}, key=len, reverse=True)


def redact(text: str, secrets: list[str]) -> str:
    """``text`` with every secret replaced by asterisks (errors and log lines pass through here before anyone sees
    them)."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "********")
    return text


def is_database_url(location: str | Path) -> bool:
    """Whether a store location names a PostgreSQL database (else it is a data directory)."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


MIN_POLL_MINUTES = 2


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Secret:
    """A string that hides itself from ``repr``/``str`` (and so from logs)."""

    value: str = field(repr=False)

    def __str__(self) -> str:
        return "********" if self.value else ""

    def __repr__(self) -> str:
        return f"Secret({self!s})"


@dataclass(frozen=True)
class Settings:
    discord_token: Secret = Secret("")
    dev_guild_id: int | None = None
    data_dir: Path = Path("data")
    database_url: Secret = Secret("")
    """A PostgreSQL URL: the store for several bot processes; unset, the store is TinyDB files in ``data_dir``."""
    model_path: Path | None = None
    n_gpu_layers: int | None = None
    n_ctx: int = 4096
    n_batch: int = 512
    llm_threads: int | None = None
    llm_batch_threads: int | None = None
    poll_interval_minutes: int = 10
    poll_floor_minutes: int = 5
    """The least time between two scheduled polls of one feed, however often it publishes (``POLL_FLOOR_MINUTES``)."""
    allow_private_feeds: bool = False
    alert_threshold: float | None = None
    """Overrides the model's judge profile when set."""
    log_level: str = "INFO"
    feed_pause_after: int = 10
    feed_initial_items: int = 0
    feed_max_new_per_poll: int = 20
    feed_workers: int = 2
    relevance_prefilter: bool = True
    relevance_model: bool = True
    relevance_terms: tuple[str, ...] = ()
    llm_base_url: str = ""
    llm_api_key: Secret = Secret("")
    llm_model: str = ""
    llm_concurrency: int = 4
    shard_count: int | None = None
    """Gateway shards in all (Discord requires sharding past 2,500 servers); unset, Discord recommends."""
    shard_ids: tuple[int, ...] | None = None
    """The shards this process runs (several processes split them); unset, all of them."""
    feed_lease_seconds: int = 300
    feed_sweep_seconds: int = 30
    websub_callback_url: str = ""
    """The public URL that reaches the WebSub callback (``WEBSUB_CALLBACK_URL``); unset, no feed is pushed."""
    websub_listen: tuple[str, int] = ("0.0.0.0", 8080)
    """Where the WebSub callback listens (``WEBSUB_LISTEN``, host:port)."""

    @property
    def store_location(self) -> str | Path:
        """Where the store is: the PostgreSQL URL when one is set, else the data directory."""
        return self.database_url.value or self.data_dir

    def secrets(self) -> list[str]:
        """Every secret these settings hold, for :func:`redact`: the tokens and the database password."""
        return [self.discord_token.value, self.llm_api_key.value, *url_secrets(self.database_url.value)]

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, env_file: Path | None = Path(".env")) -> Settings:
        """Build settings from ``environ`` (default: ``os.environ``) over values in ``env_file``."""
        values = read_env_file(env_file) if env_file is not None and env_file.is_file() else {}
        values.update(os.environ if environ is None else environ)

        def get(name: str) -> str | None:
            raw = values.get(name, "").strip()
            return raw or None

        poll = _int(get("POLL_INTERVAL_MINUTES"), "POLL_INTERVAL_MINUTES") or cls.poll_interval_minutes
        if poll < MIN_POLL_MINUTES:
            raise ConfigError(f"POLL_INTERVAL_MINUTES must be at least {MIN_POLL_MINUTES}, got {poll}.")
        floor = _int(get("POLL_FLOOR_MINUTES"), "POLL_FLOOR_MINUTES") or cls.poll_floor_minutes
        if floor < MIN_POLL_MINUTES:
            raise ConfigError(f"POLL_FLOOR_MINUTES must be at least {MIN_POLL_MINUTES}, got {floor}.")
        threshold = _float(get("ALERT_THRESHOLD"), "ALERT_THRESHOLD")
        if threshold is not None and not 0.0 <= threshold <= 1.0:
            raise ConfigError(f"ALERT_THRESHOLD must be between 0 and 1, got {threshold}.")
        model = get("MODEL_PATH")
        return cls(
            discord_token=Secret(get("DISCORD_TOKEN") or ""),
            dev_guild_id=_int(get("DEV_GUILD_ID"), "DEV_GUILD_ID"),
            data_dir=Path(get("DATA_DIR") or cls.data_dir),
            database_url=Secret(_database_url(get("DATABASE_URL"))),
            model_path=Path(model).expanduser() if model else None,
            n_gpu_layers=_int(get("N_GPU_LAYERS"), "N_GPU_LAYERS"),
            n_ctx=_int(get("N_CTX"), "N_CTX") or cls.n_ctx,
            n_batch=_int(get("N_BATCH"), "N_BATCH") or cls.n_batch,
            llm_threads=_int(get("LLM_THREADS"), "LLM_THREADS"),
            llm_batch_threads=_int(get("LLM_BATCH_THREADS"), "LLM_BATCH_THREADS"),
            poll_interval_minutes=poll,
            poll_floor_minutes=floor,
            allow_private_feeds=_bool(get("ALLOW_PRIVATE_FEEDS"), "ALLOW_PRIVATE_FEEDS"),
            alert_threshold=threshold,
            log_level=(get("LOG_LEVEL") or cls.log_level).upper(),
            feed_pause_after=_positive(get("FEED_PAUSE_AFTER"), "FEED_PAUSE_AFTER", cls.feed_pause_after),
            feed_initial_items=_positive(get("FEED_INITIAL_ITEMS"), "FEED_INITIAL_ITEMS", 0, minimum=0),
            feed_max_new_per_poll=_positive(
                get("FEED_MAX_NEW_PER_POLL"), "FEED_MAX_NEW_PER_POLL", cls.feed_max_new_per_poll
            ),
            feed_workers=_positive(get("FEED_WORKERS"), "FEED_WORKERS", cls.feed_workers),
            relevance_prefilter=_bool(get("RELEVANCE_PREFILTER"), "RELEVANCE_PREFILTER", default=True),
            relevance_model=_bool(get("RELEVANCE_MODEL"), "RELEVANCE_MODEL", default=True),
            relevance_terms=tuple(t.strip() for t in (get("RELEVANCE_TERMS") or "").split(",") if t.strip()),
            llm_base_url=_http_url(get("LLM_BASE_URL"), "LLM_BASE_URL"),
            llm_api_key=Secret(get("LLM_API_KEY") or ""),
            llm_model=get("LLM_MODEL") or "",
            llm_concurrency=_positive(get("LLM_CONCURRENCY"), "LLM_CONCURRENCY", cls.llm_concurrency),
            **_shards(get("SHARD_COUNT"), get("SHARD_IDS")),
            feed_lease_seconds=_positive(get("FEED_LEASE_SECONDS"), "FEED_LEASE_SECONDS", cls.feed_lease_seconds),
            feed_sweep_seconds=_positive(get("FEED_SWEEP_SECONDS"), "FEED_SWEEP_SECONDS", cls.feed_sweep_seconds),
            websub_callback_url=_http_url(get("WEBSUB_CALLBACK_URL"), "WEBSUB_CALLBACK_URL"),
            websub_listen=_listen(get("WEBSUB_LISTEN"), cls.websub_listen),
        )


def read_env_file(path: Path) -> dict[str, str]:
    """Parse ``KEY=VALUE`` lines; ``#`` starts a comment, surrounding quotes are dropped."""
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip("'\"")
    return values


def _database_url(raw: str | None) -> str:
    if raw is not None and not is_database_url(raw):
        raise ConfigError("DATABASE_URL must be a postgresql:// URL (leave it unset to keep the store in DATA_DIR).")
    return raw or ""


def _shards(count_raw: str | None, ids_raw: str | None) -> dict[str, Any]:
    count = _positive(count_raw, "SHARD_COUNT", 0) or None
    if ids_raw is None:
        return {"shard_count": count, "shard_ids": None}
    if count is None:
        raise ConfigError("SHARD_IDS needs SHARD_COUNT: the shards of this process are out of how many in all?")
    ids = tuple(_int(part.strip(), "SHARD_IDS") or 0 for part in ids_raw.split(",") if part.strip())
    wrong = [i for i in ids if not 0 <= i < count]
    if not ids or wrong or len(set(ids)) != len(ids):
        raise ConfigError(f"SHARD_IDS must list different shards from 0 to {count - 1}, got {ids_raw!r}.")
    return {"shard_count": count, "shard_ids": ids}


def _int(raw: str | None, name: str) -> int | None:
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}.") from None


def _float(raw: str | None, name: str) -> float | None:
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}.") from None


def _http_url(raw: str | None, name: str) -> str:
    if raw is None:
        return ""
    if not raw.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must be an http(s) URL such as http://127.0.0.1:8000/v1, got {raw!r}.")
    return raw.rstrip("/")


def _listen(raw: str | None, default: tuple[str, int]) -> tuple[str, int]:
    if raw is None:
        return default
    host, _, port = raw.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"WEBSUB_LISTEN must be host:port such as 0.0.0.0:8080, got {raw!r}.")
    return host.strip("[]"), int(port)


def _positive(raw: str | None, name: str, default: int, *, minimum: int = 1) -> int:
    value = _int(raw, name)
    if value is None:
        return default
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}.")
    return value


def _bool(raw: str | None, name: str, *, default: bool = False) -> bool:
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}.")
