"""Checks Bot API calls against Telegram's published schema (``api.json``).

The sandbox is only worth something if a call it accepts would also be accepted by
Telegram. Hand-written fakes drift from the real API; the schema does not, so every
parameter name, type, required flag and documented length limit is taken from it.
Limits that Telegram only states in prose ("1-64 bytes", "0-1024 characters after
entities parsing") are read from the field descriptions, so a schema update brings
new limits along without code changes.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.formatting import EntityParseError, UnsupportedParseMode, parse_entities

__all__ = ["ApiSchema", "Problem", "Upload", "decode_loose", "find_schema"]

SCHEMA_ENV = "QUARTIERBOT_API_SCHEMA"
BUNDLED = Path(__file__).resolve().parent / "data" / "api.json"
"""Telegram's published Bot API schema, kept in the repository (version and release date
inside the file; ``make update-schema`` refreshes it)."""


def find_schema() -> Path | None:
    """The schema the sandbox checks against: ``QUARTIERBOT_API_SCHEMA`` when set (to try a
    newer Bot API version), else the copy in this package. Nothing outside the checkout is
    read unless the variable says so."""
    env = os.environ.get(SCHEMA_ENV)
    if env:
        path = Path(env).expanduser()
        return path if path.is_file() else None
    return BUNDLED if BUNDLED.is_file() else None


@dataclass(frozen=True)
class Upload:
    """A file that arrived as a multipart part rather than as a file_id or URL."""

    filename: str
    content_type: str
    data: bytes

    def __repr__(self) -> str:  # call logs print params; keep megabytes out of them
        return f"Upload({self.filename!r}, {self.content_type!r}, {len(self.data)} bytes)"


@dataclass(frozen=True)
class Problem:
    """One violation; ``telegram`` is the description Telegram itself would answer with."""

    path: str
    message: str
    telegram: str | None = None

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


_BASIC = {"Integer", "Float", "Boolean", "String", "InputFile"}
_INT_RE = re.compile(r"-?\d+")
_FLOAT_RE = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_LEN_RE = re.compile(r"(\d+)-(\d+) (characters|bytes)( after entit\w+ parsing)?")
_ITEMS_RE = re.compile(r"(\d+)-(\d+) (?:items|identifiers)|[Aa]t most (\d+) commands")
_RANGE_RE = re.compile(r"[Vv]alues between (\d+)-(\d+)|between (\d+) and (\d+)")
_MUST_BE_RE = re.compile(r"must be ([a-z_]+)\b")
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_BUTTON_PASSIVE = {"text", "icon_custom_emoji_id", "style"}


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, Upload):
        return "file upload"
    return type(value).__name__


def _is_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and bool(_INT_RE.fullmatch(value)))


def _is_structured(t: str) -> bool:
    return t.startswith("Array of ") or t not in _BASIC


@dataclass
class _Ctx:
    """Per-call state: uploads referenced via attach:// are not unknown parameters."""

    params: Mapping[str, Any]
    attached: set[str] = field(default_factory=set)


class ApiSchema:
    """The methods and types of one Bot API version, with validation on top."""

    def __init__(self, data: Mapping[str, Any], source: Path | None = None) -> None:
        self.source = source
        self.version: str = str(data.get("version", "unknown"))
        self.methods: dict[str, dict[str, Any]] = dict(data["methods"])
        self.types: dict[str, dict[str, Any]] = dict(data["types"])
        self._lower = {name.lower(): name for name in self.methods}

    @classmethod
    def load(cls, path: Path | str | None = None) -> ApiSchema:
        """Read api.json from ``path`` or from :func:`find_schema`; raise if there is none."""
        resolved = Path(path) if path is not None else find_schema()
        if resolved is None or not resolved.is_file():
            raise FileNotFoundError(f"Bot API schema not found ({BUNDLED} or ${SCHEMA_ENV})")
        with resolved.open(encoding="utf-8") as fh:
            return cls(json.load(fh), resolved)

    def canonical(self, method: str) -> str | None:
        """Telegram treats method names case-insensitively; return the documented spelling."""
        return self._lower.get(method.lower())

    def returns(self, method: str) -> list[str]:
        name = self.canonical(method)
        return list(self.methods[name].get("returns", [])) if name else []

    # ---------------------------------------------------------------- decoding

    def decode(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Convert form-encoded strings into the JSON values they stand for.

        Form and multipart bodies carry every value as a string and objects as JSON
        text; handlers and the call log want real ints, bools and dicts.
        """
        name = self.canonical(method)
        fields = {f["name"]: f for f in self.methods[name].get("fields", [])} if name else {}
        out: dict[str, Any] = {}
        for key, value in params.items():
            spec = fields.get(key)
            out[key] = _decode_value(spec["types"], value) if spec else _guess_value(value)
        return out

    # -------------------------------------------------------------- validation

    def validate(self, method: str, params: Mapping[str, Any]) -> list[str]:
        """Human-readable violations of ``params`` for ``method`` (empty if fine)."""
        return [str(p) for p in self.check(method, params)[1]]

    def validate_object(self, type_name: str, value: Any) -> list[str]:
        """Check a value (e.g. a result the sandbox produced) against a schema type."""
        return [str(p) for p in self._match(type_name, value, type_name, _Ctx({}))]

    def check(self, method: str, params: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
        """Decode and validate in one go; the server needs both."""
        name = self.canonical(method)
        if name is None:
            return dict(params), [Problem("", f"unknown method {method!r}", "Not Found")]
        decoded = self.decode(name, params)
        present = {k: v for k, v in decoded.items() if v is not None}
        ctx = _Ctx(present)
        problems: list[Problem] = []
        fields = self.methods[name].get("fields", [])
        for spec in fields:
            key = spec["name"]
            if key not in present:
                if spec["required"]:
                    problems.append(_missing(name, key))
                continue
            problems += self._match_any(spec["types"], present[key], key, ctx)
            problems += self._limits(name, spec, present[key], present, key)
        problems += self._method_rules(name, present)
        known = {f["name"] for f in fields}
        for key, value in present.items():
            if key in known or key in ctx.attached:
                continue
            if isinstance(value, Upload):
                problems.append(Problem(key, "file upload is not referenced by any attach://"))
            else:
                problems.append(Problem(key, f"unknown parameter for {name}"))
        return decoded, problems

    def _match_any(self, types: list[str], value: Any, path: str, ctx: _Ctx) -> list[Problem]:
        results: list[list[Problem]] = []
        for t in types:
            res = self._match(t, value, path, ctx)
            if not res:
                return []
            results.append(res)
        if len(results) > 1 and all(
            len(r) == 1 and r[0].path == path and r[0].message.startswith("expected ")
            for r in results
        ):
            return [Problem(path, f"expected {' or '.join(types)}, got {_kind(value)}")]
        return min(results, key=len)

    def _match(self, t: str, value: Any, path: str, ctx: _Ctx) -> list[Problem]:
        if t.startswith("Array of "):
            if isinstance(value, str):
                return [Problem(path, f"can't parse {t} JSON")]
            if not isinstance(value, list):
                return [Problem(path, f"expected {t}, got {_kind(value)}")]
            problems: list[Problem] = []
            for i, item in enumerate(value):
                problems += self._match(t[len("Array of ") :], item, f"{path}[{i}]", ctx)
            return problems
        ok: bool
        if t == "Integer":
            ok = _is_int(value)
        elif t == "Float":
            ok = (
                _is_int(value)
                or isinstance(value, float)
                or (isinstance(value, str) and bool(_FLOAT_RE.fullmatch(value)))
            )
        elif t == "Boolean":
            ok = isinstance(value, bool) or value in ("true", "false", "True", "False", 0, 1)
        elif t == "String":
            ok = isinstance(value, str) or (
                isinstance(value, int | float) and not isinstance(value, bool)
            )
            if isinstance(value, str) and value.startswith("attach://"):
                return self._attach(value, path, ctx)
        elif t == "InputFile":
            ok = isinstance(value, Upload | str)
            if isinstance(value, str) and value.startswith("attach://"):
                return self._attach(value, path, ctx)
        else:
            return self._match_type(t, value, path, ctx)
        return [] if ok else [Problem(path, f"expected {t}, got {_kind(value)}")]

    def _attach(self, value: str, path: str, ctx: _Ctx) -> list[Problem]:
        name = value[len("attach://") :]
        ctx.attached.add(name)
        if not ctx.params or isinstance(ctx.params.get(name), Upload):
            return []
        return [Problem(path, f"{value} names no uploaded file")]

    def _match_type(self, t: str, value: Any, path: str, ctx: _Ctx) -> list[Problem]:
        spec = self.types.get(t)
        if spec is None:
            return []  # a type the schema does not describe; nothing to hold it against
        if isinstance(value, str):
            return [Problem(path, f"can't parse {t} JSON object")]
        subtypes = spec.get("subtypes")
        if subtypes:
            return self._match_any(list(subtypes), value, path, ctx)
        if not isinstance(value, dict):
            return [Problem(path, f"expected {t} object, got {_kind(value)}")]
        fields = spec.get("fields", [])
        problems: list[Problem] = []
        names = {f["name"] for f in fields}
        for fspec in fields:
            key = fspec["name"]
            sub = f"{path}.{key}"
            if key not in value or value[key] is None:
                if fspec["required"]:
                    problems.append(Problem(sub, f"required field of {t} is missing"))
                continue
            item = value[key]
            if key == "type":
                m = _MUST_BE_RE.search(fspec["description"])
                if m and item != m.group(1):
                    problems.append(Problem(sub, f"expected {m.group(1)!r} for {t}"))
                    continue
            problems += self._match_any(fspec["types"], item, sub, ctx)
            problems += self._limits(t, fspec, item, value, sub)
        for key in value:
            if key not in names:
                problems.append(Problem(f"{path}.{key}", f"unknown field of {t}"))
        problems += self._type_rules(t, value, path)
        return problems

    # ----------------------------------------------------------------- limits

    def _limits(
        self,
        owner: str,
        spec: Mapping[str, Any],
        value: Any,
        siblings: Mapping[str, Any],
        path: str,
    ) -> list[Problem]:
        desc: str = spec.get("description", "")
        key: str = spec["name"]
        if isinstance(value, str) and "String" in spec["types"]:
            m = _LEN_RE.search(desc)
            if not m:
                return []
            lo, hi, unit, parsed = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
            if unit == "bytes":
                size = len(value.encode("utf-8"))
            elif parsed:
                mode_key = "quote_parse_mode" if key == "quote" else "parse_mode"
                ents_key = {"text": "entities", "quote": "quote_entities"}.get(
                    key, "caption_entities"
                )
                mode = siblings.get(mode_key)
                ents = siblings.get(ents_key)
                try:
                    plain, _ = parse_entities(
                        value,
                        mode if isinstance(mode, str) else None,
                        ents if isinstance(ents, list) else None,
                    )
                except EntityParseError as exc:
                    msg = f"can't parse entities: {exc}"
                    return [Problem(path, msg, msg)]
                except UnsupportedParseMode:
                    return [
                        Problem(
                            mode_key, f"unsupported parse_mode {mode!r}", "unsupported parse_mode"
                        )
                    ]
                size = len(plain)
            else:
                size = len(value)
            if lo <= size <= hi:
                return []
            what = f"{size} {unit}{' after entity parsing' if parsed else ''}"
            return [
                Problem(
                    path,
                    f"must be {lo}-{hi} {unit}, got {what}",
                    _length_error(owner, key, size < lo),
                )
            ]
        if isinstance(value, list):
            m = _ITEMS_RE.search(desc)
            if not m:
                return []
            lo, hi = (int(m.group(1)), int(m.group(2))) if m.group(1) else (0, int(m.group(3)))
            if lo <= len(value) <= hi:
                return []
            return [Problem(path, f"must have {lo}-{hi} items, got {len(value)}")]
        if _is_int(value) and "Integer" in spec["types"]:
            m = _RANGE_RE.search(desc)
            if not m:
                return []
            lo, hi = (
                (int(m.group(1)), int(m.group(2)))
                if m.group(1)
                else (int(m.group(3)), int(m.group(4)))
            )
            if lo <= int(value) <= hi:
                return []
            return [Problem(path, f"must be between {lo} and {hi}, got {value}")]
        return []

    def _type_rules(self, t: str, value: Mapping[str, Any], path: str) -> list[Problem]:
        """Rules Telegram enforces on objects that the field list cannot express."""
        if t == "InlineKeyboardButton":
            actions = sorted(
                k for k, v in value.items() if k not in _BUTTON_PASSIVE and v is not None
            )
            if len(actions) == 1:
                return []
            if not actions:
                msg = (
                    "can't parse inline keyboard button: Text buttons are unallowed in the "
                    "inline keyboard"
                )
                return [
                    Problem(
                        path,
                        "inline keyboard button needs exactly one action field "
                        "(callback_data, url, ...), has none",
                        msg,
                    )
                ]
            return [
                Problem(
                    path,
                    "inline keyboard button needs exactly one action field, has "
                    + ", ".join(actions),
                    "can't parse inline keyboard button: only one of optional fields "
                    "must be specified",
                )
            ]
        if t == "BotCommand":
            cmd = value.get("command")
            # Length is reported by the generic limit check; only the alphabet here.
            if isinstance(cmd, str) and 1 <= len(cmd) <= 32 and not _COMMAND_RE.fullmatch(cmd):
                return [
                    Problem(
                        f"{path}.command",
                        "must be 1-32 characters of lowercase a-z, 0-9 and _",
                        "BOT_COMMAND_INVALID",
                    )
                ]
        return []

    def _method_rules(self, method: str, params: Mapping[str, Any]) -> list[Problem]:
        """Conditional requirements that the schema only states in prose."""
        problems: list[Problem] = []
        if method.startswith("editMessage") and "inline_message_id" not in params:
            for key in ("chat_id", "message_id"):
                if key not in params:
                    problems.append(
                        Problem(
                            key,
                            "required unless inline_message_id is given",
                            f"{key} is empty"
                            if key == "chat_id"
                            else "message identifier is not specified",
                        )
                    )
        if method == "editMessageText" and "text" not in params and "rich_message" not in params:
            problems.append(
                Problem("text", "required unless rich_message is given", "message text is empty")
            )
        return problems


def _missing(method: str, key: str) -> Problem:
    telegram = {
        "text": "message text is empty",
        "chat_id": "chat_id is empty",
    }.get(key, f'parameter "{key}" is required')
    return Problem(key, f"missing required parameter of {method}", telegram)


def _length_error(owner: str, key: str, too_short: bool) -> str | None:
    if key == "text" and owner in ("sendMessage", "editMessageText"):
        return "message text is empty" if too_short else "message is too long"
    if key == "caption":
        return "message caption is too long"
    if key == "callback_data":
        return "BUTTON_DATA_INVALID"
    if owner == "BotCommand":
        return "BOT_COMMAND_INVALID" if key == "command" else "BOT_COMMAND_DESCRIPTION_INVALID"
    if owner in ("createForumTopic", "editForumTopic") and key == "name":
        return "TOPIC_NAME_EMPTY" if too_short else "TOPIC_NAME_INVALID"
    if owner == "answerCallbackQuery":
        return "MESSAGE_TOO_LONG"
    return None


def _decode_value(types: Iterable[str], value: Any) -> Any:
    types = list(types)
    if not isinstance(value, str):
        return value
    if "Integer" in types and _INT_RE.fullmatch(value):
        return int(value)
    if "String" in types or "InputFile" in types:
        return value
    if "Float" in types and _FLOAT_RE.fullmatch(value):
        return float(value)
    if "Boolean" in types and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if any(_is_structured(t) for t in types):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def decode_loose(params: Mapping[str, Any]) -> dict[str, Any]:
    """Decode form values without a schema (the non-strict, schema-less fallback)."""
    return {key: _guess_value(value) for key, value in params.items()}


def _guess_value(value: Any) -> Any:
    """Best effort for parameters the schema does not know (they get reported anyway)."""
    if not isinstance(value, str):
        return value
    if _INT_RE.fullmatch(value):
        return int(value)
    if value in ("true", "false"):
        return value == "true"
    if value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
