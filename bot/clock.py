"""The one source of "now" for the bot, the scheduler and the sandbox.

Everything that needs the current time asks a :class:`Clock`, so tests and the demo
sandbox can move time forward instead of sleeping. Listeners are told when a clock
jumps, so the scheduler can re-evaluate what has become due.

Besides the calendar (:meth:`Clock.now`), a clock keeps *elapsed* time for pacing and
waits (:meth:`Clock.monotonic`, :meth:`Clock.sleep`, :meth:`Clock.call_later`): the rate
limiter's windows, a 429 pause, a lane's retry delay. The system clock uses the event
loop's monotonic time, so production waits exactly as long as Telegram asks. A fake clock's
elapsed time jumps with it, so a test skips a minute-long 429 storm by moving the clock; a
``frozen`` fake clock's elapsed time moves *only* when the test moves it, so a test about
pacing decides every moment itself and does not depend on how busy the machine is.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC datetime."""
        ...

    def on_jump(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` whenever the clock is moved by hand."""
        ...

    def monotonic(self) -> float:
        """Elapsed time in seconds (any origin): what pacing and waits count in."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's elapsed time."""
        ...

    def call_later(self, seconds: float, callback: Callable[[], None]) -> Cancellable:
        """Call ``callback`` (in the running event loop) after ``seconds`` of elapsed time."""
        ...


class SystemClock:
    """Wall-clock time; never jumps. Waits are the event loop's own."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def on_jump(self, listener: Callable[[], None]) -> None:
        return None

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def call_later(self, seconds: float, callback: Callable[[], None]) -> Cancellable:
        return asyncio.get_running_loop().call_later(max(seconds, 0.0), callback)


RESOLUTION = 1e-6
"""A clock moves by whole microseconds (``timedelta``)."""


class _Alarm:
    """A callback at a moment of a :class:`FakeClock`'s elapsed time: fired by a jump past
    it, or (unless the clock is frozen) by the event loop when real time gets there."""

    def __init__(self, clock: FakeClock, deadline: float, callback: Callable[[], None]) -> None:
        self.clock = clock
        self.deadline = deadline
        self.callback = callback
        self.done = False
        self.timer: asyncio.TimerHandle | None = None

    def cancel(self) -> None:
        self.done = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def fire(self) -> None:
        if self.done:
            return
        self.cancel()
        self.callback()


class FakeClock:
    """A clock that only moves when told to (tests, and the sandbox's fast-forward).

    With ``ticking=True`` it advances with real time between jumps, which is what a
    demo wants: time flows normally, and "fast-forward" adds an offset.

    Elapsed time (:meth:`monotonic`, :meth:`sleep`) flows with real time and jumps with
    the clock: a 429 pause or a retry delay ends early when the test moves the clock past
    it, and pacing between two requests takes its few real milliseconds as in production.
    With ``frozen=True`` elapsed time moves only with :meth:`advance`: a sleeper wakes when
    the clock is moved past its deadline and never otherwise (:attr:`sleepers`,
    :meth:`next_wake` tell a test what it waits for).
    """

    def __init__(
        self, start: datetime | None = None, *, ticking: bool = False, frozen: bool = False
    ) -> None:
        start = start or datetime.now(UTC)
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        if ticking and frozen:
            raise ValueError("a ticking clock cannot be frozen")
        self._offset = start - datetime.now(UTC) if ticking else timedelta(0)
        self._fixed: datetime | None = None if ticking else start.astimezone(UTC)
        self._listeners: list[Callable[[], None]] = []
        self.frozen = frozen
        self._advanced = 0.0
        """Seconds of elapsed time added by jumps."""
        self._origin = 1_000_000.0 if frozen else 0.0
        self._alarms: list[tuple[float, int, _Alarm]] = []
        self._order = itertools.count()

    def now(self) -> datetime:
        if self._fixed is not None:
            return self._fixed
        return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        delta = (delta or timedelta(0)) + timedelta(**kwargs)
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        if self._fixed is not None:
            self._fixed += delta
        else:
            self._offset += delta
        self._advanced += delta.total_seconds()
        self._ring()
        self._notify()
        return self.now()

    def set(self, when: datetime) -> datetime:
        return self.advance(when.astimezone(UTC) - self.now())

    def on_jump(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()

    # -- elapsed time ---------------------------------------------------------------------------
    def monotonic(self) -> float:
        real = 0.0 if self.frozen else time.monotonic()
        return self._origin + real + self._advanced

    def call_later(self, seconds: float, callback: Callable[[], None]) -> _Alarm:
        seconds = max(seconds, 0.0)
        alarm = _Alarm(self, self.monotonic() + seconds, callback)
        self._prune()
        if self.frozen:
            heapq.heappush(self._alarms, (alarm.deadline, next(self._order), alarm))
            if seconds == 0:
                asyncio.get_running_loop().call_soon(alarm.fire)
        else:
            alarm.timer = asyncio.get_running_loop().call_later(seconds, alarm.fire)
            heapq.heappush(self._alarms, (alarm.deadline, next(self._order), alarm))
        return alarm

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        woken = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not woken.done():
                woken.set_result(None)

        alarm = self.call_later(seconds, wake)
        try:
            await woken
        finally:
            alarm.cancel()

    @property
    def sleepers(self) -> int:
        """Alarms and sleeps waiting for a later moment."""
        return sum(1 for _, _, alarm in self._alarms if not alarm.done)

    def next_wake(self) -> float | None:
        """The elapsed time (as :meth:`monotonic`) of the earliest waiting alarm or sleep."""
        self._prune()
        return self._alarms[0][0] if self._alarms else None

    def advance_to_next_wake(self) -> bool:
        """Move the clock to the earliest waiting alarm or sleep (rounded up to a whole
        microsecond, and at least one); False if nothing waits."""
        wake = self.next_wake()
        if wake is None:
            return False
        micros = max(math.ceil((wake - self.monotonic()) / RESOLUTION), 1)
        self.advance(timedelta(microseconds=micros))
        return True

    def _prune(self) -> None:
        while self._alarms and self._alarms[0][2].done:
            heapq.heappop(self._alarms)

    def _ring(self) -> None:
        """Fire every alarm the jump went past (in deadline order); a jump moves by whole
        microseconds, so one that falls short of a deadline by less counts as reaching it."""
        now = self.monotonic() + RESOLUTION
        due: list[_Alarm] = []
        self._prune()
        while self._alarms and self._alarms[0][0] <= now:
            due.append(heapq.heappop(self._alarms)[2])
            self._prune()
        if not self.frozen and self._alarms:
            # Elapsed time jumped: what is left of each wait is shorter in real time too.
            loop = asyncio.get_running_loop()
            for deadline, _, alarm in self._alarms:
                if not alarm.done and alarm.timer is not None:
                    alarm.timer.cancel()
                    alarm.timer = loop.call_later(max(deadline - now, 0.0), alarm.fire)
        for alarm in due:
            alarm.fire()
