"""What a staff-group post says once a resident it named erased their data (or their
appointment expired), for the staff lane (``bot.delivery.staff_lane.Redactor``).

A post about one appointment (booking notice, reason picker) becomes its reference only,
"Termin #12 · Daten auf Wunsch der Person gelöscht", without buttons. A post listing several residents
(agenda, closure notice) is rendered again from what is stored now: the others' lines
stay (with their current state and buttons), the reference stands in for the one gone.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from telegram import InlineKeyboardMarkup

from bot.context import Services
from bot.i18n import N_
from handlers.agenda.notify import closure_head, reference_line, staff_line
from handlers.agenda.views import LEGEND, agenda_lines, day_markup
from handlers.common import STAFF_LANGUAGE, join
from storage.bookings import Booking
from storage.mentions import Redaction

REDACTED = ("notice", "picker", "closure", "agenda_daily", "agenda_day", "agenda_week")


class Redactions:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def render(self, redaction: Redaction) -> tuple[str, InlineKeyboardMarkup | None]:
        t = self.services.i18n.get(STAFF_LANGUAGE)
        gone = {line.booking_id for line in redaction.bookings}
        refs = [
            (line.about, reference_line(t, line.booking_id, redaction.why))
            for line in redaction.bookings
        ]
        if redaction.whole:
            return "\n".join(ref for _, ref in refs), None
        storage = self.services.storage
        others: list[tuple[str | None, Booking]] = []
        for line in await storage.mentions.lines_of(redaction.message_id):
            booking = await storage.bookings.get(line.booking_id)
            if booking is not None and booking.id not in gone:
                others.append((line.about, booking))
        if redaction.kind == "closure":
            head = closure_head(t, redaction.bookings[0].about or "?", len(others) + len(refs))
            lines = [(await staff_line(self.services, b))[0] for _, b in others]
            return join(head, *lines, *(ref for _, ref in refs)), None
        # An agenda: per day, the others' lines by place and time, then the references.
        days: dict[str, list[Booking]] = defaultdict(list)
        refs_of: dict[str, list[str]] = defaultdict(list)
        for about, booking in others:
            days[about or ""].append(booking)
        for about, ref in refs:
            refs_of[about or ""].append(ref)
        parts: list[str] = []
        for day in sorted(set(days) | set(refs_of)):
            shown = _day(day)
            if redaction.kind == "agenda_daily":
                parts.append(
                    "📅 " + t._(N_("Today's appointments: {date}"), date=t.date_long(shown))
                    if shown
                    else "📅"
                )
            elif shown is not None:
                parts.append(f"📅 {t.date(shown, 'yMMMEd')}")
            lines, _ = await agenda_lines(self.services, t, days[day])
            parts += lines
            parts += refs_of[day]
            parts.append("")
        text = "\n".join(parts).strip() + "\n\n" + t._(LEGEND)
        remaining = [b for _, b in others]
        markup = day_markup(t, remaining) if redaction.kind != "agenda_week" else None
        return text, markup


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
