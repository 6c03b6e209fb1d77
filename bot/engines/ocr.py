"""Optical character recognition with Tesseract 5, on the office's own CPU.

Optional (extra ``[ocr]``, plus Debian's ``tesseract-ocr``, ``tesseract-ocr-deu`` and
``tesseract-ocr-osd``). ``QUARTIERBOT_OCR`` names the Tesseract language(s) (``deu``, or
``deu+eng``); unset, it is ``deu`` whenever Tesseract is found; ``off`` switches it off.

The binding is **pytesseract**, not tesserocr, although both install here from wheels:
pytesseract runs Debian's ``tesseract`` binary once per page, so the office's language data
and security updates come from Debian (tesserocr's wheel bundles a Tesseract of its own), and
above all a page that takes too long is *killed* (``timeout``): a call into the library in a
thread cannot be stopped, and one pathological photo would block a worker for good. The cost,
starting the process and loading the model per page (~0.2 s), is small beside the ~2 s a page
takes.

Tesseract parallelises one page over every core with OpenMP; the reader runs one page per core
instead (steadier under load, and the bot's own event loop keeps a core's share), so each
process is limited to one thread (``OMP_THREAD_LIMIT=1``).

Everything here is synchronous and meant for a worker thread (bot/letters/reader.py).
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import re
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL.Image import Image

log = logging.getLogger(__name__)

DEFAULT_LANGUAGES = "deu"
PAGE_TIMEOUT = 60.0
"""Seconds one Tesseract run may take before it is killed (a normal page: 1–3 s)."""
OSD_TIMEOUT = 20.0


class OcrError(Exception):
    """Tesseract failed or was killed for taking too long."""


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float


@dataclass(frozen=True)
class OcrPage:
    """What Tesseract read on one image: the text in reading order (paragraphs separated by a
    blank line) and each word with its confidence (0–100)."""

    text: str
    words: tuple[Word, ...]

    @property
    def good_words(self) -> int:
        """Words read with confidence that look like words (letters, at least two)."""
        return sum(
            1
            for word in self.words
            if word.confidence >= 60 and len(re.sub(r"[^A-Za-zÄÖÜäöüß]", "", word.text)) >= 2
        )

    @property
    def mean_confidence(self) -> float:
        scored = [word.confidence for word in self.words if word.text.strip()]
        return sum(scored) / len(scored) if scored else 0.0


def _one_thread_per_process() -> None:
    """``OMP_THREAD_LIMIT=1`` for the Tesseract processes only (module doc).

    Not in the bot's own environment: CTranslate2 (voice transcription, same process) reads it
    too and transcribes nonsense under it. pytesseract hands its module's ``environ`` to every
    process it starts, so that mapping gets the setting (pytesseract is pinned below 0.4).
    """
    try:
        from pytesseract import pytesseract as module
    except ImportError:
        return
    if isinstance(getattr(module, "environ", None), os._Environ):
        module.environ = {**os.environ, "OMP_THREAD_LIMIT": "1"}


def pytesseract_installed() -> bool:
    return importlib.util.find_spec("pytesseract") is not None


def tesseract_binary() -> str | None:
    return shutil.which("tesseract")


@functools.lru_cache(maxsize=4)
def installed_languages(binary: str) -> frozenset[str]:
    """The language data Tesseract has (asked once per binary: every app build asks)."""
    try:
        import pytesseract

        return frozenset(pytesseract.get_languages(config=""))
    except Exception as error:
        log.warning("tesseract languages could not be listed: %s", type(error).__name__)
        return frozenset()


class TesseractOCR:
    """Tesseract through pytesseract, for one configured language set."""

    def __init__(
        self,
        languages: str = DEFAULT_LANGUAGES,
        *,
        page_timeout: float = PAGE_TIMEOUT,
        osd_timeout: float = OSD_TIMEOUT,
    ) -> None:
        self.languages = languages
        self.page_timeout = page_timeout
        self.osd_timeout = osd_timeout
        self.reason: str | None = None
        """Why the engine is unavailable (None when it is available)."""
        if not pytesseract_installed():
            self.reason = "pytesseract is not installed (pip install '.[ocr]')"
        elif tesseract_binary() is None:
            self.reason = "the tesseract program is not installed (apt install tesseract-ocr)"
        else:
            missing = [
                lang for lang in languages.split("+") if lang not in self.installed_languages()
            ]
            if missing:
                self.reason = (
                    f"Tesseract has no language data for {', '.join(missing)} "
                    f"(apt install {' '.join('tesseract-ocr-' + m for m in missing)})"
                )
        _one_thread_per_process()

    @property
    def available(self) -> bool:
        return self.reason is None

    def installed_languages(self) -> frozenset[str]:
        return installed_languages(tesseract_binary() or "")

    def version(self) -> str:
        import pytesseract

        return str(pytesseract.get_tesseract_version())

    @property
    def has_osd(self) -> bool:
        return "osd" in self.installed_languages()

    def orientation(self, image: Image) -> tuple[int, float]:
        """Tesseract's orientation detection: the degrees to turn the image *clockwise* so its
        text stands upright (0, 90, 180, 270), and how sure it is (below ~1.5: a guess);
        (0, 0.0) when it cannot tell (too little text, no ``osd`` data)."""
        import pytesseract

        try:
            osd: dict[str, Any] = pytesseract.image_to_osd(
                image,
                config="--psm 0 -c min_characters_to_try=20",
                output_type=pytesseract.Output.DICT,
                timeout=self.osd_timeout,
            )
        except Exception as error:  # "Too few characters", no osd data, timeout
            log.debug("orientation not detected: %s", str(error)[:80])
            return 0, 0.0
        return int(osd.get("rotate", 0)) % 360, float(osd.get("orientation_conf", 0.0))

    def read(self, image: Image, *, psm: int = 3) -> OcrPage:
        """Text and word confidences of one page image; raises OcrError."""
        import pytesseract

        try:
            data: dict[str, list[Any]] = pytesseract.image_to_data(
                image,
                lang=self.languages,
                config=f"--psm {psm}",
                output_type=pytesseract.Output.DICT,
                timeout=self.page_timeout,
            )
        except RuntimeError as error:  # pytesseract's timeout
            raise OcrError(f"tesseract timed out ({self.page_timeout:g} s)") from error
        except Exception as error:
            raise OcrError(f"tesseract failed: {type(error).__name__}") from error
        return _page_from_data(data)


def _page_from_data(data: dict[str, list[Any]]) -> OcrPage:
    """Lines rebuilt from Tesseract's word boxes; a blank line between paragraphs."""
    paragraphs: list[list[str]] = []
    words: list[Word] = []
    current: tuple[int, int] | None = None
    line_key: tuple[int, int, int] | None = None
    for i, text in enumerate(data["text"]):
        text = str(text).strip()
        if not text:
            continue
        block, par, line = (
            int(data["block_num"][i]),
            int(data["par_num"][i]),
            int(data["line_num"][i]),
        )
        words.append(Word(text, float(data["conf"][i])))
        if (block, par) != current:
            paragraphs.append([text])
            current, line_key = (block, par), (block, par, line)
        elif (block, par, line) != line_key:
            paragraphs[-1].append(text)
            line_key = (block, par, line)
        else:
            paragraphs[-1][-1] += " " + text
    return OcrPage("\n\n".join("\n".join(lines) for lines in paragraphs), tuple(words))


def resolve_languages(setting: str | None) -> str | None:
    """The languages to read with: None when switched off (``off``)."""
    if setting is None:
        return DEFAULT_LANGUAGES
    return None if setting.strip().lower() in ("off", "no", "false", "0", "") else setting.strip()


def build_ocr(setting: str | None, **options: Any) -> TesseractOCR | None:
    """The configured engine, or None (said in the log) when OCR is off or unavailable.

    ``setting`` is ``QUARTIERBOT_OCR`` as configured (None: not set, so ``deu`` if found).
    """
    languages = resolve_languages(setting)
    if languages is None:
        log.info("letter reading (OCR) is off (QUARTIERBOT_OCR=off)")
        return None
    engine = TesseractOCR(languages, **options)
    if not engine.available:
        log.warning("letter reading (OCR) is off: %s", engine.reason)
        return None
    log.info("letter reading (OCR) with Tesseract, language %s", languages)
    return engine
