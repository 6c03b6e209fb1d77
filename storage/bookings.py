"""Appointments, their reminders, the waiting list and residents' place in the booking flow.

Seats are counted and taken inside one ``BEGIN IMMEDIATE`` transaction, and the unique
indexes of migration 0004 refuse a second row on the same seat (or the same resident twice
on one slot) even if that count were wrong: a slot can never hold more residents than seats.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

import aiosqlite

from storage.db import Database, from_db, to_db

ACTIVE = ("held", "requested", "confirmed", "attended", "no_show")
"""Statuses that occupy a seat."""
OPEN = ("requested", "confirmed")
"""Statuses a resident counts as "my appointments"."""
_ACTIVE_SQL = "('held', 'requested', 'confirmed', 'attended', 'no_show')"
_OPEN_SQL = "('requested', 'confirmed')"

Refusal = Literal["full", "limit", "duplicate", "gone"]


@dataclass(frozen=True)
class Booking:
    id: int
    user_id: int
    offer_id: str
    place_id: str
    starts_at: datetime
    ends_at: datetime
    seat: int
    status: str
    note: str
    hold_until: datetime | None
    coming_at: datetime | None
    cancelled_by: str | None
    cancel_reason: str | None
    created_at: datetime
    sequence: int = 0
    """Changes (moves) since booking: the calendar file's SEQUENCE."""
    interpreter: str | None = None
    """The language the resident asked for an interpreter or language support in."""
    previous_status: str | None = None
    """Set by :meth:`Bookings.cancel`: the status before (a confirmed booking had a
    calendar file, which now needs a cancellation)."""

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


@dataclass(frozen=True)
class Outcome:
    """What a booking attempt did: ``booking`` on success, else why not."""

    booking: Booking | None = None
    refused: Refusal | None = None
    existing: Booking | None = None
    """For ``duplicate``: the resident's booking on that slot."""
    replaced: Booking | None = None
    """For a reschedule: the booking given up (its seat is now free)."""


@dataclass(frozen=True)
class Reminder:
    id: int
    booking_id: int
    offset: timedelta
    due_at: datetime


@dataclass(frozen=True)
class WaitEntry:
    id: int
    user_id: int
    offer_id: str
    place_id: str | None
    status: str
    booking_id: int | None


@dataclass(frozen=True)
class Draft:
    user_id: int
    flow: int
    offer_id: str
    place_id: str | None
    day: str | None
    starts_at: datetime | None
    note: str
    step: str
    replaces: int | None
    booking_id: int | None
    updated_at: datetime
    interpreter: str | None = None


def _dt(value: str | None) -> datetime:
    parsed = from_db(value)
    assert parsed is not None
    return parsed


def _booking(row: aiosqlite.Row) -> Booking:
    return Booking(
        id=row["id"],
        user_id=row["user_id"],
        offer_id=row["offer_id"],
        place_id=row["place_id"],
        starts_at=_dt(row["starts_at"]),
        ends_at=_dt(row["ends_at"]),
        seat=row["seat"],
        status=row["status"],
        note=row["note"],
        hold_until=from_db(row["hold_until"]),
        coming_at=from_db(row["coming_at"]),
        cancelled_by=row["cancelled_by"],
        cancel_reason=row["cancel_reason"],
        created_at=_dt(row["created_at"]),
        sequence=row["sequence"],
        interpreter=row["interpreter"],
    )


def _draft(row: aiosqlite.Row) -> Draft:
    return Draft(
        user_id=row["user_id"],
        flow=row["flow"],
        offer_id=row["offer_id"],
        place_id=row["place_id"],
        day=row["day"],
        starts_at=from_db(row["starts_at"]),
        note=row["note"],
        step=row["step"],
        replaces=row["replaces"],
        booking_id=row["booking_id"],
        updated_at=_dt(row["updated_at"]),
        interpreter=row["interpreter"],
    )


async def _one(
    conn: aiosqlite.Connection, sql: str, params: Sequence[object] = ()
) -> aiosqlite.Row | None:
    async with conn.execute(sql, tuple(params)) as cur:
        return await cur.fetchone()


async def _all(
    conn: aiosqlite.Connection, sql: str, params: Sequence[object] = ()
) -> list[aiosqlite.Row]:
    async with conn.execute(sql, tuple(params)) as cur:
        return list(await cur.fetchall())


async def _add_reminders(
    conn: aiosqlite.Connection, booking: Booking, offsets: Iterable[timedelta], now: datetime
) -> None:
    """Only reminders still ahead: one due before the booking was made is pointless."""
    for offset in offsets:
        due = booking.starts_at - offset
        if due > now:
            await conn.execute(
                "INSERT OR IGNORE INTO booking_reminders (booking_id, offset_s, due_at)"
                " VALUES (?, ?, ?)",
                (booking.id, int(offset.total_seconds()), to_db(due)),
            )


async def _drop_reminders(conn: aiosqlite.Connection, booking_id: int) -> None:
    await conn.execute(
        "DELETE FROM booking_reminders WHERE booking_id = ? AND sent_at IS NULL", (booking_id,)
    )


class Bookings:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- taking a seat ------------------------------------------------------------------
    async def book(
        self,
        *,
        user_id: int,
        offer_id: str,
        place_id: str,
        starts_at: datetime,
        ends_at: datetime,
        seats: int,
        max_per_resident: int,
        status: Literal["requested", "confirmed"],
        note: str,
        now: datetime,
        reminders: Sequence[timedelta] = (),
        replaces: int | None = None,
        interpreter: str | None = None,
    ) -> Outcome:
        """Take a free seat of a slot for a resident, atomically.

        With ``replaces`` (a move) the booking itself moves to the new slot in the same
        transaction: it keeps its id (and the calendar's UID), its sequence grows, and
        ``replaced`` is a snapshot of where it was (that seat is now free).
        """
        try:
            async with self.db.transaction() as conn:
                replaced: Booking | None = None
                if replaces is not None:
                    row = await _one(
                        conn,
                        f"SELECT * FROM bookings WHERE id = ? AND user_id = ? AND status IN {_OPEN_SQL}"
                        " AND starts_at > ?",
                        (replaces, user_id, to_db(now)),
                    )
                    if row is None:
                        return Outcome(refused="gone")
                    replaced = _booking(row)
                    if replaced.starts_at == starts_at and replaced.place_id == place_id:
                        return Outcome(refused="duplicate", existing=replaced)
                row = await _one(
                    conn,
                    f"SELECT * FROM bookings WHERE user_id = ? AND offer_id = ? AND starts_at = ?"
                    f" AND status IN {_ACTIVE_SQL}",
                    (user_id, offer_id, to_db(starts_at)),
                )
                if row is not None:
                    return Outcome(refused="duplicate", existing=_booking(row))
                row = await _one(
                    conn,
                    f"SELECT count(*) FROM bookings WHERE user_id = ? AND offer_id = ?"
                    f" AND status IN {_OPEN_SQL} AND starts_at > ? AND id IS NOT ?",
                    (user_id, offer_id, to_db(now), replaces),
                )
                assert row is not None
                if row[0] >= max_per_resident:
                    return Outcome(refused="limit")
                seat = await self._free_seat(conn, offer_id, place_id, starts_at, seats)
                if seat is None:
                    return Outcome(refused="full")
                if replaced is not None:
                    row = await _one(
                        conn,
                        "UPDATE bookings SET place_id = ?, starts_at = ?, ends_at = ?, seat = ?,"
                        " status = ?, note = ?, interpreter = ?, coming_at = NULL,"
                        " sequence = sequence + 1, updated_at = ? WHERE id = ? RETURNING *",
                        (
                            place_id,
                            to_db(starts_at),
                            to_db(ends_at),
                            seat,
                            status,
                            note[:200],
                            interpreter,
                            to_db(now),
                            replaced.id,
                        ),
                    )
                    # Reminders start again for the new time (sent ones too).
                    await conn.execute(
                        "DELETE FROM booking_reminders WHERE booking_id = ?", (replaced.id,)
                    )
                else:
                    row = await _one(
                        conn,
                        "INSERT INTO bookings (user_id, offer_id, place_id, starts_at, ends_at,"
                        " seat, status, note, interpreter, created_at, updated_at)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                        (
                            user_id,
                            offer_id,
                            place_id,
                            to_db(starts_at),
                            to_db(ends_at),
                            seat,
                            status,
                            note[:200],
                            interpreter,
                            to_db(now),
                            to_db(now),
                        ),
                    )
                assert row is not None
                booking = _booking(row)
                if status == "confirmed":
                    await _add_reminders(conn, booking, reminders, now)
                # Booked by themselves: no longer waiting for this offer.
                await conn.execute(
                    "UPDATE booking_waitlist SET status = 'done' WHERE user_id = ? AND offer_id = ?"
                    " AND status = 'waiting'",
                    (user_id, offer_id),
                )
                return Outcome(booking=booking, replaced=replaced)
        except aiosqlite.IntegrityError:
            # The unique index caught what the count did not: someone else took the seat.
            return Outcome(refused="full")

    @staticmethod
    async def _free_seat(
        conn: aiosqlite.Connection, offer_id: str, place_id: str, starts_at: datetime, seats: int
    ) -> int | None:
        rows = await _all(
            conn,
            f"SELECT seat FROM bookings WHERE offer_id = ? AND place_id = ? AND starts_at = ?"
            f" AND status IN {_ACTIVE_SQL}",
            (offer_id, place_id, to_db(starts_at)),
        )
        used = {r[0] for r in rows}
        if len(used) >= seats:
            return None
        return next(s for s in range(1, seats + 1) if s not in used)

    # -- reading ------------------------------------------------------------------------
    async def get(self, booking_id: int) -> Booking | None:
        row = await self.db.fetchone("SELECT * FROM bookings WHERE id = ?", (booking_id,))
        return _booking(row) if row else None

    async def taken(
        self, offer_id: str, start: datetime, end: datetime
    ) -> dict[tuple[str, datetime], int]:
        """Seats taken per (place, start) for slots starting in ``[start, end)``."""
        rows = await self.db.fetchall(
            f"SELECT place_id, starts_at, count(*) AS n FROM bookings WHERE offer_id = ?"
            f" AND starts_at >= ? AND starts_at < ? AND status IN {_ACTIVE_SQL}"
            " GROUP BY place_id, starts_at",
            (offer_id, to_db(start), to_db(end)),
        )
        return {(r["place_id"], _dt(r["starts_at"])): r["n"] for r in rows}

    async def upcoming(self, user_id: int, now: datetime) -> list[Booking]:
        """A resident's appointments still ahead (requested or confirmed)."""
        rows = await self.db.fetchall(
            f"SELECT * FROM bookings WHERE user_id = ? AND status IN {_OPEN_SQL}"
            " AND starts_at > ? ORDER BY starts_at, id",
            (user_id, to_db(now)),
        )
        return [_booking(r) for r in rows]

    async def between(
        self,
        start: datetime,
        end: datetime,
        place_id: str | None = None,
        statuses: Sequence[str] = ("requested", "confirmed", "attended", "no_show"),
    ) -> list[Booking]:
        marks = ", ".join("?" for _ in statuses)
        rows = await self.db.fetchall(
            f"SELECT * FROM bookings WHERE starts_at >= ? AND starts_at < ?"
            f" AND (? IS NULL OR place_id = ?) AND status IN ({marks})"
            " ORDER BY place_id, starts_at, id",
            (to_db(start), to_db(end), place_id, place_id, *statuses),
        )
        return [_booking(r) for r in rows]

    async def claim_agenda_day(self, day: str, now: datetime) -> bool:
        """Note that the daily agenda of ``day`` (ISO date) is being posted; False if it
        was already, so a restart never posts it twice."""
        changed = await self.db.execute(
            "INSERT OR IGNORE INTO agenda_posts (day, posted_at) VALUES (?, ?)", (day, to_db(now))
        )
        return changed > 0

    async def holds(self) -> list[Booking]:
        rows = await self.db.fetchall("SELECT * FROM bookings WHERE status = 'held'")
        return [_booking(r) for r in rows]

    # -- changing -----------------------------------------------------------------------
    async def cancel(
        self,
        booking_id: int,
        *,
        now: datetime,
        by: Literal["resident", "staff", "closure"],
        reason: str | None = None,
        user_id: int | None = None,
    ) -> Booking | None:
        """Cancel an open future booking (of ``user_id`` if given); None if there is none."""
        async with self.db.transaction() as conn:
            before = await _one(conn, "SELECT status FROM bookings WHERE id = ?", (booking_id,))
            row = await _one(
                conn,
                f"UPDATE bookings SET status = 'cancelled', cancelled_by = ?, cancel_reason = ?,"
                f" updated_at = ? WHERE id = ? AND (? IS NULL OR user_id = ?)"
                f" AND status IN {_OPEN_SQL} AND starts_at > ? RETURNING *",
                (by, reason, to_db(now), booking_id, user_id, user_id, to_db(now)),
            )
            if row is None or before is None:
                return None
            await _drop_reminders(conn, booking_id)
            return replace(_booking(row), previous_status=before["status"])

    async def confirm(
        self, booking_id: int, *, now: datetime, reminders: Sequence[timedelta] = ()
    ) -> Booking | None:
        """Staff confirm a request; reminders start only now."""
        async with self.db.transaction() as conn:
            row = await _one(
                conn,
                "UPDATE bookings SET status = 'confirmed', updated_at = ? WHERE id = ?"
                " AND status = 'requested' AND starts_at > ? RETURNING *",
                (to_db(now), booking_id, to_db(now)),
            )
            if row is None:
                return None
            booking = _booking(row)
            await _add_reminders(conn, booking, reminders, now)
            return booking

    async def decline(self, booking_id: int, *, now: datetime) -> Booking | None:
        row = await self.db.fetchone(
            "UPDATE bookings SET status = 'declined', updated_at = ? WHERE id = ?"
            " AND status = 'requested' RETURNING *",
            (to_db(now), booking_id),
        )
        return _booking(row) if row else None

    async def mark(
        self, booking_id: int, status: Literal["attended", "no_show"], now: datetime
    ) -> Booking | None:
        """Attendance, once the appointment has begun; either mark may be corrected."""
        row = await self.db.fetchone(
            "UPDATE bookings SET status = ?, updated_at = ? WHERE id = ?"
            " AND status IN ('confirmed', 'attended', 'no_show') AND starts_at <= ? RETURNING *",
            (status, to_db(now), booking_id, to_db(now)),
        )
        return _booking(row) if row else None

    async def coming(self, booking_id: int, user_id: int, now: datetime) -> Booking | None:
        row = await self.db.fetchone(
            "UPDATE bookings SET coming_at = coalesce(coming_at, ?), updated_at = ?"
            " WHERE id = ? AND user_id = ? AND status = 'confirmed' AND starts_at > ? RETURNING *",
            (to_db(now), to_db(now), booking_id, user_id, to_db(now)),
        )
        return _booking(row) if row else None

    # -- holds for the waiting list -------------------------------------------------------
    async def hold_for_next(
        self,
        *,
        offer_id: str,
        place_id: str,
        starts_at: datetime,
        ends_at: datetime,
        seats: int,
        max_per_resident: int,
        hold_until: datetime,
        now: datetime,
    ) -> tuple[Booking, WaitEntry] | None:
        """Hold a free seat of this slot for the first resident in line who may take it."""
        async with self.db.transaction() as conn:
            seat = await self._free_seat(conn, offer_id, place_id, starts_at, seats)
            if seat is None:
                return None
            waiting = await _all(
                conn,
                "SELECT * FROM booking_waitlist WHERE offer_id = ? AND status = 'waiting'"
                " AND (place_id IS NULL OR place_id = ?) ORDER BY created_at, id",
                (offer_id, place_id),
            )
            for entry_row in waiting:
                user_id = entry_row["user_id"]
                row = await _one(
                    conn,
                    f"SELECT"
                    f" (SELECT count(*) FROM bookings WHERE user_id = ? AND offer_id = ?"
                    f"  AND status IN {_OPEN_SQL} AND starts_at > ?),"
                    f" (SELECT count(*) FROM bookings WHERE user_id = ? AND offer_id = ?"
                    f"  AND starts_at = ? AND status IN {_ACTIVE_SQL})",
                    (user_id, offer_id, to_db(now), user_id, offer_id, to_db(starts_at)),
                )
                assert row is not None
                if row[0] >= max_per_resident or row[1] > 0:
                    continue
                row = await _one(
                    conn,
                    "INSERT INTO bookings (user_id, offer_id, place_id, starts_at, ends_at, seat,"
                    " status, hold_until, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, 'held', ?, ?, ?) RETURNING *",
                    (
                        user_id,
                        offer_id,
                        place_id,
                        to_db(starts_at),
                        to_db(ends_at),
                        seat,
                        to_db(hold_until),
                        to_db(now),
                        to_db(now),
                    ),
                )
                assert row is not None
                booking = _booking(row)
                entry = await _one(
                    conn,
                    "UPDATE booking_waitlist SET status = 'offered', booking_id = ? WHERE id = ?"
                    " RETURNING *",
                    (booking.id, entry_row["id"]),
                )
                assert entry is not None
                return booking, _wait_entry(entry)
            return None

    async def take_hold(
        self,
        booking_id: int,
        user_id: int,
        *,
        status: Literal["requested", "confirmed"],
        now: datetime,
        reminders: Sequence[timedelta] = (),
    ) -> Booking | None:
        async with self.db.transaction() as conn:
            row = await _one(
                conn,
                "UPDATE bookings SET status = ?, hold_until = NULL, updated_at = ?"
                " WHERE id = ? AND user_id = ? AND status = 'held' AND hold_until > ?"
                " AND starts_at > ? RETURNING *",
                (status, to_db(now), booking_id, user_id, to_db(now), to_db(now)),
            )
            if row is None:
                return None
            booking = _booking(row)
            if status == "confirmed":
                await _add_reminders(conn, booking, reminders, now)
            await conn.execute(
                "UPDATE booking_waitlist SET status = 'done' WHERE booking_id = ?", (booking_id,)
            )
            return booking

    async def holds_of(self, user_id: int) -> list[Booking]:
        """Seats held for a resident from the waiting list, not yet taken or declined."""
        rows = await self.db.fetchall(
            "SELECT * FROM bookings WHERE user_id = ? AND status = 'held' ORDER BY id", (user_id,)
        )
        return [_booking(r) for r in rows]

    async def release_hold(
        self, booking_id: int, *, now: datetime, user_id: int | None = None, force: bool = False
    ) -> Booking | None:
        """End a hold: declined by the resident (``user_id``), or expired (``force`` or
        past ``hold_until``). The resident leaves the waiting list for this offer."""
        async with self.db.transaction() as conn:
            row = await _one(
                conn,
                "UPDATE bookings SET status = 'expired', updated_at = ? WHERE id = ?"
                " AND status = 'held' AND (? IS NULL OR user_id = ?)"
                " AND (? OR user_id = ? OR hold_until <= ?) RETURNING *",
                (to_db(now), booking_id, user_id, user_id, force, user_id, to_db(now)),
            )
            if row is None:
                return None
            await conn.execute(
                "UPDATE booking_waitlist SET status = 'done' WHERE booking_id = ?", (booking_id,)
            )
            return _booking(row)


def _wait_entry(row: aiosqlite.Row) -> WaitEntry:
    return WaitEntry(
        id=row["id"],
        user_id=row["user_id"],
        offer_id=row["offer_id"],
        place_id=row["place_id"],
        status=row["status"],
        booking_id=row["booking_id"],
    )


class Reminders:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def pending(self, booking_id: int | None = None) -> list[Reminder]:
        rows = await self.db.fetchall(
            "SELECT * FROM booking_reminders WHERE sent_at IS NULL"
            " AND (? IS NULL OR booking_id = ?) ORDER BY due_at, id",
            (booking_id, booking_id),
        )
        return [
            Reminder(r["id"], r["booking_id"], timedelta(seconds=r["offset_s"]), _dt(r["due_at"]))
            for r in rows
        ]

    async def claim(self, reminder_id: int, now: datetime) -> Booking | None:
        """Mark a due reminder as handled and return its booking if it is still worth
        sending (confirmed and ahead). Marked first: a crash right after costs one
        reminder, never a duplicate."""
        async with self.db.transaction() as conn:
            row = await _one(
                conn,
                "UPDATE booking_reminders SET sent_at = ? WHERE id = ? AND sent_at IS NULL"
                " AND due_at <= ? RETURNING booking_id",
                (to_db(now), reminder_id, to_db(now)),
            )
            if row is None:
                return None
            # Several reminders overdue at once (the bot was down): only the last one counts.
            later = await _one(
                conn,
                "SELECT 1 FROM booking_reminders WHERE booking_id = ? AND sent_at IS NULL"
                " AND due_at <= ?",
                (row[0], to_db(now)),
            )
            if later is not None:
                return None
            booking = await _one(
                conn,
                "SELECT * FROM bookings WHERE id = ? AND status = 'confirmed' AND starts_at > ?",
                (row[0], to_db(now)),
            )
            return _booking(booking) if booking else None


class Waitlist:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def join(self, user_id: int, offer_id: str, place_id: str | None, now: datetime) -> bool:
        """False if the resident is already waiting for this offer."""
        try:
            await self.db.execute(
                "INSERT INTO booking_waitlist (user_id, offer_id, place_id, status, created_at)"
                " VALUES (?, ?, ?, 'waiting', ?)",
                (user_id, offer_id, place_id, to_db(now)),
            )
        except aiosqlite.IntegrityError:
            return False
        return True

    async def leave(self, user_id: int, offer_id: str) -> bool:
        changed = await self.db.execute(
            "UPDATE booking_waitlist SET status = 'done' WHERE user_id = ? AND offer_id = ?"
            " AND status = 'waiting'",
            (user_id, offer_id),
        )
        return changed > 0

    async def of(self, user_id: int) -> list[WaitEntry]:
        rows = await self.db.fetchall(
            "SELECT * FROM booking_waitlist WHERE user_id = ? AND status IN ('waiting', 'offered')"
            " ORDER BY id",
            (user_id,),
        )
        return [_wait_entry(r) for r in rows]


class Drafts:
    """The resident's position in the booking flow (one at a time)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def start(
        self,
        user_id: int,
        offer_id: str,
        now: datetime,
        *,
        replaces: int | None = None,
        place_id: str | None = None,
        note: str = "",
        interpreter: str | None = None,
    ) -> Draft:
        row = await self.db.fetchone(
            "INSERT INTO booking_drafts (user_id, flow, offer_id, place_id, note, step, replaces,"
            " interpreter, updated_at) VALUES (?, 1, ?, ?, ?, 'place', ?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET flow = booking_drafts.flow + 1,"
            " offer_id = excluded.offer_id, place_id = excluded.place_id, day = NULL,"
            " starts_at = NULL, note = excluded.note, step = 'place',"
            " replaces = excluded.replaces, booking_id = NULL,"
            " interpreter = excluded.interpreter, updated_at = excluded.updated_at"
            " RETURNING *",
            (user_id, offer_id, place_id, note, replaces, interpreter, to_db(now)),
        )
        assert row is not None
        return _draft(row)

    async def get(self, user_id: int) -> Draft | None:
        row = await self.db.fetchone("SELECT * FROM booking_drafts WHERE user_id = ?", (user_id,))
        return _draft(row) if row else None

    async def update(self, draft: Draft, now: datetime, **changes: object) -> Draft | None:
        """Change fields of the draft, only if it is still the same flow (else None)."""
        allowed = {"place_id", "day", "starts_at", "note", "step", "booking_id", "interpreter"}
        if not set(changes) <= allowed:
            raise ValueError(f"cannot change {set(changes) - allowed}")
        values = {k: to_db(v) if isinstance(v, datetime) else v for k, v in changes.items()}
        sets = ", ".join(f"{k} = ?" for k in values)
        row = await self.db.fetchone(
            f"UPDATE booking_drafts SET {sets}, updated_at = ? WHERE user_id = ? AND flow = ?"
            " RETURNING *",
            (*values.values(), to_db(now), draft.user_id, draft.flow),
        )
        return _draft(row) if row else None

    async def end(self, user_id: int, now: datetime) -> None:
        """Kept (not deleted) so the flow counter keeps growing and old buttons stay stale."""
        await self.db.execute(
            "UPDATE booking_drafts SET step = 'done', updated_at = ? WHERE user_id = ?",
            (to_db(now), user_id),
        )

    async def awaiting_note(self) -> list[Draft]:
        """The drafts whose flow waits for the resident's note."""
        rows = await self.db.fetchall("SELECT * FROM booking_drafts WHERE step = 'note'")
        return [_draft(r) for r in rows]
