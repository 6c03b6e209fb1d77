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


def ics(event: CalendarEvent, tz: ZoneInfo, now: datetime) -> bytes:
    """One event in ``tz`` (Europe/Berlin), with the zone definition included, so phones
    show the local time whatever zone they are set to."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    item = Event()
    item.add("uid", f"booking-{event.booking_id}@quartierbot.krefeld")
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
