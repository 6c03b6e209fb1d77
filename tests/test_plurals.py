"""Every catalog's plural rule is CLDR's rule for its language, with the forms in CLDR order.

gettext numbers the forms; CLDR names them (zero, one, two, few, many, other). A catalog
whose header maps n to a different form than CLDR — or that orders the forms differently
(Arabic had "many" and "other" swapped) — shows the wrong word to every resident whose count
falls there, and no completeness test notices. So the header is evaluated for n in 0..200
and compared category by category: form i must be the i-th CLDR category (in CLDR's order)
that occurs for whole numbers.

Exceptions for one-form catalogs would be allowed only for a language whose nouns never
change after a number; there are none: Turkish and Persian keep the noun singular after a
numeral, but our sentences still change ("danışana"/"danışanlara", "آن را"/"یکی را"), so
they use CLDR's two forms.
"""

from __future__ import annotations

import gettext
import re

import pytest
from babel import Locale

from bot.i18n import LANGUAGES
from tests.test_catalogs import load

CLDR_ORDER = ("zero", "one", "two", "few", "many", "other")
ONE_FORM_ALLOWED: set[str] = set()


def cldr_categories(babel_code: str) -> list[str]:
    rule = Locale.parse(babel_code).plural_form
    return [rule(n) for n in range(201)]


@pytest.mark.parametrize("code", sorted(LANGUAGES))
def test_plural_rule_matches_cldr(code: str) -> None:
    catalog = load(code)
    form_of = gettext.c2py(catalog.plural_expr)
    categories = cldr_categories(LANGUAGES[code].babel)
    if code in ONE_FORM_ALLOWED:
        assert catalog.num_plurals == 1
        return
    used = [c for c in CLDR_ORDER if c in set(categories)]
    assert catalog.num_plurals == len(used), f"{code}: {catalog.num_plurals} forms, CLDR {used}"
    wrong = [
        f"n={n}: form {form_of(n)} ({used[form_of(n)]}), CLDR says {category}"
        for n, category in enumerate(categories)
        if used[form_of(n)] != category
    ]
    assert not wrong, f"{code}: {catalog.plural_forms}\n" + "\n".join(wrong[:10])


def test_plural_entries_have_all_forms_distinct_where_cldr_differs() -> None:
    """Arabic "many" (11 موعدًا) and "other" (100 موعد) are different words: a catalog that
    repeats one form where the noun changes is caught by reading; here we at least check
    that every Arabic count entry with {n} distinguishes few/many/other."""
    catalog = load("ar")
    same = [
        m.id[0]
        for m in catalog
        if isinstance(m.id, tuple)
        and isinstance(m.string, tuple)
        and "{n}" in m.string[3]
        and m.string[3] in (m.string[4], m.string[5])
        and "{n} " in m.string[3]
    ]
    assert not same, same


# "Termin(e)", "appointment(s)", "був(-ла)": a count or a gender written as a bracketed ending.
BRACKETED_ENDING = re.compile(
    r"\w\((s|e|n|en|er|es|i|y|a|ы|и|а|ів|ов|ей|я|ите|ове|ler|lar|ları|leri|uri|ri|le)\)|\(-\w+\)"
)


@pytest.mark.parametrize("code", sorted(LANGUAGES))
def test_no_bracketed_plural_or_gender_endings(code: str) -> None:
    """Counts go through ngettext or a label ("Termine: 3"); a reader should not decode
    "Termin(e)". (Some msgids still have them: the msgstr must not.)"""
    found = [
        text
        for m in load(code)
        if m.id
        for text in (m.string if isinstance(m.string, tuple) else (m.string,))
        if isinstance(text, str) and BRACKETED_ENDING.search(text)
    ]
    assert not found, "\n".join(found)
