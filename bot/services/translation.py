"""The conversation across the language line: what staff read of a resident, and what a
resident reads of staff.

Residents write in their language, the office reads the staff language (German). This
service decides, per message, whether and from which language to translate, asks the
office's own engine (``bot.engines``), and says why when it could not — so that staff are
told once per resident and cause ("no machine translation for Kurdî"), not under every
message. It keeps no message text: translations live in the engine's bounded memory cache
only, and the "already told" marks are per resident and cause, in memory, forgotten on
erasure (after a restart staff may be told once more).

Rendering (the "🌐 Maschinelle Übersetzung (Arabisch → Deutsch)" line, the quoted original
for residents) is the handlers' job; this service returns outcomes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import StrEnum

from babel import Locale

from bot.engines.detect import Detector, worth_translating
from bot.engines.translate import Failure, TranslationEngine
from bot.i18n import LANGUAGES

log = logging.getLogger(__name__)

VERBATIM = "="
"""A staff message that starts with this goes out as written, untranslated."""


class Skip(StrEnum):
    OFF = "off"
    """No engine is configured."""
    SAME = "same"
    """Already in the target language."""
    SHORT = "short"
    """A greeting, a number, an emoji: not worth an engine call."""
    VERBATIM = "verbatim"
    """Staff asked for the text as written."""


@dataclass(frozen=True)
class Translated:
    text: str
    source: str
    target: str
    detected: str | None = None
    """Set when the text was in another language than the resident chose."""
    ok: bool = True


@dataclass(frozen=True)
class Skipped:
    why: Skip
    ok: bool = False


@dataclass(frozen=True)
class Failed:
    cause: Failure
    source: str
    target: str
    tell_staff: bool
    """The first failure of this cause for this resident: staff get one short note."""
    ok: bool = False


Outcome = Translated | Skipped | Failed


def language_name(code: str, in_language: str) -> str:
    """A language's name as a reader of ``in_language`` knows it ("Arabisch" for German
    staff), from Babel's data; Leichte Sprache and Kurmanji by their usual names."""
    reader = LANGUAGES[in_language].babel if in_language in LANGUAGES else in_language
    if code == "de_easy":
        return "Leichte Sprache" if reader == "de" else LANGUAGES["de_easy"].native_name
    babel = LANGUAGES[code].babel if code in LANGUAGES else code
    try:
        name = Locale.parse(babel).get_display_name(reader)
    except (ValueError, LookupError):
        name = None
    return (name or code)[:1].upper() + (name or code)[1:]


@dataclass
class ConversationTranslator:
    engine: TranslationEngine | None
    detector: Detector | None
    staff_language: str = "de"
    _told: dict[int, set[Failure]] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return self.engine is not None

    async def to_staff(
        self, resident_id: int, text: str, chosen: str, *, quiet: bool = False
    ) -> Outcome:
        """A resident's text (or caption, or transcript) for the staff topic. ``quiet`` for
        a text shown again and again (a booking note in the agenda): its failures show the
        original only and leave the once-per-cause marks of the conversation alone."""
        if self.engine is None:
            return Skipped(Skip.OFF)
        if not worth_translating(text):
            return Skipped(Skip.SHORT)
        source = chosen
        detected: str | None = None
        if self.detector is not None and self.detector.available:
            found = self.detector.detect(text, chosen)
            if found is not None and found != chosen:
                source = detected = found
        if _same(source, self.staff_language):
            return Skipped(Skip.SAME)
        return await self._translate(
            resident_id, text, source, self.staff_language, detected, quiet=quiet
        )

    async def to_resident(
        self, resident_id: int, text: str, language: str, *, quiet: bool = False
    ) -> Outcome:
        """Staff's free text for a resident: translated unless it starts with ``=``.
        ``quiet`` for a text that is not part of the conversation (a letter's translation):
        its failure leaves the once-per-cause marks alone."""
        if text.startswith(VERBATIM):
            return Skipped(Skip.VERBATIM)
        if self.engine is None:
            return Skipped(Skip.OFF)
        if _same(language, self.staff_language):
            return Skipped(Skip.SAME)
        if not worth_translating(text):
            return Skipped(Skip.SHORT)
        return await self._translate(
            resident_id, text, self.staff_language, language, None, quiet=quiet
        )

    async def _translate(
        self,
        resident_id: int,
        text: str,
        source: str,
        target: str,
        detected: str | None,
        *,
        quiet: bool = False,
    ) -> Outcome:
        assert self.engine is not None
        outcome = await self.engine.translate(text, source, target)
        if quiet:
            if outcome.ok:
                return Translated(outcome.text, source, target, detected)
            return Failed(outcome.cause, source, target, tell_staff=False)
        if outcome.ok:
            # Working again: a later failure is news for staff once more.
            self._told.pop(resident_id, None)
            return Translated(outcome.text, source, target, detected)
        told = self._told.setdefault(resident_id, set())
        first = outcome.cause not in told
        told.add(outcome.cause)
        return Failed(outcome.cause, source, target, tell_staff=first)

    async def announcement(self, text: str, target: str) -> Outcome:
        """A coordinator's German announcement as a draft in ``target`` (a broadcast's
        missing language). No resident is involved: no once-per-resident marks."""
        if self.engine is None:
            return Skipped(Skip.OFF)
        if _same("de", target):
            return Skipped(Skip.SAME)
        outcome = await self.engine.translate(text, "de", target)
        if outcome.ok:
            return Translated(outcome.text, "de", target)
        return Failed(outcome.cause, "de", target, tell_staff=False)

    def forget(self, resident_id: int) -> None:
        """Erasure: nothing about this resident stays, not even which notes were sent."""
        self._told.pop(resident_id, None)


def strip_verbatim(text: str) -> str:
    return text[len(VERBATIM) :].lstrip() if text.startswith(VERBATIM) else text


def _same(a: str, b: str) -> bool:
    """de and Leichte Sprache are the same language for an engine."""
    return (a if a != "de_easy" else "de") == (b if b != "de_easy" else "de")
