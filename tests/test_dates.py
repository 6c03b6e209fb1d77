"""Dates and times every resident can read, checked word for word per language.

One appointment (Tuesday 1 December 2026, 09:00–12:00 in Krefeld) rendered the ways the bot
writes it. The expected strings are decided per language (issue 17): full names where the
abbreviations are unclear, digits where Babel's month data is poor (Kurmanji), Babel's
interval for bare ranges (one hour marker, not two; bg "09:00–12:00 ч." by hand, since
Babel's interval repeats it), British dates for English, separate words for "at" a time and
"from … to" a period, nothing abbreviated in Leichte Sprache.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import DATE_STYLES, FSI, LANGUAGES, PDI, I18n, Translator

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 12, 1, 9, 0, tzinfo=BERLIN)
END = datetime(2026, 12, 1, 12, 0, tzinfo=BERLIN)
TODAY = date(2026, 12, 1)

# code: (when(start, end), when(start), time_range, today, tomorrow, in three days)
EXPECTED: dict[str, tuple[str, str, str, str, str, str]] = {
    "de": (
        "Dienstag, 1. Dezember 2026, von 09:00 bis 12:00 Uhr",
        "Dienstag, 1. Dezember 2026, um 09:00 Uhr",
        "09:00–12:00 Uhr",
        "heute",
        "morgen",
        "Freitag",
    ),
    "de_easy": (
        "Dienstag, 1. Dezember 2026, von 9 bis 12 Uhr",
        "Dienstag, 1. Dezember 2026, um 9 Uhr",
        "9–12 Uhr",
        "heute",
        "morgen",
        "Freitag",
    ),
    "en": (
        "Tuesday, 1 December 2026, from 09:00 to 12:00",
        "Tuesday, 1 December 2026, at 09:00",
        "09:00–12:00",
        "today",
        "tomorrow",
        "Friday",
    ),
    "tr": (
        "1 Aralık 2026 Salı, saat 09:00 ile 12:00 arası",
        "1 Aralık 2026 Salı, saat 09:00",
        "09:00–12:00",
        "bugün",
        "yarın",
        "Cuma",
    ),
    "ar": (
        "يوم الثلاثاء، 1 ديسمبر 2026، من الساعة 09:00 إلى الساعة 12:00",
        "يوم الثلاثاء، 1 ديسمبر 2026، الساعة 09:00",
        "09:00–12:00",
        "اليوم",
        "غدًا",
        "الجمعة",
    ),
    "uk": (
        "вівторок, 1 грудня 2026 р., з 09:00 до 12:00",
        "вівторок, 1 грудня 2026 р., о 09:00",
        "09:00–12:00",
        "сьогодні",
        "завтра",
        "пʼятниця",
    ),
    "ru": (
        "вторник, 1 декабря 2026 г., с 09:00 до 12:00",
        "вторник, 1 декабря 2026 г., в 09:00",
        "09:00—12:00",
        "сегодня",
        "завтра",
        "пятница",
    ),
    "pl": (
        "wtorek, 1 grudnia 2026, od godziny 09:00 do 12:00",
        "wtorek, 1 grudnia 2026, o godzinie 09:00",
        "09:00–12:00",
        "dzisiaj",
        "jutro",
        "piątek",
    ),
    "bg": (
        "вторник, 1 декември 2026 г., от 09:00 до 12:00 ч.",
        "вторник, 1 декември 2026 г., в 09:00 ч.",
        "09:00–12:00 ч.",
        "днес",
        "утре",
        "петък",
    ),
    "ro": (
        "marți, 1 decembrie 2026, între orele 09:00 și 12:00",
        "marți, 1 decembrie 2026, la ora 09:00",
        "09:00–12:00",
        "astăzi",
        "mâine",
        "vineri",
    ),
    "fa": (
        "روز سه\u200cشنبه 1 دسامبر 2026، از ساعت 09:00 تا 12:00",
        "روز سه\u200cشنبه 1 دسامبر 2026، ساعت 09:00",
        "9:00 تا 12:00",
        "امروز",
        "فردا",
        "جمعه",
    ),
    "ku": (
        "sêşem, 01.12.2026, ji saet 09:00 heta 12:00",
        "sêşem, 01.12.2026, di saet 09:00 de",
        "09:00 – 12:00",
        "îro",
        "sibê",
        "înî",
    ),
}


def plain(text: str) -> str:
    """The visible text: isolates only steer direction; Babel's narrow and thin no-break
    spaces ("2026\u202fг.", "09:00\u2009–\u200912:00") read as spaces."""
    text = text.replace(FSI, "").replace(PDI, "")
    return text.replace("\u202f", " ").replace("\u2009", " ").replace("\u00a0", " ")


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return I18n(BERLIN)


def test_every_language_has_a_style_and_expectations() -> None:
    assert set(DATE_STYLES) == set(LANGUAGES) == set(EXPECTED)


@pytest.mark.parametrize("code", sorted(LANGUAGES))
def test_appointment_reads_right(i18n: I18n, code: str) -> None:
    t = i18n.get(code)
    period, moment, bare, today, tomorrow, friday = EXPECTED[code]
    assert plain(t.when(START, END)) == period
    assert plain(t.when(START)) == moment
    assert plain(t.time_range(START, END)) == bare
    assert plain(t.time_range(time(9), time(12))) == bare
    assert plain(t.relative_day(START, TODAY)) == today
    assert plain(t.relative_day(START, date(2026, 11, 30))) == tomorrow
    assert plain(t.relative_day(date(2026, 12, 4), TODAY)) == friday


@pytest.mark.parametrize("code", sorted(LANGUAGES))
def test_a_range_carries_one_hour_marker(i18n: I18n, code: str) -> None:
    """bg used to read "09:00 ч.–12:00 ч. ч.": a marker glued on twice."""
    t = i18n.get(code)
    for text in (t.when(START, END), t.time_range(START, END), t.when(START)):
        for marker in ("ч.", "Uhr", "saat", "ساعة", "ساعت"):
            assert plain(text).count(marker) <= 2, text
            assert f"{marker} {marker}" not in plain(text)


@pytest.mark.parametrize("code", ["de_easy", "tr", "ro", "ku"])
def test_no_abbreviated_names_where_the_style_says_full(i18n: I18n, code: str) -> None:
    """Handlers ask for abbreviated skeletons ("MMMEd"); these languages get full names."""
    t = i18n.get(code)
    weekday = plain(t.weekday(1))
    for skeleton in ("MMMEd", "yMMMEd", "MMMMEEEEd", "MMMd", "yMMMd"):
        text = plain(t.date(START, skeleton))
        assert "." not in text.replace("01.12.", "").replace("1. ", "").rstrip("."), text
        if "E" in skeleton:
            assert weekday in text, text
    assert weekday in plain(t.datetime(START))


def test_kurmanji_uses_digits_not_babels_month_abbreviations(i18n: I18n) -> None:
    t = i18n.get("ku")
    assert plain(t.date(START, "yMMMEd")) == "sêşem, 01.12.2026"
    assert plain(t.date(START, "MMMd")) == "01.12."
    assert plain(t.date_long(START)) == "sêşem, 01.12.2026"


def test_leichte_sprache_times_without_minutes(i18n: I18n) -> None:
    t = i18n.get("de_easy")
    assert t.time(START) == "9 Uhr"
    assert t.time(datetime(2026, 12, 1, 9, 30, tzinfo=BERLIN)) == "9:30 Uhr"
    assert t.date_long(START) == "Dienstag, 1. Dezember 2026"


@pytest.mark.parametrize("code", ["ar", "fa"])
def test_right_to_left_dates_are_isolated(i18n: I18n, code: str) -> None:
    t: Translator = i18n.get(code)
    assert t.date_long(START).startswith(FSI)
    assert t.time(START).startswith(FSI)


def test_short_when_and_language_names(i18n: I18n) -> None:
    assert i18n.get("de").when(START, skeleton="MMMd") == "1. Dez., um 09:00 Uhr"
    assert i18n.get("de_easy").when(START, skeleton="MMMd") == "1. Dezember, um 9 Uhr"
    assert plain(i18n.get("ru").language_name("ar")) == "арабский"
    assert plain(i18n.get("ar").language_name("ru")) == "الروسية"
    assert plain(i18n.get("uk").language_name("de_easy")) == "проста німецька"
