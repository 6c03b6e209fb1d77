"""Bookable slots of an offer: opening periods split into appointments of equal length.

Pure logic, like :mod:`bot.directory`: the periods come from :func:`bot.directory.occurrences`
(weekly hours and one-off dates, minus NRW holidays and closures), and only slots that start
inside the booking window (``min_notice`` hours from now up to ``max_ahead`` days) are
bookable. Seats already taken come from the database and are passed in as counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.directory import ClosureLike, Directory, Offer, Text, occurrences

BERLIN = ZoneInfo("Europe/Berlin")
INSTANT = "instant"
STAFF = "staff"


@dataclass(frozen=True)
class Rules:
    """An offer's ``booking:`` section, typed."""

    slot: timedelta
    seats: int
    min_notice: timedelta
    max_ahead: timedelta
    max_per_resident: int
    confirm: str
    bring: tuple[Text, ...]

    @classmethod
    def of(cls, offer: Offer) -> Rules | None:
        booking = offer.booking
        if not booking:
            return None
        return cls(
            slot=timedelta(minutes=int(booking["slot_minutes"])),
            seats=int(booking.get("seats") or 1),
            min_notice=timedelta(hours=int(booking.get("min_notice") or 0)),
            max_ahead=timedelta(days=int(booking.get("max_ahead") or 28)),
            max_per_resident=int(booking.get("max_per_resident") or 1),
            confirm=STAFF if booking.get("confirm") == STAFF else INSTANT,
            bring=tuple(Text(dict(b)) for b in booking.get("bring") or ()),
        )

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        """First and last moment a bookable slot may start."""
        return now + self.min_notice, now + self.max_ahead


@dataclass(frozen=True)
class Slot:
    offer_id: str
    place_id: str
    start: datetime
    """Aware, in the directory's zone."""
    end: datetime
    example: bool = False

    @property
    def key(self) -> tuple[str, datetime]:
        return self.place_id, self.start.astimezone(UTC)


def bookable_offers(directory: Directory) -> list[Offer]:
    return [o for o in directory.offers if Rules.of(o) is not None and o.place_ids]


def split(start: datetime, end: datetime, length: timedelta) -> list[tuple[datetime, datetime]]:
    """Back-to-back pieces of ``length`` from ``start``; a remainder too short is dropped.

    Counted in UTC, so an opening period across a DST change still yields real-time slots.
    """
    tz = start.tzinfo
    pieces = []
    cursor, stop = start.astimezone(UTC), end.astimezone(UTC)
    while cursor + length <= stop:
        pieces.append((cursor.astimezone(tz), (cursor + length).astimezone(tz)))
        cursor += length
    return pieces


def slots(
    directory: Directory,
    offer_id: str,
    place_id: str | None,
    now: datetime,
    closures: Sequence[ClosureLike] = (),
    tz: ZoneInfo = BERLIN,
    *,
    rules: Rules | None = None,
) -> list[Slot]:
    """Every slot of the offer (at one place or all) inside the booking window, by start."""
    rules = rules or Rules.of(directory.offer(offer_id))
    if rules is None:
        return []
    first, last = rules.window(now)
    found: list[Slot] = []
    for occ in occurrences(directory, offer_id, place_id, first, last + rules.slot, closures, tz):
        if not occ.is_open:
            continue
        for start, end in split(occ.start, occ.end, rules.slot):
            if first <= start <= last:
                found.append(Slot(offer_id, occ.place_id, start, end, occ.example))
    found.sort(key=lambda s: (s.start.astimezone(UTC), s.place_id))
    # Overlapping sessions of one place must not offer the same slot twice.
    unique: dict[tuple[str, datetime], Slot] = {}
    for slot in found:
        unique.setdefault(slot.key, slot)
    return list(unique.values())


def free(
    all_slots: Iterable[Slot], taken: Mapping[tuple[str, datetime], int], seats: int
) -> list[tuple[Slot, int]]:
    """Slots with at least one free seat, with the number of free seats."""
    result = []
    for slot in all_slots:
        left = seats - taken.get(slot.key, 0)
        if left > 0:
            result.append((slot, left))
    return result


def days(free_slots: Iterable[tuple[Slot, int]], tz: ZoneInfo) -> list[date]:
    """Local days that have a free slot, earliest first."""
    return sorted({slot.start.astimezone(tz).date() for slot, _ in free_slots})


def on_day(
    free_slots: Iterable[tuple[Slot, int]], day: date, tz: ZoneInfo
) -> list[tuple[Slot, int]]:
    return [(s, n) for s, n in free_slots if s.start.astimezone(tz).date() == day]


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start, end
