"""A letter read on arrival, end to end with a fake reader (the OCR has its own tests): what
staff see in the topic, what goes onto the request, what the resident receives in their
language, problems and non-letters, and that the text is never stored."""

from __future__ import annotations

import html
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.config import Config, ConfigError, load_config
from bot.i18n import I18n
from bot.letters.model import Deadline, Letter, Page, PageKind, Problem, Reading
from bot.services.letters import MAX_DOWNLOAD, LetterDesk, LetterFile
from handlers.common.letters import chunks
from sandbox.libretranslate import FakeLibreTranslate
from sandbox.server import Sandbox
from tests.conftest import STAFF_CHAT, Harness, known, running, with_config
from tests.test_questions import staff_posts, topic_of

JSON = dict[str, Any]

SENTENCE = "Bitte reichen Sie die Mietbescheinigung bis zum 18.12.2026 bei uns ein."
TEXT = f"Jobcenter Krefeld\nSehr geehrte Frau Demir,\n{SENTENCE}\nMit freundlichen Grüßen"
ARABIC = "مركز العمل في كريفلد\nالسيدة المحترمة دمير،\nيرجى تقديم المستندات.\nمع أطيب التحيات"
LETTER = Letter(
    text=TEXT,
    pages=1,
    sender="jobcenter",
    sender_name="Jobcenter",
    letter_date=date(2026, 11, 20),
    reference="BG 123D456",
    deadline=Deadline(date(2026, 12, 18), SENTENCE),
)


class FakeReader:
    """Answers with prepared readings, in turn; records the pages it was given."""

    def __init__(self, *readings: Reading) -> None:
        self.readings = list(readings)
        self.calls: list[list[Page]] = []
        self.depth = 0

    async def read(self, pages: Sequence[Page], *, today: date) -> Reading:
        self.calls.append(list(pages))
        return self.readings.pop(0) if len(self.readings) > 1 else self.readings[0]

    @property
    def queue_depth(self) -> int:
        return self.depth

    async def close(self) -> None:
        self.readings = [Reading()]


def reading(bot: Harness, *readings: Reading) -> FakeReader:
    reader = FakeReader(*readings)
    bot.services.letters = reader
    return reader


def quotes(message: JSON) -> list[str]:
    """The texts of the message's expandable block quotes (entities count UTF-16 units)."""
    units = message.get("text", "").encode("utf-16-le")
    return [
        units[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le").strip("\n")
        for e in message.get("entities", [])
        if e["type"] == "expandable_blockquote"
    ]


async def letter_posts(bot: Harness, thread: int, count: int = 1) -> list[JSON]:
    def found() -> list[JSON]:
        posts = [
            m
            for m in bot.sandbox.bot_messages(STAFF_CHAT, thread)
            if "Brieftext" in m.get("text", "")
        ]
        return posts if len(posts) >= count else []

    return await bot.sandbox.wait_for(found, message="the letter's text in the topic")


async def test_staff_see_the_text_and_what_was_found_the_request_keeps_the_deadline(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    reader = reading(bot, Reading(letter=LETTER))
    user = await bot.onboard("Aylin", "de")
    sent = bot.sandbox.send_photo(user, caption="Was muss ich tun?")
    await bot.idle()
    thread = await topic_of(bot, user)
    [post] = await letter_posts(bot, thread)
    copy = next(m for m in await staff_posts(bot, thread, 2) if "photo" in m)
    assert post["reply_to_message"]["message_id"] == copy["message_id"]
    lines = post["text"].split("\n")
    assert lines[0] == "📄 Brieftext (automatisch erkannt, 1 Seite)"
    assert quotes(post) == [TEXT]
    assert lines[-3] == "Absender: Jobcenter · Brief vom Freitag, 20.11.2026 · Zeichen: BG 123D456"
    assert lines[-2] == "⏰ Frist: Freitag, 18.12.2026 (in 23 Tagen)"
    assert lines[-1] == SENTENCE
    # The largest size of the photo was read.
    [pages] = reader.calls
    [call] = bot.sandbox.calls("getFile")
    assert call.params["file_id"] == sent["photo"][-1]["file_id"]
    assert pages[0].kind is PageKind.IMAGE
    request = known(await bot.storage.requests.latest(user["id"]))
    assert (request.deadline, request.sender) == (date(2026, 12, 18), "jobcenter")
    # A German reader gets the deadline line only, after the receipt.
    receipt, deadline = await bot.sandbox.wait_bot_messages(user["id"], 2)
    assert "weitergegeben" in receipt["text"]
    assert deadline["text"] == "Der Brief nennt eine Frist: Freitag, 18. Dezember 2026."
    # The text is in no table and no log of the bot's.
    await bot.stop()
    raw = bot.config.db_path.read_bytes()
    # (words of the letter that the office's prepared answers do not use)
    assert b"Mietbescheinigung" not in raw and b"Demir" not in raw
    assert "letter read for a request: 1 page(s), deadline found" in caplog.messages
    assert not [m for m in caplog.messages if "Mietbescheinigung" in m or "Jobcenter" in m]


async def test_an_album_is_one_letter_with_its_pages_in_order(bot: Harness) -> None:
    reader = reading(bot, Reading(letter=replace(LETTER, pages=3, pages_skipped=2, deadline=None)))
    desk = bot.services.intake.letters
    assert isinstance(desk, LetterDesk)
    desk.album_grace = 0.05
    bot.services.staffpost.album_grace = 0.05
    user = await bot.onboard("Mia", "de")
    bot.sandbox.send_media_group(
        user, [("photo", f"\x89PNG page{i}".encode(), None) for i in (1, 2, 3)]
    )
    await bot.idle()
    thread = await topic_of(bot, user)
    [post] = await letter_posts(bot, thread)
    assert post["text"].startswith(
        "📄 Brieftext (automatisch erkannt, 3 Seiten) 2 weitere Seiten wurden nicht gelesen."
    )
    [pages] = reader.calls
    assert [p.data for p in pages] == [f"\x89PNG page{i}".encode() for i in (1, 2, 3)]
    first_copy = min(
        m["message_id"] for m in bot.sandbox.bot_messages(STAFF_CHAT, thread) if "photo" in m
    )
    assert post["reply_to_message"]["message_id"] == first_copy
    # No deadline: nothing for the resident beyond the receipt.
    await bot.idle()
    assert len(await bot.sandbox.wait_bot_messages(user["id"])) == 1


async def test_a_long_letter_is_split_within_telegrams_limit(bot: Harness) -> None:
    line = " ".join(["Sehr geehrte Damen und Herren & Co."] * 3)
    text = "\n".join(f"Zeile {i}: {line}" for i in range(120))
    reading(bot, Reading(letter=replace(LETTER, text=text, pages=4)))
    user = await bot.onboard("Lena", "de")
    bot.sandbox.send_document(user, b"%PDF-1.4 stub", "brief.pdf", "application/pdf")
    await bot.idle()
    thread = await topic_of(bot, user)
    await letter_posts(bot, thread)
    posts = [m for m in bot.sandbox.bot_messages(STAFF_CHAT, thread) if quotes(m)]
    assert len(posts) >= 4
    assert all(len(m["text"]) <= 4096 for m in posts)
    assert "\n".join(q for m in posts for q in quotes(m)) == text
    assert "⏰ Frist" in posts[-1]["text"] and "⏰" not in posts[0]["text"]


async def test_problems_get_one_short_note_and_a_non_letter_nothing(bot: Harness) -> None:
    reading(bot, Reading(problem=Problem.ENCRYPTED), Reading(), Reading(problem=Problem.NO_TEXT))
    user = await bot.onboard("Jan", "de")
    bot.sandbox.send_document(user, b"%PDF-1.7 locked", "bescheid.pdf", "application/pdf")
    await bot.idle()
    bot.sandbox.send_photo(user)  # a photo of a room
    await bot.idle()
    bot.sandbox.send_photo(user)  # a drawing
    await bot.idle()
    bot.sandbox.send_document(user, b"hello", "notes.txt", "text/plain")  # not read at all
    await bot.idle()
    thread = await topic_of(bot, user)
    texts = [m.get("text", "") for m in bot.sandbox.bot_messages(STAFF_CHAT, thread)]
    assert [t for t in texts if t.startswith("📄")] == [
        "📄 Diese PDF ist mit einem Passwort geschützt und konnte nicht gelesen werden."
    ]
    assert len(bot.services.letters.calls) == 3  # type: ignore[union-attr]


async def test_a_file_over_20_mb_is_not_downloaded(bot: Harness) -> None:
    reader = reading(bot, Reading(letter=LETTER))
    desk = bot.services.intake.letters
    assert isinstance(desk, LetterDesk)

    async def download(file_id: str) -> bytes:
        raise AssertionError("downloaded")

    desk.download = download
    big = LetterFile("file-id", PageKind.PDF, MAX_DOWNLOAD + 1, "scan.pdf")
    assert await desk._fetch([big]) is Problem.TOO_LARGE
    assert reader.calls == []


def test_text_is_cut_into_escaped_pieces_that_fit() -> None:
    text = "Kosten & Miete <netto> " * 400 + "\n" + "kurz\n" * 3
    pieces = chunks(text, 500)
    assert all(len(piece) <= 500 for piece in pieces)
    assert all(
        "&" not in piece.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "")
        for piece in pieces
    )
    rebuilt = html.unescape(" ".join(pieces)).split()
    assert rebuilt == text.split()
    assert chunks("") == []


def test_letter_help_is_configured_with_yes_or_no() -> None:
    assert load_config({}, env_file=None).letter_help is True
    assert load_config({"QUARTIERBOT_LETTER_HELP": "no"}, env_file=None).letter_help is False
    with pytest.raises(ConfigError, match="QUARTIERBOT_LETTER_HELP: 'maybe' is not yes or no"):
        load_config({"QUARTIERBOT_LETTER_HELP": "maybe"}, env_file=None)


# -- the resident's part ----------------------------------------------------------------------
@pytest.fixture
async def engine() -> AsyncIterator[FakeLibreTranslate]:
    async with FakeLibreTranslate(phrases={("de", "ar", TEXT): ARABIC}) as server:
        yield server


async def translating(
    sandbox: Sandbox, config: Config, clock: FakeClock, i18n: I18n, url: str, **changes: Any
) -> AsyncIterator[Harness]:
    changed = with_config(config, translate_url=url, **changes)
    async for harness in running(Harness(sandbox, changed, clock, i18n)):
        yield harness


@pytest.fixture
async def helped(
    sandbox: Sandbox, config: Config, clock: FakeClock, i18n: I18n, engine: FakeLibreTranslate
) -> AsyncIterator[Harness]:
    async for harness in translating(sandbox, config, clock, i18n, engine.url):
        yield harness


@pytest.fixture
async def unhelped(
    sandbox: Sandbox, config: Config, clock: FakeClock, i18n: I18n, engine: FakeLibreTranslate
) -> AsyncIterator[Harness]:
    async for harness in translating(sandbox, config, clock, i18n, engine.url, letter_help=False):
        yield harness


async def test_an_arabic_reader_gets_the_translation_and_the_deadline(helped: Harness) -> None:
    bot = helped
    reading(bot, Reading(letter=LETTER))
    user = await bot.onboard("Omar", "ar")
    bot.sandbox.send_photo(user)
    await bot.idle()
    receipt, translation, deadline = await bot.sandbox.wait_bot_messages(user["id"], 3)
    assert "✅" in receipt["text"]
    assert translation["text"].startswith(
        "إليك ترجمة آلية لخطابك لمساعدتك على فهمه أثناء الانتظار."
    )
    assert quotes(translation) == [ARABIC]
    assert deadline["text"].startswith("يذكر الخطاب مهلة:")
    assert "18 ديسمبر 2026" in deadline["text"]


async def test_letter_help_off_leaves_the_resident_with_the_receipt(unhelped: Harness) -> None:
    bot = unhelped
    reading(bot, Reading(letter=LETTER))
    user = await bot.onboard("Omar", "ar")
    bot.sandbox.send_photo(user)
    await bot.idle()
    thread = await topic_of(bot, user)
    await letter_posts(bot, thread)
    await bot.idle()
    [receipt] = await bot.sandbox.wait_bot_messages(user["id"])  # the receipt only
    assert "✅" in receipt["text"]


async def test_an_estimated_deadline_is_marked_for_staff_and_not_told_the_resident(
    bot: Harness,
) -> None:
    estimate = Deadline(date(2026, 12, 20), "innerhalb eines Monats nach Bekanntgabe", True)
    reading(bot, Reading(letter=replace(LETTER, deadline=estimate)))
    user = await bot.onboard("Aylin", "de")
    bot.sandbox.send_photo(user)
    await bot.idle()
    thread = await topic_of(bot, user)
    [post] = await letter_posts(bot, thread)
    assert "⏰ Frist: Sonntag, 20.12.2026 (in 25 Tagen) — geschätzt" in post["text"]
    request = known(await bot.storage.requests.latest(user["id"]))
    assert request.deadline_estimated
    await bot.idle()
    assert not [m for m in bot.sandbox.bot_messages(user["id"]) if "Frist" in m.get("text", "")]


async def test_without_a_model_for_their_language_a_resident_gets_the_deadline(
    helped: Harness,
) -> None:
    bot = helped
    reading(bot, Reading(letter=LETTER))
    user = await bot.onboard("Rojda", "ku")  # the office's server has no Kurmanji model
    bot.sandbox.send_photo(user)
    await bot.idle()
    receipt, deadline = await bot.sandbox.wait_bot_messages(user["id"], 2)
    assert "✅" in receipt["text"]
    assert deadline["text"].startswith("Di nameyê de mohletek tê gotin:")
    assert not quotes(deadline)
