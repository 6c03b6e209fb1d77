"""Appointments: booking, cancelling and moving, the staff's confirm/decline, the waiting
list that hands freed seats on, reminders, and the cascades when a place closes or a
resident erases their data.

Seats are taken in one database transaction guarded by unique indexes (see
:mod:`storage.bookings`); this service decides *when* to take, free or hold a seat and who
must hear about it. Residents hear through an :class:`AppointmentNotifier`, the staff group
through an :class:`AppointmentStaffNotifier`; both are installed by the handler
capabilities that render the messages. Nothing here builds a text or a keyboard.

Reminders and waiting-list holds are rows in SQLite, scheduled again by :meth:`resume` at
start-up: a reminder whose moment passed while the bot was down is sent at once if the
appointment is still ahead, and dropped otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from bot.clock import Clock
from bot.config import Config
from bot.directory import Directory
from bot.i18n import N_
from bot.scheduler import JobCallback
from bot.slots import STAFF, Rules, Slot, day_bounds, free, slots
from storage import Storage, StoredClosure
from storage.bookings import Booking

HOLD_TIME = timedelta(hours=2)
"""How long a freed seat is held for the first resident on the waiting list."""

Refusal = Literal["unavailable", "full", "limit", "duplicate", "gone"]
"""Why a booking was not made: the slot is not bookable (closed, too soon, unknown), has no
seat left, the resident is at their limit, already holds this slot, or the appointment to
move no longer exists."""
CancelledBy = Literal["resident", "erasure", "staff"]

CANCEL_REASONS: dict[str, str] = {
    "illness": N_("illness in the team"),
    "training": N_("training of the team"),
    "holiday": N_("holiday of the team"),
    "building": N_("the building is closed"),
    "other": N_("other reason"),
}
"""Why staff cancel an appointment: a short list residents read in their own language
(free words typed by staff are a separate note, machine-translated where configured)."""


class Jobs(Protocol):
    """What the service needs of :class:`bot.scheduler.Scheduler` (clock-aware jobs)."""

    def at(self, job_id: str, when: datetime, callback: JobCallback, data: Any = None) -> None: ...

    def cancel(self, job_id: str) -> bool: ...

    def pending(self, prefix: str = "") -> dict[str, datetime]: ...


class AppointmentNotifier(Protocol):
    """Tells residents what happened to their appointments outside their own taps."""

    async def reminder_due(self, booking: Booking) -> None: ...

    async def hold_offered(self, hold: Booking, until: datetime) -> bool:
        """Offer a held seat; False if the resident cannot be reached (the seat then
        goes to the next in line at once). An offer that turns out later never to reach
        them (it waited out a 429 storm, then Telegram refused it) is reported with
        :meth:`AppointmentsService.hold_not_delivered`."""
        ...

    async def hold_expired(self, released: Booking) -> None: ...

    async def confirmed_by_staff(self, booking: Booking) -> None: ...

    async def declined_by_staff(self, booking: Booking) -> None: ...

    async def cancelled_by_staff(self, booking: Booking, reason: str, note: str = "") -> None:
        """``reason``: a key of :data:`CANCEL_REASONS`; ``note``: staff's own words."""
        ...

    async def cancelled_by_closure(self, booking: Booking, closure: StoredClosure) -> None: ...


class AppointmentStaffNotifier(Protocol):
    """Tells the staff group about bookings it did not make itself."""

    async def booked(
        self, booking: Booking, *, replaced: Booking | None = None, from_waitlist: bool = False
    ) -> None:
        """A new appointment, a request to confirm, or a move (``replaced`` is the old one)."""
        ...

    async def cancelled(
        self,
        booking: Booking,
        by: CancelledBy,
        *,
        by_name: str = "",
        reason: str = "",
        note: str = "",
    ) -> None: ...

    async def closure_cancelled(
        self, closure: StoredClosure, cancelled: Sequence[Booking]
    ) -> None: ...


@dataclass(frozen=True)
class BookOutcome:
    """``booking`` on success, else ``refused`` (and for ``duplicate`` the ``existing``
    booking on that slot); ``replaced`` is the appointment given up by a move."""

    booking: Booking | None = None
    refused: Refusal | None = None
    existing: Booking | None = None
    replaced: Booking | None = None


@dataclass(frozen=True)
class ClosureOutcome:
    cancelled: tuple[Booking, ...] = ()
    """Appointments cancelled (each resident has been told, staff got one summary)."""
    released_holds: tuple[int, ...] = ()
    """Waiting-list holds on those days, dropped without a message."""


@dataclass(frozen=True)
class ErasureOutcome:
    cancelled: tuple[Booking, ...] = ()
    released_holds: tuple[Booking, ...] = ()
    """Seats held for the resident, passed on to the next in line."""


def reminder_job(booking_id: int, reminder_id: int) -> str:
    return f"booking-remind:{booking_id}:{reminder_id}"


def hold_job(booking_id: int) -> str:
    return f"booking-hold:{booking_id}"


class AppointmentsService:
    def __init__(
        self,
        *,
        storage: Storage,
        clock: Clock,
        scheduler: Jobs,
        config: Config,
        directory: Callable[[], Directory],
    ) -> None:
        self.storage = storage
        self.clock = clock
        self.scheduler = scheduler
        self.config = config
        self._directory = directory
        """Read on every use: /reload replaces the directory as a whole."""
        self._residents: AppointmentNotifier | None = None
        self._staff: AppointmentStaffNotifier | None = None

    # -- wiring ---------------------------------------------------------------------------
    def install(
        self,
        *,
        residents: AppointmentNotifier | None = None,
        staff: AppointmentStaffNotifier | None = None,
    ) -> None:
        """Called by the handler capabilities at build time."""
        if residents is not None:
            self._residents = residents
        if staff is not None:
            self._staff = staff

    @property
    def residents(self) -> AppointmentNotifier:
        if self._residents is None:
            raise RuntimeError("no AppointmentNotifier installed (is handlers.booking registered?)")
        return self._residents

    @property
    def staff(self) -> AppointmentStaffNotifier:
        if self._staff is None:
            raise RuntimeError(
                "no AppointmentStaffNotifier installed (is handlers.agenda registered?)"
            )
        return self._staff

    @property
    def directory(self) -> Directory:
        return self._directory()

    # -- slots ----------------------------------------------------------------------------
    def rules_of(self, offer_id: str) -> Rules | None:
        try:
            return Rules.of(self.directory.offer(offer_id))
        except KeyError:
            return None

    async def closures_now(self) -> list[StoredClosure]:
        today = self.clock.now().astimezone(self.config.tz).date()
        return await self.storage.closures.current(today)

    async def free_slots(self, offer_id: str, place_id: str | None) -> list[tuple[Slot, int]]:
        """Bookable slots with free seats, now, for one offer (at one place or all)."""
        directory = self.directory
        rules = self.rules_of(offer_id)
        if rules is None:
            return []
        now = self.clock.now()
        closures = await self.closures_now()
        try:
            found = slots(directory, offer_id, place_id, now, closures, self.config.tz, rules=rules)
        except KeyError:
            return []
        first, last = rules.window(now)
        taken = await self.storage.bookings.taken(offer_id, first, last + timedelta(minutes=1))
        return free(found, taken, rules.seats)

    async def find_slot(self, offer_id: str, place_id: str, start: datetime) -> Slot | None:
        """The slot starting at ``start`` if it is bookable at all (free or not)."""
        rules = self.rules_of(offer_id)
        if rules is None:
            return None
        closures = await self.closures_now()
        try:
            found = slots(
                self.directory,
                offer_id,
                place_id,
                self.clock.now(),
                closures,
                self.config.tz,
                rules=rules,
            )
        except KeyError:
            return None
        return next((s for s in found if s.start == start), None)

    # -- residents book, cancel, move -----------------------------------------------------
    async def book(
        self,
        user_id: int,
        offer_id: str,
        place_id: str,
        start: datetime,
        *,
        note: str = "",
        replaces: int | None = None,
        interpreter: str | None = None,
    ) -> BookOutcome:
        """Take a seat (or move ``replaces`` there: same booking, new time). Staff hear of it, reminders are set and
        a seat given up by a move goes to the waiting list; telling the resident is the
        caller's reply."""
        rules = self.rules_of(offer_id)
        slot = await self.find_slot(offer_id, place_id, start) if rules is not None else None
        if rules is None or slot is None:
            return BookOutcome(refused="unavailable")
        outcome = await self.storage.bookings.book(
            user_id=user_id,
            offer_id=slot.offer_id,
            place_id=slot.place_id,
            starts_at=slot.start,
            ends_at=slot.end,
            seats=rules.seats,
            max_per_resident=rules.max_per_resident,
            status="requested" if rules.confirm == STAFF else "confirmed",
            note=note,
            now=self.clock.now(),
            reminders=self.config.reminders,
            replaces=replaces,
            interpreter=interpreter,
        )
        if outcome.booking is None:
            return BookOutcome(refused=outcome.refused or "gone", existing=outcome.existing)
        booking = outcome.booking
        if outcome.replaced is not None:  # the same booking: its old reminders go first
            self.unschedule_reminders(outcome.replaced.id)
        if booking.status == "confirmed":
            await self.schedule_reminders(booking.id)
        await self.staff.booked(booking, replaced=outcome.replaced)
        if outcome.replaced is not None:
            await self.seat_freed(outcome.replaced)
        return BookOutcome(booking=booking, replaced=outcome.replaced)

    async def cancel_by_resident(self, booking_id: int, user_id: int) -> Booking | None:
        cancelled = await self.storage.bookings.cancel(
            booking_id, now=self.clock.now(), by="resident", user_id=user_id
        )
        if cancelled is None:
            return None
        self.unschedule_reminders(cancelled.id)
        await self.staff.cancelled(cancelled, "resident")
        await self.seat_freed(cancelled)
        return cancelled

    async def coming(self, booking_id: int, user_id: int) -> Booking | None:
        """The resident answered a reminder: they will come."""
        return await self.storage.bookings.coming(booking_id, user_id, self.clock.now())

    async def join_waitlist(self, user_id: int, offer_id: str, place_id: str | None) -> bool:
        """False if they were on it already."""
        return await self.storage.waitlist.join(user_id, offer_id, place_id, self.clock.now())

    # -- staff ----------------------------------------------------------------------------
    async def confirm_by_staff(self, booking_id: int) -> Booking | None:
        confirmed = await self.storage.bookings.confirm(
            booking_id, now=self.clock.now(), reminders=self.config.reminders
        )
        if confirmed is None:
            return None
        await self.schedule_reminders(confirmed.id)
        await self.residents.confirmed_by_staff(confirmed)
        return confirmed

    async def decline_by_staff(self, booking_id: int) -> Booking | None:
        declined = await self.storage.bookings.decline(booking_id, now=self.clock.now())
        if declined is None:
            return None
        await self.residents.declined_by_staff(declined)
        await self.seat_freed(declined)
        return declined

    async def cancel_by_staff(
        self, booking_id: int, reason: str, by_name: str, note: str = ""
    ) -> Booking | None:
        """The resident is told why (``reason`` a key of :data:`CANCEL_REASONS`, ``note``
        staff's own words) and offered a new appointment; the seat goes to the waiting
        list."""
        stored = f"{reason}: {note}" if note else reason
        cancelled = await self.storage.bookings.cancel(
            booking_id, now=self.clock.now(), by="staff", reason=stored[:200]
        )
        if cancelled is None:
            return None
        self.unschedule_reminders(cancelled.id)
        await self.residents.cancelled_by_staff(cancelled, reason, note)
        await self.staff.cancelled(cancelled, "staff", by_name=by_name, reason=reason, note=note)
        await self.seat_freed(cancelled)
        return cancelled

    async def mark(self, booking_id: int, status: Literal["attended", "no_show"]) -> Booking | None:
        """None until the appointment has begun."""
        return await self.storage.bookings.mark(booking_id, status, self.clock.now())

    # -- reminders ------------------------------------------------------------------------
    async def schedule_reminders(self, booking_id: int) -> None:
        for reminder in await self.storage.booking_reminders.pending(booking_id):
            self.scheduler.at(
                reminder_job(booking_id, reminder.id),
                reminder.due_at,
                self._reminder_job,
                reminder.id,
            )

    def unschedule_reminders(self, booking_id: int) -> None:
        for job_id in self.scheduler.pending(f"booking-remind:{booking_id}:"):
            self.scheduler.cancel(job_id)

    async def send_reminder(self, reminder_id: int) -> Booking | None:
        """Claim the reminder and tell the resident; None if it was sent already, or the
        appointment was cancelled, moved or is over."""
        booking = await self.storage.booking_reminders.claim(reminder_id, self.clock.now())
        if booking is not None:
            await self.residents.reminder_due(booking)
        return booking

    async def _reminder_job(self, context: object, reminder_id: int) -> None:
        await self.send_reminder(reminder_id)

    # -- waiting list ---------------------------------------------------------------------
    async def seat_freed(self, booking: Booking) -> Booking | None:
        """A seat of this slot became free: hold it for the first in line who may take it
        and can be reached. Returns the hold offered, if any."""
        rules = self.rules_of(booking.offer_id)
        if rules is None:
            return None
        start = booking.starts_at.astimezone(self.config.tz)
        slot = await self.find_slot(booking.offer_id, booking.place_id, start)
        if slot is None:  # closed, or too soon to book
            return None
        while True:
            now = self.clock.now()
            hold_until = min(now + HOLD_TIME, slot.start - rules.min_notice)
            if hold_until <= now:
                return None
            held = await self.storage.bookings.hold_for_next(
                offer_id=slot.offer_id,
                place_id=slot.place_id,
                starts_at=slot.start,
                ends_at=slot.end,
                seats=rules.seats,
                max_per_resident=rules.max_per_resident,
                hold_until=hold_until,
                now=now,
            )
            if held is None:
                return None
            hold, _ = held
            if await self.residents.hold_offered(hold, hold_until):
                self.scheduler.at(hold_job(hold.id), hold_until, self._hold_job, hold.id)
                return hold
            # Unreachable: pass the seat on at once.
            await self.storage.bookings.release_hold(hold.id, now=now, force=True)

    async def hold_not_delivered(self, hold_id: int) -> Booking | None:
        """The offer of a held seat will never reach its resident (blocked, refused): the
        seat goes to the next in line at once, as if the offer had failed right away."""
        released = await self.storage.bookings.release_hold(
            hold_id, now=self.clock.now(), force=True
        )
        if released is None:  # taken, declined or expired meanwhile
            return None
        self.scheduler.cancel(hold_job(hold_id))
        await self.seat_freed(released)
        return released

    async def expire_hold(self, booking_id: int) -> Booking | None:
        """The hold ran out: the resident is told and the seat goes to the next in line."""
        released = await self.storage.bookings.release_hold(booking_id, now=self.clock.now())
        if released is None:  # taken or declined meanwhile
            return None
        await self.residents.hold_expired(released)
        await self.seat_freed(released)
        return released

    async def _hold_job(self, context: object, booking_id: int) -> None:
        await self.expire_hold(booking_id)

    async def take_hold(self, hold_id: int, user_id: int) -> Booking | None:
        """The resident takes the seat held for them; None if the offer has expired."""
        hold = await self.storage.bookings.get(hold_id)
        rules = self.rules_of(hold.offer_id) if hold is not None else None
        if rules is None:
            return None
        taken = await self.storage.bookings.take_hold(
            hold_id,
            user_id,
            status="requested" if rules.confirm == STAFF else "confirmed",
            now=self.clock.now(),
            reminders=self.config.reminders,
        )
        if taken is None:
            return None
        self.scheduler.cancel(hold_job(hold_id))
        if taken.status == "confirmed":
            await self.schedule_reminders(taken.id)
        await self.staff.booked(taken, from_waitlist=True)
        return taken

    async def drop_hold(self, hold_id: int, user_id: int) -> Booking | None:
        """The resident does not want the held seat: the next in line gets it."""
        released = await self.storage.bookings.release_hold(
            hold_id, now=self.clock.now(), user_id=user_id
        )
        self.scheduler.cancel(hold_job(hold_id))
        if released is not None:
            await self.seat_freed(released)
        return released

    # -- cascades -------------------------------------------------------------------------
    async def closure_added(self, closure: StoredClosure) -> ClosureOutcome:
        """A closure was stored: cancel the appointments still ahead on those days (each
        resident is told), drop the seats held there, and give staff one summary."""
        tz = self.config.tz
        start, _ = day_bounds(closure.first_day, tz)
        _, end = day_bounds(closure.last_day, tz)
        now = self.clock.now()
        affected = await self.storage.bookings.between(
            max(start, now), end, closure.place_id, statuses=("held", "requested", "confirmed")
        )
        cancelled: list[Booking] = []
        released: list[int] = []
        for booking in affected:
            if booking.status == "held":
                await self.storage.bookings.release_hold(booking.id, now=now, force=True)
                self.scheduler.cancel(hold_job(booking.id))
                released.append(booking.id)
                continue
            done = await self.storage.bookings.cancel(
                booking.id,
                now=now,
                by="closure",
                reason=f"{closure.reason_key}: {closure.reason}".rstrip(": "),
            )
            if done is None:
                continue
            self.unschedule_reminders(done.id)
            cancelled.append(done)
            await self.residents.cancelled_by_closure(done, closure)
        if cancelled:
            await self.staff.closure_cancelled(closure, cancelled)
        return ClosureOutcome(tuple(cancelled), tuple(released))

    async def erase_resident(self, user_id: int) -> ErasureOutcome:
        """A resident deletes their data: every appointment still ahead is cancelled, staff
        are told, the seats (and any seat held for them) go to the next on the waiting
        list and the reminders are dropped. The rows themselves are erased by the caller."""
        now = self.clock.now()
        released: list[Booking] = []
        for hold in await self.storage.bookings.holds_of(user_id):
            freed = await self.storage.bookings.release_hold(hold.id, now=now, user_id=user_id)
            if freed is not None:
                released.append(freed)
                self.scheduler.cancel(hold_job(freed.id))
                await self.seat_freed(freed)
        cancelled: list[Booking] = []
        for booking in await self.storage.bookings.upcoming(user_id, now):
            done = await self.storage.bookings.cancel(
                booking.id, now=now, by="resident", user_id=user_id
            )
            if done is None:
                continue
            cancelled.append(done)
            self.unschedule_reminders(done.id)
            await self.staff.cancelled(done, "erasure")
            await self.seat_freed(done)
        return ErasureOutcome(tuple(cancelled), tuple(released))

    # -- start-up -------------------------------------------------------------------------
    async def resume(self) -> None:
        """Schedule again what must survive a restart: reminders and holds."""
        for reminder in await self.storage.booking_reminders.pending():
            self.scheduler.at(
                reminder_job(reminder.booking_id, reminder.id),
                reminder.due_at,
                self._reminder_job,
                reminder.id,
            )
        for hold in await self.storage.bookings.holds():
            assert hold.hold_until is not None
            self.scheduler.at(hold_job(hold.id), hold.hold_until, self._hold_job, hold.id)
