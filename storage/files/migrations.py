"""Schema migrations, run at start-up before the store opens anything, each after a backup.

The hot file's ``_meta`` table holds the schema version. A migration copies every
data file into ``backups/schema-<old>-<time>/`` first, writes the new files, and
records the new version last, so a crash mid-migration simply runs it again.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from domain.errors import StorageError
from domain.records import Article, Judgement, RecordError, from_dict, judgement_id
from storage.atomic import atomic_write_text
from storage.files.durable import SCHEMA_VERSION
from storage.files.identities import IdentityLog
from storage.files.month_archive import ArticleArchive

log = logging.getLogger(__name__)
HOT_FILE = "stancewatch.json"
DATA_FILES = (HOT_FILE, "articles.json", "identities.log", "inbox.log", "archive")


def schema_version(data: dict[str, Any]) -> int:
    """The schema version the hot file records (1 when none); ValueError when it records no whole number."""
    version = data.get("_meta", {}).get("schema", {}).get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int):
        raise ValueError(f"schema version {version!r} is not a whole number")
    return version


def last_backup(data_dir: Path) -> Path | None:
    backups = sorted((data_dir / "backups").glob("*"), key=lambda p: p.stat().st_mtime)
    return backups[-1] if backups else None


def backup(data_dir: Path, label: str) -> Path:
    """Copy every data file into a new folder under ``backups/``."""
    target = data_dir / "backups" / f"{label}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
    target.mkdir(parents=True, exist_ok=True)
    for name in DATA_FILES:
        source = data_dir / name
        if source.is_dir():
            shutil.copytree(source, target / name, dirs_exist_ok=True)
        elif source.exists():
            shutil.copy2(source, target / name)
    return target


def migrate(data_dir: Path) -> Path | None:
    """Bring the store in ``data_dir`` to the current schema; returns the backup made, if any."""
    hot = data_dir / HOT_FILE
    if not hot.exists():
        return None
    try:
        data = json.loads(hot.read_text(encoding="utf-8"))
        version = schema_version(data)
    except (json.JSONDecodeError, AttributeError, ValueError, TypeError):
        return None  # the store reports an unreadable file itself, naming it and the last backup
    if version >= SCHEMA_VERSION:
        return None
    saved = backup(data_dir, f"schema-{version}")
    log.warning("Migrating %s from schema %d to %d; backup in %s", data_dir, version, SCHEMA_VERSION, saved)
    for step in range(version, SCHEMA_VERSION):
        try:
            STEPS[step](data_dir, data)
        except (KeyError, TypeError, RecordError) as exc:
            raise StorageError(
                f"Cannot migrate {hot} from schema {step} ({exc}); your data is unchanged in {saved}."
            ) from exc
        data.setdefault("_meta", {})["schema"] = {"version": step + 1}
        atomic_write_text(hot, json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    return saved


def _v1_to_v2(data_dir: Path, data: dict[str, Any]) -> None:
    """Seen identities move to their journal; articles and judgements to the monthly archive."""
    identities = IdentityLog(data_dir / "identities.log")
    by_day: dict[str, list[str]] = {}
    for row in data.pop("seen", {}).values():
        by_day.setdefault(time.strftime("%Y-%m-%d", time.gmtime(row.get("at", time.time()))), []).append(row["id"])
    for day, ids in by_day.items():
        identities.add(ids, day)
    identities.flush()
    data["alerted"] = {
        key: {"id": row["id"] if "id" in row else judgement_id(row["position"], row["statement"])}
        for key, row in data.get("alerted", {}).items()
    }
    cold = data_dir / "articles.json"
    if cold.exists():
        old = json.loads(cold.read_text(encoding="utf-8"))
        archive = ArticleArchive(data_dir / "archive")
        judgements = [from_dict(Judgement, row, "judgement") for row in old.get("judgements", {}).values()]
        for row in old.get("articles", {}).values():
            article = Article(
                identity=row.get("identity") or f"link:{row['url']}",
                url=row["url"],
                feed=row.get("feed", ""),
                title=row.get("title", ""),
                language=row.get("language", "en"),
                relevant=bool(row.get("relevant")),
                summary=row.get("summary", ""),
                people=list(row.get("people", [])),
            )
            archive.record(article, [])
        archive.add_judgements(judgements)
        archive.flush()
        cold.unlink()


STEPS: dict[int, Callable[[Path, dict[str, Any]], None]] = {1: _v1_to_v2}
