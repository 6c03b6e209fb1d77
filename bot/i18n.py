"""The one translator lookup: gettext catalogs per language, Babel for dates and numbers.

A :class:`Translator` is bound to one language and one time zone. Handlers get it from the
context for the resident of the current update; nothing is ever installed globally, since
updates of residents with different languages are handled concurrently.
"""

from __future__ import annotations

import datetime as dt
import gettext
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import holidays
from babel import Locale, UnknownLocaleError
from babel.dates import (
    format_date,
    format_interval,
    format_time,
    get_day_names,
    match_skeleton,
)
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.units import format_unit

DOMAIN = "messages"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"

# Unicode directional isolates: keep times, numbers, phone numbers and names in order
# inside right-to-left text (see Unicode TR9).
FSI, LRI, PDI, RLM = "\u2068", "\u2066", "\u2069", "\u200f"


_RTL_CLASSES = ("R", "AL")


def first_strong(line: str) -> str | None:
    """The direction of a line's first strong character: "R" (right to left, also for an
    RLM), "L", or None when the line has none (digits, punctuation, emoji only).

    Telegram takes a paragraph's direction — per line of a message and per button — from
    it. Text inside isolates counts here on purpose: not every client skips isolates when it
    chooses the direction (Unicode TR9 rule P2), so a right-to-left line must *start* with a
    right-to-left letter or an RLM, before any isolated Latin name."""
    for char in line:
        direction = unicodedata.bidirectional(char)
        if direction in _RTL_CLASSES:
            return "R"
        if direction == "L":
            return "L"
    return None


def first_strong_rtl(line: str) -> bool:
    """True when ``line`` lays out right to left in Telegram (its first strong character
    is Arabic, Hebrew or an RLM)."""
    return first_strong(line) == "R"


@dataclass(frozen=True)
class Language:
    code: str
    """Our id: stored in the database and used in callback data."""
    babel: str
    """Babel locale used for dates, numbers and plural rules."""
    native_name: str
    rtl: bool = False
    telegram_code: str | None = None
    """Telegram ``language_code`` for setMyCommands (None: no such code exists)."""


LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in (
        Language("de", "de", "Deutsch", telegram_code="de"),
        Language("de_easy", "de", "Leichte Sprache"),
        Language("en", "en", "English", telegram_code="en"),
        Language("tr", "tr", "Türkçe", telegram_code="tr"),
        Language("ar", "ar", "العربية", rtl=True, telegram_code="ar"),
        Language("uk", "uk", "Українська", telegram_code="uk"),
        Language("ru", "ru", "Русский", telegram_code="ru"),
        Language("pl", "pl", "Polski", telegram_code="pl"),
        Language("bg", "bg", "Български", telegram_code="bg"),
        Language("ro", "ro", "Română", telegram_code="ro"),
        Language("fa", "fa", "فارسی", rtl=True, telegram_code="fa"),
        Language("ku", "ku", "Kurdî (Kurmancî)", telegram_code="ku"),
    )
}
DEFAULT_LANGUAGE = "de"
# Dates and units in British English ("Tuesday, 1 December 2026"), as the catalog is spelt:
# an office in Germany, not Babel's US default. Names and plural rules are the same.
_FORMAT_LOCALES = {"en": "en_GB"}


@dataclass(frozen=True)
class DateStyle:
    """How one language writes dates and times for residents.

    Babel's defaults are not always what a reader understands: abbreviations that mean two
    things (ro "mar." is Tuesday and March), abbreviations Leichte Sprache forbids, month data
    that is incomplete (Kurmanji), ranges that repeat the hour marker when glued by hand.
    """

    full_names: bool = False
    """Weekdays and months in full wherever a handler asks for an abbreviated skeleton."""
    numeric_date: bool = False
    """Babel's month names and patterns for the language are poor: the weekday in full and
    the date in digits ("sêşem, 01.12.2026")."""
    clock: str = "HH:mm"
    """Babel pattern for a time of day (the bot is in Germany: 24 hours everywhere)."""
    whole_hours: bool = False
    """"9" rather than "9:00" when the minutes are zero (Leichte Sprache: "9 Uhr")."""
    hour_word: str = ""
    """Appended to a standalone time or range when the clock pattern has no marker."""
    babel_interval: bool = True
    """Ranges through Babel's ``format_interval``; False: start–end with an en dash."""


DATE_STYLES: dict[str, DateStyle] = {
    # German: "Di., 1. Dez." is read everywhere; ranges as Babel writes them ("09:00–12:00 Uhr").
    "de": DateStyle(),
    # Leichte Sprache: no abbreviations, "9 Uhr", "von 9 bis 12 Uhr".
    "de_easy": DateStyle(
        full_names=True, whole_hours=True, hour_word=" Uhr", clock="H:mm", babel_interval=False
    ),
    # English: an en dash without spaces, as the bot has always written it.
    "en": DateStyle(babel_interval=False),
    # Turkish: "Sal"/"Ara" are not read by everyone; "Salı, 1 Aralık" is.
    "tr": DateStyle(full_names=True),
    "ar": DateStyle(),  # Babel's Arabic patterns are already in full
    "uk": DateStyle(),
    "ru": DateStyle(),
    "pl": DateStyle(),
    # Bulgarian: one "ч." after a range ("09:00–12:00 ч."), not Babel's one per time
    # ("9:00 ч. – 12:00 ч.").
    "bg": DateStyle(hour_word=" ч.", babel_interval=False),
    # Romanian: "mar." is both marți (Tuesday) and martie (March).
    "ro": DateStyle(full_names=True),
    "fa": DateStyle(),  # Babel's Persian patterns are already in full
    # Kurmanji: Babel gives "1 brf 2026, sşm" and "berfanbar 1, sşm"; digits are unambiguous.
    "ku": DateStyle(full_names=True, numeric_date=True),
}

_WIDEN = (
    (re.compile(r"(?<!E)E{1,3}(?!E)"), "EEEE"),
    (re.compile(r"(?<!c)c{3}(?!c)"), "cccc"),
    (re.compile(r"(?<!M)M{3}(?!M)"), "MMMM"),
    (re.compile(r"(?<!L)L{3}(?!L)"), "LLLL"),
)


def _widen(pattern: str) -> str:
    """Abbreviated weekday and month fields in full; quoted literals stay as they are."""
    parts = pattern.split("'")
    for i in range(0, len(parts), 2):  # even parts are outside quotes
        for field, wide in _WIDEN:
            parts[i] = field.sub(wide, parts[i])
    return "'".join(parts)


# A placeholder directly before a sentence's full stop (not before an ellipsis "...").
_BEFORE_STOP = re.compile(r"\{([a-z_]+)\}\.(?!\.)")


def _before_full_stop(text: str) -> set[str]:
    return set(_BEFORE_STOP.findall(text))


def _fit_stop(value: str, before_stop: bool) -> str:
    """A value that ends in an abbreviation's period ("2026 р.", "12:00 ч.") loses it
    where the sentence puts its own full stop right after: one period, not "р..". The
    period may sit inside a directional isolate ("…\u2069")."""
    if not before_stop:
        return value
    closing = PDI if value.endswith(PDI) else ""
    body = value[: len(value) - len(closing)]
    if body.endswith(".") and not body.endswith(".."):
        return body[:-1] + closing
    return value


def N_(message: str) -> str:
    """Mark a string for extraction where it is defined; translate it where it is shown."""
    return message


# The NRW public holidays, by the German name the ``holidays`` package gives them (and its
# English name), as msgids: the package has names in de/en/uk only, and residents of nine
# languages read "(Fronleichnam)". tests/test_holidays.py checks that no name is missing.
HOLIDAY_NAMES: dict[str, str] = {
    "Neujahr": N_("New Year's Day"),
    "Karfreitag": N_("Good Friday"),
    "Ostermontag": N_("Easter Monday"),
    "Erster Mai": N_("Labour Day"),
    "Christi Himmelfahrt": N_("Ascension Day"),
    "Pfingstmontag": N_("Whit Monday"),
    "Fronleichnam": N_("Corpus Christi"),
    "Tag der Deutschen Einheit": N_("German Unity Day"),
    "Allerheiligen": N_("All Saints' Day"),
    "Erster Weihnachtstag": N_("Christmas Day"),
    "Zweiter Weihnachtstag": N_("Second Day of Christmas"),
}
# A weekday within the coming week, with the time phrase ("at 09:00"): one msgid per day, so
# each language can put the weekday in the case its sentences need ("у пʼятницю").
WEEKDAY_PHRASES = (
    N_("on Monday {time}"),
    N_("on Tuesday {time}"),
    N_("on Wednesday {time}"),
    N_("on Thursday {time}"),
    N_("on Friday {time}"),
    N_("on Saturday {time}"),
    N_("on Sunday {time}"),
)
CLOSURE_REASON_NAMES: dict[str, str] = {
    "illness": N_("illness in the team"),
    "training": N_("team training"),
    "holiday": N_("team holidays"),
    "building": N_("building closed"),
    "other": N_("other reason"),
}
"""The reasons coordinators pick for a closure (the keys of
``bot.directory.CLOSURE_REASONS``), as residents read them."""
_HOLIDAY_ENGLISH = {
    "New Year's Day": "Neujahr",
    "Good Friday": "Karfreitag",
    "Easter Monday": "Ostermontag",
    "Labor Day": "Erster Mai",
    "Labour Day": "Erster Mai",
    "Ascension Day": "Christi Himmelfahrt",
    "Pentecost Monday": "Pfingstmontag",
    "Whit Monday": "Pfingstmontag",
    "Corpus Christi": "Fronleichnam",
    "German Unity Day": "Tag der Deutschen Einheit",
    "All Saints' Day": "Allerheiligen",
    "Christmas Day": "Erster Weihnachtstag",
    "Second Day of Christmas": "Zweiter Weihnachtstag",
}


@lru_cache(maxsize=16)
def _nrw_holidays(year: int) -> dict[dt.date, str]:
    return dict(holidays.country_holidays("DE", subdiv="NW", years=year, language="de"))


def nrw_holiday(day: dt.date) -> str | None:
    """The German name of the NRW public holiday on ``day`` (None on other days)."""
    return _nrw_holidays(day.year).get(day)


def resolve_language(telegram_code: str | None) -> str | None:
    """Map a Telegram ``language_code`` (``ar``, ``pt-br``, ``uk-UA``…) to one of ours."""
    if not telegram_code:
        return None
    try:
        locale = Locale.parse(telegram_code.replace("_", "-"), sep="-")
    except (UnknownLocaleError, ValueError):
        return None
    if locale.language == "kmr":  # Kurmanji is sometimes sent with its own code
        return "ku"
    return locale.language if locale.language in LANGUAGES else None


def compile_catalogs(localedir: Path = LOCALES_DIR) -> None:
    """Compile every ``.po`` whose ``.mo`` is missing or older, so a fresh checkout runs."""
    for po_path in localedir.glob(f"*/LC_MESSAGES/{DOMAIN}.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=LANGUAGES[po_path.parent.parent.name].babel)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)


class Translator:
    """Everything a person reads in one language goes through here."""

    def __init__(self, language: Language, catalog: gettext.NullTranslations, tz: ZoneInfo):
        self.language = language
        self.code = language.code
        self.locale = Locale.parse(_FORMAT_LOCALES.get(language.code, language.babel))
        self.tz = tz
        self._catalog = catalog

    # -- messages -----------------------------------------------------------------------
    def _(self, message: str, /, **values: Any) -> str:
        return self._format(self._catalog.gettext(message), values)

    def n_(self, singular: str, plural: str, n: int, /, **values: Any) -> str:
        values.setdefault("n", n)
        return self._format(self._catalog.ngettext(singular, plural, n), values)

    def p_(self, context: str, message: str, /, **values: Any) -> str:
        """One English word with two meanings ("Cancel" the flow / "Cancel" the appointment)
        gets one msgid per meaning: the context tells translators which one they translate."""
        return self._format(self._catalog.pgettext(context, message), values)

    def _phrase(self, message: str, /, **phrases: str) -> str:
        """Join already translated pieces: they are text of this language, not inserted
        values, so they are not isolated (their own inserted values already are)."""
        text = self._catalog.gettext(message)
        stops = _before_full_stop(text)
        return text.format(**{k: _fit_stop(v, k in stops) for k, v in phrases.items()})

    def _format(self, text: str, values: dict[str, Any]) -> str:
        if not values:
            return text
        stops = _before_full_stop(text)
        return text.format(
            **{k: self.isolate(_fit_stop(str(v), k in stops)) for k, v in values.items()}
        )

    # -- direction ----------------------------------------------------------------------
    def isolate(self, text: str) -> str:
        """Wrap an inserted value so it cannot reorder right-to-left text around it."""
        if not self.language.rtl or not text or text.startswith((FSI, LRI)):
            return text
        return f"{FSI}{text}{PDI}"

    def paragraph(self, text: str) -> str:
        """Telegram takes a message's direction from its first strong character: in
        Arabic or Farsi, a message that opens with a Latin name gets a right-to-left mark."""
        if not self.language.rtl or first_strong(text) != "L":
            return text
        return RLM + text

    def ltr(self, text: str) -> str:
        """Force left-to-right for things that are always read that way (phone numbers)."""
        return f"{LRI}{text}{PDI}" if self.language.rtl else text

    # -- dates and times (always in the configured zone) ---------------------------------
    @property
    def style(self) -> DateStyle:
        return DATE_STYLES.get(self.code, DateStyle())

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def _day(self, value: dt.date | dt.datetime) -> dt.date:
        return self.local(value).date() if isinstance(value, datetime) else value

    def _plain_date(self, value: dt.date, skeleton: str) -> str:
        style = self.style
        if style.numeric_date:
            return self._numeric_date(value, skeleton)
        skeletons = self.locale.datetime_skeletons
        key = skeleton if skeleton in skeletons else match_skeleton(skeleton, skeletons)
        pattern = str(skeletons[key].pattern) if key else skeleton
        if style.full_names:
            pattern = _widen(pattern)
        return format_date(value, pattern, locale=self.locale)

    def _numeric_date(self, value: dt.date, skeleton: str) -> str:
        if "d" in skeleton:
            digits = value.strftime("%d.%m.%Y" if "y" in skeleton else "%d.%m.")
        else:
            digits = value.strftime("%m.%Y")
        if "E" not in skeleton:
            return digits
        return f"{self._weekday_name(value.weekday())}, {digits}"

    def _weekday_name(
        self, index: int, context: Literal["format", "stand-alone"] = "format"
    ) -> str:
        # Babel numbers weekdays Monday=0 like date.weekday().
        return str(get_day_names("wide", context=context, locale=self.locale)[index])

    def _clock(self, value: dt.datetime | dt.time) -> str:
        """A time of day without an hour word (for sentences that carry their own)."""
        if isinstance(value, datetime):
            value = self.local(value).replace(tzinfo=None).time()
        if self.style.whole_hours and value.minute == 0:
            return str(value.hour)
        return format_time(value, self.style.clock, locale=self.locale)

    def date(self, value: dt.date | dt.datetime, skeleton: str = "MMMEd") -> str:
        """A date in the resident's locale; ``skeleton`` names the fields, not their order
        or width: the language's :class:`DateStyle` may write them in full or in digits."""
        return self.isolate(self._plain_date(self._day(value), skeleton))

    def date_long(self, value: dt.date | dt.datetime) -> str:
        """The full date of an appointment: weekday, day, month and year, nothing abbreviated."""
        day = self._day(value)
        if self.style.numeric_date:
            return self.isolate(self._numeric_date(day, "yMEd"))
        return self.isolate(format_date(day, "full", locale=self.locale))

    def time(self, value: dt.datetime | dt.time) -> str:
        """A standalone time of day ("09:00"; Leichte Sprache "9 Uhr")."""
        return self.isolate(self._clock(value) + self.style.hour_word)

    def datetime(self, value: dt.datetime, skeleton: str = "MMMEd") -> str:
        """Date and time joined the locale's way (Babel has no combined skeletons)."""
        day = self._plain_date(self.local(value).date(), skeleton)
        clock = self._clock(value) + self.style.hour_word
        pattern = str(self.locale.datetime_formats.get("medium", "{1} {0}"))
        return self.isolate(pattern.replace("{1}", day).replace("{0}", clock))

    def time_range(self, start: dt.datetime | dt.time, end: dt.datetime | dt.time) -> str:
        """A bare range for lists ("09:00–12:00 Uhr", "9:00 ч. – 12:00 ч."); in a sentence
        use :meth:`from_to`."""
        style = self.style
        if not style.babel_interval:
            return self.isolate(f"{self._clock(start)}–{self._clock(end)}{style.hour_word}")
        first, last = (
            self.local(v).replace(tzinfo=None).time() if isinstance(v, datetime) else v
            for v in (start, end)
        )
        return self.isolate(format_interval(first, last, "Hm", locale=self.locale))

    def at_time(self, value: dt.datetime | dt.time) -> str:
        """ "at 09:00" — one point in time, in a sentence."""
        return self._(N_("at {time}"), time=self._clock(value))

    def from_to(self, start: dt.datetime | dt.time, end: dt.datetime | dt.time) -> str:
        """ "from 09:00 to 12:00" — a period, in a sentence."""
        return self._(N_("from {start} to {end}"), start=self._clock(start), end=self._clock(end))

    def when(
        self, start: dt.datetime, end: dt.datetime | None = None, skeleton: str | None = None
    ) -> str:
        """An appointment's date with its time or period: "Tuesday, 1 December 2026, from
        09:00 to 12:00" / "…, at 09:00". ``skeleton`` gives a shorter date ("MMMd": "1 Dec,
        at 09:00"); by default the full date of :meth:`date_long`."""
        clock = self.at_time(start) if end is None else self.from_to(start, end)
        day = self.date_long(start) if skeleton is None else self.date(start, skeleton)
        return self._phrase(N_("{date}, {time}"), date=day, time=clock)

    def when_relative(self, start: dt.datetime, today: dt.date) -> str:
        """ "tomorrow at 14:00" / "today at 14:00" / "on Friday at 14:00" — a moment close
        ahead. Today, tomorrow and each weekday have phrases of their own: the date phrase
        "{date}, {time}" may put a word for "on the day" before its date (ar "يوم", fa
        "روز"), which reads "on the day tomorrow" in front of a relative day, and a weekday
        needs its own case ("у пʼятницю", "w piątek")."""
        time = self.at_time(start)
        day = self._day(start)
        delta = (day - today).days
        if delta == 0:
            return self._phrase(N_("today {time}"), time=time)
        if delta == 1:
            return self._phrase(N_("tomorrow {time}"), time=time)
        if 1 < delta < 7:
            return self._phrase(WEEKDAY_PHRASES[day.weekday()], time=time)
        return self._phrase(N_("{date}, {time}"), date=self.relative_day(start, today), time=time)

    def relative_day(self, value: dt.date | dt.datetime, today: dt.date) -> str:
        """ "today", "tomorrow", a weekday within the coming week, else the date."""
        day = self._day(value)
        delta = (day - today).days
        if delta == 0:
            return self._(N_("today"))
        if delta == 1:
            return self._(N_("tomorrow"))
        if 1 < delta < 7:
            return self.isolate(self._weekday_name(day.weekday(), "stand-alone"))
        return self.date(day, "MMMMEEEEd")

    def duration(self, minutes: int) -> str:
        """A span in a staff list ("45 Min.", "3 Std. 20 Min.", "2 Tg. 5 Std."): CLDR's
        abbreviated units through Babel, so each number agrees with its unit in every
        language (ar "يومان", ru "5 дн.") and no sentence around it needs a case of it."""
        minutes = max(minutes, 0)
        if minutes < 60:
            return self.isolate(self._unit(minutes, "duration-minute"))
        hours, rest = divmod(minutes, 60)
        if hours < 48:
            larger, smaller = (hours, "duration-hour"), (rest, "duration-minute")
        else:
            larger, smaller = (hours // 24, "duration-day"), (hours % 24, "duration-hour")
        if not smaller[0]:
            return self.isolate(self._unit(*larger))
        return self.isolate(
            self._phrase(
                N_("{larger} {smaller}"), larger=self._unit(*larger), smaller=self._unit(*smaller)
            )
        )

    def _unit(self, value: int, unit: str) -> str:
        return str(format_unit(value, unit, "short", locale=self.locale))

    def weekday(self, index: int) -> str:
        return self._weekday_name(index)

    def language_name(self, code: str) -> str:
        """A language as this language names it inside a sentence ("німецька", "arabski",
        "Arabisch"), never its code: Babel's names, which are lower-case where the language
        writes them so (uk, ru, pl, bg, ro, ku), so "Оригінал (німецька):" and "…: polski."
        read right. A native name ("Polski") belongs only to the language menu."""
        if code == "de_easy":
            return self.isolate(self._(N_("Easy German")))
        language = LANGUAGES.get(code)
        babel = language.babel.split("_")[0] if language else code
        name = self.locale.languages.get(babel) or (language.native_name if language else code)
        return self.isolate(name)

    # -- public holidays ----------------------------------------------------------------
    def holiday(self, name: str) -> str:
        """A holiday's name in this language, from the German (or English) name the
        ``holidays`` package gives; a name we do not know is shown as it is."""
        german = _HOLIDAY_ENGLISH.get(name, name)
        msgid = HOLIDAY_NAMES.get(german)
        return self._(msgid) if msgid else name

    def closure_reason(self, key: str | None) -> str:
        """A closure's reason key ("illness") as this language says it; unknown: "other"."""
        return self._(CLOSURE_REASON_NAMES.get(key or "", CLOSURE_REASON_NAMES["other"]))

    def holiday_on(self, day: dt.date) -> str | None:
        """The name of the NRW public holiday on ``day`` in this language, or None."""
        german = nrw_holiday(day)
        return self.holiday(german) if german else None


class I18n:
    """Loads each catalog once and hands out translators."""

    def __init__(self, tz: ZoneInfo, localedir: Path = LOCALES_DIR) -> None:
        self.tz = tz
        self.localedir = localedir
        compile_catalogs(localedir)
        self._translators: dict[str, Translator] = {}
        for code, language in LANGUAGES.items():
            mo_path = localedir / code / "LC_MESSAGES" / f"{DOMAIN}.mo"
            catalog: gettext.NullTranslations
            if mo_path.exists():
                with mo_path.open("rb") as mo_file:
                    catalog = gettext.GNUTranslations(mo_file)
            else:
                catalog = gettext.NullTranslations()
            self._translators[code] = Translator(language, catalog, tz)

    def get(self, code: str | None) -> Translator:
        return (
            self._translators.get(code or DEFAULT_LANGUAGE) or self._translators[DEFAULT_LANGUAGE]
        )

    def all(self) -> list[Translator]:
        return list(self._translators.values())
