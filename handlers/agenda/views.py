"""The staff agenda as text and buttons: one day's appointments by place and time, for
``/agenda`` and the daily agenda."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks
from bot.context import Services
from bot.i18n import N_, Translator
from bot.services.translation import language_name
from handlers.agenda.notify import (
    CB_STAFF_CONFIRM,
    CB_STAFF_DECLINE,
    attendance_buttons,
    interpreter_line,
)
from handlers.common import note_translation, tx
from storage.bookings import Booking

MAX_BUTTON_ROWS = 40
STATUS_ICONS = {"requested": "⏳", "confirmed": "🕒", "attended": "✅", "no_show": "🚫"}
LEGEND = N_("⏳ requested · 🕒 booked · 👍 will come · ✅ attended · 🚫 no-show")


async def agenda_lines(
    services: Services, t: Translator, bookings: list[Booking]
) -> tuple[list[str], bool]:
    """By place, then time: time, number, first name, language, who confirmed (👍), offer,
    interpreter needs, note (and its machine translation: then True, and the lines must be
    posted from memory)."""
    translated = False
    directory = services.directory
    lines: list[str] = []
    place_id: str | None = None
    for b in sorted(bookings, key=lambda b: (b.place_id, b.starts_at, b.id)):
        if b.place_id != place_id:
            place_id = b.place_id
            try:
                place = tx(t, directory.place(place_id).name)
            except KeyError:
                place = place_id
            lines.append(f"\n📍 {place}")
        resident = await services.storage.residents.get(b.user_id)
        name = resident.first_name if resident and resident.first_name else "—"
        language = language_name(resident.language, t.code) if resident else "?"
        try:
            offer = tx(t, directory.offer(b.offer_id).title)
        except KeyError:
            offer = b.offer_id
        icon = STATUS_ICONS.get(b.status, "")
        coming = " 👍" if b.coming_at else ""
        when = t.time_range(b.starts_at, b.ends_at)
        line = f"{icon} {when} #{b.id} {name} ({language}){coming} — {offer}"
        if b.interpreter:
            line += "\n      " + interpreter_line(t, b.interpreter)
        if b.note:
            line += f"\n      📝 {b.note}"
            if translation := await note_translation(services, t, b):
                line += f"\n      {translation}"
                translated = True
        lines.append(line)
    return lines, translated


def day_markup(t: Translator, bookings: list[Booking]) -> InlineKeyboardMarkup | None:
    rows = []
    for b in bookings[:MAX_BUTTON_ROWS]:
        if b.status == "requested":
            rows.append(
                [
                    InlineKeyboardButton(
                        f"✅ #{b.id} " + t._(N_("Confirm")),
                        callback_data=callbacks.make(CB_STAFF_CONFIRM, b.id),
                    ),
                    InlineKeyboardButton(
                        f"✖ #{b.id} " + t._(N_("Decline")),
                        callback_data=callbacks.make(CB_STAFF_DECLINE, b.id),
                    ),
                ]
            )
            continue
        rows.append(attendance_buttons(t, b))
    return InlineKeyboardMarkup(rows) if rows else None
