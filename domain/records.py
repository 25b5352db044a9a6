"""The records Stancewatch remembers, with validation at the boundary.

Records are plain frozen dataclasses; :func:`from_dict` checks every field so that a
bad import or a hand-edited file fails with the record and field named.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
import types
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

from domain.language import has_hangul

Stance = Literal["favor", "against", "mixed"]
Verdict = Literal["consistent", "unrelated", "inconsistent"]
DatePrecision = Literal["day", "month", "year"]
Review = Literal["unreviewed", "confirmed", "dismissed"]
Subtype = Literal["", "surface contradiction", "factual inconsistency", "indirect inconsistency"]
Severity = Literal["", "no flip", "half flip", "full flop"]
PositionStatus = Literal["active", "proposed", "superseded", "retracted"]
Receive = Literal["clashes", "summaries", "both", "digest"]
TargetKind = Literal["all", "person", "question", "feed"]
ReviewMode = Literal["none", "required"]

VERDICTS: tuple[Verdict, ...] = get_args(Verdict)
YEARS = range(1900, 2101)
"""The years a position's date may name: wider than anything the bot tracks, narrow enough to draw."""
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


class RecordError(ValueError):
    """A record failed validation; ``where`` names the record and field."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    aliases: list[str] = field(default_factory=list)
    role: str = ""
    wikidata: str = ""

    def names(self) -> list[str]:
        """The canonical name first, then every alias, without duplicates."""
        return list(dict.fromkeys([self.name, *self.aliases]))

    def name_in(self, language: str) -> str:
        """The name as readers of ``language`` know it: for Korean the first Hangul alias (the full name comes
        first in the starter pack), else the canonical name."""
        if language == "ko":
            return next((a for a in self.aliases if has_hangul(a)), self.name)
        return self.name


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    keywords: list[str] = field(default_factory=list)
    supports: str = ""
    """What a person says or does that backs a yes answer ("calls to pause …"); read by the judge."""
    opposes: str = ""
    """What a person says or does that works against a yes answer ("builds, trains or buys compute for …")."""
    translations: dict[str, str] = field(default_factory=dict)
    """The question in other languages, by language code (``{"ko": "…"}``): how channels in them see it."""
    side_translations: dict[str, dict[str, str]] = field(default_factory=dict)
    """``supports`` and ``opposes`` in other languages (``{"ko": {"supports": …, "opposes": …}}``), confirmed."""
    draft: dict[str, dict[str, str]] = field(default_factory=dict)
    """The model's side descriptions awaiting a moderator, by language (``{"en": {"supports": …, "opposes": …},
    "ko": …}``); never read by the judge until confirmed into ``supports`` and ``opposes``."""


@dataclass(frozen=True)
class Position:
    id: str
    person: str
    question: str
    stance: Stance
    claim: str
    source_url: str
    date: str
    date_precision: DatePrecision = "day"
    quote: str = ""
    outlet: str = ""
    published: str = ""
    """When the source was published, kept apart from ``date`` (when the event happened)."""
    published_precision: DatePrecision = "day"
    origin: str = "curated"
    """curated, imported, or ``extracted by <model> with prompts <version>``."""
    status: PositionStatus = "active"
    article: str = ""
    """The identity of the feed item it was extracted from; the source when the item had no web link."""
    feed: str = ""
    """The feed that item came from (extracted positions only)."""

    def source(self) -> str:
        """Where it was said or done, for people to read: the link, or else the feed and the item's identity."""
        if self.source_url:
            return self.source_url
        return f"{self.article} in {self.feed}" if self.feed else self.article


@dataclass(frozen=True)
class Statement:
    """What an article attributes to a person: something said or done, with the article's words."""

    id: str
    person: str
    text: str
    article: str
    quote: str = ""
    date: str = ""
    kind: Literal["said", "did"] = "said"
    question: str = ""


@dataclass(frozen=True)
class Judgement:
    position: str
    person: str
    statement: str
    verdict: Verdict
    confidence: float
    reason: str
    article: str = ""
    probabilities: dict[str, float] = field(default_factory=dict)
    model: str = ""
    prompt_version: str = ""
    profile: str = ""
    subtype: Subtype = ""
    severity: Severity = ""
    review: Review = "unreviewed"
    reviewed_by: str = ""
    judged_at: str = ""

    @property
    def id(self) -> str:
        return judgement_id(self.position, self.statement)


def judgement_id(position: str, statement: str) -> str:
    """One id per (position, statement) pair: the unit that is alerted once and reviewed."""
    return f"{position}:{hashlib.sha256(statement.encode()).hexdigest()[:16]}"


@dataclass(frozen=True)
class Article:
    """A processed article; ``text`` is its body, dropped after the retention period."""

    identity: str
    url: str
    feed: str = ""
    title: str = ""
    language: str = "en"
    published: str = ""
    fetched: str = ""
    relevant: bool = False
    summary: str = ""
    people: list[str] = field(default_factory=list)
    text: str = ""
    state: Literal["processed", "failed"] = "processed"
    error: str = ""
    """Why processing was given up (``state="failed"``): the last error, for operators."""

    @classmethod
    def of(cls, item: FeedItem, fetched: str, **fields: Any) -> Article:
        """The archive record of a feed item (identity, link, feed, title, date), fetched at ``fetched``."""
        return cls(
            item.identity, item.url, item.feed_url, item.title, published=item.published, fetched=fetched, **fields
        )


@dataclass(frozen=True)
class Subscription:
    channel_id: int
    guild_id: int
    target_kind: TargetKind = "all"
    target: str = ""
    receive: Receive = "clashes"
    min_confidence: float = 0.0
    language: Literal["en", "ko"] = "en"
    paused_reason: str = ""
    review: ReviewMode = "none"
    """``required``: clash alerts wait in the server's review channel until a moderator confirms them."""
    include: list[str] = field(default_factory=list)
    """Keyword filter: only summaries and alerts whose text holds one of these words or phrases (empty: all)."""
    exclude: list[str] = field(default_factory=list)
    """Keyword filter: never summaries and alerts whose text holds one of these."""
    digest_hour: int = 8
    """With ``receive="digest"``: the local hour (0-23) at which the day's alerts and summaries are posted."""
    timezone: str = ""
    """With ``receive="digest"``: an IANA time zone (``Asia/Seoul``); "" means the language's (see delivery.digest)."""

    def key(self) -> tuple[int, str, str]:
        return (self.channel_id, self.target_kind, self.target)

    @property
    def ref(self) -> str:
        """A short stable key for one of a channel's subscriptions (16 characters), for a Discord choice's value,
        which may hold at most 100 characters: a target may be a feed URL of any length."""
        return "sub-" + hashlib.sha256(f"{self.target_kind}:{self.target}".encode()).hexdigest()[:12]


@dataclass(frozen=True)
class ReviewDesk:
    """The channel where a server's held clash alerts wait for a moderator's Confirm or Dismiss."""

    guild_id: int
    channel_id: int


@dataclass(frozen=True)
class ModeratorReview:
    """A moderator's Confirm or Dismiss of a clash alert in one server: a labelled pair for that server.

    Kept per server (the same alert may be posted to several), with who and when (ISO 8601 UTC); the judgement it
    reviews holds the statement, the position and what the model read (``bot.py reviews export``).
    """

    guild_id: int
    judgement_id: str
    verdict: Review
    by: str
    at: str

    @property
    def key(self) -> str:
        return f"{self.guild_id}:{self.judgement_id}"


@dataclass(frozen=True)
class PostedClash:
    """A clash alert as queued for one channel, which later statements on the same clash join for a week.

    ``latest`` is the outbox row whose message lists every clash the posted card shows now: the alert itself, or
    the last update that joined a statement to it.
    """

    outbox_id: int
    channel_id: int
    guild_id: int
    person: str
    positions: list[str]
    opened: str
    """When the alert was queued, ISO 8601 UTC: later statements join it for ``JOIN_DAYS`` from then."""
    latest: int


@dataclass(frozen=True)
class Feed:
    """A watched feed and its polling state; ``key`` stays the same when a 301 moves ``url``."""

    url: str
    added_by: int = 0
    key: str = ""
    etag: str = ""
    last_modified: str = ""
    body_hash: str = ""
    last_fetch: str = ""
    last_error: str = ""
    failures: int = 0
    paused: bool = False
    next_poll: float = 0.0
    cadence_s: float = 0.0
    """The feed's learned mean gap between polls that found new items, in seconds; 0 until learned."""
    last_new: float = 0.0
    """When a poll last found new items (Unix seconds); 0 before any."""
    websub_hub: str = ""
    """The WebSub hub the feed names ("" when none): new items can be pushed instead of polled."""
    websub_topic: str = ""
    websub_secret: str = ""
    """The HMAC secret given to the hub, checked on every delivery; never logged."""
    websub_state: str = ""
    """"" (not subscribed), "pending" (asked, not verified), "active", "denied" or "failed"."""
    websub_until: float = 0.0
    """When the hub's lease ends (Unix seconds): renewed a day before."""

    def __repr__(self) -> str:  # the WebSub secret stays out of logs and tracebacks
        shown = {k: v for k, v in self.__dict__.items() if k != "websub_secret"}
        return f"Feed({', '.join(f'{k}={v!r}' for k, v in shown.items())})"

    @property
    def scope(self) -> str:
        return self.key or self.url

    @property
    def ref(self) -> str:
        """A short stable key (17 characters) for a Discord choice's value, which may hold at most 100 characters;
        made from :attr:`scope`, so it survives a permanent redirect."""
        return "feed-" + hashlib.sha256(self.scope.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class FeedItem:
    """An item of a feed as accepted into the inbox: ``url`` is "" when the item has no usable web link."""

    identity: str
    url: str
    title: str
    text: str
    published: str
    feed_url: str


R = TypeVar("R")


def from_dict(cls: type[R], data: Any, where: str) -> R:
    """Build ``cls`` from ``data``, raising :class:`RecordError` naming ``where`` and the field."""
    if not isinstance(data, dict):
        raise RecordError(where, f"expected an object, got {type(data).__name__}")
    hints, fields = _schema(cls)  # type: ignore[arg-type]
    unknown = set(data) - set(fields)
    if unknown:
        raise RecordError(where, f"unknown field(s) {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for name, spec in fields.items():
        if name not in data:
            if spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
                raise RecordError(f"{where}.{name}", "is required")
            continue
        values[name] = _check(data[name], hints[name], f"{where}.{name}")
    record = cls(**values)
    _check_semantics(record, where)
    return record


@functools.cache
def _schema(cls: type) -> tuple[dict[str, Any], dict[str, dataclasses.Field[Any]]]:
    """Type hints and fields of a record class, computed once (``get_type_hints`` is slow)."""
    return get_type_hints(cls), {f.name: f for f in dataclasses.fields(cls)}


def to_dict(record: Any) -> dict[str, Any]:
    return dataclasses.asdict(record)


_UNSTORABLE = "\x00"
"""NUL: PostgreSQL stores it in neither ``text`` nor ``jsonb``; removed where text enters either backend."""


def storable_json(value: Any) -> Any:
    """``value`` (JSON-shaped: dicts, lists, text, numbers) with every NUL removed from its keys and text."""
    if isinstance(value, str):
        return value.replace(_UNSTORABLE, "")
    if isinstance(value, dict):
        return {storable_json(k): storable_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable_json(v) for v in value]
    return value


def storable(record: R, where: str = "") -> R:
    """The record as both backends store it: NUL removed from its text, then checked by the load rules.

    Every write path of both backends goes through here, so a record that would not load is never stored and the
    two backends hold the same text. Raises :class:`RecordError` naming the record and field.
    """
    data = storable_json(to_dict(record))
    return from_dict(type(record), data, where or _describe(record))


def validate(record: R, where: str = "") -> R:
    """``record`` itself when it passes the rules :func:`from_dict` applies at load, else :class:`RecordError`.

    Used to decide a whole unit of work is valid before any of it is written (files have no rollback).
    """
    storable(record, where)
    return record


def _describe(record: Any) -> str:
    key = getattr(record, "id", None) or getattr(record, "identity", None) or getattr(record, "url", "")
    return f"{type(record).__name__.lower()} {key!r}"


_SURROGATE = re.compile("[\ud800-\udfff]")


def _check(value: Any, hint: Any, where: str) -> Any:
    origin = get_origin(hint)
    if origin is Literal:
        if value not in get_args(hint):
            allowed = ", ".join(str(a) for a in get_args(hint))
            raise RecordError(where, f"must be one of {allowed}, got {value!r}")
        return value
    if origin is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise RecordError(where, "must be a list of strings")
        for index, item in enumerate(value):
            _check(item, str, f"{where}[{index}]")
        return list(value)
    if origin is dict:
        if not isinstance(value, dict):
            raise RecordError(where, "must be an object")
        _, item = get_args(hint)
        return {_check(k, str, f"{where} key"): _check(v, item, f"{where}.{k}") for k, v in value.items()}
    if origin is types.UnionType:
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RecordError(where, f"must be a number, got {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise RecordError(where, f"must be a whole number, got {value!r}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise RecordError(where, f"must be true or false, got {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise RecordError(where, f"must be text, got {type(value).__name__}")
        if _SURROGATE.search(value):
            raise RecordError(where, "holds a lone surrogate (\\ud800-\\udfff), which is not text")
        return value
    return value


def _check_semantics(record: Any, where: str) -> None:
    if isinstance(record, Person | Question | Position | Statement) and not record.id.strip():
        raise RecordError(f"{where}.id", "must not be empty")
    if isinstance(record, Person) and not record.name.strip():
        raise RecordError(f"{where}.name", "must not be empty")
    if isinstance(record, Position):
        if not _DATE.match(record.date):
            raise RecordError(f"{where}.date", f"must be YYYY, YYYY-MM or YYYY-MM-DD, got {record.date!r}")
        if int(record.date[:4]) not in YEARS:
            raise RecordError(f"{where}.date", f"must lie in {YEARS.start} to {YEARS.stop - 1}, got {record.date!r}")
        if not record.source_url.startswith(("http://", "https://")) and not (
            record.source_url == "" and record.article.strip()
        ):
            raise RecordError(f"{where}.source_url", "must be an http(s) URL (or empty, with the article named)")
        if not record.claim.strip():
            raise RecordError(f"{where}.claim", "must not be empty")
    if isinstance(record, Judgement | Subscription):
        value = record.confidence if isinstance(record, Judgement) else record.min_confidence
        if not 0.0 <= value <= 1.0:
            raise RecordError(where, f"confidence must be between 0 and 1, got {value}")
