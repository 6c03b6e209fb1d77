"""Optional engines the office runs on its own server: translation, language detection,
voice transcription.

Each one is off unless configured, and each fails soft: a caller always gets a typed outcome
(a result, or a cause it can tell staff about) and never an exception from the engine. Heavy
libraries (lingua, faster-whisper) are imported only inside their module, so the bot runs
without the ``[detect]`` and ``[voice]`` extras.
"""

from __future__ import annotations

from bot.i18n import LANGUAGES

OUR_LANGUAGES = tuple(LANGUAGES)
"""Our language codes: de, de_easy, en, tr, ar, uk, ru, pl, bg, ro, fa, ku."""


def engine_code(language: str) -> str:
    """The ISO 639-1 code an engine knows for one of our codes: Leichte Sprache is German."""
    return "de" if language == "de_easy" else language
