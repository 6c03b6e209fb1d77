"""The .ics file a resident adds to their phone's calendar.

Only the iCalendar structure lives here; every text in it (title, place, description) is
rendered by the caller in the resident's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

PRODID = "-//Quartierbot//Kom.ZFB Krefeld//DE"


@dataclass(frozen=True)
class CalendarEvent:
    booking_id: int
    starts_at: datetime
    ends_at: datetime
    summary: str
    location: str | None = None
    geo: tuple[float, float] | None = None
    description: str = ""
    sequence: int = 0
    """Grows with every move: calendar apps replace the event of the same UID."""
    cancelled: bool = False
    """A cancellation (``METHOD:CANCEL``, ``STATUS:CANCELLED``): apps remove the event."""


def uid(booking_id: int) -> str:
    """One UID per booking for its whole life: moves and the cancellation update it."""
    return f"booking-{booking_id}@quartierbot.krefeld"


def ics(event: CalendarEvent, tz: ZoneInfo, now: datetime) -> bytes:
    """One event in ``tz`` (Europe/Berlin), with the zone definition included, so phones
    show the local time whatever zone they are set to. A cancellation carries a SEQUENCE
    above the last update's, as calendar apps require."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if event.cancelled else "PUBLISH")
    item = Event()
    item.add("uid", uid(event.booking_id))
    item.add("sequence", event.sequence + (1 if event.cancelled else 0))
    item.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    item.add("dtstamp", now)
    item.add("dtstart", event.starts_at.astimezone(tz))
    item.add("dtend", event.ends_at.astimezone(tz))
    item.add("summary", event.summary)
    if event.location is not None:
        item.add("location", event.location)
    if event.geo is not None:
        item.add("geo", event.geo)
    if event.description:
        item.add("description", event.description)
    calendar.add_component(item)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())
