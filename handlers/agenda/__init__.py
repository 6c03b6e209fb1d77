"""The staff side of appointments, in the staff group only: the day's or week's agenda,
confirming or declining requests, attendance, and cancelling with a reason.

Every command and button is filtered on the chat (the configured staff group, see
``bot.filters``), with a refusal right after: residents' names and notes never leave it.
What the appointments service has to tell the staff group is rendered in :mod:`.notify`.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Literal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import CommandHandler, MessageHandler, filters

from bot import callbacks
from bot.callbacks import Callback
from bot.capability import App, Capability, Command, Handler
from bot.context import BotContext, Services
from bot.filters import staff_chat
from bot.i18n import N_, Translator
from bot.services.appointments import CANCEL_REASONS
from bot.slots import day_bounds
from handlers.agenda import daily
from handlers.agenda.notify import (
    CB_STAFF_ATTENDED,
    CB_STAFF_CANCEL,
    CB_STAFF_CONFIRM,
    CB_STAFF_DECLINE,
    CB_STAFF_NO_SHOW,
    StaffNotifier,
    attendance_markup,
    mention,
    staff_line,
)
from handlers.agenda.redact import REDACTED, Redactions
from handlers.agenda.views import LEGEND, STATUS_ICONS, agenda_lines, day_markup
from handlers.common import (
    answer_query,
    audit,
    on_callback,
    parse_day,
    post_to_staff,
    refuse,
    staff_t,
)
from storage.bookings import Booking
from storage.mentions import MentionKind

CANCEL_PROMPT_RE = re.compile(r"^🗑 #(\d+)\b")
NOTE_MARK = "💬 "
NOTE_MAX = 200
CB_STAFF_REASON = callbacks.kind("bsr", 2)
STAFF_KINDS = (
    CB_STAFF_CONFIRM,
    CB_STAFF_DECLINE,
    CB_STAFF_ATTENDED,
    CB_STAFF_NO_SHOW,
    CB_STAFF_CANCEL,
    CB_STAFF_REASON,
)


# -- agenda ---------------------------------------------------------------------------------
async def agenda_command(update: Update, context: BotContext) -> None:
    """``/agenda`` (today), ``/agenda <date>``, ``/agenda tomorrow``, ``/agenda week``."""
    t = staff_t(context)
    tz = context.config.tz
    today = context.clock.now().astimezone(tz).date()
    arg = (context.args or [""])[0].lower()
    first: date | None
    if not arg or arg in ("today", "heute"):
        first, span = today, 1
    elif arg in ("tomorrow", "morgen"):
        first, span = today + timedelta(days=1), 1
    elif arg in ("week", "woche"):
        first, span = today, 7
    else:
        first, span = parse_day(arg), 1
    if first is None:
        await post_to_staff(
            context, t._(N_("Usage: /agenda [today | tomorrow | week | 2026-12-01 | 1.12.2026]"))
        )
        return
    parts: list[str] = []
    shown: list[Booking] = []
    translated = False
    for offset in range(span):
        day = first + timedelta(days=offset)
        start, end = day_bounds(day, tz)
        bookings = await context.storage.bookings.between(start, end)
        if span > 1 and not bookings:
            continue
        shown += bookings
        parts.append(f"📅 {t.date(day, 'yMMMEd')}")
        if bookings:
            lines, any_translated = await agenda_lines(context.services, t, bookings)
            parts += lines
            translated = translated or any_translated
        else:
            parts.append(t._(N_("No appointments.")))
        parts.append("")
    if not parts:
        parts = [t._(N_("No appointments in the next seven days."))]
    legend = t._(LEGEND)
    text = "\n".join(parts).strip() + "\n\n" + legend
    markup = day_markup(t, shown) if span == 1 else None
    # Long weeks: split at line breaks under Telegram's limit; buttons on the last part.
    chunks: list[str] = []
    while len(text) > 4000:
        cut = text.rfind("\n", 0, 4000)
        cut = cut if cut > 0 else 4000
        chunks.append(text[:cut])
        text = text[cut:].lstrip("\n")
    chunks.append(text)
    kind: MentionKind = "agenda_day" if span == 1 else "agenda_week"
    for i, chunk in enumerate(chunks):
        # Which appointments' lines are in this part (their erasure edits it).
        named = [
            mention(b, kind, b.starts_at.astimezone(tz).date().isoformat())
            for b in shown
            if f"#{b.id} " in chunk
        ]
        await post_to_staff(
            context,
            chunk,
            markup if i == len(chunks) - 1 else None,
            from_memory=translated,
            mentions=named,
        )


# -- staff actions --------------------------------------------------------------------------
async def cancel_command(update: Update, context: BotContext) -> None:
    """``/cancelbooking <number> [note for the resident]``: the reason is picked next."""
    t = staff_t(context)
    args = context.args or []
    number = args[0].lstrip("#") if args else ""
    if not number.isdigit():
        await post_to_staff(context, t._(N_("Usage: /cancelbooking <number> [note]")))
        return
    await ask_reason(context, int(number), " ".join(args[1:]))


async def ask_reason(context: BotContext, booking_id: int, note: str = "") -> None:
    """The reason picker: a short list the resident reads in their own language. Staff's
    own words (``note``) ride in the picker's last line, so the buttons stay stateless."""
    t = staff_t(context)
    booking = await context.storage.bookings.get(booking_id)
    if booking is None or not booking.is_open or booking.starts_at <= context.clock.now():
        await post_to_staff(context, not_open_text(t, booking_id))
        return
    note = " ".join(note.split())[:NOTE_MAX]
    line, translated = await staff_line(context.services, booking)
    parts = [
        f"🗑 #{booking.id} "
        + t._(
            N_(
                "Cancel this appointment? Choose the reason; the resident reads it in their "
                "language. To add a note for them, reply to this message with it."
            )
        ),
        line,
    ]
    if note:
        parts.append(t._(N_("Note for the resident:")) + f"\n{NOTE_MARK}{note}")
    rows = [
        [
            InlineKeyboardButton(
                t._(msgid), callback_data=callbacks.make(CB_STAFF_REASON, booking.id, key)
            )
        ]
        for key, msgid in CANCEL_REASONS.items()
    ]
    await post_to_staff(
        context,
        "\n\n".join(parts),
        InlineKeyboardMarkup(rows),
        from_memory=translated,
        mentions=[mention(booking, "picker")],
    )


def not_open_text(t: Translator, booking_id: int) -> str:
    return t._(
        N_("Appointment #{id} is not open (already cancelled, over, or unknown)."), id=booking_id
    )


def note_of(message: object) -> str:
    """The note in a reason picker (its last line, after :data:`NOTE_MARK`)."""
    if not isinstance(message, Message) or not message.text:
        return ""
    last = message.text.rsplit("\n", 1)[-1]
    return last.removeprefix(NOTE_MARK) if last.startswith(NOTE_MARK) else ""


async def on_reason(update: Update, context: BotContext, cb: Callback) -> None:
    t = staff_t(context)
    booking = await tapped_booking(update, context, cb)
    if booking is None:
        return
    reason = cb.arg(1)
    if reason not in CANCEL_REASONS:
        await answer_query(update)
        return
    message = tapped_message(update)
    name = tapped_by(update)
    note = note_of(message)
    done = await context.services.appointments.cancel_by_staff(booking.id, reason, name, note)
    if done is None:
        await answer_query(update, not_open_text(t, booking.id), alert=True)
        await mark_done(message, not_open_text(t, booking.id))
        return
    await answer_query(update, t._(N_("Cancelled.")))
    await audit(update, context, "cancel booking", done.user_id, f"#{done.id} {reason} {note}")
    await mark_done(
        message,
        t._(N_("🗑 Cancelled by {name}: {reason}"), name=name, reason=t._(CANCEL_REASONS[reason])),
    )


async def on_cancel_reason(update: Update, context: BotContext) -> None:
    """A reply to the bot's "🗑 #12 …" picker in the staff group: the text is a note for
    the resident; a new picker carries it."""
    message = update.effective_message
    assert message is not None and message.text is not None
    prompt = message.reply_to_message
    match = CANCEL_PROMPT_RE.match(prompt.text or "") if prompt else None
    if match is None:
        return
    await ask_reason(context, int(match.group(1)), message.text.strip())


async def tapped_booking(update: Update, context: BotContext, cb: Callback) -> Booking | None:
    """The appointment a staff button names, or None (answered: unknown)."""
    booking_id = cb.int_arg(0)
    booking = await context.storage.bookings.get(booking_id) if booking_id is not None else None
    if booking is None:
        await answer_query(update, staff_t(context)._(N_("Unknown appointment.")), alert=True)
    return booking


def tapped_by(update: Update) -> str:
    return update.effective_user.first_name if update.effective_user else "?"


def tapped_message(update: Update) -> object:
    return update.callback_query.message if update.callback_query else None


async def on_confirm(update: Update, context: BotContext, cb: Callback) -> None:
    t = staff_t(context)
    booking = await tapped_booking(update, context, cb)
    if booking is None:
        return
    # The resident is told (with the calendar file) by the service's notifier.
    confirmed = await context.services.appointments.confirm_by_staff(booking.id)
    if confirmed is None:
        await answer_query(update, t._(N_("This request is no longer open.")), alert=True)
        return
    await answer_query(update, t._(N_("Confirmed.")))
    await audit(update, context, "confirm booking", confirmed.user_id, f"#{confirmed.id}")
    await mark_done(
        tapped_message(update),
        t._(N_("✅ Confirmed by {name}."), name=tapped_by(update)),
        attendance_markup(t, confirmed),
    )


async def on_decline(update: Update, context: BotContext, cb: Callback) -> None:
    t = staff_t(context)
    booking = await tapped_booking(update, context, cb)
    if booking is None:
        return
    declined = await context.services.appointments.decline_by_staff(booking.id)
    if declined is None:
        await answer_query(update, t._(N_("This request is no longer open.")), alert=True)
        return
    await answer_query(update, t._(N_("Declined.")))
    await audit(update, context, "decline booking", declined.user_id, f"#{declined.id}")
    await mark_done(
        tapped_message(update), t._(N_("✖ Declined by {name}."), name=tapped_by(update))
    )


async def on_attendance(update: Update, context: BotContext, cb: Callback) -> None:
    t = staff_t(context)
    booking = await tapped_booking(update, context, cb)
    if booking is None:
        return
    status: Literal["attended", "no_show"] = (
        "attended" if cb.kind == CB_STAFF_ATTENDED else "no_show"
    )
    if booking.status in ("cancelled", "declined", "expired"):
        await answer_query(update, t._(N_("#{id} was cancelled."), id=booking.id), alert=True)
        return
    marked = await context.services.appointments.mark(booking.id, status)
    if marked is None:
        await answer_query(
            update,
            t._(N_("#{id} can only be marked once the appointment has begun."), id=booking.id),
            alert=True,
        )
        return
    await audit(update, context, status.replace("_", "-"), marked.user_id, f"#{marked.id}")
    label = (
        t._(N_("#{id} attended."), id=booking.id)
        if status == "attended"
        else t._(N_("#{id} did not come."), id=booking.id)
    )
    await answer_query(update, label, alert=True)
    await note_in_place(
        tapped_message(update), f"{STATUS_ICONS[status]} {label} ({tapped_by(update)})"
    )


async def note_in_place(message: object, line: str) -> None:
    """Attendance: the tapped message says it (buttons kept: a mark may be corrected)."""
    if isinstance(message, Message) and message.text:
        markup = message.reply_markup
        await message.edit_text(f"{message.text}\n{line}", reply_markup=markup)


async def on_cancel_button(update: Update, context: BotContext, cb: Callback) -> None:
    booking = await tapped_booking(update, context, cb)
    if booking is None:
        return
    await answer_query(update)
    await ask_reason(context, booking.id)


async def refuse_button(update: Update, context: BotContext, cb: Callback) -> None:
    """A staff button outside the staff group (forged, or a forwarded message)."""
    await answer_query(update)
    await refuse(update, context)


async def mark_done(message: object, note: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Keep the staff message, drop its buttons (or put ``markup`` there) and say who
    handled it."""
    if isinstance(message, Message) and message.text:
        await message.edit_text(f"{message.text}\n\n{note}", reply_markup=markup)


class _CancelPrompt(filters.MessageFilter):
    """Only replies to the bot's own cancel prompt, so other staff-group text (forum topics,
    answers to residents) reaches the modules meant for it."""

    def filter(self, message: Message) -> bool:
        prompt = message.reply_to_message
        return (
            prompt is not None
            and prompt.from_user is not None
            and prompt.from_user.is_bot
            and CANCEL_PROMPT_RE.match(prompt.text or "") is not None
        )


def handlers(services: Services, application: App) -> list[Handler]:
    # The staff side of the appointments service is told here (set once, at build).
    services.appointments.install(staff=StaffNotifier(services))
    # What the staff lane edits a post down to when a resident it names is erased.
    services.staffpost.redacts(REDACTED, Redactions(services))
    in_staff_group = staff_chat(services.config)
    return [
        CommandHandler(
            "agenda", agenda_command, filters=filters.UpdateType.MESSAGES & in_staff_group
        ),
        CommandHandler(
            "cancelbooking", cancel_command, filters=filters.UpdateType.MESSAGES & in_staff_group
        ),
        CommandHandler(["agenda", "cancelbooking"], refuse),
        MessageHandler(
            filters.ChatType.GROUPS
            & filters.TEXT
            & ~filters.COMMAND
            & in_staff_group
            & _CancelPrompt(),
            on_cancel_reason,
        ),
        on_callback(CB_STAFF_CONFIRM, on_confirm, filters=in_staff_group),
        on_callback(CB_STAFF_DECLINE, on_decline, filters=in_staff_group),
        on_callback((CB_STAFF_ATTENDED, CB_STAFF_NO_SHOW), on_attendance, filters=in_staff_group),
        on_callback(CB_STAFF_CANCEL, on_cancel_button, filters=in_staff_group),
        on_callback(CB_STAFF_REASON, on_reason, filters=in_staff_group),
        on_callback(STAFF_KINDS, refuse_button),
    ]


CAPABILITY = Capability(
    name="agenda",
    handlers=handlers,
    commands=(
        Command("agenda", N_("Appointments of a day or the week"), scope="staff"),
        Command("cancelbooking", N_("Cancel an appointment with a reason"), scope="staff"),
    ),
    on_start=(daily.on_startup,),
)
