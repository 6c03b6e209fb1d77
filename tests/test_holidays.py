"""Public holiday names reach residents in their language (issue 17: "عطلة رسمية
(Fronleichnam)"). The ``holidays`` package names NRW holidays in de/en/uk only; every name it
gives must have a msgid, and every catalog translates it (test_catalogs checks completeness)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import holidays
import pytest

from bot.i18n import HOLIDAY_NAMES, LANGUAGES, I18n

CORPUS_CHRISTI_2026 = date(2026, 6, 4)
EXPECTED = {
    "de": "Fronleichnam",
    "en": "Corpus Christi",
    "ar": "عيد القربان المقدس",
    "pl": "Boże Ciało",
    "tr": "Kutsal Beden Bayramı",
}


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return I18n(ZoneInfo("Europe/Berlin"))


def test_every_nrw_holiday_has_a_msgid() -> None:
    names = set()
    for year in range(2024, 2041):
        names |= set(
            holidays.country_holidays("DE", subdiv="NW", years=year, language="de").values()
        )
    assert names <= set(HOLIDAY_NAMES), f"new holiday names: {sorted(names - set(HOLIDAY_NAMES))}"


@pytest.mark.parametrize("code", sorted(LANGUAGES))
def test_holiday_is_translated(i18n: I18n, code: str) -> None:
    t = i18n.get(code)
    name = t.holiday_on(CORPUS_CHRISTI_2026)
    assert name is not None
    if code in EXPECTED:
        assert name == EXPECTED[code]
    if code not in ("de", "de_easy"):
        assert name != "Fronleichnam"
    assert t.holiday("Fronleichnam") == name == t.holiday("Corpus Christi")
    assert t.holiday_on(date(2026, 6, 3)) is None
    assert t.holiday("Unbekannter Feiertag") == "Unbekannter Feiertag"
