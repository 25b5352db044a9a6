"""Discord's own OpenAPI description (``../shared/discord-api-spec``) as a judge of every request the bot sends.

The emulator asks :meth:`DiscordSpec.problems` about each request body: the operation for its method and path,
its JSON schema (2020-12, ``$ref``s into ``components``, formats checked), and the documented limits that the
spec leaves out: content at most 2,000 characters, embeds at most 6,000 in all, embed links http(s) only,
``custom_id`` at most 100. A problem is what Discord answers with 400 and code 50035.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

SPEC = Path(__file__).resolve().parent.parent.parent / "shared" / "discord-api-spec" / "openapi.json"
CONTENT_LIMIT = 2000
EMBED_TOTAL_LIMIT = 6000
EMBED_LIMITS = {"title": 256, "description": 4096}
FIELD_LIMITS = {"name": 256, "value": 1024}
CUSTOM_ID_LIMIT = 100


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    schema: dict[str, Any] | None


@functools.cache
def spec() -> DiscordSpec:
    return DiscordSpec(json.loads(SPEC.read_text(encoding="utf-8")))


class DiscordSpec:
    def __init__(self, document: dict[str, Any]) -> None:
        self.components = document["components"]
        self.operations: list[Operation] = []
        for template, item in document["paths"].items():
            regex = re.sub(r"\\{\w+\\}", "[^/]+", re.escape(template))
            for method, operation in item.items():
                if not isinstance(operation, dict) or method.startswith("x-") or method == "parameters":
                    continue
                content = operation.get("requestBody", {}).get("content", {})
                schema = content.get("application/json", {}).get("schema")
                self.operations.append(Operation(method.upper(), template, re.compile(f"^{regex}$"), schema))
        # A literal segment beats a parameter: ``messages/@original`` before ``messages/{message_id}``.
        self.operations.sort(key=lambda op: op.template.count("{"))

    def operation(self, method: str, path: str) -> Operation | None:
        return next((op for op in self.operations if op.method == method and op.pattern.match(path)), None)

    @functools.cache  # noqa: B019 (one spec a run, kept for the whole run)
    def _validator(self, template: str, method: str) -> Draft202012Validator:
        operation = next(op for op in self.operations if op.template == template and op.method == method)
        root = {"$schema": "https://json-schema.org/draft/2020-12/schema", "allOf": [operation.schema]}
        root["components"] = self.components  # "#/components/…" resolves against this root
        return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)

    def problems(self, method: str, path: str, body: Any) -> list[str]:
        """Why Discord would refuse this request; empty when it would accept it."""
        operation = self.operation(method, path)
        if operation is None:
            return [f"{method} {path} is no operation of Discord's API"]
        if operation.schema is None:
            return [] if body in (None, {}) else [f"{method} {operation.template} takes no body"]
        found = [_describe(error) for error in self._validator(operation.template, method).iter_errors(_as_sent(body))]
        message = body.get("data") if operation.template.endswith("/callback") and isinstance(body, dict) else body
        return found or limit_problems(message if isinstance(message, dict) else {})


def _describe(error: ValidationError) -> str:
    """The most specific reason (inside a oneOf, the branch that came closest), with its path."""
    while error.context:
        error = best_match(error.context)
    return f"{'.'.join(map(str, error.absolute_path)) or 'body'}: {error.message[:300]}"


def _as_sent(body: Any) -> Any:
    """The body as Discord reads it: an attachment's ``id`` may be the integer index of its file (discord.py sends
    ``0``; Discord accepts it, though the spec types it as a snowflake string)."""
    if isinstance(body, dict) and isinstance(body.get("attachments"), list):
        attachments = [{**a, "id": str(a["id"])} if isinstance(a, dict) and isinstance(a.get("id"), int) else a
                       for a in body["attachments"]]  # fmt: skip
        body = {**body, "attachments": attachments}
    if isinstance(body, dict) and isinstance(body.get("data"), dict):
        body = {**body, "data": _as_sent(body["data"])}
    return body


def limit_problems(message: dict[str, Any]) -> list[str]:
    """The documented limits on a message that the schema does not state."""
    problems = []
    if len(message.get("content") or "") > CONTENT_LIMIT:
        problems.append(f"content: {len(message['content'])} characters, more than {CONTENT_LIMIT}")
    total = 0
    for index, embed in enumerate(message.get("embeds") or []):
        for key, limit in EMBED_LIMITS.items():
            if len(embed.get(key) or "") > limit:
                problems.append(f"embeds.{index}.{key}: more than {limit} characters")
        for number, embed_field in enumerate(embed.get("fields") or []):
            for key, limit in FIELD_LIMITS.items():
                if len(embed_field.get(key) or "") > limit:
                    problems.append(f"embeds.{index}.fields.{number}.{key}: more than {limit} characters")
        total += sum(len(embed.get(k) or "") for k in ("title", "description"))
        total += sum(len(f.get("name") or "") + len(f.get("value") or "") for f in embed.get("fields") or [])
        total += len((embed.get("footer") or {}).get("text") or "") + len((embed.get("author") or {}).get("name") or "")
        if embed.get("url") and not str(embed["url"]).startswith(("http://", "https://")):
            problems.append(f"embeds.{index}.url: {embed['url']!r} is not an http(s) URL")
    if total > EMBED_TOTAL_LIMIT:
        problems.append(f"embeds: {total} characters in all, more than {EMBED_TOTAL_LIMIT}")
    problems += [
        f"components: custom_id of {len(custom_id)} characters, more than {CUSTOM_ID_LIMIT}"
        for custom_id in _custom_ids(message.get("components") or [])
        if len(custom_id) > CUSTOM_ID_LIMIT
    ]
    return problems


def _custom_ids(components: list[Any]) -> list[str]:
    found: list[str] = []
    for component in components:
        if isinstance(component, dict):
            if isinstance(component.get("custom_id"), str):
                found.append(component["custom_id"])
            found += _custom_ids(component.get("components") or [])
    return found
