"""The letter reader: files in, a ``Reading`` out (bot/letters/model.py), never an exception.

Photos and image documents (JPEG, PNG, HEIC with ``pillow-heif``) are decoded and turned as
their EXIF says, scaled so that text is big enough for Tesseract, their uneven light divided
out, straightened (small tilts up to ±6°, found by the sharpest row profile) and read; only
when that reading is poor does Tesseract's orientation detection (as slow as a reading) turn
the page by 90/180/270° for a second reading, the better one kept. PDFs give their text layer directly (pypdfium2); pages without one are rendered and read
like photos. An album is one letter, pages in order, at most ``max_pages``.

The work runs in a pool of ``workers`` threads (one page per core at most): decoding first, then
every page image in parallel. Each Tesseract run is a process killed after its timeout, so no
file can hold a worker for good. ``queue_depth`` counts the pages accepted and not finished.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from PIL import Image, ImageFilter, ImageOps

from bot.engines.ocr import OcrError, OcrPage, TesseractOCR, build_ocr, tesseract_binary
from bot.health import Check, Probe
from bot.letters.deadlines import find_deadline, find_letter_date
from bot.letters.model import Letter, LetterReader, Page, PageKind, Problem, Reading
from bot.letters.references import find_reference
from bot.letters.senders import DEFAULT_PATH as SENDERS_PATH, Sender, load_senders, recognise

log = logging.getLogger(__name__)
_T = TypeVar("_T")

MAX_PAGES = 5
MAX_BYTES = 20 * 1024 * 1024
"""Telegram lets bots download files up to 20 MB."""
MAX_PIXELS = 40_000_000
"""Larger images are refused before decoding (a decompression bomb, or no phone photo)."""
MIN_GOOD_WORDS = 20
"""Fewer confidently read words than this: not a letter (a room, a drawing, a chat bubble)."""
TEXT_LAYER_MIN_CHARS = 40
"""A PDF page with less text than this in its text layer is a scan: render and read it."""
PDF_DPI = 200
SMALL_LONG_SIDE, UP_TO_LONG_SIDE = 1200, 1600
"""Photos smaller than this on their long side (A4 below ~100 dpi) are up-scaled to that."""
LARGE_LONG_SIDE, DOWN_TO_LONG_SIDE = 3500, 3000
"""Larger ones (a phone's full 12 MP photo sent as a file) are down-scaled: only slower."""
MAX_TILT = 6.0
PAPER = 150
"""After the light is flattened, anything lighter than this is paper (ink stays below ~100)."""
MIN_OSD_CONFIDENCE = 1.5
"""Below this, Tesseract's orientation guess is not trusted (straight pages score 3–10)."""

_PDFIUM = threading.Lock()
"""PDFium is not thread-safe: one document operation at a time, in any thread."""


@dataclass
class _Unit:
    """A page of the letter as decoded: its text (a PDF text layer) or an image to read."""

    text: str | None = None
    image: Image.Image | None = None


@dataclass(frozen=True)
class _Decoded:
    units: list[_Unit]
    skipped: int
    problem: Problem | None


@dataclass(frozen=True)
class PageTiming:
    seconds: float
    rotation: int
    """Degrees the page was turned clockwise to stand upright."""
    tilt: float
    """Degrees it was turned counter-clockwise to straighten it."""


class TesseractLetterReader(LetterReader):
    def __init__(
        self,
        ocr: TesseractOCR,
        *,
        workers: int | None = None,
        max_pages: int = MAX_PAGES,
        max_bytes: int = MAX_BYTES,
        senders: tuple[Sender, ...] | None = None,
        senders_path: Path = SENDERS_PATH,
        deskew: bool = True,
        orientation: bool = True,
    ) -> None:
        self.ocr = ocr
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.max_pages = max_pages
        self.max_bytes = max_bytes
        self.senders = senders if senders is not None else load_senders(senders_path)
        self.deskew = deskew
        self.orientation = orientation
        self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="ocr")
        self._depth = 0
        self.timings: list[PageTiming] = []
        """Per page read by OCR (for the bench); kept to the last 100."""
        _register_heif()

    @property
    def queue_depth(self) -> int:
        return self._depth

    async def read(self, pages: Sequence[Page], *, today: date) -> Reading:
        units: list[_Unit] = []
        skipped = 0
        first_problem: Problem | None = None
        pdf_read = False
        budget = self.max_pages
        for page in pages:
            if budget <= 0:
                skipped += await self._run(_count_pages, page)
                continue
            decoded: _Decoded = await self._run(self._decode, page, budget)
            if decoded.problem is not None:
                first_problem = first_problem or decoded.problem
                log.info("letter file not read: %s", decoded.problem.value)
                continue
            units.extend(decoded.units)
            if decoded.units and page.kind is PageKind.PDF:
                pdf_read = True
            skipped += decoded.skipped
            budget -= len(decoded.units)
        images = [unit for unit in units if unit.image is not None]
        results = await asyncio.gather(
            *(self._run(self._read_image, unit) for unit in images), return_exceptions=True
        )
        for unit, result in zip(images, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("page not read: %s", type(result).__name__)
            unit.text = result if isinstance(result, str) else ""
            unit.image = None
        if first_problem is None and pdf_read:
            # A PDF is sent as a document on purpose: when it holds no letter, staff hear so
            # (a photo of a room just gives nothing).
            first_problem = Problem.NO_TEXT
        return self.compose([unit.text or "" for unit in units], skipped, first_problem, today)

    async def _run(self, function: Callable[..., _T], *args: Any) -> _T:
        """One job in the pool, counted in ``queue_depth`` until it is done."""
        self._depth += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)
        finally:
            self._depth -= 1

    def compose(
        self, texts: list[str], skipped: int, problem: Problem | None, today: date
    ) -> Reading:
        """The letter from its page texts (pure: the bench and tests use it directly)."""
        text = "\n\n".join(t.strip() for t in texts if t.strip())
        if not looks_like_a_letter(text):
            if problem is not None:
                return Reading(problem=problem)
            return Reading()  # a picture, not a letter: nothing to post
        letter_date = find_letter_date(text)
        sender = recognise(text, self.senders)
        return Reading(
            letter=Letter(
                text=text,
                pages=len(texts),
                pages_skipped=skipped,
                sender=sender.key if sender else None,
                sender_name=sender.name if sender else None,
                letter_date=letter_date,
                reference=find_reference(text),
                deadline=find_deadline(text, letter_date=letter_date, today=today),
            )
        )

    async def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------ worker threads

    def _decode(self, page: Page, budget: int) -> _Decoded:
        data = page.data
        if len(data) > self.max_bytes:
            return _Decoded([], 0, Problem.TOO_LARGE)
        if not data.strip():
            return _Decoded([], 0, Problem.UNREADABLE)
        try:
            if data[:1024].lstrip().startswith(b"%PDF-") or (
                page.kind is PageKind.PDF and b"%PDF-" in data[:1024]
            ):
                return self._decode_pdf(data, budget)
            if page.kind is PageKind.PDF:
                return _Decoded([], 0, Problem.UNREADABLE)  # a ZIP or anything named .pdf
            return _Decoded([_Unit(image=open_image(data))], 0, None)
        except _Refused as refused:
            return _Decoded([], 0, refused.problem)
        except Exception as error:  # any decoder's complaint about a broken file
            log.info("letter file could not be decoded: %s", type(error).__name__)
            return _Decoded([], 0, Problem.UNREADABLE)

    def _decode_pdf(self, data: bytes, budget: int) -> _Decoded:
        import pypdfium2

        with _PDFIUM:
            try:
                document = pypdfium2.PdfDocument(data)
            except pypdfium2.PdfiumError as error:
                if "password" in str(error).lower() or getattr(error, "err_code", None) == 4:
                    return _Decoded([], 0, Problem.ENCRYPTED)
                return _Decoded([], 0, Problem.UNREADABLE)
            try:
                count = len(document)
                if count == 0:
                    return _Decoded([], 0, Problem.UNREADABLE)
                units: list[_Unit] = []
                for index in range(min(count, budget)):
                    page = document[index]
                    textpage = page.get_textpage()
                    text = textpage.get_text_bounded()
                    textpage.close()
                    if len(text.strip()) >= TEXT_LAYER_MIN_CHARS:
                        units.append(_Unit(text=_tidy_text_layer(text)))
                    else:
                        bitmap = page.render(scale=PDF_DPI / 72, grayscale=True)
                        units.append(_Unit(image=bitmap.to_pil().convert("L")))
                        bitmap.close()
                    page.close()
                return _Decoded(units, count - len(units), None)
            finally:
                document.close()

    def _read_image(self, unit: _Unit) -> str:
        started = time.perf_counter()
        if unit.image is None:
            return ""
        image = flatten_light(scale_for_ocr(unit.image))
        # Straighten first: orientation detection is unsure on a tilted page.
        tilt = estimate_tilt(image) if self.deskew else 0.0
        image = _turn(image, tilt)
        rotation = 0
        try:
            result: OcrPage = self.ocr.read(image)
            if self.orientation and _poor(result):
                # Most letters arrive upright, so orientation detection (as slow as reading)
                # runs only when the reading is poor: upside down, sideways, or no letter.
                turn, confidence = self.ocr.orientation(_small(image))
                if turn and confidence >= MIN_OSD_CONFIDENCE:
                    image = image.rotate(-turn, expand=True)
                    if turn in (90, 270) and self.deskew:  # the tilt is measurable only now
                        extra = estimate_tilt(image)
                        image, tilt = _turn(image, extra), tilt + extra
                    candidates = [(turn, image)]
                elif confidence > 0:  # unsure: an upside-down page is the likely case
                    candidates = [(180, image.rotate(180))]
                else:  # too few characters to tell: no text to turn (a room, a drawing)
                    candidates = []
                for turn, turned in candidates:
                    again = self.ocr.read(turned)
                    if again.good_words > 2 * max(result.good_words, 5):
                        result, rotation = again, turn
        except OcrError as error:
            log.warning("page not read: %s", error)
            return ""
        self.timings.append(PageTiming(time.perf_counter() - started, rotation, tilt))
        del self.timings[:-100]
        if result.good_words < 5:
            return ""  # noise from a picture: nothing of a letter on this page
        return result.text


def _turn(image: Image.Image, degrees: float) -> Image.Image:
    if abs(degrees) < 0.3:
        return image
    return image.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)


def _poor(page: OcrPage) -> bool:
    return page.good_words < 40 or page.mean_confidence < 60


class _Refused(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def _register_heif() -> None:
    try:
        from pillow_heif import register_heif_opener

        register_heif_opener()
    except ImportError:  # without pillow-heif an iPhone HEIC photo is "unreadable"
        pass


def open_image(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as opened:
        if opened.width * opened.height > MAX_PIXELS:
            raise _Refused(Problem.TOO_LARGE)
        opened.load()
        upright = ImageOps.exif_transpose(opened) or opened
        return ImageOps.autocontrast(upright.convert("L"), cutoff=1)


def _count_pages(page: Page) -> int:
    """Pages of a file beyond the limit, to say how many were not read."""
    if page.kind is not PageKind.PDF and not page.data[:8].startswith(b"%PDF-"):
        return 1
    try:
        import pypdfium2

        with _PDFIUM:
            document = pypdfium2.PdfDocument(page.data)
            try:
                return len(document)
            finally:
                document.close()
    except Exception:
        return 1


def _tidy_text_layer(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip()


def looks_like_a_letter(text: str) -> bool:
    """Enough real words to be a letter (a chat bubble or noise from a photo is not)."""
    words = [w for w in text.split() if sum(c.isalpha() for c in w) >= 3]
    return len(words) >= MIN_GOOD_WORDS


def scale_for_ocr(image: Image.Image) -> Image.Image:
    """Up-scale small photos, down-scale huge ones; leave the rest as they are.

    Measured (bench/letters.py and the notes in README): up-scaling a 1280 px photo to
    2200 px made it *worse* (98.5 % against 99.5 %), while an 800 px one gained (deadlines 15
    of 16 against 12); a 4000 px photo only costs time.
    """
    long_side = max(image.size)
    if long_side < SMALL_LONG_SIDE:
        factor = min(UP_TO_LONG_SIDE / long_side, 2.5)
    elif long_side > LARGE_LONG_SIDE:
        factor = DOWN_TO_LONG_SIDE / long_side
    else:
        return image
    size = (round(image.width * factor), round(image.height * factor))
    return image.resize(size, Image.Resampling.LANCZOS)


def flatten_light(image: Image.Image) -> Image.Image:
    """Divide out uneven light (a phone's shadow, a lamp to one side): the paper turns evenly
    white, so Tesseract's global threshold keeps every line whole."""
    import numpy as np

    small = image.resize((max(1, image.width // 16), max(1, image.height // 16)))
    background = small.filter(ImageFilter.MaxFilter(5)).filter(ImageFilter.GaussianBlur(2))
    background = background.resize(image.size, Image.Resampling.BILINEAR)
    pixels = np.asarray(image, dtype=np.float32) / np.maximum(
        np.asarray(background, dtype=np.float32), 1.0
    )
    pixels = np.clip(pixels * 255.0, 0, 255)
    # Lighter than this is paper: the soft shadow along a page's edge otherwise reads as a
    # picture to Tesseract, and the letterhead beside it is lost.
    pixels[pixels > PAPER] = 255.0
    return Image.fromarray(pixels.astype(np.uint8))


def _small(image: Image.Image, long_side: int = 1600) -> Image.Image:
    if max(image.size) <= long_side:
        return image
    factor = long_side / max(image.size)
    return image.resize((round(image.width * factor), round(image.height * factor)))


def estimate_tilt(image: Image.Image, max_tilt: float = MAX_TILT) -> float:
    """The small tilt of the text lines, in degrees (counter-clockwise positive, as PIL's
    ``rotate`` takes it to straighten): the angle whose row profile is sharpest."""
    import numpy as np

    small = image.convert("L")
    factor = 800 / max(small.size)
    small = small.resize(
        (max(1, round(small.width * factor)), max(1, round(small.height * factor)))
    )
    ink = Image.fromarray(((np.asarray(small) < 128) * 255).astype(np.uint8))

    def sharpness(angle: float) -> float:
        rows = np.asarray(
            ink.rotate(angle, resample=Image.Resampling.NEAREST), dtype=np.float32
        ).sum(axis=1)
        return float(np.square(np.diff(rows)).sum())

    coarse = [a / 2 for a in range(int(-max_tilt * 2), int(max_tilt * 2) + 1)]
    best = max(coarse, key=sharpness)
    fine = [best + step / 10 for step in range(-5, 6)]
    straight: float = max(fine, key=sharpness)
    return round(straight, 2)


def build_letter_reader(setting: str | None, **options: Any) -> TesseractLetterReader | None:
    """The reader for ``Config.ocr`` (Tesseract languages, None: off); None, said in the log,
    when letters are not read."""
    ocr = build_ocr(setting, **{k: v for k, v in options.items() if k.endswith("timeout")})
    if ocr is None:
        return None
    return TesseractLetterReader(
        ocr, **{k: v for k, v in options.items() if not k.endswith("timeout")}
    )


def reader_probe(reader: TesseractLetterReader) -> Probe:
    """``/healthz``: is Tesseract still there, and how many pages wait for a worker."""

    async def probe() -> Check:
        depth = reader.queue_depth
        detail = f"{reader.ocr.languages}, {depth} page(s) in the queue"
        if tesseract_binary() is None:
            return Check("letters", False, "the tesseract program is gone; " + detail)
        return Check("letters", True, detail)

    return probe
