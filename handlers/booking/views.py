"""What residents read about their appointments: texts, keyboards and the calendar file's
wording. Pure functions of a translator and the directory; sending is elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks
from bot.directory import Directory
from bot.i18n import N_, Translator
from bot.services.appointments import CANCEL_REASONS
from bot.services.calendar import CalendarEvent
from bot.slots import Rules
from handlers.common import back_to_menu_button, details, join, tx
from storage import StoredClosure
from storage.bookings import Booking, Draft

# Resident flow; every flow button carries the flow number first.
# An optional last argument "n" (FRESH) marks a button under a message that must stay as it
# is (a confirmation, a reminder, a notice): its answer comes as a new message.
FRESH = "n"
CB_BOOK = callbacks.kind("bk", 0, 1)
CB_OFFER = callbacks.kind("bko", 1, 2)
CB_PLACE = callbacks.kind("bkp", 2)
CB_DAY = callbacks.kind("bkd", 2)
CB_TIME = callbacks.kind("bkt", 2)
CB_SKIP_NOTE = callbacks.kind("bkn", 1)
CB_CONFIRM = callbacks.kind("bkok", 1)
CB_BACK = callbacks.kind("bkb", 2)
CB_QUIT = callbacks.kind("bkx", 1)
CB_WAIT = callbacks.kind("bkw", 1)
CB_INTERPRETER = callbacks.kind("bki", 1)
# A resident's appointments (by booking id; ownership is checked in the database).
CB_MINE = callbacks.kind("bkm", 0, 1)
CB_CANCEL = callbacks.kind("bkc", 1, 2)
CB_CANCEL_YES = callbacks.kind("bkcy", 1)
CB_MOVE = callbacks.kind("bkr", 1, 2)
CB_COMING = callbacks.kind("bkcome", 1)
CB_HOLD_TAKE = callbacks.kind("bkha", 1)
CB_HOLD_DROP = callbacks.kind("bkhd", 1)

NOTE_MAX = 200


# -- texts ----------------------------------------------------------------------------------
def short_when(t: Translator, moment: datetime) -> str:
    return t.when(moment, skeleton="MMMd")


def bring_text(t: Translator, rules: Rules | None) -> str:
    if rules is None or not rules.bring:
        return ""
    items = "\n".join(f"• {tx(t, b)}" for b in rules.bring)
    return t._(N_("Please bring:")) + "\n" + items


def how_to_cancel(t: Translator) -> str:
    return t._(
        N_(
            "If you cannot come, please cancel or move the appointment under "
            '"My appointments" (/appointments), so that someone else can take it.'
        )
    )


def confirmation_text(
    t: Translator, directory: Directory, booking: Booking, rules: Rules | None
) -> str:
    if booking.status == "requested":
        head = "📨 " + t._(
            N_(
                "Your request has been sent. The team will confirm it soon; you will get a "
                "message either way."
            )
        )
    else:
        head = "✅ " + t._(N_("Your appointment is booked."))
    return join(
        head,
        details(t, directory, booking, booking.note),
        interpreter_text(t, booking.interpreter),
        bring_text(t, rules),
        how_to_cancel(t),
    )


def expired_text(t: Translator) -> str:
    return t._(N_("This step has expired. Please choose again."))


def gone_text(t: Translator) -> str:
    return t._(N_("This appointment is no longer open (it was cancelled, moved or is over)."))


def no_longer_free_text(t: Translator) -> str:
    return "⚠️ " + t._(N_("Sorry, this time is no longer available. These times are still free:"))


def calendar_event(
    t: Translator,
    directory: Directory,
    booking: Booking,
    rules: Rules | None,
    *,
    cancelled: bool = False,
) -> CalendarEvent:
    """The .ics event's wording in the resident's language, with the place's address."""
    try:
        summary = tx(t, directory.offer(booking.offer_id).title)
    except KeyError:
        summary = booking.offer_id
    location: str | None = None
    geo: tuple[float, float] | None = None
    try:
        place = directory.place(booking.place_id)
        location = tx(t, place.name)
        if place.address is not None:
            a = place.address
            location += f", {a.street}, {a.postcode} {a.city}"
        if place.lat is not None and place.lon is not None:
            geo = (place.lat, place.lon)
    except KeyError:
        pass
    return CalendarEvent(
        booking_id=booking.id,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        summary=summary,
        location=location,
        geo=geo,
        description="" if cancelled else join(bring_text(t, rules), how_to_cancel(t)),
        sequence=booking.sequence,
        cancelled=cancelled,
    )


def calendar_file_name(t: Translator, booking: Booking) -> str:
    """In the resident's language, one name for the booking's whole life ("Termin-12.ics",
    "موعد-12.ics"): a move or cancellation comes as the same file."""
    word = "-".join(t.p_("file name", "appointment").split())
    return f"{word}-{booking.id}.ics"


def moved_text(
    t: Translator, directory: Directory, booking: Booking, old: Booking, rules: Rules | None
) -> str:
    """A move names the old and the new time; the rest as in a confirmation."""
    head = "🔁 " + t._(
        N_("Your appointment has been moved from {old} to {new}."),
        old=t.when(old.starts_at, skeleton="MMMEd"),
        new=t.when(booking.starts_at, skeleton="MMMEd"),
    )
    if booking.status == "requested":
        head = join(head, t._(N_("The team confirms this appointment; you will get a message.")))
    return join(
        head, details(t, directory, booking, booking.note), bring_text(t, rules), how_to_cancel(t)
    )


# -- messages residents get outside their own taps ------------------------------------------
def reminder_text(
    t: Translator, directory: Directory, booking: Booking, rules: Rules | None, today: date
) -> str:
    """Once the resident said they will come, the reminder only says "see you"."""
    if booking.coming_at is not None:
        return join(
            "⏰ " + t._(N_("See you {when}!"), when=t.when_relative(booking.starts_at, today)),
            details(t, directory, booking, booking.note),
            bring_text(t, rules),
        )
    return join(
        "⏰ " + t._(N_("Reminder of your appointment:")),
        details(t, directory, booking, booking.note),
        bring_text(t, rules),
    )


def hold_offer_text(t: Translator, directory: Directory, hold: Booking, until: datetime) -> str:
    return join(
        "🎉 " + t._(N_("A seat has become free for you:")),
        details(t, directory, hold),
        t._(
            N_("We hold it for you until {time}. Would you like to take it?"),
            time=short_when(t, until),
        ),
    )


def hold_expired_text(t: Translator) -> str:
    return t._(
        N_(
            "The seat we held for you has now been offered to the next person on the "
            "waiting list. You can book another appointment at any time."
        )
    )


def confirmed_by_staff_text(
    t: Translator, directory: Directory, booking: Booking, rules: Rules | None
) -> str:
    return join(
        "✅ " + t._(N_("The team has confirmed your appointment.")),
        confirmation_text(t, directory, booking, rules),
    )


def declined_by_staff_text(t: Translator, directory: Directory, booking: Booking) -> str:
    return join(
        "⚠️ " + t._(N_("Unfortunately the team cannot offer you this appointment:")),
        details(t, directory, booking),
        t._(N_("Please choose another time.")),
    )


def cancelled_by_staff_text(
    t: Translator, directory: Directory, booking: Booking, reason: str, office_line: str = ""
) -> str:
    """``reason``: a key of :data:`bot.services.appointments.CANCEL_REASONS` (translated
    here), or free text from before the reasons had keys; ``office_line`` the staff's own
    words as :func:`handlers.common.office_note` renders them."""
    msgid = CANCEL_REASONS.get(reason)
    shown = t._(msgid) if msgid else reason
    return join(
        "⚠️ " + t._(N_("Unfortunately the team has had to cancel your appointment:")),
        details(t, directory, booking),
        t._(N_("Reason: {reason}"), reason=shown) if shown else "",
        "💬 " + office_line if office_line else "",
        t._(N_("We are sorry. Would you like to book a new appointment?")),
    )


def cancelled_by_closure_text(
    t: Translator, directory: Directory, booking: Booking, closure: StoredClosure
) -> str:
    place = tx(t, directory.place(booking.place_id).name) if booking.place_id else ""
    return join(
        "⚠️ "
        + t._(
            N_(
                "Unfortunately {place} is closed on {date} ({reason}). We have had to "
                "cancel your appointment:"
            ),
            place=place,
            date=t.date(booking.starts_at, "MMMMEEEEd"),
            reason=closure.reason,
        ),
        details(t, directory, booking),
        t._(N_("We are sorry. Would you like to book a new appointment?")),
    )


# -- keyboards ------------------------------------------------------------------------------
def button(label: str, kind: str, *args: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=callbacks.make(kind, *args))


def flow_row(t: Translator, draft: Draft, back_to: str | None) -> list[InlineKeyboardButton]:
    back = "« " + t._(N_("Back"))
    return [
        button(back, CB_BOOK) if back_to is None else button(back, CB_BACK, draft.flow, back_to),
        button("✖ " + t.p_("flow", "Cancel"), CB_QUIT, draft.flow),
    ]


def interpreter_button(t: Translator, draft: Draft) -> InlineKeyboardButton | None:
    """Asked once, on the summary: one tap, preset to the resident's own language (German
    readers need none)."""
    if t.code in ("de", "de_easy"):
        return None
    language = t.language_name(t.code)
    label = (
        t._(N_("I do not need an interpreter"))
        if draft.interpreter
        else t._(N_("I need an interpreter ({language})"), language=language)
    )
    return button("🗣 " + label, CB_INTERPRETER, draft.flow)


def interpreter_text(t: Translator, language: str | None) -> str:
    if not language:
        return ""
    return "🗣 " + t._(
        N_("We will plan an interpreter or language support for you: {language}."),
        language=t.language_name(language),
    )


def mine_button(t: Translator, *, fresh: bool = False) -> InlineKeyboardButton:
    """``fresh``: under a message that must stay (the list opens as a new message)."""
    return button("🗓 " + t._(N_("My appointments")), CB_MINE, *([FRESH] if fresh else []))


def mine_and_menu(t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[mine_button(t)], [back_to_menu_button(t)]])


def rebook_markup(t: Translator, offer_id: str | None) -> InlineKeyboardMarkup:
    """Under confirmations and notices, which stay: every button opens a new message."""
    data = callbacks.make(CB_OFFER, offer_id, FRESH) if offer_id else callbacks.make(CB_BOOK, FRESH)
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("📆 " + t._(N_("Book a new appointment")), callback_data=data)],
            [mine_button(t, fresh=True)],
        ]
    )


def reminder_markup(t: Translator, booking: Booking) -> InlineKeyboardMarkup:
    """A reminder stays as it is: its buttons answer with new messages. After "I'll come"
    only moving and cancelling are left."""
    cancel = button("✖ " + t.p_("appointment", "Cancel"), CB_CANCEL, booking.id, FRESH)
    move = button("🔁 " + t._(N_("Move")), CB_MOVE, booking.id, FRESH)
    if booking.coming_at is not None:
        return InlineKeyboardMarkup([[move, cancel]])
    return InlineKeyboardMarkup(
        [[button("👍 " + t._(N_("I'll come")), CB_COMING, booking.id)], [move, cancel]]
    )


def hold_markup(t: Translator, hold: Booking) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                button("✅ " + t._(N_("Yes, book it")), CB_HOLD_TAKE, hold.id),
                button("✖ " + t._(N_("No, thanks")), CB_HOLD_DROP, hold.id),
            ]
        ]
    )


def cancel_question_markup(t: Translator, booking: Booking) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                button("✖ " + t._(N_("Yes, cancel it")), CB_CANCEL_YES, booking.id),
                button(t._(N_("No, keep it")), CB_MINE),
            ]
        ]
    )


def coming_markup(t: Translator, booking: Booking) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                button("🔁 " + t._(N_("Move")), CB_MOVE, booking.id, FRESH),
                button("✖ " + t.p_("appointment", "Cancel"), CB_CANCEL, booking.id, FRESH),
            ]
        ]
    )


def offers_markup(t: Translator, offers: Sequence[tuple[str, str]]) -> InlineKeyboardMarkup:
    """``offers``: (offer id, title) pairs."""
    rows = [[button(title, CB_OFFER, offer_id)] for offer_id, title in offers]
    rows.append([mine_button(t)])
    rows.append([back_to_menu_button(t)])
    return InlineKeyboardMarkup(rows)


def day_code(day: date) -> str:
    return day.strftime("%Y%m%d")


def parse_day_code(code: str) -> date | None:
    try:
        return datetime.strptime(code, "%Y%m%d").date() if len(code) == 8 else None
    except ValueError:
        return None


# -- my appointments ------------------------------------------------------------------------
def mine_screen(
    t: Translator,
    directory: Directory,
    upcoming: Sequence[Booking],
    waiting_offers: Sequence[str],
    notice: str = "",
) -> tuple[str, InlineKeyboardMarkup]:
    """The resident's appointments (with cancel and move buttons) and waiting lists."""
    parts = [notice]
    rows: list[list[InlineKeyboardButton]] = []
    if not upcoming:
        parts.append(t._(N_("You have no appointments booked.")))
    else:
        parts.append("🗓 " + t._(N_("Your appointments:")))
        for booking in upcoming:
            block = details(t, directory, booking, booking.note)
            if booking.status == "requested":
                block += "\n⏳ " + t._(N_("requested — waiting for confirmation by the team"))
            parts.append(block)
            short = short_when(t, booking.starts_at)
            rows.append(
                [
                    button("✖ " + t._(N_("Cancel {when}"), when=short), CB_CANCEL, booking.id),
                    button("🔁 " + t._(N_("Move")), CB_MOVE, booking.id),
                ]
            )
    for offer_id in waiting_offers:
        try:
            title = tx(t, directory.offer(offer_id).title)
        except KeyError:
            continue
        parts.append("⏳ " + t._(N_("On the waiting list: {offer}"), offer=title))
    rows.append([button("📆 " + t._(N_("Book an appointment")), CB_BOOK)])
    rows.append([back_to_menu_button(t)])
    return join(*parts), InlineKeyboardMarkup(rows)
