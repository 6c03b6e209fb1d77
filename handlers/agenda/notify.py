"""The staff side of :class:`bot.services.appointments.AppointmentsService`'s notices: new,
moved and cancelled appointments, and closures, posted into the staff group in German."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks
from bot.context import Services
from bot.i18n import N_, Translator
from bot.services.appointments import CANCEL_REASONS, CancelledBy
from bot.services.translation import language_name
from handlers.common import STAFF_LANGUAGE, details, join, note_translation
from storage import StoredClosure
from storage.bookings import Booking
from storage.mentions import Mention, MentionKind

# Staff buttons on messages in the staff group (posted by the notices below and /agenda).
CB_STAFF_CONFIRM = callbacks.kind("bsok", 1)
CB_STAFF_DECLINE = callbacks.kind("bsno", 1)
CB_STAFF_ATTENDED = callbacks.kind("bsat", 1)
CB_STAFF_NO_SHOW = callbacks.kind("bsns", 1)
CB_STAFF_CANCEL = callbacks.kind("bscx", 1)


def interpreter_line(t: Translator, language: str) -> str:
    """ "🗣 Dolmetschen: Arabisch" — the office plans language support from this."""
    return "🗣 " + t._(N_("Interpreting: {language}"), language=language_name(language, t.code))


async def staff_line(services: Services, booking: Booking) -> tuple[str, bool]:
    """For staff: who (first name, language), what, when, where, note (and its machine
    translation: then True, and the text must be posted from memory)."""
    t = services.i18n.get(STAFF_LANGUAGE)
    resident = await services.storage.residents.get(booking.user_id)
    name = resident.first_name if resident and resident.first_name else "—"
    language = language_name(resident.language, t.code) if resident else "?"
    head = t._(N_("#{id} {name} ({language})"), id=booking.id, name=name, language=language)
    note = (
        "📝 " + t._(N_("Note from the resident: {note}"), note=booking.note) if booking.note else ""
    )
    translation = await note_translation(services, t, booking)
    interpreter = interpreter_line(t, booking.interpreter) if booking.interpreter else ""
    text = join(head, details(t, services.directory, booking), interpreter, note, translation)
    return text, bool(translation)


def request_markup(t: Translator, booking: Booking) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "✅ " + t._(N_("Confirm")),
                    callback_data=callbacks.make(CB_STAFF_CONFIRM, booking.id),
                ),
                InlineKeyboardButton(
                    "✖ " + t._(N_("Decline")),
                    callback_data=callbacks.make(CB_STAFF_DECLINE, booking.id),
                ),
            ]
        ]
    )


ATTENDED = N_("Attended")
NO_SHOW = N_("No-show")
"""Words on the staff buttons: ✅ alone reads like "confirm", 🗑 like "delete the message"."""


def attendance_buttons(t: Translator, booking: Booking) -> list[InlineKeyboardButton]:
    """Attended / no-show (counted once the appointment has begun) and cancel, each with
    the appointment's number and a word that says what it does."""
    return [
        InlineKeyboardButton(
            f"✅ #{booking.id} " + t._(ATTENDED),
            callback_data=callbacks.make(CB_STAFF_ATTENDED, booking.id),
        ),
        InlineKeyboardButton(
            f"🚫 #{booking.id} " + t._(NO_SHOW),
            callback_data=callbacks.make(CB_STAFF_NO_SHOW, booking.id),
        ),
        InlineKeyboardButton(
            f"🗑 #{booking.id} " + t.p_("appointment", "Cancel"),
            callback_data=callbacks.make(CB_STAFF_CANCEL, booking.id),
        ),
    ]


def attendance_markup(t: Translator, booking: Booking) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([attendance_buttons(t, booking)])


def mention(booking: Booking, kind: MentionKind = "notice", about: str | None = None) -> Mention:
    """This post names the booking's resident (``storage.mentions``)."""
    return Mention(booking.user_id, booking.id, kind, about)


def reference_line(t: Translator, booking_id: int, why: str) -> str:
    """What stands for an appointment whose resident erased their data (or whose data
    expired) in a post that named them: the reference only."""
    if why == "expired":
        return "🗑 " + t._(
            N_("Appointment #{id} · anonymised after the retention period"), id=booking_id
        )
    return "🗑 " + t._(
        N_("Appointment #{id} · data deleted because the resident asked for it"), id=booking_id
    )


def closure_head(t: Translator, closure_id: int | str, n: int) -> str:
    return "⛔ " + t.n_(
        "Closure #{id}: {n} appointment was cancelled; the resident has been told.",
        "Closure #{id}: {n} appointments were cancelled; the residents have been told.",
        n,
        id=closure_id,
    )


class StaffNotifier:
    """:class:`bot.services.appointments.AppointmentStaffNotifier` for the staff group,
    installed on the service by :func:`handlers`."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def post(
        self,
        text: str,
        markup: InlineKeyboardMarkup | None = None,
        *,
        from_memory: bool = False,
        mentions: Sequence[Mention] = (),
    ) -> None:
        """``from_memory`` when a machine translation is in the text: never in SQLite."""
        if self.services.config.staff_chat is None:
            return
        lane = self.services.staffpost
        if from_memory:
            await lane.send_from_memory(text, markup=markup, priority=True, mentions=mentions)
        else:
            await lane.send_text(text[:4096], markup=markup, priority=True, mentions=mentions)

    async def booked(
        self, booking: Booking, *, replaced: Booking | None = None, from_waitlist: bool = False
    ) -> None:
        t = self.services.i18n.get(STAFF_LANGUAGE)
        requested = booking.status == "requested"
        if replaced is not None:
            head = "🔁 " + t._(
                N_("Appointment #{id} moved from {old} to {new}:"),
                id=booking.id,
                old=t.when(replaced.starts_at, skeleton="MMMEd"),
                new=t.when(booking.starts_at, skeleton="MMMEd"),
            )
        elif requested:
            head = "📨 " + t._(N_("New appointment request — please confirm or decline:"))
        elif from_waitlist:
            head = "🆕 " + t._(N_("New appointment from the waiting list:"))
        else:
            head = "🆕 " + t._(N_("New appointment:"))
        markup = request_markup(t, booking) if requested else attendance_markup(t, booking)
        line, translated = await staff_line(self.services, booking)
        await self.post(
            join(head, line),
            markup,
            from_memory=translated,
            mentions=[mention(booking)],
        )

    async def cancelled(
        self,
        booking: Booking,
        by: CancelledBy,
        *,
        by_name: str = "",
        reason: str = "",
        note: str = "",
    ) -> None:
        t = self.services.i18n.get(STAFF_LANGUAGE)
        if by == "staff":
            msgid = CANCEL_REASONS.get(reason)
            shown = t._(msgid) if msgid else reason
            if note:
                shown = f"{shown} ({note})"
            head = t._(N_("Appointment cancelled by {name}: {reason}"), name=by_name, reason=shown)
        elif by == "erasure":
            # Caused by the erasure: the reference, the seat; never who it was.
            head = t._(N_("Appointment cancelled because the resident deleted their data:"))
            details_ = details(t, self.services.directory, booking)
            await self.post(join("❌ " + head, f"#{booking.id}\n{details_}"))
            return
        else:
            head = t._(N_("Appointment cancelled by the resident:"))
        line, translated = await staff_line(self.services, booking)
        # A notice of the booking: the buttons of its earlier notices go before it is posted.
        await self.post(
            join("❌ " + head, line),
            from_memory=translated,
            mentions=[mention(booking)],
        )

    async def closure_cancelled(self, closure: StoredClosure, cancelled: Sequence[Booking]) -> None:
        t = self.services.i18n.get(STAFF_LANGUAGE)
        rendered = [await staff_line(self.services, b) for b in cancelled]
        lines = [line for line, _ in rendered]
        head = closure_head(t, closure.id, len(cancelled))
        await self.post(
            join(head, *lines),
            from_memory=any(done for _, done in rendered),
            mentions=[mention(b, "closure", str(closure.id)) for b in cancelled],
        )
