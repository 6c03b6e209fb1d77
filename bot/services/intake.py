"""What happens to a resident's message: one decision, in one place.

A message a resident writes outside a flow goes through the same steps every time: is there
consent, can anything be passed on at all, is the resident banned, is it a stray emoji, can
it be passed on, is the resident flooding, and then: continue or open their request, queue
its copy for the staff group, start its translation and transcription, and decide whether
the resident gets a receipt. :meth:`Intake.receive` takes those decisions and returns an
:class:`Outcome`; the handler (``handlers.questions``) only parses the update before and
renders what the outcome says after. Once it has queued the receipt it calls
:meth:`Intake.answered`, which starts reading the letter the message may carry
(``bot.services.letters``), so that what the resident gets of a letter comes after it.

Ordering matters and is kept here: the copy is queued before anything else is started (it
must never wait for an engine), and before the resident's receipt, so that "passed on" is
true once they read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from bot.clock import Clock
from bot.delivery.pacing import Spacing, duration_micros, micros
from bot.engines.voice import Transcriber
from bot.services.interpreting import VoiceRef
from bot.services.letters import LetterFile, LetterViews
from storage import Storage
from storage.requests import Request

# The receipt is sent once per conversation: for a new request, or again after this long.
RECEIPT_EVERY = timedelta(hours=12)
# Told again at most this often that their messages are not passed on.
BAN_NOTICE_EVERY = timedelta(days=1)
# Per-resident flood limit: a burst of FLOOD_BURST messages is fine, then one every
# FLOOD_REFILL (a token bucket in clock time; kept in memory, a restart forgives).
FLOOD_BURST = 30
FLOOD_REFILL = timedelta(seconds=2)


class Verdict(StrEnum):
    """What became of the message, i.e. what the resident is told."""

    BEFORE_CONSENT = "before_consent"
    """Nothing stored or passed on; they are told why and how to agree."""
    NO_STAFF = "no_staff"
    """No staff group configured: nothing can be passed on."""
    BANNED = "banned"
    """Not passed on; :attr:`Outcome.tell` says whether they are told (once a day)."""
    STRAY = "stray"
    """An emoji or sticker without an open request: a friendly answer with the menu."""
    UNSUPPORTED = "unsupported"
    """A kind of message that cannot be passed on (a poll, a dice …)."""
    FLOODED = "flooded"
    """Too many at once: this one was not passed on, they are asked to send it again."""
    PASSED_ON = "passed_on"
    """Queued for the staff group, and part of their request."""


@dataclass(frozen=True)
class Incoming:
    """A resident's message as the handler parsed it (no Telegram types past this point)."""

    user_id: int
    chat_id: int
    message_id: int
    language: str
    consented: bool
    text: str | None = None
    """The text or caption."""
    stray: bool = False
    """Only emoji, a sticker or a single character (``handlers.questions.is_stray``)."""
    supported: bool = True
    group_key: str | None = None
    """The album (media_group_id) it belongs to."""
    voice: VoiceRef | None = None
    """A voice message, audio or video note to transcribe."""
    letter: LetterFile | None = None
    """A photo, image file or PDF: perhaps a letter, read on arrival."""


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    tell: bool = True
    """For :attr:`Verdict.BANNED`: whether they are told (at most once a day)."""
    request: Request | None = None
    opened: bool = False
    """The message opened a new request (the place to suggest a prepared answer for it)."""
    receipt: bool = False
    """The resident gets the receipt now (once per request and :data:`RECEIPT_EVERY`)."""


class StaffPost(Protocol):
    """What the intake needs of the staff lane (``bot.delivery.staff_lane.StaffLane``)."""

    @property
    def enabled(self) -> bool: ...

    async def send_text(self, text: str, *, resident_id: int | None = None) -> int: ...

    async def copy(
        self,
        from_chat_id: int,
        message_ids: Sequence[int],
        *,
        resident_id: int | None = None,
        group_key: str | None = None,
        reply_to_resident_message: int | None = None,
    ) -> int: ...


class SelfHelp(Protocol):
    """The office's prepared answers (``bot.services.answers.AnswerService``)."""

    async def request_opened(
        self,
        *,
        request_id: int,
        user_id: int,
        chat_id: int,
        message_id: int,
        language: str,
        text: str | None,
        voice: bool = False,
    ) -> None: ...


class Interpreting(Protocol):
    """What the intake needs of the interpreter (``bot.services.interpreting``)."""

    transcriber: Transcriber | None

    async def received(
        self,
        user_id: int,
        message_id: int,
        language: str,
        *,
        text: str | None,
        voice: VoiceRef | None = None,
        count: bool = True,
    ) -> None: ...


class LetterReading(Protocol):
    """What the intake needs of the letter desk (``bot.services.letters.LetterDesk``)."""

    views: LetterViews | None

    def received(
        self,
        user_id: int,
        chat_id: int,
        message_id: int,
        language: str,
        file: LetterFile,
        group_key: str | None = None,
    ) -> None: ...


class IntakeViews(Protocol):
    """The texts staff read about a resident's messages (in the staff language)."""

    def new_request(self, request: Request) -> str: ...

    def edited(self) -> str: ...


def needs_receipt(request: Request, is_new: bool, now: datetime) -> bool:
    return is_new or request.receipt_at is None or now - request.receipt_at >= RECEIPT_EVERY


class Intake:
    def __init__(
        self,
        *,
        storage: Storage,
        clock: Clock,
        staff: StaffPost,
        interpreter: Interpreting,
        letters: LetterReading | None = None,
        answers: SelfHelp | None = None,
        views: IntakeViews | None = None,
    ) -> None:
        self.storage = storage
        self.clock = clock
        self.staff = staff
        self.interpreter = interpreter
        self.letters = letters
        self.answers = answers
        self.views = views
        self._buckets: dict[int, Spacing] = {}

    def _take_token(self, user_id: int, now: datetime) -> bool:
        """False when the resident floods: the message is refused with a message, not
        dropped."""
        bucket = self._buckets.get(user_id)
        if bucket is None:
            bucket = self._buckets[user_id] = Spacing(
                duration_micros(FLOOD_REFILL), burst=FLOOD_BURST
            )
        return bucket.try_take(micros(now))

    async def receive(self, message: Incoming) -> Outcome:
        """Decide what happens to a resident's free message, and do it."""
        if not message.consented:
            return Outcome(Verdict.BEFORE_CONSENT)
        if not self.staff.enabled:
            return Outcome(Verdict.NO_STAFF)
        now = self.clock.now()
        user_id = message.user_id
        requests = self.storage.requests
        ban = await requests.ban_of(user_id)
        if ban is not None:
            tell = ban.notified_at is None or now - ban.notified_at >= BAN_NOTICE_EVERY
            if tell:
                await requests.ban_notified(user_id, now)
            return Outcome(Verdict.BANNED, tell=tell)
        # A stray message opens no request (no receipt, no queue entry); with an open
        # request it is passed on as usual.
        if message.stray and not await requests.has_open(user_id):
            return Outcome(Verdict.STRAY)
        if not message.supported:
            return Outcome(Verdict.UNSUPPORTED)
        if not self._take_token(user_id, now):
            return Outcome(Verdict.FLOODED)
        request, is_new = await requests.on_resident_message(user_id, now)
        if is_new and self.views is not None and await requests.previous(user_id, request.id):
            await self.staff.send_text(self.views.new_request(request), resident_id=user_id)
        # Stored before the receipt: once the resident reads "passed on", it is on its way.
        await self.staff.copy(
            message.chat_id,
            [message.message_id],
            resident_id=user_id,
            group_key=message.group_key,
        )
        await self._interpret(message)
        # ``opened``: where a prepared answer for a new request would be suggested.
        return Outcome(
            Verdict.PASSED_ON,
            request=request,
            opened=is_new,
            receipt=needs_receipt(request, is_new, now),
        )

    async def answered(self, message: Incoming, outcome: Outcome) -> None:
        """The handler has queued its answer to a message passed on (the receipt): now the
        letter it may carry is read, and a message that opened a request is matched against
        the office's prepared answers, so that what the resident gets of either comes after."""
        request = outcome.request
        if outcome.opened and request is not None and self.answers is not None:
            await self.answers.request_opened(
                request_id=request.id,
                user_id=message.user_id,
                chat_id=message.chat_id,
                message_id=message.message_id,
                language=message.language,
                text=message.text,
                voice=message.voice is not None,
            )
        if message.letter is not None and self.letters is not None:
            self.letters.received(
                message.user_id,
                message.chat_id,
                message.message_id,
                message.language,
                message.letter,
                message.group_key,
            )

    async def edited(self, message: Incoming) -> None:
        """A resident corrected a message they had sent: staff see the new version as a
        reply to the old one (if the old one was passed on at all)."""
        if not message.consented or not self.staff.enabled:
            return
        requests = self.storage.requests
        user_id = message.user_id
        if await requests.ban_of(user_id) is not None:
            return
        if await requests.staff_copy_of(user_id, message.message_id) is None:
            return  # never passed on (before consent, refused, or too old)
        if self.views is not None:
            await self.staff.send_text(self.views.edited(), resident_id=user_id)
        await self.staff.copy(
            message.chat_id,
            [message.message_id],
            resident_id=user_id,
            reply_to_resident_message=message.message_id,
        )
        await self._interpret(message, edited=True)

    async def _interpret(self, message: Incoming, *, edited: bool = False) -> None:
        """After the copy is queued (never before: it must not wait): the translation of a
        text or caption, the transcript of a voice message, as replies to the copy. An
        edited message gets its text translated again (not counted, not transcribed)."""
        voice = message.voice if not edited and self.interpreter.transcriber else None
        await self.interpreter.received(
            message.user_id,
            message.message_id,
            message.language,
            text=message.text,
            voice=voice,
            count=not edited,
        )
