"""Arabic and Persian catalog strings lay out right to left in Telegram, line by line.

Telegram takes the direction of each line (and each button) from its first strong character,
so a line that starts with a Latin name, a placeholder filled with one, or a command is laid
out left to right ("Kom.ZFB في Fabrik Heeder"). Placeholders are filled with Latin sample
values before checking, since that is what residents see for place and office names.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.i18n import FSI, LANGUAGES, PDI, RLM, first_strong_rtl
from tests.rtl import commands_not_isolated, filled, lines_not_rtl
from tests.test_catalogs import load

RTL = sorted(code for code, language in LANGUAGES.items() if language.rtl)


def msgstrs(code: str) -> list[tuple[str, str]]:
    result: list[tuple[str, str]] = []
    for message in load(code):
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        texts: Any = message.string if isinstance(message.string, tuple) else (message.string,)
        result += [(msgid, text) for text in texts]
    return result


def test_first_strong_rtl() -> None:
    assert first_strong_rtl("مرحبا Fabrik Heeder")
    assert not first_strong_rtl("Kom.ZFB في Fabrik Heeder")
    assert first_strong_rtl(RLM + "Kom.ZFB في Fabrik Heeder")
    assert not first_strong_rtl(f"{FSI}Kom.ZFB{PDI} في")  # isolates count: start with RLM
    assert not first_strong_rtl("09:00")  # no strong character: no direction
    assert first_strong_rtl("• ١٢ موعد")


@pytest.mark.parametrize("code", RTL)
def test_every_line_starts_right_to_left(code: str) -> None:
    bad = [
        f"{msgid[:40]!r}: {line!r}"
        for msgid, text in msgstrs(code)
        for line in lines_not_rtl(filled(text))
    ]
    assert not bad, f"{code}:\n" + "\n".join(bad)


@pytest.mark.parametrize("code", RTL)
def test_commands_are_isolated(code: str) -> None:
    bad = [
        f"{msgid[:40]!r}: {commands}"
        for msgid, text in msgstrs(code)
        if (commands := commands_not_isolated(text))
    ]
    assert not bad, f"{code}:\n" + "\n".join(bad)


def test_a_latin_start_is_caught() -> None:
    assert lines_not_rtl(filled("{place} مفتوح\nمرحبا")) == ["Fabrik Heeder مفتوح"]
    assert commands_not_isolated("اكتب /mydata") == ["/mydata"]
    assert not commands_not_isolated(f"اكتب {FSI}/mydata{PDI}")
