"""The staff side of appointments, in the staff group only: the day's or week's agenda,
confirming or declining requests, attendance, and cancelling with a reason.

Every command checks the chat (the configured staff group), every button checks that it
sits on a message in the staff group: residents' names and notes never leave it.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Literal

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import callbacks
from bot.context import BotContext
from bot.i18n import LANGUAGES, N_, Translator
from bot.slots import day_bounds
from handlers import booking as bk
from handlers.common import Command, add_commands, answer_query, audit, refuse, staff_t
from handlers.hours import parse_day
from storage.bookings import Booking

CANCEL_PROMPT_RE = re.compile(r"^🗑 #(\d+)\b")
MAX_BUTTON_ROWS = 40
STATUS_ICONS = {"requested": "⏳", "confirmed": "🕒", "attended": "✅", "no_show": "🚫"}


def in_staff_chat(update: Update, context: BotContext) -> bool:
    chat = update.effective_chat
    return (
        chat is not None
        and context.config.staff_chat is not None
        and chat.id == context.config.staff_chat
    )


# -- agenda ---------------------------------------------------------------------------------
async def agenda_lines(context: BotContext, t: Translator, bookings: list[Booking]) -> list[str]:
    """By place, then time: time, number, first name, language, offer, note."""
    directory = context.services.directory
    lines: list[str] = []
    place_id: str | None = None
    for b in sorted(bookings, key=lambda b: (b.place_id, b.starts_at, b.id)):
        if b.place_id != place_id:
            place_id = b.place_id
            try:
                place = bk.tx(t, directory.place(place_id).name)
            except KeyError:
                place = place_id
            lines.append(f"\n📍 {place}")
        resident = await context.storage.residents.get(b.user_id)
        name = resident.first_name if resident and resident.first_name else "—"
        language = (
            LANGUAGES[resident.language].native_name
            if resident and resident.language in LANGUAGES
            else "?"
        )
        try:
            offer = bk.tx(t, directory.offer(b.offer_id).title)
        except KeyError:
            offer = b.offer_id
        icon = STATUS_ICONS.get(b.status, "")
        coming = " 👍" if b.coming_at else ""
        line = f"{icon} {t.time_range(b.starts_at, b.ends_at)} #{b.id} {name} ({language}){coming} — {offer}"
        if b.note:
            line += f"\n      📝 {b.note}"
        lines.append(line)
    return lines


def day_markup(t: Translator, bookings: list[Booking]) -> InlineKeyboardMarkup | None:
    rows = []
    for b in bookings[:MAX_BUTTON_ROWS]:
        if b.status == "requested":
            rows.append(
                [
                    InlineKeyboardButton(
                        f"✅ #{b.id} " + t._(N_("Confirm")),
                        callback_data=callbacks.make(bk.CB_STAFF_CONFIRM, b.id),
                    ),
                    InlineKeyboardButton(
                        f"✖ #{b.id} " + t._(N_("Decline")),
                        callback_data=callbacks.make(bk.CB_STAFF_DECLINE, b.id),
                    ),
                ]
            )
            continue
        rows.append(
            [
                InlineKeyboardButton(
                    f"✅ #{b.id}", callback_data=callbacks.make(bk.CB_STAFF_ATTENDED, b.id)
                ),
                InlineKeyboardButton(
                    f"🚫 #{b.id}", callback_data=callbacks.make(bk.CB_STAFF_NO_SHOW, b.id)
                ),
                InlineKeyboardButton(
                    f"🗑 #{b.id}", callback_data=callbacks.make(bk.CB_STAFF_CANCEL, b.id)
                ),
            ]
        )
    return InlineKeyboardMarkup(rows) if rows else None


async def agenda_command(update: Update, context: BotContext) -> None:
    """``/agenda`` (today), ``/agenda <date>``, ``/agenda tomorrow``, ``/agenda week``."""
    message = update.effective_message
    assert message is not None
    if not in_staff_chat(update, context):
        await refuse(update, context)
        return
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
        await bk.post_to_staff(
            context, t._(N_("Usage: /agenda [today | tomorrow | week | 2026-12-01 | 1.12.2026]"))
        )
        return
    parts: list[str] = []
    shown: list[Booking] = []
    for offset in range(span):
        day = first + timedelta(days=offset)
        start, end = day_bounds(day, tz)
        bookings = await context.storage.bookings.between(start, end)
        if span > 1 and not bookings:
            continue
        shown += bookings
        parts.append(f"📅 {t.date(day, 'yMMMEd')}")
        if bookings:
            parts += await agenda_lines(context, t, bookings)
        else:
            parts.append(t._(N_("No appointments.")))
        parts.append("")
    if not parts:
        parts = [t._(N_("No appointments in the next seven days."))]
    legend = t._(N_("⏳ requested · 🕒 booked · 👍 will come · ✅ attended · 🚫 no-show"))
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
    for i, chunk in enumerate(chunks):
        await bk.post_to_staff(context, chunk, markup if i == len(chunks) - 1 else None)


# -- staff actions --------------------------------------------------------------------------
async def staff_cancel(
    context: BotContext, booking_id: int, reason: str, by_name: str
) -> Booking | None:
    """Cancel for the team: the resident is told why, in their language, and offered a new
    appointment; the seat goes to the waiting list."""
    cancelled = await context.storage.bookings.cancel(
        booking_id, now=context.clock.now(), by="staff", reason=reason[:200]
    )
    if cancelled is None:
        return None
    bk.unschedule_reminders(context, cancelled.id)
    directory = context.services.directory
    rt = await bk.t_for(context, cancelled.user_id)
    text = bk.join(
        "⚠️ " + rt._(N_("Unfortunately the team has had to cancel your appointment:")),
        bk.details(rt, directory, cancelled),
        rt._(N_("Reason: {reason}"), reason=reason),
        rt._(N_("We are sorry. Would you like to book a new appointment?")),
    )
    await bk.send_to_resident(
        context, cancelled.user_id, text, bk.rebook_markup(rt, cancelled.offer_id)
    )
    t = staff_t(context)
    await bk.post_to_staff(
        context,
        bk.join(
            "❌ "
            + t._(N_("Appointment cancelled by {name}: {reason}"), name=by_name, reason=reason),
            await bk.staff_line(context, cancelled),
        ),
    )
    await bk.seat_freed(context, cancelled)
    return cancelled


async def cancel_command(update: Update, context: BotContext) -> None:
    """``/cancelbooking <number> <reason>``."""
    message = update.effective_message
    assert message is not None
    if not in_staff_chat(update, context):
        await refuse(update, context)
        return
    t = staff_t(context)
    args = context.args or []
    reason = " ".join(args[1:]).strip()
    number = args[0].lstrip("#") if args else ""
    if not number.isdigit() or not reason:
        await bk.post_to_staff(context, t._(N_("Usage: /cancelbooking <number> <reason>")))
        return
    await cancel_with_reason(update, context, int(number), reason)


async def cancel_with_reason(
    update: Update, context: BotContext, booking_id: int, reason: str
) -> None:
    t = staff_t(context)
    user = update.effective_user
    name = user.first_name if user else "?"
    done = await staff_cancel(context, booking_id, reason, name)
    if done is not None:
        await audit(update, context, "cancel booking", done.user_id, f"#{done.id} {reason}")
    if done is None:
        await bk.post_to_staff(
            context,
            t._(
                N_("Appointment #{id} is not open (already cancelled, over, or unknown)."),
                id=booking_id,
            ),
        )


async def on_cancel_reason(update: Update, context: BotContext) -> None:
    """A reply to the bot's "🗑 #12 …" prompt in the staff group: the text is the reason."""
    message = update.effective_message
    assert message is not None and message.text is not None
    prompt = message.reply_to_message
    match = CANCEL_PROMPT_RE.match(prompt.text or "") if prompt else None
    if match is None or not in_staff_chat(update, context):
        return
    await cancel_with_reason(update, context, int(match.group(1)), message.text.strip())


async def on_staff_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    cb = callbacks.parse(query.data)
    assert cb is not None
    message = query.message
    staff_chat = context.config.staff_chat
    if staff_chat is None or message is None or message.chat.id != staff_chat:
        await answer_query(update)
        await refuse(update, context)
        return
    t = staff_t(context)
    booking_id = cb.int_arg(0)
    booking = await context.storage.bookings.get(booking_id) if booking_id is not None else None
    if booking is None:
        await answer_query(update, t._(N_("Unknown appointment.")), alert=True)
        return
    now = context.clock.now()
    who = query.from_user.first_name
    directory = context.services.directory
    if cb.kind == bk.CB_STAFF_CONFIRM:
        confirmed = await context.storage.bookings.confirm(
            booking.id, now=now, reminders=context.config.reminders
        )
        if confirmed is None:
            await answer_query(update, t._(N_("This request is no longer open.")), alert=True)
            return
        await answer_query(update, t._(N_("Confirmed.")))
        await audit(update, context, "confirm booking", confirmed.user_id, f"#{confirmed.id}")
        await bk.schedule_reminders(context, confirmed.id)
        rt = await bk.t_for(context, confirmed.user_id)
        await bk.send_to_resident(
            context,
            confirmed.user_id,
            bk.join(
                "✅ " + rt._(N_("The team has confirmed your appointment.")),
                bk.confirmation_text(rt, directory, confirmed),
            ),
            InlineKeyboardMarkup([[bk.mine_button(rt)]]),
        )
        await bk.send_calendar_file(context, rt, confirmed)
        await mark_done(query.message, t._(N_("✅ Confirmed by {name}."), name=who))
    elif cb.kind == bk.CB_STAFF_DECLINE:
        declined = await context.storage.bookings.decline(booking.id, now=now)
        if declined is None:
            await answer_query(update, t._(N_("This request is no longer open.")), alert=True)
            return
        await answer_query(update, t._(N_("Declined.")))
        await audit(update, context, "decline booking", declined.user_id, f"#{declined.id}")
        rt = await bk.t_for(context, declined.user_id)
        await bk.send_to_resident(
            context,
            declined.user_id,
            bk.join(
                "⚠️ " + rt._(N_("Unfortunately the team cannot offer you this appointment:")),
                bk.details(rt, directory, declined),
                rt._(N_("Please choose another time.")),
            ),
            bk.rebook_markup(rt, declined.offer_id),
        )
        await mark_done(query.message, t._(N_("✖ Declined by {name}."), name=who))
        await bk.seat_freed(context, declined)
    elif cb.kind in (bk.CB_STAFF_ATTENDED, bk.CB_STAFF_NO_SHOW):
        status: Literal["attended", "no_show"] = (
            "attended" if cb.kind == bk.CB_STAFF_ATTENDED else "no_show"
        )
        marked = await context.storage.bookings.mark(booking.id, status, now)
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
        await answer_query(update, label)
    elif cb.kind == bk.CB_STAFF_CANCEL:
        await answer_query(update)
        if not booking.is_open or booking.starts_at <= now:
            await bk.post_to_staff(
                context,
                t._(
                    N_("Appointment #{id} is not open (already cancelled, over, or unknown)."),
                    id=booking.id,
                ),
            )
            return
        # The prompt starts with "🗑 #<id>": a reply to it carries the reason.
        await bk.post_to_staff(
            context,
            f"🗑 #{booking.id} "
            + t._(
                N_(
                    "Cancel this appointment? Reply to this message with the reason; the resident will be told."
                )
            )
            + "\n\n"
            + await bk.staff_line(context, booking),
            ForceReply(selective=False, input_field_placeholder=t._(N_("Reason"))[:64]),
        )


async def mark_done(message: object, note: str) -> None:
    """Keep the staff message, drop its buttons and say who handled it."""
    if isinstance(message, Message) and message.text:
        await message.edit_text(f"{message.text}\n\n{note}", reply_markup=None)


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


def register(application: Application) -> None:
    application.add_handlers(
        [
            CommandHandler("agenda", agenda_command),
            CommandHandler("cancelbooking", cancel_command),
            MessageHandler(
                filters.ChatType.GROUPS & filters.TEXT & ~filters.COMMAND & _CancelPrompt(),
                on_cancel_reason,
            ),
            *(
                CallbackQueryHandler(on_staff_button, pattern=callbacks.matches(kind))
                for kind in (
                    bk.CB_STAFF_CONFIRM,
                    bk.CB_STAFF_DECLINE,
                    bk.CB_STAFF_ATTENDED,
                    bk.CB_STAFF_NO_SHOW,
                    bk.CB_STAFF_CANCEL,
                )
            ),
        ]
    )
    add_commands(
        application,
        Command("agenda", N_("Appointments of a day or the week"), scope="staff"),
        Command("cancelbooking", N_("Cancel an appointment with a reason"), scope="staff"),
    )
