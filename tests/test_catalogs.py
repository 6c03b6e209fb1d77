"""Every string a person reads is translated in every language, with the same placeholders."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from bot.i18n import LANGUAGES, LOCALES_DIR, first_strong_rtl
from tests.rtl import filled

PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
# Strings that may be the same in every language (names, punctuation only); English may
# equal its msgid. "{date}, {time}" joins two translated phrases ("from … to …", "at …");
# "{larger} {smaller}" two units of one span ("2 Tg. 5 Std.").
SAME_EVERYWHERE: set[str] = {"{date}, {time}", "{larger} {smaller}"}


def load(code: str) -> Catalog:
    with (LOCALES_DIR / code / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=LANGUAGES[code].babel)


def forms(message: Message) -> list[str]:
    """The translation, or one per plural form; a missing one as ""."""
    string = message.string
    if isinstance(string, str):
        return [string]
    return [s or "" for s in string or [""]]


def template_ids() -> set[str]:
    with (LOCALES_DIR / "messages.pot").open("rb") as f:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}


def test_template_is_up_to_date(tmp_path: Path) -> None:
    """A string added in code but not extracted would reach residents untranslated."""
    out = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "pyproject.toml",
            "-k",
            "_",
            "-k",
            "n_:1,2",
            "-k",
            "p_:1c,2",
            "-k",
            "N_",
            "--no-location",
            "--sort-output",
            "-o",
            str(out),
            "bot",
            "handlers",
        ],
        check=True,
        capture_output=True,
        cwd=LOCALES_DIR.parent,
    )
    with out.open("rb") as f:
        fresh = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    assert fresh == template_ids(), "run `make update-catalogs` and translate the new strings"


@pytest.mark.parametrize("code", sorted(LANGUAGES))
def test_catalog_complete(code: str) -> None:
    catalog = load(code)
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
    assert ids >= template_ids(), f"{code}: missing {sorted(template_ids() - ids)[:3]}"
    problems = []
    for message in catalog:
        if not message.id:
            continue
        singular = message.id if isinstance(message.id, str) else message.id[0]
        if message.fuzzy:
            problems.append(f"fuzzy: {singular!r}")
        strings = forms(message)
        if not all(s.strip() for s in strings):
            problems.append(f"untranslated: {singular!r}")
            continue
        if isinstance(message.id, tuple):
            expected_forms = catalog.num_plurals
            if len(strings) != expected_forms:
                problems.append(
                    f"{len(strings)} plural forms, expected {expected_forms}: {singular!r}"
                )
        wanted = set(PLACEHOLDER.findall(singular))
        for s in strings:
            if set(PLACEHOLDER.findall(s)) - {"{n}"} != wanted - {"{n}"}:
                problems.append(f"placeholders differ: {singular!r} -> {s!r}")
        if code != "en" and strings[0] == singular and singular not in SAME_EVERYWHERE:
            problems.append(f"English copied in: {singular!r}")
        if LANGUAGES[code].rtl and not first_strong_rtl(filled(strings[0])):
            problems.append(
                f"right-to-left text should start with an RTL letter: {strings[0][:30]!r}"
            )
    assert not problems, f"{code}:\n" + "\n".join(problems)
