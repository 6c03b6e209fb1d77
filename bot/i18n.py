"""The one translator lookup: gettext catalogs per language, Babel for dates and numbers.

A :class:`Translator` is bound to one language and one time zone. Handlers get it from the
context for the resident of the current update; nothing is ever installed globally, since
updates of residents with different languages are handled concurrently.
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton, get_day_names
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DOMAIN = "messages"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"

# Unicode directional isolates: keep times, numbers, phone numbers and names in order
# inside right-to-left text (see Unicode TR9).
FSI, LRI, PDI, RLM = "\u2068", "\u2066", "\u2069", "\u200f"

FORMAT_CACHE = 4096
"""Formatted dates and times remembered per language; when full, it starts again."""


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


def N_(message: str) -> str:
    """Mark a string for extraction where it is defined; translate it where it is shown."""
    return message


@functools.lru_cache(maxsize=256)
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
        self.locale = Locale.parse(language.babel)
        self.tz = tz
        self._catalog = catalog
        # Babel resolves a skeleton to the locale's pattern and parses it on every call;
        # the same few days and times are shown again and again (every /today lists the
        # same hours), so each is formatted once.
        self._formatted: dict[tuple[str, dt.date | dt.time], str] = {}
        self._weekdays = [
            str(name) for _, name in sorted(get_day_names("wide", locale=self.locale).items())
        ]

    # -- messages -----------------------------------------------------------------------
    def _(self, message: str, /, **values: Any) -> str:
        return self._format(self._catalog.gettext(message), values)

    def n_(self, singular: str, plural: str, n: int, /, **values: Any) -> str:
        values.setdefault("n", n)
        return self._format(self._catalog.ngettext(singular, plural, n), values)

    def _format(self, text: str, values: dict[str, Any]) -> str:
        if not values:
            return text
        return text.format(**{k: self.isolate(str(v)) for k, v in values.items()})

    # -- direction ----------------------------------------------------------------------
    def isolate(self, text: str) -> str:
        """Wrap an inserted value so it cannot reorder right-to-left text around it."""
        if not self.language.rtl or not text or text.startswith((FSI, LRI)):
            return text
        return f"{FSI}{text}{PDI}"

    def paragraph(self, text: str) -> str:
        """Telegram takes a message's direction from its first strong character: in
        Arabic or Farsi, a message that opens with a Latin name gets a right-to-left mark."""
        if not self.language.rtl:
            return text
        for char in text:
            direction = unicodedata.bidirectional(char)
            if direction in ("R", "AL"):
                return text
            if direction == "L":
                return RLM + text
        return text

    def ltr(self, text: str) -> str:
        """Force left-to-right for things that are always read that way (phone numbers)."""
        return f"{LRI}{text}{PDI}" if self.language.rtl else text

    # -- dates and times (always in the configured zone) ---------------------------------
    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def date(self, value: date | datetime, skeleton: str = "MMMEd") -> str:
        """A date in the resident's locale; ``skeleton`` names the fields, not their order."""
        if isinstance(value, datetime):
            value = self.local(value).date()
        return self.isolate(self._skeleton(skeleton, value))

    def time(self, value: datetime | time) -> str:
        if isinstance(value, datetime):
            value = self.local(value).replace(tzinfo=None)
        return self.isolate(self._skeleton("Hm", value))

    def datetime(self, value: dt.datetime, skeleton: str = "MMMEd") -> str:
        """Date and time joined the locale's way (Babel has no combined skeletons)."""
        local = self.local(value).replace(tzinfo=None)
        day = self._skeleton(skeleton, local)
        clock = self._skeleton("Hm", local)
        pattern = str(self.locale.datetime_formats.get("medium", "{1} {0}"))
        return self.isolate(pattern.replace("{1}", day).replace("{0}", clock))

    def time_range(self, start: dt.datetime | dt.time, end: dt.datetime | dt.time) -> str:
        return self.isolate(
            f"{self.time(start).strip(FSI + PDI)}–{self.time(end).strip(FSI + PDI)}"
        )

    def weekday(self, index: int) -> str:
        return self._weekdays[index]

    def _skeleton(self, skeleton: str, value: dt.date | dt.time) -> str:
        """``value`` is a date, or a naive local time or date and time."""
        key = (skeleton, value)
        text = self._formatted.get(key)
        if text is None:
            text = format_skeleton(skeleton, value, locale=self.locale)
            if len(self._formatted) >= FORMAT_CACHE:
                self._formatted.clear()
            self._formatted[key] = text
        return text


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
