"""A lane of the durable outbox: rows in SQLite, one worker paced by the lane's policy.

A lane is what every kind of outgoing traffic that must not be lost shares: its rows are
written first (so a restart resumes where it stopped), one asyncio task works through them
at the lane's pace, sorts failures with :func:`bot.delivery.errors.classify`, and sleeps
until it is woken — by a new row, by a moment of the injected clock (:meth:`Lane.wake_at`;
a clock moved by hand wakes every lane), or at the end of a pause (a 429, a retry delay)
counted in the clock's elapsed time (:meth:`bot.clock.Clock.sleep`: real seconds in
production, skipped in a test by moving the clock). A lane only says how to *drain* (send what is due, and return when nothing is) and, optionally, how to
recover after a crash, what to do when a drain fails unexpectedly and what to finish at a
stop.

Lanes today: :class:`~bot.delivery.staff_lane.StaffLane` (everything posted into the staff
group, 20 a minute of clock time), :class:`~bot.delivery.replies_lane.RepliesLane` (replies
that matter: receipts, confirmations, staff answers; they wait out a 429 storm of any length
and go out in order, once) and :class:`~bot.delivery.broadcast_lane.BroadcastLane`
(announcements to many residents at 29 a second, yielding to interactive traffic).

Adding a lane (the replies lane is the smallest example) takes:

1. a table of rows in ``storage/``, claimed as the request leaves: pass the claim to
   :class:`~bot.delivery.pacing.Departure` (so a crash leaves a row in doubt only for one
   round trip, and never sends one twice);
2. a subclass with ``drain``: take the oldest due row, wait for the pacing policy (e.g. a
   :class:`~bot.delivery.pacing.SlidingWindow` of 29 a second plus the shared
   :class:`~bot.delivery.pacing.RequestLog`'s pause and per-chat spacing), send with
   ``LANE_REQUEST`` set (``own_retries=True``: a 429 comes back to the lane at once), and
   let :func:`~bot.delivery.errors.classify` decide: on ``RETRY_AFTER`` put the row back
   uncounted and :meth:`Lane.sleep` out the pause (order is kept, and the shared rate
   limiter paces the restart: no burst);
3. an attribute on :class:`bot.delivery.outbox.Outbox` and its ``lanes``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from abc import ABC, abstractmethod
from datetime import datetime

from telegram import Bot

from bot.clock import Cancellable, Clock
from bot.logs import Throttled

log = logging.getLogger(__name__)


class Lane(ABC):
    name = "lane"
    idle_poll: float | None = None
    """Real seconds after which an idle lane looks at its rows anyway (None: only when woken)."""
    stop_grace: float | None = 5.0
    """At a stop, how long the worker may take to finish the send in flight (None: as long
    as it takes)."""

    def __init__(self, bot: Bot, clock: Clock) -> None:
        self.bot = bot
        self.clock = clock
        self._event = asyncio.Event()
        self._stopped = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._alarm: Cancellable | None = None
        self._alarm_at = math.inf
        self.crashes = 0
        """Drains in a row that raised; reset by one that did not."""
        self.errors = Throttled(log, 60.0)
        """A lane that fails again and again says so once a minute, with a count."""
        self._waiting = False

    # -- what a lane says ---------------------------------------------------------------------
    @property
    def enabled(self) -> bool:
        return True

    async def recover(self) -> None:  # noqa: B027 (optional hook)
        """Before the worker starts: pick up what a crash or a stop left behind."""

    @abstractmethod
    async def drain(self) -> None:
        """Send what is due; return when nothing is (after :meth:`wake_at` if later)."""

    async def after_crash(self) -> None:
        """A drain raised something unexpected; by default look again in a minute (longer
        each time it happens again, up to ten)."""
        await self.sleep(self.backoff(60, 600))
        self.wake()

    def backoff(self, first: float, most: float) -> float:
        """Seconds to wait after the latest of :attr:`crashes` failed drains in a row."""
        return float(min(first * 2 ** max(self.crashes - 1, 0), most))

    async def settle(self) -> None:  # noqa: B027 (optional hook)
        """At a stop, after the worker ended: finish or put back requests still running."""

    # -- life cycle ---------------------------------------------------------------------------
    @property
    def stopping(self) -> bool:
        return self._stopped.is_set()

    async def start(self) -> None:
        if not self.enabled:
            return
        await self.recover()
        self._stopped.clear()
        self._task = asyncio.create_task(self._work(), name=self.name)
        # A clock moved by hand (tests, the demo's fast-forward) may have made rows due.
        self.clock.on_jump(self.wake)
        self.wake()

    async def stop(self) -> None:
        self._stopped.set()
        self._event.set()
        if self._alarm is not None:
            self._alarm.cancel()
            self._alarm, self._alarm_at = None, math.inf
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await asyncio.wait_for(task, self.stop_grace)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.settle()

    def wake(self) -> None:
        """Look at the rows now."""
        self._event.set()

    @property
    def idle(self) -> bool:
        """Nothing to do until woken: by a new row, a later moment of the clock, or the end
        of a pause. Tests wait for this rather than for silence."""
        if self._task is None:
            return True
        alarm_due = self._alarm is not None and self._alarm_at <= self.clock.monotonic()
        return self._waiting and not self._event.is_set() and not alarm_due

    def wake_at(self, when: datetime) -> None:
        """Look at the rows at ``when`` (clock time). The earliest such moment wins: waking
        early only costs a look."""
        self.wake_in((when - self.clock.now()).total_seconds())

    def wake_in(self, seconds: float) -> None:
        """Look at the rows after ``seconds`` of the clock's elapsed time (the end of a 429
        pause, a retry delay); as with :meth:`wake_at`, the earliest moment wins."""
        delay = max(seconds, 0.0)
        fire_at = self.clock.monotonic() + delay
        if self._alarm is not None and self._alarm_at <= fire_at:
            return
        if self._alarm is not None:
            self._alarm.cancel()
        self._alarm, self._alarm_at = self.clock.call_later(delay, self._ring), fire_at

    def _ring(self) -> None:
        self._alarm, self._alarm_at = None, math.inf
        self.wake()

    async def sleep(self, seconds: float) -> None:
        """The clock's elapsed time (real seconds in production; a test moves the clock past
        it), cut short by a stop."""
        if self.stopping:
            return
        sleeper = asyncio.ensure_future(self.clock.sleep(max(seconds, 0.0)))
        stopped = asyncio.ensure_future(self._stopped.wait())
        try:
            await asyncio.wait((sleeper, stopped), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (sleeper, stopped):
                waiter.cancel()
            await asyncio.gather(sleeper, stopped, return_exceptions=True)

    async def _work(self) -> None:
        while not self.stopping:
            self._waiting = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), self.idle_poll)
            self._waiting = False
            self._event.clear()
            if self.stopping:
                return
            try:
                await self.drain()
                self.crashes = 0
            except Exception as exc:
                self.crashes += 1
                self.errors.error(
                    "drain", "%s: unexpected error; trying again later", self.name, exc_info=exc
                )
                await self.after_crash()
