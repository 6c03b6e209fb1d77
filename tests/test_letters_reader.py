"""Reading letters with Tesseract, end to end from the bytes a resident sends.

Each OCR test costs ~2–4 s a page, so there are few: a straight photo, a tilted one, an
upside-down one, an album with a text-layer PDF, a scanned PDF; then the bad files and the
pictures that are not letters (cheap: they fail before OCR, or OCR finds nothing).

Skipped on a developer machine without Tesseract (or the ``[ocr]`` extra); in CI (``CI`` set)
a missing Tesseract fails the run, since ``.ci/run`` installs it.
"""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
import pytest_asyncio

from bot.check import check_ocr
from bot.config import Config, ConfigError, load_config
from bot.engines.ocr import TesseractOCR, build_ocr, resolve_languages
from bot.letters.model import Page, PageKind, Problem, Reading
from bot.letters.reader import (
    TesseractLetterReader,
    build_letter_reader,
    estimate_tilt,
    looks_like_a_letter,
    open_image,
    reader_probe,
)
from tests import letters as make

OCR = TesseractOCR()


def _need_tesseract() -> None:
    if not OCR.available:
        if os.environ.get("CI"):
            pytest.fail(f"{OCR.reason}; .ci/run installs it")
        pytest.skip(OCR.reason or "no tesseract")


@pytest_asyncio.fixture
async def reader() -> AsyncIterator[TesseractLetterReader]:
    _need_tesseract()
    engine = TesseractLetterReader(OCR, workers=2)
    yield engine
    await engine.close()


def photo(data: bytes) -> Page:
    return Page(data, PageKind.IMAGE, "photo.jpg")


def pdf(data: bytes, name: str = "brief.pdf") -> Page:
    return Page(data, PageKind.PDF, name)


def similarity(expected: str, got: str) -> float:
    import difflib

    return difflib.SequenceMatcher(
        None, " ".join(expected.split()), " ".join(got.split()), autojunk=False
    ).ratio()


async def test_a_straight_photo_is_read_with_sender_date_reference_and_deadline(
    reader: TesseractLetterReader,
) -> None:
    letter = make.make_letter(0)
    data = make.photograph(letter.image, make.Camera(noise=5, quality=75, scale=0.8))
    reading = await reader.read([photo(data)], today=letter.letter_date)
    assert reading.problem is None and reading.letter is not None
    read = reading.letter
    assert similarity(letter.text, read.text) >= 0.97
    assert (read.sender, read.sender_name) == ("jobcenter", "Jobcenter")
    assert read.letter_date == letter.letter_date
    assert read.reference is not None and read.reference.startswith("BG-Nummer ")
    assert read.deadline is not None and read.deadline.due == letter.deadline
    assert "spätestens" in read.deadline.sentence
    assert (read.pages, read.pages_skipped) == (1, 0)
    assert reader.queue_depth == 0


async def test_a_tilted_dim_photo_is_straightened(reader: TesseractLetterReader) -> None:
    letter = make.make_letter(2)
    camera = make.Camera(tilt=-5.0, noise=8, blur=0.7, dim=0.75, quality=65, scale=0.7)
    reading = await reader.read(
        [photo(make.photograph(letter.image, camera))], today=letter.letter_date
    )
    assert reading.letter is not None
    assert similarity(letter.text, reading.letter.text) >= 0.97
    assert reading.letter.deadline is not None and reading.letter.deadline.due == letter.deadline
    assert abs(reader.timings[-1].tilt - 5.0) < 0.5


async def test_an_upside_down_photo_is_turned(reader: TesseractLetterReader) -> None:
    letter = make.make_letter(9)
    camera = make.Camera(upside_down=True, tilt=2.0, noise=5, scale=0.8)
    reading = await reader.read(
        [photo(make.photograph(letter.image, camera))], today=letter.letter_date
    )
    assert reading.letter is not None
    assert reader.timings[-1].rotation == 180
    assert similarity(letter.text, reading.letter.text) >= 0.95
    assert reading.letter.sender == "schule"


async def test_an_album_is_one_letter_in_order_and_the_loop_runs_on(
    reader: TesseractLetterReader,
) -> None:
    first, second = make.make_letter(1), make.make_letter(4)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(tick())
    album = [pdf(make.text_pdf(first)), Page(make.png(second.image), PageKind.IMAGE, "2.png")]
    task = asyncio.create_task(reader.read(album, today=first.letter_date))
    for _ in range(10_000):  # the PDF is decoded first; then the image waits in the worker
        if reader.queue_depth or task.done():
            break
        await asyncio.sleep(0)
    assert reader.queue_depth == 1  # one job in the worker
    reading = await task
    ticker.cancel()
    assert ticks > 100  # the event loop ran on while Tesseract worked
    assert reading.letter is not None
    text = reading.letter.text
    assert reading.letter.pages == 2
    assert text.index("Familienkasse") < text.index("Wohnstätte Krefeld")
    assert text.startswith("Bundesagentur für Arbeit\nFamilienkasse NRW West")  # the text layer
    assert similarity(first.text + second.text, text) >= 0.97
    assert reading.letter.sender == "familienkasse"
    assert reading.letter.letter_date == first.letter_date
    assert reader.queue_depth == 0


async def test_a_scanned_pdf_is_rendered_and_read_and_long_ones_are_cut(
    reader: TesseractLetterReader,
) -> None:
    letter = make.make_letter(3)
    scan = make.scanned_pdf([letter.image])
    reading = await reader.read([pdf(scan)], today=letter.letter_date)
    assert reading.letter is not None
    assert similarity(letter.text, reading.letter.text) >= 0.97
    assert reading.letter.deadline is not None and reading.letter.deadline.due == letter.deadline
    # 60 pages with a text layer: the first five are read, the rest counted.
    long = await reader.read([pdf(make.long_pdf(letter.text, 60))], today=letter.letter_date)
    assert long.letter is not None and (long.letter.pages, long.letter.pages_skipped) == (5, 55)


async def test_bad_files_are_a_problem_never_a_crash(reader: TesseractLetterReader) -> None:
    letter = make.make_letter(5)
    today = date(2026, 12, 5)
    cases = [
        ([pdf(b"")], Problem.UNREADABLE),
        ([pdf(make.zip_named_pdf())], Problem.UNREADABLE),
        ([pdf(b"%PDF-1.4\n" + os.urandom(2000))], Problem.UNREADABLE),
        ([pdf(make.encrypted_pdf())], Problem.ENCRYPTED),
        ([photo(make.truncated_jpeg(letter))], Problem.UNREADABLE),
        ([photo(b"not an image at all")], Problem.UNREADABLE),
        ([photo(b"\xff" * (20 * 1024 * 1024 + 1))], Problem.TOO_LARGE),
    ]
    for pages, problem in cases:
        reading = await reader.read(pages, today=today)
        assert reading == Reading(problem=problem), problem
    assert reader.queue_depth == 0


async def test_pictures_that_are_not_letters_give_nothing(reader: TesseractLetterReader) -> None:
    today = date(2026, 12, 5)
    for data in (make.room_photo(), make.chat_screenshot()):
        assert await reader.read([photo(data)], today=today) == Reading()
    # A PDF of three words (its text layer): said, since a PDF is sent on purpose.
    three = make.long_pdf("Hallo wie gehts", 1)
    assert await reader.read([pdf(three)], today=today) == Reading(problem=Problem.NO_TEXT)


async def test_a_bad_page_in_an_album_leaves_the_good_ones(reader: TesseractLetterReader) -> None:
    letter = make.make_letter(1)
    reading = await reader.read(
        [pdf(make.zip_named_pdf()), pdf(make.text_pdf(letter))], today=letter.letter_date
    )
    assert reading.problem is None and reading.letter is not None
    assert reading.letter.pages == 1


# --------------------------------------------------------- cheap, no Tesseract


def test_tilt_is_measured_on_an_image() -> None:
    letter = make.make_letter(7)
    tilted = letter.image.rotate(-3.0, expand=True, fillcolor=255)
    assert abs(estimate_tilt(tilted) - 3.0) < 0.4
    assert abs(estimate_tilt(letter.image)) < 0.4


def test_a_letter_needs_words() -> None:
    assert not looks_like_a_letter("Hallo wie gehts")
    assert not looks_like_a_letter("|| ~~ ,, . - _ ii !! ' lI 1l " * 20)
    assert looks_like_a_letter(make.make_letter(0).text)


def test_tesseract_runs_single_threaded_and_the_bot_does_not() -> None:
    _need_tesseract()
    from pytesseract import pytesseract as module

    assert module.environ["OMP_THREAD_LIMIT"] == "1"
    assert "OMP_THREAD_LIMIT" not in os.environ  # Whisper (CTranslate2) breaks under it


def test_the_setting() -> None:
    def ocr(value: str | None) -> str | None:
        environ = {} if value is None else {"QUARTIERBOT_OCR": value}
        return load_config(environ, env_file=None).ocr

    assert ocr(None) is None and resolve_languages(ocr(None)) == "deu"
    assert ocr("deu+eng") == "deu+eng" and resolve_languages("deu+eng") == "deu+eng"
    assert ocr("off") == "off" and resolve_languages("off") is None
    with pytest.raises(ConfigError, match="QUARTIERBOT_OCR"):
        ocr("Deutsch!")
    assert build_ocr("off") is None
    assert build_letter_reader("off") is None
    assert not TesseractOCR("xx_nonexistent").available


async def test_check_and_health_report_letter_reading(tmp_path: Path) -> None:
    _need_tesseract()
    config = Config(None, db_path=tmp_path / "q.db", ocr="xx_nonexistent")
    assert [p for p in check_ocr(config) if "xx_nonexistent" in p]
    assert check_ocr(Config(None, db_path=tmp_path / "q.db")) == []
    assert check_ocr(Config(None, db_path=tmp_path / "q.db", ocr="off")) == []
    reader = build_letter_reader(None)
    assert reader is not None
    check = await reader_probe(reader)()
    assert (check.name, check.ok, check.detail) == ("letters", True, "deu, 0 page(s) in the queue")
    await reader.close()


def test_generated_letters_are_varied() -> None:
    batch = make.letters(32)
    assert len({letter.sender for letter in batch}) >= 10
    assert len({letter.face for letter in batch}) == 4
    assert sum(letter.deadline is None for letter in batch) >= 6
    assert sum(letter.estimated for letter in batch) >= 6
    assert all("Sehr geehrte" in letter.text for letter in batch)
    assert io.BytesIO(make.scanned_pdf([batch[0].image])).getvalue().startswith(b"%PDF")


def test_iphone_heic_photos_open_like_jpeg() -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    small = make.make_letter(8).image.reduce(4)  # encoding HEIC is slow; decoding is the point
    out = io.BytesIO()
    small.convert("RGB").save(out, "HEIF", quality=80)
    assert out.getvalue()[4:12] == b"ftypheic"
    opened = open_image(out.getvalue())
    assert opened.size == small.size and opened.mode == "L"
