"""Test utility: does every line of a right-to-left text lay out right to left?

Used by tests/test_rtl.py for the catalogs; the lead's end-to-end check over every message
and button the bot sends can use :func:`lines_not_rtl` too.
"""

from __future__ import annotations

import re

from bot.i18n import FSI, LRI, PDI, first_strong

SAMPLES = {
    "n": "7",
    "id": "7",
    "time": "09:00",
    "hours": "09:00–12:00",
    "phone": "+49 2151 123456",
    "date": "Tue, Dec 1",
    "when": "Tue, Dec 1, 09:00",
}
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def filled(text: str) -> str:
    """Placeholders filled with Latin sample values: what residents see for names."""
    return PLACEHOLDER.sub(lambda m: SAMPLES.get(m.group(1), "Fabrik Heeder"), text)


COMMAND = re.compile(r"(?<![\w/])/[a-z_]+")
# Latin arguments that belong to a command ("/stats week", "/claim #A1B2") go into its isolate.
ARGUMENTS = re.compile(r"(?: [A-Za-z0-9#\-]+(?:\.[A-Za-z0-9]+)*)*")


def lines_not_rtl(text: str) -> list[str]:
    """Lines whose first strong character is left to right (a line without any strong
    character — a time, a number, an emoji — takes no direction and is fine)."""
    return [line for line in text.split("\n") if first_strong(line) == "L"]


def commands_not_isolated(text: str) -> list[str]:
    """Commands ("/mydata") not wrapped in an isolate: inside right-to-left text their
    slash moves to the other end ("mydata/")."""
    bad = []
    for match in COMMAND.finditer(text):
        before, after = text[: match.start()], text[match.end() :]
        after = after[ARGUMENTS.match(after).end() :]  # type: ignore[union-attr]
        if not (before.endswith((FSI, LRI)) and after.startswith(PDI)):
            bad.append(match.group())
    return bad
