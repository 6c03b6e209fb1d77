"""Voice messages to text with faster-whisper, on the office's own CPU.

Optional (extra ``[voice]``) and off unless ``QUARTIERBOT_VOICE_MODEL`` names a model (a
faster-whisper size such as ``small``, downloaded once into the Hugging Face cache, or a
folder holding a CTranslate2 Whisper model). Without the package the engine says it is
unavailable and the bot runs on.

Whisper is CPU-heavy and its segment generator does the work lazily, so decoding,
transcription and iterating the segments all happen in one worker thread (one file at a
time by default): the event loop, and with it every other resident, never waits on it.
Audio longer than ``max_seconds`` is refused before it is transcribed. Every outcome carries
the audio length and the processing time, so the real-time factor can be reported.

Whisper has no Kurdish: Kurmanji speech comes out as some other language or as nonsense.
"""

from __future__ import annotations

import asyncio
import importlib.util
import io
import logging
import threading
import time
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, Protocol

from bot.engines import engine_code

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
"""faster-whisper decodes every input to 16 kHz mono."""
MAX_SECONDS = 300.0
NO_WHISPER_LANGUAGES = frozenset({"ku"})
"""Our languages Whisper does not know (it has no Kurdish)."""


class VoiceFailure(StrEnum):
    OFF = "off"
    """No model configured, or faster-whisper is not installed."""
    TOO_LONG = "too_long"
    """Longer than the maximum duration; not transcribed."""
    UNREADABLE = "unreadable"
    """Not audio PyAV can decode."""
    BUSY = "busy"
    """Too many files already waiting for the worker."""
    FAILED = "failed"
    """The model could not be loaded or crashed."""


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str | None
    """What Whisper heard (its own code, e.g. ``en``, ``ar``); the requested one if given."""
    language_probability: float
    audio_seconds: float
    processing_seconds: float
    """Decoding plus transcription in the worker (not the wait for it)."""
    ok: Literal[True] = True

    @property
    def real_time_factor(self) -> float:
        """Seconds of processing per second of audio (below 1: faster than real time)."""
        return self.processing_seconds / self.audio_seconds if self.audio_seconds else 0.0


@dataclass(frozen=True)
class TranscriptionFailed:
    cause: VoiceFailure
    detail: str
    audio_seconds: float | None = None
    processing_seconds: float = 0.0
    ok: Literal[False] = False


TranscribeOutcome = Transcript | TranscriptionFailed


class Transcriber(Protocol):
    @property
    def available(self) -> bool: ...

    @property
    def max_seconds(self) -> float: ...

    async def transcribe(
        self, audio: bytes, *, language: str | None = None, duration_hint: float | None = None
    ) -> TranscribeOutcome:
        """Transcribe one file (OGG/Opus from Telegram, or anything PyAV reads).

        ``language`` is our code of the language expected (None: Whisper detects it);
        ``duration_hint`` is Telegram's duration, to refuse long files without decoding.
        """
        ...

    async def close(self) -> None: ...


def whisper_language(language: str | None) -> str | None:
    """Whisper's code for one of ours; None (let Whisper detect) for Kurmanji or unknown."""
    if language is None or language in NO_WHISPER_LANGUAGES:
        return None
    return engine_code(language)


def faster_whisper_installed() -> bool:
    return importlib.util.find_spec("faster_whisper") is not None


class WhisperTranscriber:
    """faster-whisper on CPU with int8 weights, in a worker of its own.

    ``executor`` defaults to a single thread, so files are transcribed one at a time and
    the rest wait (at most ``max_pending`` in all; more are refused as ``busy``).
    """

    def __init__(
        self,
        model: str,
        *,
        max_seconds: float = MAX_SECONDS,
        max_pending: int = 20,
        cpu_threads: int = 2,
        compute_type: str = "int8",
        beam_size: int = 5,
        vad_filter: bool = True,
        download_root: Path | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.model_name = model
        self._max_seconds = max_seconds
        self.max_pending = max_pending
        self.cpu_threads = cpu_threads
        self.compute_type = compute_type
        self.beam_size = beam_size
        self.vad_filter = vad_filter
        self.download_root = download_root
        self._own_executor = executor is None
        self._executor: Executor = executor or ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="whisper"
        )
        self._model: Any = None
        self._load_lock = threading.Lock()
        self._load_error: str | None = None
        self._pending = 0
        self.reason: str | None = None
        """Why the engine is unavailable (None when it is available)."""
        if not faster_whisper_installed():
            self.reason = "faster-whisper is not installed (pip install '.[voice]')"

    @property
    def available(self) -> bool:
        return self.reason is None

    @property
    def max_seconds(self) -> float:
        return self._max_seconds

    @property
    def pending(self) -> int:
        """Files accepted and not yet finished (running plus waiting)."""
        return self._pending

    async def warm_up(self) -> bool:
        """Load the model in the worker now (at start), not on the first voice message."""
        if not self.available:
            return False
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._executor, self._load)
        except Exception as error:
            log.error("voice model %r could not be loaded: %s", self.model_name, error)
            return False
        return True

    async def transcribe(
        self, audio: bytes, *, language: str | None = None, duration_hint: float | None = None
    ) -> TranscribeOutcome:
        if not self.available:
            return TranscriptionFailed(VoiceFailure.OFF, self.reason or "off")
        if duration_hint is not None and duration_hint > self._max_seconds:
            return TranscriptionFailed(
                VoiceFailure.TOO_LONG, f"over {self._max_seconds:g} s", float(duration_hint)
            )
        if self._pending >= self.max_pending:
            return TranscriptionFailed(VoiceFailure.BUSY, f"{self._pending} files waiting")
        self._pending += 1
        loop = asyncio.get_running_loop()
        try:
            outcome: TranscribeOutcome = await loop.run_in_executor(
                self._executor, self._work, audio, whisper_language(language)
            )
        finally:
            self._pending -= 1
        if isinstance(outcome, Transcript):
            log.info(
                "transcribed %.1f s of audio in %.2f s (real-time factor %.2f, heard %s, %d chars)",
                outcome.audio_seconds,
                outcome.processing_seconds,
                outcome.real_time_factor,
                outcome.language,
                len(outcome.text),
            )
        else:
            log.warning("voice message not transcribed: %s (%s)", outcome.cause, outcome.detail)
        return outcome

    # ------------------------------------------------------------ worker thread

    def _load(self) -> Any:
        with self._load_lock:
            if self._model is not None:
                return self._model
            if self._load_error is not None:
                raise RuntimeError(self._load_error)
            started = time.perf_counter()
            try:
                from faster_whisper import WhisperModel

                self._model = WhisperModel(
                    self.model_name,
                    device="cpu",
                    compute_type=self.compute_type,
                    cpu_threads=self.cpu_threads,
                    download_root=str(self.download_root) if self.download_root else None,
                )
            except Exception as error:
                self._load_error = f"{type(error).__name__}: {error}"
                raise
            log.info(
                "voice model %s loaded in %.1f s (%s, %d threads)",
                self.model_name,
                time.perf_counter() - started,
                self.compute_type,
                self.cpu_threads,
            )
            return self._model

    def _work(self, audio: bytes, language: str | None) -> TranscribeOutcome:
        started = time.perf_counter()
        try:
            import av
            from faster_whisper.audio import decode_audio

            with av.open(io.BytesIO(audio), mode="r") as container:
                declared = container.duration / 1_000_000 if container.duration else None
        except Exception as error:
            return TranscriptionFailed(VoiceFailure.UNREADABLE, type(error).__name__)
        if declared is not None and declared > self._max_seconds:
            return TranscriptionFailed(
                VoiceFailure.TOO_LONG, f"over {self._max_seconds:g} s", declared
            )
        try:
            samples = decode_audio(io.BytesIO(audio), sampling_rate=SAMPLE_RATE)
        except Exception as error:
            return TranscriptionFailed(VoiceFailure.UNREADABLE, type(error).__name__)
        seconds = len(samples) / SAMPLE_RATE
        if seconds > self._max_seconds:
            return TranscriptionFailed(
                VoiceFailure.TOO_LONG, f"over {self._max_seconds:g} s", seconds
            )
        if seconds == 0:
            return TranscriptionFailed(VoiceFailure.UNREADABLE, "no audio", 0.0)
        try:
            model = self._load()
            segments, info = model.transcribe(
                samples,
                language=language,
                beam_size=self.beam_size,
                vad_filter=self.vad_filter,
            )
            # The generator does the actual work: iterate it here, in the worker.
            text = " ".join(segment.text.strip() for segment in segments).strip()
        except Exception as error:
            log.exception("transcription failed")
            return TranscriptionFailed(
                VoiceFailure.FAILED, type(error).__name__, seconds, time.perf_counter() - started
            )
        return Transcript(
            text=text,
            language=info.language,
            language_probability=float(info.language_probability),
            audio_seconds=seconds,
            processing_seconds=time.perf_counter() - started,
        )

    async def close(self) -> None:
        """Stop the worker; a transcription in progress finishes in the background."""
        if self._own_executor:
            self._executor.shutdown(wait=False, cancel_futures=True)


def build_transcriber(model: str | None, **options: Any) -> WhisperTranscriber | None:
    """The configured engine, or None (said in the log) when voice transcription is off."""
    if not model:
        log.info("voice transcription is off (QUARTIERBOT_VOICE_MODEL is empty)")
        return None
    engine = WhisperTranscriber(model, **options)
    if not engine.available:
        log.warning("voice transcription is off: %s", engine.reason)
        return None
    log.info("voice transcription with faster-whisper model %s", model)
    return engine
