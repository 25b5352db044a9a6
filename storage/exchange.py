"""The stances exchange file: export with one record a line, import with errors that name the line."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from domain.records import RecordError

EXPORT_FORMAT = "stancewatch-stances/1"
MAX_IMPORT_BYTES = 5 * 1024 * 1024
"""An import is a curated stance pack, not a database dump: 50 MB once took 12 s, 698 MB and slowed every write."""
_WHERE = re.compile(r"^(\w+)\[(\d+)\]")
_RECORD = re.compile(r"\b(people|questions|positions|judgements)\[(\d+)\]")


def dump_export(data: dict[str, Any]) -> str:
    """JSON with one record a line, readable in a diff and easy to hand-edit."""
    parts = []
    for key, value in data.items():
        if isinstance(value, list):
            rows = ",\n".join("    " + json.dumps(v, ensure_ascii=False) for v in value)
            parts.append(f"  {json.dumps(key)}: [\n{rows}\n  ]" if value else f"  {json.dumps(key)}: []")
        else:
            parts.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def read_import(path: Path) -> tuple[str, Any]:
    """The file's text and parsed JSON; a syntax error names the file, line and column."""
    try:
        if path.is_file() and path.stat().st_size > MAX_IMPORT_BYTES:
            raise RecordError(str(path), f"is larger than the {MAX_IMPORT_BYTES // 2**20} MiB import limit")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError(str(path), f"not UTF-8 text (byte {exc.start} is not valid); save it as UTF-8") from None
    except OSError as exc:
        raise RecordError(str(path), f"cannot be read ({exc.strerror})") from None
    try:
        return text, json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordError(f"{path} line {exc.lineno}, column {exc.colno}", f"not valid JSON ({exc.msg})") from None


def with_line(error: RecordError, path: Path, text: str) -> RecordError:
    """The same error, with the file and the line where the bad record starts."""
    match = _WHERE.match(error.where)
    line = record_line(text, match.group(1), int(match.group(2))) if match else None
    place = f"{path} line {line}" if line else str(path)
    message = _RECORD.sub(lambda m: _with_record_line(text, m), str(error).removeprefix(f"{error.where}: "))
    return RecordError(f"{place}: {error.where}", message)


def _with_record_line(text: str, match: re.Match[str]) -> str:
    """``positions[3]`` named in a message, followed by the line it starts on."""
    line = record_line(text, match.group(1), int(match.group(2)))
    return f"{match.group(0)} (line {line})" if line else match.group(0)


def record_line(text: str, section: str, index: int) -> int | None:
    """The line on which element ``index`` of the top-level array ``section`` starts."""
    depth, line, element = 0, 1, -1
    in_string = escaped = in_section = awaiting = False
    token_start, last_string, key = 0, "", ""
    for pos, char in enumerate(text):
        if char == "\n":
            line += 1
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string, last_string = False, text[token_start + 1 : pos]
            continue
        if awaiting and not char.isspace():
            if char == "]":
                return None
            element, awaiting = element + 1, False
            if element == index:
                return line
        if char == '"':
            in_string, token_start = True, pos
        elif char in "{[":
            depth += 1
            if char == "[" and depth == 2 and key == section:
                in_section = awaiting = True
        elif char in "}]":
            depth -= 1
            in_section = in_section and depth >= 2
        elif char == ":" and depth == 1:
            key = last_string
        elif char == "," and in_section and depth == 2:
            awaiting = True
    return None
