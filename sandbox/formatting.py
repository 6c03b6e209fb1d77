"""Entity parsing the way Telegram does it, so the sandbox stores what a client would show.

Telegram counts text limits *after* removing markup and rejects malformed markup with
"can't parse entities" errors. A bot that only ever talks to a mock which accepts any
string finds out about an unescaped ``<`` or ``.`` in production; here it finds out in
the test suite. The HTML parser follows tdlib's rules closely (tag set, error wording,
byte offsets); the Markdown parsers are approximations that catch the common mistakes.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "EntityParseError",
    "UnsupportedParseMode",
    "parse_entities",
    "parse_html",
    "parse_markdown",
    "parse_markdown_v2",
    "strip_text",
    "utf16_len",
]


class EntityParseError(ValueError):
    """Markup Telegram would refuse; ``str(exc)`` is Telegram's wording after the colon."""


class UnsupportedParseMode(ValueError):
    """Telegram answers "unsupported parse_mode" rather than a parse error for these."""


def utf16_len(text: str) -> int:
    """Entity offsets and lengths are measured in UTF-16 code units by the Bot API."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _Builder:
    parts: list[str] = field(default_factory=list)
    offset: int = 0  # UTF-16 units written so far
    entities: list[dict[str, Any]] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.offset += utf16_len(text)

    def entity(self, start: int, etype: str, **extra: Any) -> None:
        length = self.offset - start
        if length <= 0:
            return  # Telegram silently drops empty entities
        ent: dict[str, Any] = {"type": etype, "offset": start, "length": length}
        ent.update({k: v for k, v in extra.items() if v is not None})
        self.entities.append(ent)

    def result(self) -> tuple[str, list[dict[str, Any]]]:
        ents = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), ents


# --------------------------------------------------------------------------- HTML

_HTML_TAGS = {
    "a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span",
    "tg-spoiler", "tg-emoji", "tg-time", "code", "pre", "blockquote",
}  # fmt: skip
_SIMPLE = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough",
    "del": "strikethrough", "tg-spoiler": "spoiler",
}  # fmt: skip
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(#[xX][0-9a-fA-F]{1,8}|#[0-9]{1,9}|[a-zA-Z]{2,8});")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _decode_entity(text: str, i: int) -> tuple[str, int] | None:
    m = _ENTITY_RE.match(text, i)
    if not m:
        return None
    name = m.group(1)
    if name.startswith("#"):
        try:
            code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
            return chr(code), m.end()
        except (ValueError, OverflowError):
            return None
    if name in _NAMED_ENTITIES:
        return _NAMED_ENTITIES[name], m.end()
    return None  # tdlib keeps unknown entities as literal text


@dataclass
class _Open:
    tag: str
    attrs: dict[str, str]
    start: int


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Turn Telegram-HTML into plain text plus MessageEntity dicts, or raise like tdlib."""
    out = _Builder()
    stack: list[_Open] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "&":
            dec = _decode_entity(text, i)
            if dec:
                out.add(dec[0])
                i = dec[1]
            else:
                out.add("&")
                i += 1
            continue
        if c != "<":
            j = i
            while j < n and text[j] not in "<&":
                j += 1
            out.add(text[i:j])
            i = j
            continue
        begin = i
        i += 1
        if i < n and text[i] == "/":
            i += 1
            j = i
            while j < n and text[j] != ">" and not text[j].isspace():
                j += 1
            name = text[i:j].lower()
            while j < n and text[j].isspace():
                j += 1
            if j >= n or text[j] != ">":
                raise EntityParseError(
                    f"Can't find end tag corresponding to start tag at byte offset "
                    f"{_byte_offset(text, begin)}"
                )
            if not stack:
                raise EntityParseError(
                    f"Unexpected end tag at byte offset {_byte_offset(text, begin)}"
                )
            top = stack[-1]
            if name != top.tag:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, expected "
                    f'"</{top.tag}>", found "</{name}>"'
                )
            stack.pop()
            _close_html(out, top, stack)
            i = j + 1
            continue
        j = i
        while j < n and text[j] != ">" and not text[j].isspace():
            j += 1
        name = text[i:j].lower()
        if name not in _HTML_TAGS:
            raise EntityParseError(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, begin)}'
            )
        attrs, i = _parse_attrs(text, j, name, begin)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityParseError('Tag "span" must have class "tg-spoiler"')
        stack.append(_Open(name, attrs, out.offset))
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    return out.result()


def _parse_attrs(text: str, i: int, tag: str, begin: int) -> tuple[dict[str, str], int]:
    attrs: dict[str, str] = {}
    n = len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        if text[i] == ">":
            return attrs, i + 1
        j = i
        while j < n and (text[j].isalnum() or text[j] in "-_"):
            j += 1
        attr = text[i:j].lower()
        if not attr:
            raise EntityParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset {_byte_offset(text, j)}'
            )
        i = j
        while i < n and text[i].isspace():
            i += 1
        if i < n and text[i] != "=":
            if tag == "blockquote" and attr == "expandable":
                attrs[attr] = ""
                continue
            raise EntityParseError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                f"at byte offset {_byte_offset(text, i)}"
            )
        i += 1
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        if text[i] in "\"'":
            q = text[i]
            end = text.find(q, i + 1)
            if end < 0:
                raise EntityParseError(
                    f"Unclosed end of attribute value at byte offset {_byte_offset(text, i)}"
                )
            attrs[attr] = html.unescape(text[i + 1 : end])
            i = end + 1
        else:
            j = i
            while j < n and (text[j].isalnum() or text[j] in "-_.:/?=&#%+~"):
                j += 1
            if j == i:
                raise EntityParseError(
                    f"Unexpected end of name token at byte offset {_byte_offset(text, i)}"
                )
            attrs[attr] = text[i:j]
            i = j


def _close_html(out: _Builder, item: _Open, stack: list[_Open]) -> None:
    tag, attrs = item.tag, item.attrs
    if tag in _SIMPLE or tag == "span":
        out.entity(item.start, _SIMPLE.get(tag, "spoiler"))
    elif tag == "a":
        href = attrs.get("href", "")
        m = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if m:
            out.entity(
                item.start,
                "text_mention",
                user={"id": int(m.group(1)), "is_bot": False, "first_name": ""},
            )
        elif href:
            out.entity(item.start, "text_link", url=href)
    elif tag == "code":
        lang = attrs.get("class", "")
        if stack and stack[-1].tag == "pre" and lang.startswith("language-"):
            stack[-1].attrs["language"] = lang[len("language-") :]
        else:
            out.entity(item.start, "code")
    elif tag == "pre":
        out.entity(item.start, "pre", language=attrs.get("language"))
    elif tag == "blockquote":
        out.entity(item.start, "expandable_blockquote" if "expandable" in attrs else "blockquote")
    elif tag == "tg-emoji":
        if "emoji-id" not in attrs:
            raise EntityParseError('Tag "tg-emoji" must have attribute "emoji-id"')
        out.entity(item.start, "custom_emoji", custom_emoji_id=attrs["emoji-id"])
    elif tag == "tg-time":
        try:
            unix = int(attrs.get("unix", ""))
        except ValueError as exc:
            raise EntityParseError('Tag "tg-time" must have integer attribute "unix"') from exc
        out.entity(item.start, "date_time", unix_time=unix, date_time_format=attrs.get("format"))


# --------------------------------------------------------------------- MarkdownV2

_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")


def parse_markdown_v2(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Approximate tdlib's MarkdownV2 parser; catches unescaped reserved characters."""
    out = _Builder()
    stack: list[tuple[str, int, int]] = []  # (token, utf16 start, source index)
    i, n = 0, len(text)
    at_line_start = True
    quote_start: int | None = None
    while i < n:
        c = text[i]
        if at_line_start:
            at_line_start = False
            if c == ">" or text.startswith("**>", i):
                if quote_start is None:
                    quote_start = out.offset
                i += 3 if c == "*" else 1
                continue
            if quote_start is not None:
                out.entity(quote_start, "blockquote")
                quote_start = None
        if c == "\\":
            if i + 1 < n and 0 < ord(text[i + 1]) < 127:
                out.add(text[i + 1])
                i += 2
                continue
            raise EntityParseError(
                "Character '\\' is reserved and must be escaped with the preceding '\\'"
            )
        if c == "\n":
            out.add(c)
            i += 1
            at_line_start = True
            continue
        if c == "`":
            fence = text.startswith("```", i)
            tok = "```" if fence else "`"
            j = i + len(tok)
            lang = None
            if fence:
                nl = text.find("\n", j)
                first = text[j:nl] if nl >= 0 else ""
                if nl >= 0 and re.fullmatch(r"[\w+#-]*", first):
                    lang = first or None
                    j = nl + 1
            start = out.offset
            buf: list[str] = []
            while j < n and not text.startswith(tok, j):
                if text[j] == "\\" and j + 1 < n:
                    buf.append(text[j + 1])
                    j += 2
                    continue
                buf.append(text[j])
                j += 1
            if j >= n:
                kind = "Pre" if fence else "Code"
                raise EntityParseError(
                    f"Can't find end of {kind} entity at byte offset {_byte_offset(text, i)}"
                )
            out.add("".join(buf))
            out.entity(start, "pre" if fence else "code", language=lang)
            i = j + len(tok)
            continue
        if c == "[" or (c == "!" and text.startswith("![", i)):
            stack.append(("[" if c == "[" else "![", out.offset, i))
            i += 1 if c == "[" else 2
            continue
        if c == "]":
            if not stack or stack[-1][0] not in ("[", "!["):
                raise EntityParseError(_reserved(c))
            tok, start, src = stack.pop()
            if i + 1 < n and text[i + 1] == "(":
                j = i + 2
                url: list[str] = []
                while j < n and text[j] != ")":
                    if text[j] == "\\" and j + 1 < n:
                        url.append(text[j + 1])
                        j += 2
                        continue
                    url.append(text[j])
                    j += 1
                if j >= n:
                    raise EntityParseError(
                        f"Can't find end of a URL at byte offset {_byte_offset(text, i + 1)}"
                    )
                href = "".join(url)
                if tok == "![":
                    out.entity(start, "custom_emoji", custom_emoji_id=href.rsplit("=", 1)[-1])
                else:
                    out.entity(start, "text_link", url=href)
                i = j + 1
            else:
                if tok == "![":
                    raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
                out.entity(start, "text_link", url="")
                i += 1
            continue
        mark = next((m for m in ("||", "__", "*", "_", "~") if text.startswith(m, i)), None)
        if mark is not None:
            tok = mark
            if stack and stack[-1][0] == tok:
                _, start, _src = stack.pop()
                etype = {
                    "||": "spoiler",
                    "__": "underline",
                    "*": "bold",
                    "_": "italic",
                    "~": "strikethrough",
                }[tok]
                out.entity(start, etype)
            else:
                stack.append((tok, out.offset, i))
            i += len(tok)
            continue
        if c in _MDV2_RESERVED:
            raise EntityParseError(_reserved(c))
        out.add(c)
        i += 1
    if quote_start is not None:
        out.entity(quote_start, "blockquote")
    if stack:
        tok, _start, src = stack[-1]
        name = {
            "||": "Spoiler",
            "__": "Underline",
            "*": "Bold",
            "_": "Italic",
            "~": "Strikethrough",
            "[": "TextUrl",
            "![": "CustomEmoji",
        }[tok]
        raise EntityParseError(
            f"Can't find end of {name} entity at byte offset {_byte_offset(text, src)}"
        )
    return out.result()


def _reserved(c: str) -> str:
    return f"Character '{c}' is reserved and must be escaped with the preceding '\\'"


# ------------------------------------------------------------------ legacy Markdown


def parse_markdown(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url); no nesting."""
    out = _Builder()
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.add(text[i + 1])
            i += 2
            continue
        if c in "*_`[":
            tok = "```" if text.startswith("```", i) else c
            end_tok = "]" if tok == "[" else tok
            j = text.find(end_tok, i + len(tok))
            if j < 0:
                raise EntityParseError(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}"
                )
            inner = text[i + len(tok) : j]
            start = out.offset
            if tok == "[":
                if j + 1 < n and text[j + 1] == "(":
                    k = text.find(")", j + 2)
                    if k < 0:
                        raise EntityParseError(
                            f"Can't find end of a URL at byte offset {_byte_offset(text, j)}"
                        )
                    out.add(inner)
                    out.entity(start, "text_link", url=text[j + 2 : k])
                    i = k + 1
                else:
                    out.add(inner)
                    i = j + 1
                continue
            out.add(inner)
            etype = {"*": "bold", "_": "italic", "`": "code", "```": "pre"}[tok]
            out.entity(start, etype)
            i = j + len(tok)
            continue
        out.add(c)
        i += 1
    return out.result()


def strip_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram trims surrounding whitespace of message texts; entities follow the trim."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    result = []
    for ent in entities:
        start = max(ent["offset"] - lead, 0)
        end = min(ent["offset"] + ent["length"] - lead, total)
        if end > start:
            result.append({**ent, "offset": start, "length": end - start})
    return stripped, result


def parse_entities(
    text: str, parse_mode: str | None, entities: list[dict[str, Any]] | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """Apply ``parse_mode`` (or explicit entities) and return what Telegram would store."""
    mode = (parse_mode or "").strip()
    if mode.lower() == "html":
        plain, ents = parse_html(text)
    elif mode.lower() == "markdownv2":
        plain, ents = parse_markdown_v2(text)
    elif mode.lower() == "markdown":
        plain, ents = parse_markdown(text)
    elif mode:
        raise UnsupportedParseMode(mode)
    else:
        plain, ents = text, list(entities or [])
    return strip_text(plain, ents)
