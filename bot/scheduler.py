"""Jobs at a moment of the injected clock, run by PTB's JobQueue (APScheduler).

APScheduler counts real time; our clock can jump (tests, the demo's fast-forward). So every
job is kept here with its due moment in clock time, and handed to the JobQueue as a delay
from the clock's "now". When the clock jumps, every pending job is handed over again with
its new delay, and what became due runs at once.

Jobs are not durable here: what must survive a restart (reminders, scheduled broadcasts) is
a row in SQLite, and its module schedules it again at start-up. A job re-reads its row and
marks it done, so running it twice sends nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from telegram.ext import Application, CallbackContext, Job

from bot.clock import Clock

log = logging.getLogger(__name__)

C = TypeVar("C", bound=CallbackContext[Any, Any, Any, Any])
"""The application's context type (``bot.context.BotContext``): jobs get the same context
handlers get, without this module importing it."""

JobCallback = Callable[[C, Any], Awaitable[None]]


@dataclass
class _Pending(Generic[C]):
    when: datetime
    callback: JobCallback[C]
    data: Any
    every: timedelta | None = None


class Scheduler(Generic[C]):
    def __init__(
        self, application: Application[Any, Any, Any, Any, Any, Any], clock: Clock
    ) -> None:
        self.application = application
        self.clock = clock
        self._pending: dict[str, _Pending[C]] = {}
        clock.on_jump(self._on_jump)

    def at(self, job_id: str, when: datetime, callback: JobCallback[C], data: Any = None) -> None:
        """Run ``callback(context, data)`` once at ``when`` (clock time); replaces a job
        with the same id. A moment in the past runs at once."""
        self._pending[job_id] = _Pending(when, callback, data)
        self._hand_over(job_id)

    def every(
        self,
        job_id: str,
        first: datetime,
        interval: timedelta,
        callback: JobCallback[C],
        data: Any = None,
    ) -> None:
        """Run at ``first`` and then every ``interval`` (e.g. a daily purge)."""
        self._pending[job_id] = _Pending(first, callback, data, every=interval)
        self._hand_over(job_id)

    def cancel(self, job_id: str) -> bool:
        self._pending.pop(job_id, None)
        removed = False
        for job in self._job_queue.get_jobs_by_name(job_id):
            job.schedule_removal()
            removed = True
        return removed

    def pending(self, prefix: str = "") -> dict[str, datetime]:
        return {k: p.when for k, p in self._pending.items() if k.startswith(prefix)}

    @property
    def _job_queue(self) -> Any:
        queue = self.application.job_queue
        if queue is None:
            raise RuntimeError("python-telegram-bot[job-queue] is not installed")
        return queue

    def _hand_over(self, job_id: str) -> None:
        pending = self._pending[job_id]
        for job in self._job_queue.get_jobs_by_name(job_id):
            job.schedule_removal()
        delay = max((pending.when - self.clock.now()).total_seconds(), 0.0)
        self._job_queue.run_once(
            self._run,
            when=delay,
            data=job_id,
            name=job_id,
            # A job whose moment passed while the loop was busy still runs.
            job_kwargs={"misfire_grace_time": None},
        )

    async def _run(self, context: C) -> None:
        job: Job[Any] | None = context.job
        assert job is not None
        job_id = str(job.data)
        pending = self._pending.get(job_id)
        if pending is None:
            return
        if pending.when > self.clock.now():  # the clock was set back; wait again
            self._hand_over(job_id)
            return
        if pending.every is not None:
            pending.when += pending.every
            while pending.when <= self.clock.now():
                pending.when += pending.every
            self._hand_over(job_id)
        else:
            del self._pending[job_id]
        await pending.callback(context, pending.data)

    def _on_jump(self) -> None:
        if not self.application.running:
            return
        for job_id in list(self._pending):
            self._hand_over(job_id)
