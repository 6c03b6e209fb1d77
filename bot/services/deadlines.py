"""Deadlines of residents' letters and staff's follow-ups ("Wiedervorlage").

A request carries the deadline of the resident's letter: found when the letter is read
(``bot.services.letters``) or set by staff (``/deadline``). Three working days before a
deadline of a request still open, a reminder is posted in the resident's topic. A follow-up
is a note staff leave for themselves: at its time it is posted in the topic, never to the
resident.

Both survive restarts the way reminders do: rows in SQLite (the deadline on the request, a
row per follow-up), scheduled again at start-up (:meth:`Deadlines.resume`); a job re-reads
its row, so running it twice posts nothing twice.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.i18n import nrw_holiday
from bot.scheduler import Scheduler
from storage import Storage
from storage.letters import Followup
from storage.requests import Request

REMIND_WORKING_DAYS = 3
REMIND_AT = time(8, 0)
"""Local time of a deadline reminder: before the office opens."""
FOLLOWUP_AT = time(9, 0)
"""Local time of a follow-up given as a date only."""
DEADLINE_JOB = "deadline:"
FOLLOWUP_JOB = "followup:"
MAX_NOTE = 1000
SOON = timedelta(days=7)
"""/queue lists requests with a deadline this close first."""


class DeadlineViews(Protocol):
    """The texts staff read about deadlines and follow-ups (in the staff language)."""

    def reminder(self, request: Request, today: date) -> str: ...

    def followup(self, note: str) -> str: ...


class Poster(Protocol):
    """What the service needs of the staff lane."""

    async def send_text(self, text: str, *, resident_id: int | None = None) -> int: ...


# -- pure: working days and what staff type ---------------------------------------------------
def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and nrw_holiday(day) is None


def working_days_before(day: date, n: int) -> date:
    """The working day ``n`` working days before ``day``."""
    while n > 0:
        day -= timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day


_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_GERMAN = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_SPAN = re.compile(r"(\d{1,4})\s*(m|min|h|d|t|w)", re.IGNORECASE)
_SPAN_UNITS = {
    "m": "minutes",
    "min": "minutes",
    "h": "hours",
    "d": "days",
    "t": "days",
    "w": "weeks",
}


def parse_date(text: str) -> date | None:
    """2027-02-01 or 01.02.2027; None for anything else, or a date that does not exist."""
    text = text.strip()
    if m := _ISO.fullmatch(text):
        year, month, day = (int(g) for g in m.groups())
    elif m := _GERMAN.fullmatch(text):
        day, month, year = (int(g) for g in m.groups())
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_when(text: str, now: datetime, tz: ZoneInfo) -> datetime | None:
    """When a follow-up is due: ``30m``, ``2h``, ``14d`` (``14t``), ``2w`` from now, or a
    date (at 09:00). None for anything else."""
    text = text.strip()
    if m := _SPAN.fullmatch(text):
        amount = int(m.group(1))
        if amount <= 0:
            return None
        return now + timedelta(**{_SPAN_UNITS[m.group(2).lower()]: amount})
    day = parse_date(text)
    if day is None:
        return None
    return datetime.combine(day, FOLLOWUP_AT, tzinfo=tz)


class Deadlines:
    def __init__(
        self,
        *,
        storage: Storage,
        clock: Clock,
        scheduler: Scheduler[Any],
        staff: Poster,
        tz: ZoneInfo,
    ) -> None:
        self.storage = storage
        self.clock = clock
        self.scheduler = scheduler
        self.staff = staff
        self.tz = tz
        self.views: DeadlineViews | None = None

    def today(self) -> date:
        return self.clock.now().astimezone(self.tz).date()

    def reminder_at(self, deadline: date) -> datetime:
        day = working_days_before(deadline, REMIND_WORKING_DAYS)
        return datetime.combine(day, REMIND_AT, tzinfo=self.tz)

    # -- deadlines ---------------------------------------------------------------------------
    async def set(
        self,
        request: Request,
        deadline: date | None,
        *,
        estimated: bool = False,
        sender: str | None = None,
        staff_id: int | None = None,
    ) -> Request | None:
        """Set, correct (or clear, with None) a request's deadline; by staff (audited) or
        from a letter read on arrival."""
        updated = await self.storage.letters.set_deadline(
            request.id, deadline, estimated=estimated, sender=sender
        )
        if updated is None:
            return None
        if staff_id is not None:
            action = "deadline" if deadline is not None else "deadline_clear"
            detail = f"{updated.ref} {deadline.isoformat()}" if deadline else updated.ref
            await self.storage.audit.record(
                staff_id, action, updated.user_id, self.clock.now(), detail
            )
        self.scheduler.cancel(DEADLINE_JOB + str(updated.id))
        if deadline is not None:
            when = self.reminder_at(deadline)
            if when <= self.clock.now():
                # Within three working days already: staff see the deadline right now (the
                # letter's post, or their own command); no reminder on top.
                await self.storage.letters.reminded(updated.id, deadline)
            else:
                self._schedule_reminder(updated.id, when)
        return updated

    def _schedule_reminder(self, request_id: int, when: datetime) -> None:
        self.scheduler.at(DEADLINE_JOB + str(request_id), when, self._remind, request_id)

    async def _remind(self, context: Any, request_id: int) -> None:
        request = await self.storage.requests.get(request_id)
        if request is None or request.deadline is None or request.state == "closed":
            return
        if self.reminder_at(request.deadline) > self.clock.now():
            self._schedule_reminder(request.id, self.reminder_at(request.deadline))
            return
        if self.views is None or not await self.storage.letters.reminded(
            request.id, request.deadline
        ):
            return
        await self.staff.send_text(
            self.views.reminder(request, self.today()), resident_id=request.user_id
        )

    async def this_week(self) -> list[Request]:
        """Requests still open with a deadline in the coming seven days (or passed): the
        daily agenda lists them."""
        today = self.today()
        return await self.storage.letters.with_deadline(date.min, today + timedelta(days=6))

    def due_by(self) -> date:
        """/queue puts requests with a deadline up to this day first."""
        return self.today() + SOON

    # -- follow-ups --------------------------------------------------------------------------
    async def follow_up(self, user_id: int, due_at: datetime, note: str, staff_id: int) -> Followup:
        now = self.clock.now()
        followup = await self.storage.letters.add_followup(
            user_id, due_at, note[:MAX_NOTE], staff_id, now
        )
        await self.storage.audit.record(
            staff_id, "followup", user_id, now, due_at.astimezone(self.tz).isoformat()
        )
        self._schedule_followup(followup)
        return followup

    def _schedule_followup(self, followup: Followup) -> None:
        self.scheduler.at(
            FOLLOWUP_JOB + str(followup.id), followup.due_at, self._post_followup, followup.id
        )

    async def _post_followup(self, context: Any, followup_id: int) -> None:
        followup = await self.storage.letters.followup(followup_id)
        if followup is None:
            return  # posted already, or gone with the resident
        if followup.due_at > self.clock.now():
            self._schedule_followup(followup)
            return
        if self.views is None:
            return
        taken = await self.storage.letters.take_followup(followup_id)
        if taken is not None:
            await self.staff.send_text(self.views.followup(taken.note), resident_id=taken.user_id)

    # -- start-up ----------------------------------------------------------------------------
    async def resume(self) -> None:
        """Schedule again what a restart dropped: follow-ups, and reminders of deadlines not
        yet passed (a moment missed while the bot was down comes at once)."""
        for followup in await self.storage.letters.followups():
            self._schedule_followup(followup)
        today = self.today()
        for request in await self.storage.letters.with_deadline(today, date.max):
            if request.deadline is not None and request.deadline_reminded != request.deadline:
                self._schedule_reminder(request.id, self.reminder_at(request.deadline))
