"""The broadcast sender: works through the durable outbox at Telegram's pace.

Telegram allows about 30 messages a second overall and one a second per chat, and answers
a 429 with "retry after n seconds" when a bot sends faster. Replies to residents, reminders
and staff relays go straight to the Application's rate limiter; the broadcast takes what is
left of the budget and leaves headroom, so they are never starved:

* :class:`SharedRateLimiter` is the Application's ``AIORateLimiter`` (which retries 429s and
  pauses every request meanwhile) plus a :class:`RequestLog` of when each request left.
* :class:`Pacer` lets the broadcast's next request leave only if its requests stay evenly
  spaced at 29 a second (no bursts), its own requests plus *twice* everybody else's
  within the last second stay at most 29 (one below Telegram's 30), the chat heard nothing from the bot in the last
  second, and no 429 is being waited out. With nothing else going on, a broadcast runs at
  29 messages a second; every request of the interactive bot shrinks its share by two.
* :class:`Outbox` is one asyncio task. For each recipient it claims the row (``sending``)
  right before the request leaves and marks the outcome afterwards, so a restart resumes
  where it stopped. A row that a crash left ``sending`` may or may not have arrived; it is
  never sent again (``unknown``): nobody gets a message twice. A clean stop lets the requests
  in flight finish and puts back the rows whose request had not left yet.

Real time paces the requests (Telegram counts real seconds); scheduling, in clock time, is
the business of the handlers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import warnings
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import AIORateLimiter

from storage.broadcasts import BLOCKED, FAILED, LEFT, SENT, SKIPPED, UNKNOWN, Broadcast, OutboxRow

if TYPE_CHECKING:
    from bot.context import Services

log = logging.getLogger(__name__)

TELEGRAM_PER_SECOND = 30
LIMIT = TELEGRAM_PER_SECOND - 1
"""Never more requests than this leave within any one second: the requests' uneven travel
time must not put 31 into one of Telegram's seconds."""
RATE = 29.0
"""The broadcast's pace when nothing else is sent, evenly spaced."""
OTHERS_WEIGHT = 2
"""Each request of the interactive bot in the last second costs the broadcast two slots:
replies, reminders and staff relays always find room."""
PER_CHAT_INTERVAL = 1.0
MAX_IN_FLIGHT = 8
MAX_ATTEMPTS = 3
RETRY_DELAYS = (2.0, 10.0)
"""Seconds before a row that failed for a passing reason (network) is tried again."""
PROGRESS_EVERY = 10.0
BATCH = 100
STOP_GRACE = 10.0
"""At shutdown, how long requests in flight may take (e.g. waiting out a 429)."""

_RETRY, _REQUEUE = "retry", "requeue"

OUTBOX = "outbox"
"""bot_data key of the running :class:`Outbox`."""


# -- what left for Telegram, and when -------------------------------------------------------
@dataclass
class _Attempt:
    departed: bool = False


_SENDING: ContextVar[_Attempt | None] = ContextVar("quartierbot_outbox_attempt", default=None)
"""Set in the sender's tasks: their requests are the broadcast's own, and a delivery learns
whether its request actually left."""


def retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that retry_after becomes a timedelta
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class RequestLog:
    """Departures of requests in the last second, per chat, and a pause after a 429."""

    WINDOW = 1.0

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self.now = now
        self.others: deque[float] = deque()
        self.last_in_chat: dict[int, float] = {}
        self.paused_until = 0.0

    def record(self, chat_id: object, *, own: bool) -> None:
        now = self.now()
        if not own:
            self.others.append(now)
        if isinstance(chat_id, int):
            self.last_in_chat[chat_id] = now
            if len(self.last_in_chat) > 10_000:
                self.last_in_chat = {
                    c: t for c, t in self.last_in_chat.items() if t > now - PER_CHAT_INTERVAL
                }

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, self.now() + seconds)

    def prune(self, now: float) -> None:
        while self.others and self.others[0] <= now - self.WINDOW:
            self.others.popleft()


class SharedRateLimiter(AIORateLimiter):
    """PTB's rate limiter, telling the broadcast's pacer what else is being sent."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.log = RequestLog()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        request_log = self.log

        async def observed(*a: Any, **kw: Any) -> bool | dict[str, Any] | list[dict[str, Any]]:
            attempt = _SENDING.get()
            if attempt is not None:
                attempt.departed = True
            request_log.record(data.get("chat_id"), own=attempt is not None)
            try:
                return await callback(*a, **kw)
            except RetryAfter as exc:
                request_log.pause(retry_seconds(exc))
                raise

        return await super().process_request(
            observed, args, kwargs, endpoint, data, rate_limit_args
        )


class Pacer:
    """When the broadcast's next request may leave (see the module docstring)."""

    def __init__(self, request_log: RequestLog, rate: float = RATE, limit: int = LIMIT) -> None:
        self.log = request_log
        self.limit = limit
        self.own: deque[float] = deque()
        self.interval = 1.0 / rate
        self.next_at = 0.0
        """Even spacing on a fixed grid, so that late wake-ups do not add up."""

    def chat_wait(self, chat_id: int) -> float:
        last = self.log.last_in_chat.get(chat_id)
        return 0.0 if last is None else max(0.0, last + PER_CHAT_INTERVAL - self.log.now())

    def wait(self) -> float:
        """Seconds until one more request may leave (0: now)."""
        now = self.log.now()
        window = self.log.WINDOW
        while self.own and self.own[0] <= now - window:
            self.own.popleft()
        self.log.prune(now)
        waits = [self.log.paused_until - now]
        waits.append(self.next_at - now)
        if len(self.own) + OTHERS_WEIGHT * len(self.log.others) >= self.limit:
            firsts = [d[0] for d in (self.own, self.log.others) if d]
            oldest = min(firsts, default=now)
            waits.append(oldest + window - now)
        return max(0.0, *waits)

    def take(self, chat_id: int | None = None) -> None:
        now = self.log.now()
        self.own.append(now)
        # On the grid when a little late (sleeps overshoot); never closer than 3/4 of
        # the interval to the previous request, so there are no bursts to catch up.
        self.next_at = max(self.next_at + self.interval, now + 0.75 * self.interval)
        if chat_id is not None:
            self.log.last_in_chat[chat_id] = now


# -- the sender -----------------------------------------------------------------------------
Render = Callable[["Services", Broadcast, str], tuple[str, InlineKeyboardMarkup | None]]
"""(services, broadcast, resident's language) → the message as the resident sees it."""
Report = Callable[["Services", Broadcast, dict[str, int], bool], str]
"""(services, broadcast, counts by status, final) → the coordinator's progress text."""


class Outbox:
    def __init__(self, application: Any, *, render: Render, report: Report) -> None:
        self.application = application
        self.render = render
        self.report = report
        limiter = application.bot.rate_limiter
        self.log = limiter.log if isinstance(limiter, SharedRateLimiter) else RequestLog()
        self.pacer = Pacer(self.log)
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._not_before: dict[tuple[int, int], float] = {}
        self._waiting = False

    @property
    def services(self) -> Services:
        services: Services = self.application.bot_data["services"]
        return services

    async def start(self) -> None:
        recovered = await self.services.storage.broadcasts.recover()
        if recovered:
            log.warning(
                "%d broadcast message(s) were in flight at a crash; not sent again", recovered
            )
        self._stop.clear()
        self._task = asyncio.create_task(self._main(), name="broadcast-outbox")

    def wake(self) -> None:
        """A broadcast started: look at the outbox now."""
        self._wake.set()

    @property
    def idle(self) -> bool:
        """No broadcast is being sent or about to start. Tests wait for this, not silence."""
        if self._task is None:
            return True
        return self._waiting and not self._wake.is_set() and not self._in_flight

    async def stop(self) -> None:
        """Stop taking rows; let requests in flight finish, within reason."""
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self._in_flight:
            _, late = await asyncio.wait(self._in_flight, timeout=STOP_GRACE)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), max(seconds, 0.0))

    async def _main(self) -> None:
        _SENDING.set(_Attempt())  # progress messages count as the broadcast's own requests
        while not self.stopping:
            try:
                sending = await self.services.storage.broadcasts.with_status("sending")
                if not sending:
                    self._wake.clear()
                    self._waiting = True
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), 60)
                    self._waiting = False
                    continue
                await self._run(sending[0])
            except Exception:
                log.exception("the broadcast sender failed; trying again")
                await self._sleep(5)

    async def _run(self, broadcast: Broadcast) -> None:
        """Send one broadcast to every open row; one broadcast at a time."""
        repo = self.services.storage.broadcasts
        if broadcast.progress_message is None:
            await self._progress(broadcast, final=False)
            broadcast = await repo.get(broadcast.id) or broadcast
        last_progress = time.monotonic()
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
                if await repo.finish(broadcast.id, self.services.clock.now()):
                    await self._progress(broadcast, final=True)
                    self._not_before = {}
                else:  # rows left 'sending' with nothing in flight: treat them like a crash
                    await repo.recover()
                return
            for row in rows:
                cursor = row.user_id
                if self.stopping:
                    return
                if not row.eligible:  # unsubscribed, withdrew consent or unreachable meanwhile
                    await repo.mark(broadcast.id, row.user_id, SKIPPED)
                    continue
                wait = max(
                    self._not_before.get((broadcast.id, row.user_id), 0.0) - time.monotonic(),
                    self.pacer.chat_wait(row.user_id),
                )
                if wait > 0:
                    soonest = min(soonest, wait)
                    continue
                if await self._launch(broadcast, row):
                    sent_in_pass = True
                if time.monotonic() - last_progress >= PROGRESS_EVERY:
                    await self._progress(broadcast, final=False)
                    last_progress = time.monotonic()

    async def _idle(self, seconds: float) -> None:
        """Nothing could be sent in a whole pass: wait for a row to become due, or for a
        request in flight to finish (it may put its row back)."""
        if self._in_flight:
            await asyncio.wait(
                self._in_flight, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
            )
        else:
            await self._sleep(seconds)

    async def _pace(self) -> bool:
        while not self.stopping:
            wait = self.pacer.wait()
            if wait <= 0:
                return True
            await self._sleep(wait)
        return False

    async def _launch(self, broadcast: Broadcast, row: OutboxRow) -> bool:
        await self._slots.acquire()
        try:
            if not await self._pace():
                self._slots.release()
                return False
            if not await self.services.storage.broadcasts.claim(broadcast.id, row.user_id):
                self._slots.release()
                return False
        except BaseException:
            self._slots.release()
            raise
        self.pacer.take(row.user_id)
        task = asyncio.create_task(self._deliver(broadcast, row))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        return True

    async def _deliver(self, broadcast: Broadcast, row: OutboxRow) -> None:
        attempt = _Attempt()
        _SENDING.set(attempt)
        repo = self.services.storage.broadcasts
        key = (broadcast.id, row.user_id)
        try:
            status, error = await self._send(broadcast, row)
            if status == _REQUEUE:
                self._not_before[key] = self.log.paused_until
                await repo.release(broadcast.id, row.user_id, refund=True)
            elif status == _RETRY:
                attempts = row.attempts + 1
                if attempts >= MAX_ATTEMPTS:
                    await repo.mark(broadcast.id, row.user_id, FAILED, error)
                else:
                    delay = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
                    self._not_before[key] = time.monotonic() + delay
                    await repo.release(broadcast.id, row.user_id)
            else:
                self._not_before.pop(key, None)
                await repo.mark(broadcast.id, row.user_id, status, error)
                if status in (BLOCKED, LEFT):
                    await self.services.storage.residents.mark_unreachable(
                        row.user_id, self.services.clock.now()
                    )
        except asyncio.CancelledError:
            if not attempt.departed:  # the request never left: it may be sent after a restart
                await repo.release(broadcast.id, row.user_id, refund=True)
            raise
        except Exception as exc:
            log.exception("broadcast %s to %s failed", broadcast.id, row.user_id)
            await repo.mark(broadcast.id, row.user_id, FAILED, repr(exc))
        finally:
            self._slots.release()

    async def _send(self, broadcast: Broadcast, row: OutboxRow) -> tuple[str, str | None]:
        """One request; returns (outcome, error). Besides the final outcomes: ``_RETRY``
        (a passing failure, tried again a bounded number of times) and ``_REQUEUE`` (not
        sent because of a 429; tried again after the pause without counting)."""
        bot = self.application.bot
        text, markup = self.render(self.services, broadcast, row.language)
        send: Callable[[], Awaitable[Any]]
        if broadcast.media_kind == "photo":
            send = lambda: bot.send_photo(  # noqa: E731
                row.user_id, broadcast.media_file_id, caption=text, reply_markup=markup
            )
        elif broadcast.media_kind == "document":
            send = lambda: bot.send_document(  # noqa: E731
                row.user_id, broadcast.media_file_id, caption=text, reply_markup=markup
            )
        else:
            send = lambda: bot.send_message(row.user_id, text, reply_markup=markup)  # noqa: E731
        try:
            await send()
        except RetryAfter as exc:  # the rate limiter gave up waiting: not sent, not a failure
            self.log.pause(retry_seconds(exc))
            return _REQUEUE, None
        except Forbidden as exc:
            return (BLOCKED if "blocked" in exc.message.lower() else LEFT), exc.message
        except BadRequest as exc:
            message = exc.message.lower()
            if "chat not found" in message or "deactivated" in message:
                return LEFT, exc.message
            return FAILED, exc.message  # the request itself is wrong: trying again won't help
        except TimedOut as exc:
            return UNKNOWN, f"timed out: {exc.message}"  # it may have arrived
        except (NetworkError, TelegramError) as exc:
            return _RETRY, exc.message
        return SENT, None

    async def _progress(self, broadcast: Broadcast, *, final: bool) -> None:
        """One message in the coordinator's chat, edited as the broadcast goes; at the end
        a separate report, so that the coordinator is notified."""
        services = self.services
        fresh = await services.storage.broadcasts.get(broadcast.id) or broadcast
        counts = await services.storage.broadcasts.counts(broadcast.id)
        text = self.report(services, fresh, counts, final)
        bot = self.application.bot
        chat, thread = fresh.report_chat, fresh.report_thread
        try:
            if fresh.progress_message is not None:
                await self._pace()
                self.pacer.take(chat)
                try:
                    await bot.edit_message_text(
                        text, chat_id=chat, message_id=fresh.progress_message
                    )
                except BadRequest as exc:
                    if "not modified" not in exc.message.lower():
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
            )
            if fresh.progress_message is None and not final:
                await services.storage.broadcasts.set_progress_message(
                    broadcast.id, message.message_id
                )
        except TelegramError as exc:
            log.warning("could not report on broadcast %s: %s", broadcast.id, exc)
