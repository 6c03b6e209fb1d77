"""Which language is a resident's message in? Their chosen one, unless clearly another.

Residents often write in a second language (a Kurdish family in Turkish, a Ukrainian in
Russian, many in German). ``lingua-language-detector`` (optional extra ``[detect]``; its models
ship in the wheel) restricted to our languages tells us; when it is not installed, detection
is off and the resident's chosen language is used, which is said once at start.

Choices, measured on real sentences (tests/test_engines_detect.py keeps them):
- Low-accuracy mode (trigrams only): about 50 MB and instant to load, against about 265 MB
  and 2.5 s for the high-accuracy models, and on our test sentences it was the more decisive
  of the two (English sentences: 0.99 against 0.7 for the high-accuracy mode).
- A detection counts only at :data:`MIN_CONFIDENCE` or above; when the text is not written
  in the chosen language's script at all (Latin text from a resident who chose Arabic),
  :data:`MIN_CONFIDENCE_OTHER_SCRIPT` suffices.
- Kurmanji: lingua has no Kurdish, and reads Kurmanji as Turkish, Romanian, Polish or English
  with confidence up to 1.0. For a resident who chose Kurmanji (or any language lingua does
  not know) the chosen language always stands.
"""

from __future__ import annotations

import logging
import unicodedata
from typing import TYPE_CHECKING, Protocol

from bot.engines import engine_code

if TYPE_CHECKING:  # the package is optional; only its types are needed here
    import lingua

log = logging.getLogger(__name__)

MIN_LETTERS = 12
"""Texts with fewer letters (a greeting, "ok", a date or a number) are not translated."""
MIN_WORDS = 2
MIN_CONFIDENCE = 0.8
MIN_CONFIDENCE_OTHER_SCRIPT = 0.5

# Our engine codes lingua can tell apart (no Kurdish in lingua), with the script they use.
SCRIPTS = {
    "ar": "ARABIC",
    "fa": "ARABIC",
    "bg": "CYRILLIC",
    "ru": "CYRILLIC",
    "uk": "CYRILLIC",
    "de": "LATIN",
    "en": "LATIN",
    "pl": "LATIN",
    "ro": "LATIN",
    "tr": "LATIN",
}


def worth_translating(text: str) -> bool:
    """Whether a text says enough to be worth a machine translation (and a detection)."""
    letters = sum(1 for c in text if c.isalpha())
    words = sum(1 for word in text.split() if any(c.isalpha() for c in word))
    return letters >= MIN_LETTERS and words >= MIN_WORDS


def _writes_in(text: str, script: str) -> bool:
    return any(c.isalpha() and unicodedata.name(c, "").startswith(script) for c in text)


class Detector(Protocol):
    @property
    def available(self) -> bool: ...

    def detect(self, text: str, expected: str) -> str | None:
        """The language ``text`` is in when clearly not ``expected``; else None."""
        ...


class LinguaDetector:
    """lingua restricted to our languages; :attr:`available` is False without the package."""

    def __init__(self, *, low_accuracy: bool = True) -> None:
        self._detector: lingua.LanguageDetector | None = None
        self._codes: dict[lingua.Language, str] = {}
        try:
            import lingua
        except ImportError:
            log.warning(
                "language detection is off: lingua-language-detector is not installed"
                " (pip install '.[detect]'); the resident's chosen language is used"
            )
            return
        self._codes = {
            lingua.Language.from_iso_code_639_1(lingua.IsoCode639_1.from_str(code)): code
            for code in SCRIPTS
        }
        builder = lingua.LanguageDetectorBuilder.from_languages(*self._codes)
        if low_accuracy:
            builder = builder.with_low_accuracy_mode()
        self._detector = builder.build()

    @property
    def available(self) -> bool:
        return self._detector is not None

    def warm_up(self) -> None:
        """Load the models now (at start) rather than on the first resident's message."""
        self.confidences("Guten Tag, ich habe eine Frage.")

    def confidences(self, text: str) -> list[tuple[str, float]]:
        """Our engine codes with lingua's confidence (0..1, summing to 1), best first."""
        if self._detector is None:
            return []
        return [
            (self._codes[value.language], value.value)
            for value in self._detector.compute_language_confidence_values(text)
        ]

    def detect(self, text: str, expected: str) -> str | None:
        chosen = engine_code(expected)
        if self._detector is None or chosen not in SCRIPTS or not worth_translating(text):
            return None
        ranked = self.confidences(text)
        if not ranked:
            return None
        best, confidence = ranked[0]
        if best == chosen:
            return None
        needed = (
            MIN_CONFIDENCE if _writes_in(text, SCRIPTS[chosen]) else MIN_CONFIDENCE_OTHER_SCRIPT
        )
        return best if confidence >= needed else None
