"""The broadcast lane: announcements to many residents, at Telegram's pace.

Replies to residents, reminders and staff relays go straight to the Application's rate
limiter; the broadcast takes what is left of the budget (:class:`bot.delivery.pacing.Pacer`)
and leaves headroom, so they are never starved. For each recipient the lane claims the row
(``sending``) at the moment its request leaves the rate limiter (see
:class:`~bot.delivery.pacing.Departure`) and marks the outcome right after the answer, so a
row is ``sending`` only for one round trip and a restart resumes where it stopped. A row
that a crash left ``sending`` may or may not have arrived; it is not sent again on its own:
the coordinator's report says "unknown — the bot stopped while sending (N)" and offers a
button to send those N again (:class:`ReportNote`; then a duplicate is their informed
choice). A clean stop lets the requests in flight finish and puts back the rows whose
request had not left yet.

The clock's elapsed time paces the requests (real seconds in production, as Telegram counts
them; a test moves the clock); scheduling, in calendar time, is the business of the broadcast capability, which also renders the messages: it sets a
:class:`BroadcastRenderer` on the lane at build time.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import TelegramError

from bot.clock import Clock
from bot.delivery.errors import Kind, classify
from bot.delivery.lane import Lane
from bot.delivery.pacing import (
    LANE_REQUEST,
    PER_CHAT_INTERVAL,
    Departure,
    NotClaimed,
    Pacer,
    RequestLog,
)
from storage import Storage
from storage.broadcasts import BLOCKED, FAILED, LEFT, SENT, SKIPPED, UNKNOWN, Broadcast, OutboxRow

log = logging.getLogger(__name__)

MAX_IN_FLIGHT = 8
MAX_ATTEMPTS = 3
RETRY_DELAYS = (2.0, 10.0)
"""Seconds before a row that failed for a passing reason (network) is tried again."""
PROGRESS_EVERY = 10.0
BATCH = 100
STOP_GRACE = 10.0
"""At shutdown, how long requests in flight may take (e.g. waiting out a 429)."""

_RETRY, _REQUEUE = "retry", "requeue"


class BroadcastRenderer(Protocol):
    def message(
        self, broadcast: Broadcast, language: str
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        """The message as a resident with this language sees it."""
        ...

    def progress(self, broadcast: Broadcast, counts: dict[str, int], final: bool) -> str:
        """The coordinator's progress text (counts by status)."""
        ...


class ReportNote(Protocol):
    """What the coordinator's progress and report add about recipients in doubt after a
    crash (``bot.services.broadcast_recovery``)."""

    def note(
        self, broadcast: Broadcast, counts: dict[str, int], final: bool
    ) -> tuple[str | None, InlineKeyboardMarkup | None]:
        """A line for the text, and the final report's buttons."""
        ...


class BroadcastLane(Lane):
    name = "broadcast-lane"
    idle_poll = 60.0
    stop_grace = None

    def __init__(
        self, bot: Bot, storage: Storage, clock: Clock, request_log: RequestLog | None = None
    ) -> None:
        super().__init__(bot, clock)
        self.storage = storage
        self.renderer: BroadcastRenderer | None = None
        self.report_note: ReportNote | None = None
        self.log = request_log or RequestLog(clock.monotonic)
        self.pacer = Pacer(self.log)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._not_before: dict[tuple[int, int], float] = {}
        self._launched: set[tuple[int, int]] = set()
        """Rows whose request is on its way (still 'pending' until it leaves)."""

    @property
    def enabled(self) -> bool:
        return self.renderer is not None

    @property
    def idle(self) -> bool:
        return super().idle and not self._in_flight

    async def recover(self) -> None:
        recovered = await self.storage.broadcasts.recover()
        if recovered:
            log.warning(
                "%d broadcast message(s) were in flight at a crash; reported to the"
                " coordinator, sent again only on their request",
                recovered,
            )

    async def after_crash(self) -> None:
        await self.sleep(self.backoff(5, 300))
        self.wake()

    async def settle(self) -> None:
        """Let requests in flight finish, within reason."""
        if self._in_flight:
            _, late = await asyncio.wait(self._in_flight, timeout=STOP_GRACE)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    async def drain(self) -> None:
        LANE_REQUEST.set(Departure())  # progress messages count as the lane's own requests
        while not self.stopping:
            sending = await self.storage.broadcasts.with_status("sending")
            if not sending:
                return
            await self._run(sending[0])

    async def _run(self, broadcast: Broadcast) -> None:
        """Send one broadcast to every open row; one broadcast at a time."""
        repo = self.storage.broadcasts
        if broadcast.progress_message is None:
            await self._progress(broadcast, final=False)
            broadcast = await repo.get(broadcast.id) or broadcast
        last_progress = self.clock.monotonic()
        cursor, sent_in_pass, soonest = 0, False, math.inf
        while not self.stopping:
            rows = await repo.pending(broadcast.id, cursor, BATCH)
            if not rows:
                if cursor:  # end of a pass: start over for rows that had to wait
                    if not sent_in_pass and soonest < math.inf:
                        await self._idle(min(soonest, PER_CHAT_INTERVAL))
                    cursor, sent_in_pass, soonest = 0, False, math.inf
                    continue
                if self._in_flight:
                    await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
                    continue
                if await repo.finish(broadcast.id, self.clock.now()):
                    await self._progress(broadcast, final=True)
                    self._not_before = {}
                else:  # rows left 'sending' with nothing in flight: treat them like a crash
                    await repo.recover()
                return
            for row in rows:
                cursor = row.user_id
                if self.stopping:
                    return
                if (broadcast.id, row.user_id) in self._launched:
                    soonest = min(soonest, PER_CHAT_INTERVAL)
                    continue
                if not row.eligible:  # unsubscribed, withdrew consent or unreachable meanwhile
                    await repo.mark(broadcast.id, row.user_id, SKIPPED)
                    continue
                wait = max(
                    self._not_before.get((broadcast.id, row.user_id), 0.0) - self.clock.monotonic(),
                    self.pacer.chat_wait(row.user_id),
                )
                if wait > 0:
                    soonest = min(soonest, wait)
                    continue
                if await self._launch(broadcast, row):
                    sent_in_pass = True
                if self.clock.monotonic() - last_progress >= PROGRESS_EVERY:
                    await self._progress(broadcast, final=False)
                    last_progress = self.clock.monotonic()

    async def _idle(self, seconds: float) -> None:
        """Nothing could be sent in a whole pass: wait for a row to become due, or for a
        request in flight to finish (it may put its row back)."""
        if self._in_flight:
            sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
            try:
                await asyncio.wait({*self._in_flight, sleeper}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                await asyncio.gather(sleeper, return_exceptions=True)
        else:
            await self.sleep(seconds)

    async def _pace(self) -> bool:
        while not self.stopping:
            wait = self.pacer.wait()
            if wait <= 0:
                return True
            await self.sleep(wait)
        return False

    async def _launch(self, broadcast: Broadcast, row: OutboxRow) -> bool:
        await self._slots.acquire()
        try:
            if not await self._pace():
                self._slots.release()
                return False
        except BaseException:
            self._slots.release()
            raise
        self.pacer.take(row.user_id)
        key = (broadcast.id, row.user_id)
        self._launched.add(key)
        task = asyncio.create_task(self._deliver(broadcast, row))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        task.add_done_callback(lambda _: self._launched.discard(key))
        return True

    async def _deliver(self, broadcast: Broadcast, row: OutboxRow) -> None:
        repo = self.storage.broadcasts
        # Claimed as the request leaves: 'sending' lasts one round trip.
        departure = Departure(claim=lambda: repo.claim(broadcast.id, row.user_id), own_retries=True)
        LANE_REQUEST.set(departure)
        key = (broadcast.id, row.user_id)
        try:
            try:
                status, error = await self._send(broadcast, row)
            except NotClaimed:
                return
            if status == _REQUEUE:
                self._not_before[key] = self.log.paused_until
                await repo.release(broadcast.id, row.user_id, refund=True)
            elif status == _RETRY:
                attempts = row.attempts + 1
                if attempts >= MAX_ATTEMPTS:
                    await repo.mark(broadcast.id, row.user_id, FAILED, error)
                else:
                    delay = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
                    self._not_before[key] = self.clock.monotonic() + delay
                    await repo.release(broadcast.id, row.user_id)
            else:
                self._not_before.pop(key, None)
                await repo.mark(broadcast.id, row.user_id, status, error)
                if status in (BLOCKED, LEFT):
                    await self.storage.residents.mark_unreachable(row.user_id, self.clock.now())
        except asyncio.CancelledError:
            # A request that never left was never claimed: it is still 'pending'.
            raise
        except Exception as exc:
            self.errors.error(
                "row", "broadcast %s to %s failed", broadcast.id, row.user_id, exc_info=exc
            )
            await repo.mark(broadcast.id, row.user_id, FAILED, repr(exc))
        finally:
            self._slots.release()

    async def _send(self, broadcast: Broadcast, row: OutboxRow) -> tuple[str, str | None]:
        """One request; returns (outcome, error). Besides the final outcomes: ``_RETRY``
        (a passing failure, tried again a bounded number of times) and ``_REQUEUE`` (not
        sent because of a 429; tried again after the pause without counting)."""
        assert self.renderer is not None
        bot = self.bot
        text, markup = self.renderer.message(broadcast, row.language)
        send: Callable[[], Awaitable[Any]]
        media = broadcast.media_file_id
        if broadcast.media_kind == "photo" and media is not None:
            send = lambda: bot.send_photo(  # noqa: E731
                row.user_id, media, caption=text, reply_markup=markup
            )
        elif broadcast.media_kind == "document" and media is not None:
            send = lambda: bot.send_document(  # noqa: E731
                row.user_id, media, caption=text, reply_markup=markup
            )
        else:
            send = lambda: bot.send_message(row.user_id, text, reply_markup=markup)  # noqa: E731
        try:
            await send()
        except TelegramError as exc:
            failure = classify(exc)
            match failure.kind:
                case Kind.RETRY_AFTER:  # the rate limiter gave up waiting: not a failure
                    self.log.pause(failure.retry_after)
                    return _REQUEUE, None
                case Kind.BLOCKED:
                    return BLOCKED, failure.message
                case Kind.FORBIDDEN | Kind.CHAT_GONE:
                    return LEFT, failure.message
                case Kind.TIMED_OUT:
                    return UNKNOWN, f"timed out: {failure.message}"  # it may have arrived
            if failure.refused:
                return FAILED, failure.message  # the request itself is wrong: don't repeat
            return _RETRY, failure.message
        return SENT, None

    async def _progress(self, broadcast: Broadcast, *, final: bool) -> None:
        """One message in the coordinator's chat, edited as the broadcast goes; at the end
        a separate report, so that the coordinator is notified."""
        assert self.renderer is not None
        repo = self.storage.broadcasts
        fresh = await repo.get(broadcast.id) or broadcast
        counts = await repo.counts(broadcast.id)
        text = self.renderer.progress(fresh, counts, final)
        buttons: InlineKeyboardMarkup | None = None
        if self.report_note is not None:
            line, buttons = self.report_note.note(fresh, counts, final)
            text = f"{text}\n{line}" if line else text
        bot = self.bot
        chat, thread = fresh.report_chat, fresh.report_thread
        try:
            if fresh.progress_message is not None:
                await self._pace()
                self.pacer.take(chat)
                try:
                    await bot.edit_message_text(
                        text, chat_id=chat, message_id=fresh.progress_message
                    )
                except TelegramError as exc:
                    if classify(exc).kind is not Kind.NOT_MODIFIED:
                        raise
                if not final:
                    return
            await self._pace()
            self.pacer.take(chat)
            message = await bot.send_message(
                chat,
                text,
                message_thread_id=thread,
                reply_to_message_id=fresh.progress_message if final else None,
                allow_sending_without_reply=True,
                reply_markup=buttons if final else None,
            )
            if fresh.progress_message is None and not final:
                await repo.set_progress_message(broadcast.id, message.message_id)
        except TelegramError as exc:
            log.warning("could not report on broadcast %s: %s", broadcast.id, exc)
