"""Every pacing policy towards Telegram, built from two primitives.

Telegram allows about 30 requests a second overall, one a second per private chat and 20 a
minute per group, and answers more with 429 "retry after n seconds". The bot paces itself
with two small building blocks, whatever the unit of time (real seconds as floats, or the
injected clock's time as integer microseconds, so that a test moving the clock by exactly
a minute frees exactly a minute's worth):

* :class:`SlidingWindow` — at most ``limit`` (weighted) requests within any ``span``; it
  says exactly when there is room for ``needed`` more.
* :class:`Spacing` — requests evenly spaced ``interval`` apart on a fixed grid, with a burst
  allowance (the generic cell rate algorithm, i.e. a token bucket without a float state).

The policies built from them:

* :class:`SharedRateLimiter` — the gate of every request (PTB's rate limiter interface): a
  429 pauses every request, and after the pause they leave paced, at most ``LIMIT`` within
  any second; plus a :class:`RequestLog` of what left and when, so that lanes can leave room
  for interactive traffic.
* :class:`GroupWindow` — the staff group's 20 messages a minute, in clock time.
* :class:`Pacer` — the broadcast lane: evenly spaced at 29 a second, its own requests plus
  *twice* everybody else's within the last second at most 29 (one below Telegram's 30), the
  chat heard nothing from the bot in the last second, and no 429 is being waited out.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter

from bot.clock import Clock, SystemClock
from bot.delivery.errors import retry_seconds
from bot.logs import Throttled

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
RECOVERY = 3.0
"""For this many seconds after a 429 pause the shared limiter spaces requests evenly."""
GRID_SLACK = 0.25
"""A paced request may leave this fraction of an interval early, so that late wake-ups
(sleeps overshoot) stay on the grid instead of adding up; never closer than 3/4 interval."""


# -- the two primitives -----------------------------------------------------------------------
def window_wait(
    entries: Iterable[tuple[float, float]], limit: float, span: float, now: float, needed: float
) -> float:
    """How long until ``needed`` more fit, given ``(time, cost)`` entries (oldest first) that
    are all within the span; 0 if now. With ``needed`` above ``limit``: until all expired."""
    items = list(entries)
    used = sum(cost for _, cost in items)
    if used + needed <= limit:
        return 0
    freed = 0.0
    for at, cost in items:
        freed += cost
        if used - freed + needed <= limit:
            return max(at + span - now, 0)
    return max(items[-1][0] + span - now, 0) if items else 0


class SlidingWindow:
    """At most ``limit`` units of cost within any ``span`` (in the caller's unit of time)."""

    def __init__(self, limit: float, span: float) -> None:
        self.limit = limit
        self.span = span
        self.entries: deque[tuple[float, float]] = deque()

    def prune(self, now: float) -> None:
        while self.entries and self.entries[0][0] <= now - self.span:
            self.entries.popleft()

    def used(self, now: float) -> float:
        self.prune(now)
        return sum(cost for _, cost in self.entries)

    def wait(self, now: float, needed: float = 1) -> float:
        self.prune(now)
        return window_wait(self.entries, self.limit, self.span, now, needed)

    def spend(self, now: float, cost: float = 1) -> None:
        self.entries.append((now, cost))

    def clear(self) -> None:
        self.entries.clear()

    def __len__(self) -> int:
        return len(self.entries)


class Spacing:
    """One request per ``interval`` on average, evenly spaced on a fixed grid; after a quiet
    spell up to ``burst`` may leave at once (a token bucket of that size refilling one token
    per interval). A fractional burst lets a request leave a little early, which keeps late
    wake-ups on the grid."""

    def __init__(self, interval: float, burst: float = 1) -> None:
        self.interval = interval
        self.burst = burst
        self.due: float | None = None
        """The grid point of the next request ("theoretical arrival time")."""

    def wait(self, now: float) -> float:
        if self.due is None:
            return 0
        return max(self.due - (self.burst - 1) * self.interval - now, 0)

    def take(self, now: float) -> None:
        self.due = max(self.due if self.due is not None else now, now) + self.interval

    def try_take(self, now: float) -> bool:
        """Take a slot if there is one now."""
        if self.wait(now) > 0:
            return False
        self.take(now)
        return True


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def micros(moment: datetime) -> int:
    """Clock time as an exact integer, for the primitives."""
    return (moment - _EPOCH) // _MICROSECOND


def duration_micros(delta: timedelta) -> int:
    return delta // _MICROSECOND


def from_micros(value: float) -> timedelta:
    return timedelta(microseconds=value)


# -- the interactive traffic: PTB's rate limiter and the request log ----------------------------
class NotClaimed(Exception):
    """A lane's row was taken (or closed) meanwhile: the request must not leave."""


@dataclass
class Departure:
    """Set (in a context variable) while a lane sends: its requests are paced by the lane,
    and the lane learns whether its request actually left.

    ``claim`` runs right before the request leaves (after every wait of the rate limiter),
    so that a row is "sending" only for the time of one round trip: a crash can only leave
    a row in doubt whose request really was on its way. It runs once; False stops the
    request (:class:`NotClaimed`). A lane that sets ``own_retries`` handles a 429 itself
    (puts its row back and waits): the limiter then passes it on at once instead of
    holding the row "sending" through the pause."""

    departed: bool = False
    claim: Callable[[], Awaitable[bool]] | None = None
    own_retries: bool = False

    async def leave(self) -> None:
        claim, self.claim = self.claim, None
        if claim is not None and not await claim():
            raise NotClaimed
        self.departed = True


LANE_REQUEST: ContextVar[Departure | None] = ContextVar("quartierbot_lane_request", default=None)


class RequestLog:
    """Departures of other requests in the last second, per chat, and a pause after a 429."""

    WINDOW = 1.0

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self.now = now
        self.others = SlidingWindow(LIMIT, self.WINDOW)
        self.last_in_chat: dict[int, float] = {}
        self.paused_until = 0.0

    def record(self, chat_id: object, *, own: bool) -> None:
        now = self.now()
        if not own:
            self.others.spend(now)
        if isinstance(chat_id, int):
            self.last_in_chat[chat_id] = now
            if len(self.last_in_chat) > 10_000:
                self.last_in_chat = {
                    c: t for c, t in self.last_in_chat.items() if t > now - PER_CHAT_INTERVAL
                }

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, self.now() + seconds)

    def pause_left(self) -> float:
        return max(0.0, self.paused_until - self.now())

    def chat_wait(self, chat_id: int) -> float:
        """Seconds until the bot may write to this chat again (one message a second)."""
        last = self.last_in_chat.get(chat_id)
        return 0.0 if last is None else max(0.0, last + PER_CHAT_INTERVAL - self.now())


PAUSE_SLACK = 0.1
"""Added to Telegram's ``retry_after``, as PTB does."""


class SharedRateLimiter(AIORateLimiter):
    """The one gate every request to Telegram passes (PTB calls :meth:`process_request`).

    Unlike PTB's ``AIORateLimiter``, whose leaky bucket hands out its tokens *before* the
    requests wait out a 429 (so that everything queued during a pause leaves in one burst
    when it ends, plus a full bucket on top), requests here first wait out the pause, then
    take a turn in one :class:`SlidingWindow` of ``LIMIT`` requests a second, one at a time
    in the order they came (an ``asyncio.Lock`` is fair): after a pause of any length at
    most ``LIMIT`` requests leave within any second. Only requests to a chat count, as in
    PTB's limiter. A 429 pauses every request; an interactive request is tried again up to
    ``max_retries`` times, a lane's request (``own_retries``) goes back to its lane.

    The :class:`RequestLog` tells the lanes what else is being sent. Every wait is in the
    injected clock's elapsed time (:meth:`bot.clock.Clock.sleep`): real seconds in
    production, moved by hand in tests about pacing."""

    def __init__(
        self,
        *args: Any,
        clock: Clock | None = None,
        limit: int = LIMIT,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.clock: Clock = clock or SystemClock()
        self.log = RequestLog(self.clock.monotonic)
        self.window = SlidingWindow(limit, RequestLog.WINDOW)
        # After a 429 pause, what waited leaves evenly spaced for a while, not as one burst
        # that a network's jitter could squeeze into less than one of Telegram's seconds.
        # In ordinary times replies leave as soon as the window has room.
        self.grid = Spacing(1.0 / RATE, burst=1 + GRID_SLACK)
        self._turn = asyncio.Lock()
        self.waiting = 0
        """Requests waiting for their turn (a test driving the clock knows when all wait)."""
        self.throttled_log = Throttled(logging.getLogger(__name__), 30.0)

    async def wait_turn(self, paced: bool, smooth: bool = False) -> None:
        """Wait out a 429 pause, then (for a request to a chat) a free slot in the window.
        Evenly spaced on the grid: a lane's requests always (a broadcast is a long stream,
        and a stream of bursts meets Telegram's limit at the edges of its seconds), everyone's
        in the seconds after a pause; an interactive reply in ordinary times leaves as soon
        as the window has room."""
        self.waiting += 1
        try:
            await self._wait_turn(paced, smooth)
        finally:
            self.waiting -= 1

    async def _wait_turn(self, paced: bool, smooth: bool) -> None:
        async with self._turn:
            while True:
                now = self.log.now()
                wait = self.log.paused_until - now
                on_grid = smooth or now < self.log.paused_until + RECOVERY
                if paced:
                    wait = max(wait, self.window.wait(now))
                    if on_grid:
                        wait = max(wait, self.grid.wait(now))
                if wait <= 0:
                    break
                await self.clock.sleep(wait)
            if paced:
                self.window.spend(now)
                if on_grid:
                    self.grid.take(now)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        departure = LANE_REQUEST.get()
        own = departure is not None
        retries = 0 if departure is not None and departure.own_retries else None
        if retries is None:
            retries = rate_limit_args or self._max_retries
        chat_id = data.get("chat_id")
        attempt = 0
        while True:
            await self.wait_turn(chat_id is not None, smooth=own)
            if departure is not None:
                await departure.leave()
            self.log.record(chat_id, own=own)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                seconds = retry_seconds(exc)
                self.log.pause(seconds + PAUSE_SLACK)
                if attempt >= retries:
                    if not own:
                        self.throttled_log.warning(
                            "retry-after",
                            "Telegram asks to wait %.0f s (%s); giving up after %d retries",
                            seconds,
                            endpoint,
                            retries,
                        )
                    raise
                attempt += 1


# -- the lanes' policies ------------------------------------------------------------------------
class GroupWindow:
    """Messages into one group, at most ``per_minute`` in any minute of *clock* time."""

    SPAN = timedelta(seconds=60)

    def __init__(self, per_minute: int) -> None:
        self.window = SlidingWindow(max(1, per_minute), duration_micros(self.SPAN))

    @property
    def per_minute(self) -> int:
        return int(self.window.limit)

    def restore(self, sent: Iterable[tuple[datetime, int]]) -> None:
        """After a restart: what was sent in the last minute still counts."""
        self.window.clear()
        for at, cost in sorted((micros(at), cost) for at, cost in sent):
            self.window.spend(at, cost)

    def room_at(self, now: datetime, needed: int = 1) -> datetime | None:
        """None when ``needed`` messages may be sent now; else when there will be room."""
        wait = self.window.wait(micros(now), needed)
        return None if wait <= 0 else now + from_micros(wait)

    def spend(self, now: datetime, n: int = 1) -> None:
        self.window.spend(micros(now), n)


class Pacer:
    """When the broadcast lane's next request may leave (see the module docstring)."""

    def __init__(self, request_log: RequestLog, rate: float = RATE, limit: int = LIMIT) -> None:
        self.log = request_log
        self.own = SlidingWindow(limit, request_log.WINDOW)
        self.grid = Spacing(1.0 / rate, burst=1 + GRID_SLACK)

    def chat_wait(self, chat_id: int) -> float:
        return self.log.chat_wait(chat_id)

    def wait(self) -> float:
        """Seconds until one more request may leave (0: now)."""
        now = self.log.now()
        self.own.prune(now)
        others = self.log.others
        others.prune(now)
        merged = sorted(
            [*self.own.entries, *((at, OTHERS_WEIGHT * cost) for at, cost in others.entries)]
        )
        window = window_wait(merged, self.own.limit, self.own.span, now, 1)
        return max(0.0, self.log.paused_until - now, self.grid.wait(now), window)

    def take(self, chat_id: int | None = None) -> None:
        now = self.log.now()
        self.own.spend(now)
        self.grid.take(now)
        if chat_id is not None:
            self.log.last_in_chat[chat_id] = now
