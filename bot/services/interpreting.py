"""The conversation in the staff topic across the language line, as it happens.

After a resident's message is queued for the staff group (its copy), this service adds
what staff need to read it: the machine translation of a text or caption, the transcript
(and its translation) of a voice message, each as a reply to the copy; or one short note
per resident and cause when that is not possible. The copy never waits for any of it: the
work runs in background tasks, and what it produces is posted through the staff lane from
memory (``StaffLane.send_from_memory``), so no translated or transcribed text is written
to SQLite. What survives a restart is only a reference: a voice message waiting for
transcription (its Telegram file id), retried at the next start.

Staff answers go the other way through :meth:`Interpreter.to_resident` (handlers.staff).
The texts are rendered by :class:`InterpreterViews`, implemented in ``handlers.staff.views``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from bot.clock import Clock
from bot.engines.voice import Transcriber, TranscriptionFailed, VoiceFailure
from bot.services.translation import ConversationTranslator, Failed, Outcome, Translated
from storage import Storage

log = logging.getLogger(__name__)

Download = Callable[[str], Awaitable[bytes]]
"""Fetch a Telegram file by its id (``getFile`` and download), into memory."""

MAX_ATTEMPTS = 3
"""A voice message that failed this often (e.g. across restarts) is given up, staff told."""


class InterpreterViews(Protocol):
    """The texts staff read about translations and transcripts (in the staff language)."""

    def translation(self, outcome: Translated) -> str: ...

    def not_translated(self, failed: Failed) -> str: ...

    def transcript(self, text: str, language: str, translation: Outcome | None) -> str: ...

    def not_transcribed(self, cause: VoiceFailure, max_seconds: float) -> str: ...

    def sent_translated(self, outcome: Translated) -> str: ...

    def answer_not_translated(self, failed: Failed) -> str: ...


class StaffPoster(Protocol):
    """What the service needs of the staff lane (``bot.delivery.staff_lane.StaffLane``)."""

    @property
    def enabled(self) -> bool: ...

    async def send_text(
        self,
        text: str,
        *,
        resident_id: int | None = None,
        reply_to_resident_message: int | None = None,
    ) -> int: ...

    async def send_from_memory(
        self,
        text: str,
        *,
        thread_id: int | None = None,
        resident_id: int | None = None,
        reply_to: int | None = None,
        reply_to_resident_message: int | None = None,
    ) -> int: ...


Heard = Callable[[int, int, str, str], Awaitable[None]]
"""Told of a voice message's transcript: (user id, message id, language, text)."""


@dataclass(frozen=True)
class VoiceRef:
    file_id: str
    duration: int | None


class Interpreter:
    def __init__(
        self,
        *,
        translator: ConversationTranslator,
        transcriber: Transcriber | None,
        staff: StaffPoster,
        storage: Storage,
        clock: Clock,
        download: Download,
        views: InterpreterViews | None = None,
    ) -> None:
        self.translator = translator
        self.transcriber = transcriber
        self.staff = staff
        self.storage = storage
        self.clock = clock
        self.download = download
        self.views = views
        self._tasks: set[asyncio.Task[None]] = set()
        self._voice_told: set[tuple[int, VoiceFailure]] = set()
        self.heard: list[Heard] = []
        """Who else reads transcripts (prepared answers, for a request opened by voice)."""

    @property
    def busy(self) -> bool:
        """A translation or transcription is still at work (tests wait for it)."""
        return bool(self._tasks)

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Background work beside a resident's message (a letter being read, too): counted
        in :attr:`busy`, cancelled by :meth:`close`, its failure logged."""
        self._spawn(work)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("translation or transcription failed", exc_info=error)

    # -- a resident's message -------------------------------------------------------------------
    async def received(
        self,
        user_id: int,
        message_id: int,
        language: str,
        *,
        text: str | None,
        voice: VoiceRef | None = None,
        count: bool = True,
    ) -> None:
        """Called once the message's copy is queued: counts it, and starts its translation
        or transcription in the background."""
        if count:
            await self.storage.language_counts.count(self.clock.now(), language, "messages")
        if text and self.translator.enabled:
            self._spawn(self._translate(user_id, message_id, text, language))
        if voice is not None and self.transcriber is not None:
            pending = await self.storage.voice_pending.add(
                user_id, message_id, voice.file_id, voice.duration, language, self.clock.now()
            )
            self._spawn(self._transcribe(pending, user_id, message_id, voice, language))

    async def _translate(self, user_id: int, message_id: int, text: str, language: str) -> None:
        outcome = await self.translator.to_staff(user_id, text, language)
        await self._post_outcome(user_id, message_id, outcome, language)

    async def _post_outcome(
        self, user_id: int, message_id: int, outcome: Outcome, language: str
    ) -> None:
        views = self.views
        if views is None or not self.staff.enabled:
            return
        if isinstance(outcome, Translated):
            await self.storage.language_counts.count(self.clock.now(), language, "translated")
            await self.staff.send_from_memory(
                views.translation(outcome),
                resident_id=user_id,
                reply_to_resident_message=message_id,
            )
        elif isinstance(outcome, Failed) and outcome.tell_staff:
            await self.staff.send_text(
                views.not_translated(outcome),
                resident_id=user_id,
                reply_to_resident_message=message_id,
            )

    # -- voice ------------------------------------------------------------------------------------
    async def resume(self) -> None:
        """At start: voice messages a restart interrupted are transcribed now, or staff are
        told they were skipped."""
        for pending in await self.storage.voice_pending.all():
            ref = VoiceRef(pending.file_id, pending.duration)
            if self.transcriber is None or pending.attempts >= MAX_ATTEMPTS:
                await self.storage.voice_pending.done(pending.id)
                await self._tell_voice(
                    pending.user_id, pending.resident_message_id, VoiceFailure.FAILED
                )
                continue
            self._spawn(
                self._transcribe(
                    pending.id, pending.user_id, pending.resident_message_id, ref, pending.language
                )
            )

    async def _transcribe(
        self, pending: int, user_id: int, message_id: int, voice: VoiceRef, language: str
    ) -> None:
        transcriber = self.transcriber
        assert transcriber is not None
        await self.storage.voice_pending.attempt(pending)
        if voice.duration is not None and voice.duration > transcriber.max_seconds:
            outcome: Any = TranscriptionFailed(VoiceFailure.TOO_LONG, "too long")
        else:
            try:
                audio = await self.download(voice.file_id)
            except Exception as error:
                log.warning("voice message not downloaded: %s", type(error).__name__)
                outcome = TranscriptionFailed(VoiceFailure.UNREADABLE, type(error).__name__)
            else:
                outcome = await transcriber.transcribe(
                    audio, language=language, duration_hint=voice.duration
                )
                del audio  # the only copy of the audio, in memory
        await self.storage.voice_pending.done(pending)
        if isinstance(outcome, TranscriptionFailed):
            await self._tell_voice(user_id, message_id, outcome.cause)
            return
        text = outcome.text.strip()
        if not text:  # silence, or nothing Whisper could make out
            await self._tell_voice(user_id, message_id, VoiceFailure.FAILED)
            return
        if self.views is None or not self.staff.enabled:
            return
        await self.storage.language_counts.count(self.clock.now(), language, "transcribed")
        heard = language
        translation: Outcome | None = None
        if self.translator.enabled:
            translation = await self.translator.to_staff(user_id, text, language)
            if isinstance(translation, Translated):
                await self.storage.language_counts.count(self.clock.now(), language, "translated")
        await self.staff.send_from_memory(
            self.views.transcript(text, heard, translation),
            resident_id=user_id,
            reply_to_resident_message=message_id,
        )
        if isinstance(translation, Failed) and translation.tell_staff:
            await self.staff.send_text(
                self.views.not_translated(translation),
                resident_id=user_id,
                reply_to_resident_message=message_id,
            )
        for listener in self.heard:
            await listener(user_id, message_id, language, text)

    async def _tell_voice(self, user_id: int, message_id: int, cause: VoiceFailure) -> None:
        """A voice message not transcribed: said as a reply to its copy. A message too long
        is said every time (it is about that message); other causes once per resident."""
        if self.views is None or not self.staff.enabled:
            return
        if cause is not VoiceFailure.TOO_LONG:
            if (user_id, cause) in self._voice_told:
                return
            self._voice_told.add((user_id, cause))
        max_seconds = self.transcriber.max_seconds if self.transcriber else 0.0
        await self.staff.send_text(
            self.views.not_transcribed(cause, max_seconds),
            resident_id=user_id,
            reply_to_resident_message=message_id,
        )

    # -- a staff answer -------------------------------------------------------------------------
    async def to_resident(self, user_id: int, text: str, language: str) -> Outcome:
        return await self.translator.to_resident(user_id, text, language)

    async def show_sent(self, outcome: Translated, thread_id: int | None, reply_to: int) -> None:
        """Staff see in the topic what went out, as a reply to their message."""
        if self.views is None:
            return
        await self.staff.send_from_memory(
            self.views.sent_translated(outcome), thread_id=thread_id, reply_to=reply_to
        )

    def forget(self, user_id: int) -> None:
        """Erasure: no note marks stay about this resident, and none of their texts in the
        engine's cache. The cache is keyed by text, not by resident, so it is cleared as a
        whole: a few repeated engine calls are a small price for not keeping their words."""
        self.translator.forget(user_id)
        self._voice_told = {told for told in self._voice_told if told[0] != user_id}
        if self.translator.engine is not None:
            self.translator.engine.clear_cache()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.translator.engine is not None:
            await self.translator.engine.close()
        if self.transcriber is not None:
            await self.transcriber.close()
