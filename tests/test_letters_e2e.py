"""A photographed letter, end to end with the real reader: the resident sends a phone photo
through the sandbox, Tesseract reads it off the event loop, staff get its text and deadline
in the topic, and the request keeps the deadline (issue 24). Skipped without Tesseract unless
``CI`` is set, like tests/test_letters_reader.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.clock import FakeClock
from bot.config import Config
from bot.i18n import I18n
from bot.letters.reader import TesseractLetterReader
from sandbox.server import Sandbox
from tests import letters as make
from tests.conftest import Harness, running, with_config
from tests.test_letters_reader import _need_tesseract
from tests.test_questions import posted, topic_of


@pytest.fixture
async def bot(
    sandbox: Sandbox, config: Config, clock: FakeClock, i18n: I18n
) -> AsyncIterator[Harness]:
    """The bot as an office runs it: letters read with Tesseract (``QUARTIERBOT_OCR`` unset)."""
    async for harness in running(Harness(sandbox, with_config(config, ocr=None), clock, i18n)):
        yield harness


def a_letter_with_a_deadline() -> make.TestLetter:
    return next(
        letter
        for letter in (make.make_letter(seed) for seed in range(32))
        if letter.deadline is not None and not letter.estimated
    )


async def test_a_photographed_letter_reaches_staff_with_its_deadline(bot: Harness) -> None:
    _need_tesseract()
    assert isinstance(bot.services.letters, TesseractLetterReader)
    letter = a_letter_with_a_deadline()
    assert letter.deadline is not None
    photo = make.photograph(letter.image, make.camera_for(3, max_tilt=3), 3)
    user = await bot.onboard("Fatima", "de")
    bot.sandbox.send_photo(user, photo)
    # Reading a page takes about a second of CPU; on a loaded machine, more.
    await bot.idle(timeout=120)
    thread = await topic_of(bot, user)
    texts = [m.get("text", "") for m in posted(bot, thread)]
    [read] = [t for t in texts if t.startswith("📄 Brieftext (automatisch erkannt, 1 Seite)")]
    assert letter.deadline.strftime("%d.%m.%Y") in read
    assert "⏰ Frist:" in read
    request = await bot.storage.requests.latest(user["id"])
    assert request is not None and request.deadline == letter.deadline
    # The German reader gets the deadline line after the receipt, nothing about the text.
    last = bot.sandbox.bot_messages(user["id"])[-1]
    assert last["text"].startswith("Der Brief nennt eine Frist:")
