"""The one source of "now" for the bot, the scheduler and the sandbox.

Everything that needs the current time asks a :class:`Clock`, so tests and the demo
sandbox can move time forward instead of sleeping. Listeners are told when a clock
jumps, so the scheduler can re-evaluate what has become due.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC datetime."""
        ...

    def on_jump(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` whenever the clock is moved by hand."""
        ...


class SystemClock:
    """Wall-clock time; never jumps."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def on_jump(self, listener: Callable[[], None]) -> None:
        return None


class FakeClock:
    """A clock that only moves when told to (tests, and the sandbox's fast-forward).

    With ``ticking=True`` it advances with real time between jumps, which is what a
    demo wants: time flows normally, and "fast-forward" adds an offset.
    """

    def __init__(self, start: datetime | None = None, *, ticking: bool = False) -> None:
        start = start or datetime.now(UTC)
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._offset = start - datetime.now(UTC) if ticking else timedelta(0)
        self._fixed: datetime | None = None if ticking else start.astimezone(UTC)
        self._listeners: list[Callable[[], None]] = []

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
        self._notify()
        return self.now()

    def set(self, when: datetime) -> datetime:
        return self.advance(when.astimezone(UTC) - self.now())

    def on_jump(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()
