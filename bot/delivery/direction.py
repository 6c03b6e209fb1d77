"""Right-to-left messages that lay out right to left, line by line and button by button.

Telegram decides the direction of every line of a message and of every button from its
first strong character. An Arabic or Farsi message has many lines that do not start with an
Arabic letter: a place ("📍 Kom.ZFB في Fabrik Heeder"), an address, an e-mail address, a
German news text, an emoji whose bidi class is left to right ("ℹ️"). Each such line would
be laid out left to right, the Arabic words in it in the wrong order. Fixing that in every
view is a game of whack-a-mole; here it is done once, for every request the bot sends.

A message counts as right to left when its first *letter* (or an RLM) is right to left;
symbols such as ℹ are skipped for that decision. In such a message:

- a line whose first strong character is left to right gets an RLM in front; a line with no
  right-to-left letter at all (a German news text, an address) is also isolated (FSI…PDI),
  so its punctuation stays where a German reader expects it;
- a button label that starts left to right gets an RLM.

Messages with explicit ``entities`` are left alone (their offsets would shift), and in HTML
or Markdown text only the RLM is added (an isolate could straddle a tag). Left-to-right
messages — everything in German, English, Turkish… and all staff-group posts — pass
untouched.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import FSI, PDI, RLM, first_strong

_RTL = frozenset({"R", "AL"})
_TAG = re.compile(r"<[^>]*>")
_TEXT_KEYS = (("text", "entities"), ("caption", "caption_entities"))


def reads_right_to_left(text: str) -> bool:
    """Whether a message is Arabic or Farsi: its first letter (not symbol) is right to left."""
    for char in _TAG.sub("", text):
        if char == RLM:
            return True
        direction = unicodedata.bidirectional(char)
        if direction in _RTL:
            return True
        if direction == "L" and unicodedata.category(char).startswith("L") and not _symbol(char):
            return False
    return False


def _symbol(char: str) -> bool:
    """Letterlike symbols (ℹ, №, ™) count as letters in Unicode, not for a reader."""
    return 0x2100 <= ord(char) <= 0x214F


def _has_rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(c) in _RTL for c in text)


def rtl_line(line: str, *, markup: bool) -> str:
    if first_strong(_TAG.sub("", line) if markup else line) != "L":
        return line
    if markup or _has_rtl(line):
        return RLM + line
    return f"{RLM}{FSI}{line}{PDI}"


def rtl_text(text: str, *, markup: bool = False) -> str:
    return "\n".join(rtl_line(line, markup=markup) for line in text.split("\n"))


def rtl_label(label: str) -> str:
    return RLM + label if first_strong(label) == "L" else label


def _keyboard(markup: InlineKeyboardMarkup) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton.de_json({**b.to_dict(), "text": rtl_label(b.text)}, None)
            if first_strong(b.text) == "L"
            else b
            for b in row
        ]
        for row in markup.inline_keyboard
    ]
    return InlineKeyboardMarkup(rows)


def fix_direction(data: dict[str, Any]) -> None:
    """Make a request's text or caption and its inline buttons lay out right to left when
    the message is right to left (changes ``data`` in place)."""
    for key, entities in _TEXT_KEYS:
        text = data.get(key)
        if not isinstance(text, str) or data.get(entities) or not reads_right_to_left(text):
            continue
        data[key] = rtl_text(text, markup=bool(data.get("parse_mode")))
        markup = data.get("reply_markup")
        if isinstance(markup, InlineKeyboardMarkup):
            data["reply_markup"] = _keyboard(markup)
        return
