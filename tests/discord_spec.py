"""Discord's own OpenAPI description (``../shared/discord-api-spec``) as a judge of every request the bot sends.

The emulator asks :meth:`DiscordSpec.problems` about each request body: the operation for its method and path,
its JSON schema (2020-12, ``$ref``s into ``components``, formats checked), and the documented limits that the
spec leaves out (:data:`DOCUMENTED`, each with its source). A problem is what Discord answers with 400 and 50035.
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
CHOICE_LIMIT = 100
TAG_NAME_LIMIT = 20
FORUM_TAG_LIMIT = 20
APPLIED_TAG_LIMIT = 5
COMMAND_TEXT_LIMIT = 4000
COMMAND_NAME = re.compile(r"^[-_\w\u0900-\u097F\u0E00-\u0E7F]{1,32}$")

_DOCS = "https://discord.com/developers/docs"
_COMMANDS = f"{_DOCS}/interactions/application-commands"
DOCUMENTED = {
    "message content at most 2,000 characters (the spec allows 4,000 on create)":
        f"{_DOCS}/resources/message#create-message",
    "embeds at most 6,000 characters in all": f"{_DOCS}/resources/message#embed-object-embed-limits",
    "embed url http(s) only": f"{_DOCS}/resources/message#embed-object-embed-structure",
    "custom_id at most 100 characters in every component":
        f"{_DOCS}/components/reference#anatomy-of-a-component-custom-id",
    "choice name 1-100 and string value at most 100 characters (the spec allows 6,000)":
        f"{_COMMANDS}#application-command-object-application-command-option-choice-structure",
    "autocomplete answers at most 25 choices":
        f"{_DOCS}/interactions/receiving-and-responding#interaction-response-object-autocomplete",
    "command and option names lower case, letters, digits, - and _":
        f"{_COMMANDS}#application-command-object-application-command-naming",
    "a command's names, descriptions and choice values at most 4,000 characters in all":
        f"{_COMMANDS}#registering-a-command",
    "required options before optional ones":
        f"{_COMMANDS}#application-command-object-application-command-option-structure",
    "an option with choices cannot also autocomplete": f"{_COMMANDS}#autocomplete",
    "a forum tag's name at most 20 characters (the spec allows 50)":
        f"{_DOCS}/resources/channel#forum-tag-object-forum-tag-structure",
    "a forum post's message has a message's limits":
        f"{_DOCS}/resources/channel#start-thread-in-forum-or-media-channel",
    "a forum at most 20 tags, a post at most 5 (the spec's union lets a body through on its other branch)":
        f"{_DOCS}/resources/channel#channel-object-channel-structure",
}  # fmt: skip
"""The limits Discord documents for the routes the bot uses and its OpenAPI file leaves out, with their sources."""


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
        if found:
            return found
        if operation.template.endswith("/commands") and isinstance(body, list):
            return [p for command in body for p in command_problems(command)]
        if operation.template.endswith("/callback") and isinstance(body, dict) and body.get("type") == 8:
            return choice_problems((body.get("data") or {}).get("choices") or [])
        if operation.template in ("/channels/{channel_id}", "/channels/{channel_id}/threads"):
            found = tag_problems(body if isinstance(body, dict) else {})
            if operation.template == "/channels/{channel_id}":
                return found
            return found + limit_problems(body.get("message") or {})
        message = body.get("data") if operation.template.endswith("/callback") and isinstance(body, dict) else body
        return limit_problems(message if isinstance(message, dict) else {})


def _describe(error: ValidationError) -> str:
    """The most specific reason (inside a oneOf, the branch that came closest), with its path."""
    while error.context:
        error = best_match(error.context)
    return f"{'.'.join(map(str, error.absolute_path)) or 'body'}: {error.message[:300]}"


def _as_sent(body: Any) -> Any:
    """The body as Discord reads it: an attachment's ``id`` may be the integer index of its file (discord.py sends
    ``0``), and a reply's ``message_reference`` ids may be integers (discord.py sends them so); Discord accepts
    both, though the spec types them as snowflake strings."""
    if isinstance(body, dict) and isinstance(body.get("attachments"), list):
        attachments = [{**a, "id": str(a["id"])} if isinstance(a, dict) and isinstance(a.get("id"), int) else a
                       for a in body["attachments"]]  # fmt: skip
        body = {**body, "attachments": attachments}
    if isinstance(body, dict) and isinstance(body.get("message_reference"), dict):  # the same for a reply's ids
        reference = {k: str(v) if k.endswith("_id") and isinstance(v, int) else v
                     for k, v in body["message_reference"].items()}  # fmt: skip
        body = {**body, "message_reference": reference}
    if isinstance(body, dict) and isinstance(body.get("data"), dict):
        body = {**body, "data": _as_sent(body["data"])}
    return body


def tag_problems(body: dict[str, Any]) -> list[str]:
    """A forum's tags (at most 20, names at most 20 characters) and a post's (at most 5)."""
    tags, applied = body.get("available_tags") or [], body.get("applied_tags") or []
    problems = [f"available_tags.{n}.name: more than {TAG_NAME_LIMIT} characters"
                for n, tag in enumerate(tags) if len(str(tag.get("name") or "")) > TAG_NAME_LIMIT]  # fmt: skip
    if len(tags) > FORUM_TAG_LIMIT:
        problems.append(f"available_tags: {len(tags)} tags, more than {FORUM_TAG_LIMIT}")
    if len(applied) > APPLIED_TAG_LIMIT:
        problems.append(f"applied_tags: {len(applied)} tags, more than {APPLIED_TAG_LIMIT}")
    return problems


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


def choice_problems(choices: list[Any], where: str = "choices") -> list[str]:
    """A choice's name 1-100 characters, a string value at most 100, and at most 25 of them."""
    problems = [f"{where}: {len(choices)} choices, more than 25"] if len(choices) > 25 else []
    for n, choice in enumerate(choices):
        name, value = str(choice.get("name") or ""), choice.get("value")
        if not 1 <= len(name) <= CHOICE_LIMIT:
            problems.append(f"{where}.{n}.name: {len(name)} characters, not 1 to {CHOICE_LIMIT}")
        if isinstance(value, str) and len(value) > CHOICE_LIMIT:
            problems.append(f"{where}.{n}.value: {len(value)} characters, more than {CHOICE_LIMIT}")
    return problems


def command_problems(command: dict[str, Any]) -> list[str]:
    """The documented rules for registering a command that the schema leaves out."""
    name = str(command.get("name") or "")
    problems = _name_problems(name, name)
    problems += _option_problems(command.get("options") or [], name)
    total = _text_size(command)
    if total > COMMAND_TEXT_LIMIT:
        problems.append(f"{name}: {total} characters of names, descriptions and values, more than 4,000")
    return problems


def _name_problems(name: str, where: str) -> list[str]:
    if COMMAND_NAME.match(name) and name == name.lower():
        return []
    return [f"{where}: name {name!r} is not 1-32 lower-case letters, digits, - or _"]


def _option_problems(options: list[Any], where: str) -> list[str]:
    problems: list[str] = []
    seen_optional = False
    for option in options:
        here = f"{where}.{option.get('name')}"
        problems += _name_problems(str(option.get("name") or ""), here)
        if option.get("type") in (1, 2):  # a subcommand or group: its own options, its own order
            problems += _option_problems(option.get("options") or [], here)
            continue
        if option.get("required") and seen_optional:
            problems.append(f"{here}: a required option after an optional one")
        seen_optional = seen_optional or not option.get("required")
        if option.get("choices") and option.get("autocomplete"):
            problems.append(f"{here}: choices and autocomplete together")
        problems += choice_problems(option.get("choices") or [], f"{here}.choices")
    return problems


def _text_size(node: Any) -> int:
    """Characters of every name, description and choice value in a command, as Discord counts toward 4,000."""
    if isinstance(node, list):
        return sum(_text_size(n) for n in node)
    if not isinstance(node, dict):
        return 0
    own = sum(len(str(node.get(k) or "")) for k in ("name", "description"))
    own += len(str(node["value"])) if "value" in node else 0
    return own + _text_size(node.get("options") or []) + _text_size(node.get("choices") or [])
