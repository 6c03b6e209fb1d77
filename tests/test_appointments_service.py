"""The appointments service on its own: a real database, a fake clock, a scheduler that only
records, and notifiers that record what residents and staff would be told. No Telegram."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.config import Config
from bot.directory import load_directory
from bot.scheduler import JobCallback
from bot.services.appointments import (
    HOLD_TIME,
    AppointmentsService,
    CancelledBy,
    hold_job,
)
from storage import Storage, StoredClosure
from storage.bookings import Booking
from tests.conftest import BERLIN, START
from tests.test_booking import SMALL

FRIDAY_10 = datetime(2026, 11, 27, 10, 0, tzinfo=BERLIN)
FRIDAY_1030 = datetime(2026, 11, 27, 10, 30, tzinfo=BERLIN)
AYLIN, BEN, CEM = 101, 102, 103


class Jobs:
    """Records jobs instead of running them; tests run the due ones by hand."""

    def __init__(self) -> None:
        self.jobs: dict[str, tuple[datetime, JobCallback, Any]] = {}

    def at(self, job_id: str, when: datetime, callback: JobCallback, data: Any = None) -> None:
        self.jobs[job_id] = (when, callback, data)

    def cancel(self, job_id: str) -> bool:
        return self.jobs.pop(job_id, None) is not None

    def pending(self, prefix: str = "") -> dict[str, datetime]:
        return {k: when for k, (when, _, _) in self.jobs.items() if k.startswith(prefix)}

    async def run(self, job_id: str) -> None:
        _, callback, data = self.jobs.pop(job_id)
        await callback(None, data)


@dataclass
class Residents:
    unreachable: set[int] = field(default_factory=set)
    told: list[tuple[str, int, int]] = field(default_factory=list)
    """(event, user id, booking id)"""

    def of(self, event: str) -> list[tuple[int, int]]:
        return [(user, booking) for e, user, booking in self.told if e == event]

    async def reminder_due(self, booking: Booking) -> None:
        self.told.append(("reminder", booking.user_id, booking.id))

    async def hold_offered(self, hold: Booking, until: datetime) -> bool:
        self.told.append(("hold", hold.user_id, hold.id))
        return hold.user_id not in self.unreachable

    async def hold_expired(self, released: Booking) -> None:
        self.told.append(("expired", released.user_id, released.id))

    async def confirmed_by_staff(self, booking: Booking) -> None:
        self.told.append(("confirmed", booking.user_id, booking.id))

    async def declined_by_staff(self, booking: Booking) -> None:
        self.told.append(("declined", booking.user_id, booking.id))

    async def cancelled_by_staff(self, booking: Booking, reason: str, note: str = "") -> None:
        self.told.append(("cancelled by staff", booking.user_id, booking.id))

    async def cancelled_by_closure(self, booking: Booking, closure: StoredClosure) -> None:
        self.told.append(("closure", booking.user_id, booking.id))


@dataclass
class Staff:
    notices: list[tuple[str, tuple[int, ...]]] = field(default_factory=list)

    async def booked(
        self, booking: Booking, *, replaced: Booking | None = None, from_waitlist: bool = False
    ) -> None:
        self.notices.append(("waitlist" if from_waitlist else "booked", (booking.id,)))

    async def cancelled(
        self,
        booking: Booking,
        by: CancelledBy,
        *,
        by_name: str = "",
        reason: str = "",
        note: str = "",
    ) -> None:
        self.notices.append((f"cancelled by {by}", (booking.id,)))

    async def closure_cancelled(self, closure: StoredClosure, cancelled: Sequence[Booking]) -> None:
        self.notices.append(("closure", tuple(b.id for b in cancelled)))


@dataclass
class World:
    service: AppointmentsService
    clock: FakeClock
    jobs: Jobs
    residents: Residents
    staff: Staff
    storage: Storage


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    path = tmp_path / "directory.yaml"
    path.write_text(SMALL, encoding="utf-8")
    directory = load_directory(path)
    storage = Storage(tmp_path / "bot.sqlite3")
    await storage.open()
    clock = FakeClock(START)
    jobs, residents, staff = Jobs(), Residents(), Staff()
    service = AppointmentsService(
        storage=storage,
        clock=clock,
        scheduler=jobs,
        config=Config(token=None, tz=BERLIN),
        directory=lambda: directory,
    )
    service.install(residents=residents, staff=staff)
    for user_id, name in ((AYLIN, "Aylin"), (BEN, "Ben"), (CEM, "Cem")):
        await storage.residents.give_consent(user_id, "en", name, clock.now())
    try:
        yield World(service, clock, jobs, residents, staff, storage)
    finally:
        await storage.close()


async def book(world: World, user_id: int, start: datetime = FRIDAY_10) -> Booking:
    outcome = await world.service.book(user_id, "consult", "heeder", start)
    assert outcome.booking is not None, outcome
    return outcome.booking


async def test_a_freed_seat_is_held_then_passed_on_when_the_hold_expires(world: World) -> None:
    aylin = await book(world, AYLIN)
    assert world.jobs.pending(f"booking-remind:{aylin.id}:")  # 24 h and 2 h before
    for user_id in (BEN, CEM):
        assert await world.service.join_waitlist(user_id, "consult", None)

    assert await world.service.cancel_by_resident(aylin.id, AYLIN) is not None
    assert not world.jobs.pending(f"booking-remind:{aylin.id}:")
    [(ben, hold_id)] = world.residents.of("hold")
    assert ben == BEN
    assert world.jobs.pending(hold_job(hold_id)) == {
        hold_job(hold_id): world.clock.now() + HOLD_TIME
    }

    world.clock.advance(HOLD_TIME)
    await world.jobs.run(hold_job(hold_id))
    assert world.residents.of("expired") == [(BEN, hold_id)]
    [(cem, cem_hold)] = world.residents.of("hold")[1:]
    assert cem == CEM
    [hold] = await world.storage.bookings.holds()
    assert (hold.id, hold.user_id) == (cem_hold, CEM)


async def test_a_hold_ends_when_the_booking_window_closes(world: World) -> None:
    aylin = await book(world, AYLIN)
    await world.service.join_waitlist(BEN, "consult", None)
    world.clock.set(datetime(2026, 11, 27, 8, 30, tzinfo=BERLIN))
    await world.service.cancel_by_resident(aylin.id, AYLIN)
    [(_, hold_id)] = world.residents.of("hold")
    # min_notice is one hour: the seat can be held only until 9:00, not for two hours.
    assert world.jobs.pending(hold_job(hold_id))[hold_job(hold_id)] == datetime(
        2026, 11, 27, 9, 0, tzinfo=BERLIN
    )


async def test_an_unreachable_resident_passes_the_seat_on_at_once(world: World) -> None:
    aylin = await book(world, AYLIN)
    for user_id in (BEN, CEM):
        await world.service.join_waitlist(user_id, "consult", None)
    world.residents.unreachable.add(BEN)
    await world.service.cancel_by_resident(aylin.id, AYLIN)
    assert [user for user, _ in world.residents.of("hold")] == [BEN, CEM]
    [held] = await world.storage.bookings.holds()
    assert held.user_id == CEM
    assert list(world.jobs.pending("booking-hold:")) == [hold_job(held.id)]


async def test_an_offer_that_never_arrives_passes_the_seat_on(world: World) -> None:
    """The replies lane reports later that Ben's offer will never reach him (he blocked
    the bot while it waited out a storm): the seat goes to Cem at once."""
    aylin = await book(world, AYLIN)
    for user_id in (BEN, CEM):
        await world.service.join_waitlist(user_id, "consult", None)
    await world.service.cancel_by_resident(aylin.id, AYLIN)
    [ben_hold] = await world.storage.bookings.holds()
    assert ben_hold.user_id == BEN
    assert await world.service.hold_not_delivered(ben_hold.id) is not None
    [cem_hold] = await world.storage.bookings.holds()
    assert cem_hold.user_id == CEM
    assert list(world.jobs.pending("booking-hold:")) == [hold_job(cem_hold.id)]
    assert await world.service.hold_not_delivered(ben_hold.id) is None, "once"


async def test_a_closure_cancels_the_day_and_drops_its_holds(world: World) -> None:
    aylin = await book(world, AYLIN, FRIDAY_10)
    ben = await book(world, BEN, FRIDAY_1030)
    await world.service.join_waitlist(CEM, "consult", None)
    await world.service.cancel_by_resident(ben.id, BEN)
    [cem_hold] = await world.storage.bookings.holds()
    assert cem_hold.user_id == CEM

    friday = date(2026, 11, 27)
    closure = await world.storage.closures.add("heeder", friday, friday, "Strike", 1, START)
    outcome = await world.service.closure_added(closure)

    assert [b.id for b in outcome.cancelled] == [aylin.id]
    assert outcome.released_holds == (cem_hold.id,)
    assert world.residents.of("closure") == [(AYLIN, aylin.id)]
    assert world.staff.notices[-1] == ("closure", (aylin.id,))
    assert not world.jobs.pending("booking-remind:")
    assert hold_job(cem_hold.id) not in world.jobs.jobs
    assert await world.storage.bookings.holds() == []
    # The closed day has nothing left to book.
    assert await world.service.free_slots("consult", "heeder") == []


async def test_erasing_a_resident_cancels_and_passes_their_seats_on(world: World) -> None:
    aylin = await book(world, AYLIN)
    await world.service.join_waitlist(BEN, "consult", None)
    erased = await world.service.erase_resident(AYLIN)
    assert [b.id for b in erased.cancelled] == [aylin.id]
    assert ("cancelled by erasure", (aylin.id,)) in world.staff.notices
    [(ben, _)] = world.residents.of("hold")
    assert ben == BEN
