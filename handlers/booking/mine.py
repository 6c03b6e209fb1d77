"""A resident's own appointments: cancel, move, "I'll come", and a seat held for them from
the waiting list (take it or pass it on)."""

from __future__ import annotations

from telegram import Message, Update

from bot import callbacks
from bot.context import BotContext
from bot.i18n import N_
from handlers.booking import views
from handlers.booking.flow import start_flow
from handlers.booking.notify import send_calendar_file
from handlers.booking.screens import consent_first, mine_view, rules_of
from handlers.booking.views import (
    CB_CANCEL,
    CB_CANCEL_YES,
    CB_COMING,
    CB_HOLD_DROP,
    CB_HOLD_TAKE,
    CB_MINE,
    CB_MOVE,
    gone_text,
    rebook_markup,
)
from handlers.common import answer_query, details, join, reply
from storage.bookings import Booking


async def own_booking(
    update: Update, context: BotContext, booking_id: int | None
) -> Booking | None:
    """The resident's own open future booking, or None (forged, stale or over)."""
    if booking_id is None or update.effective_user is None:
        return None
    booking = await context.storage.bookings.get(booking_id)
    if (
        booking is None
        or booking.user_id != update.effective_user.id
        or not booking.is_open
        or booking.starts_at <= context.clock.now()
    ):
        return None
    return booking


async def on_mine(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    cb = callbacks.parse(query.data)
    assert cb is not None
    if not await consent_first(update, context):
        return
    t = context.t
    if cb.kind == CB_MINE:
        await answer_query(update)
        await mine_view(update, context)
        return
    booking_id = cb.int_arg(0)
    if cb.kind in (CB_HOLD_TAKE, CB_HOLD_DROP):
        await on_hold(update, context, cb.kind, booking_id)
        return
    booking = await own_booking(update, context, booking_id)
    if booking is None:
        await answer_query(update, gone_text(t), alert=True)
        await mine_view(update, context, "⚠️ " + gone_text(t))
        return
    directory = context.services.directory
    appointments = context.services.appointments
    if cb.kind == CB_CANCEL:
        await answer_query(update)
        text = join(
            t._(N_("Do you really want to cancel this appointment?")),
            details(t, directory, booking),
        )
        await reply(update, context, text, views.cancel_question_markup(t, booking))
    elif cb.kind == CB_CANCEL_YES:
        cancelled = await appointments.cancel_by_resident(booking.id, booking.user_id)
        if cancelled is None:
            await answer_query(update, gone_text(t), alert=True)
            await mine_view(update, context)
            return
        await answer_query(update)
        text = join(
            "✅ " + t._(N_("Your appointment has been cancelled.")),
            details(t, directory, cancelled),
        )
        await reply(update, context, text, rebook_markup(t, cancelled.offer_id))
    elif cb.kind == CB_MOVE:
        await answer_query(update)
        await start_flow(update, context, booking.offer_id, replaces=booking.id, note=booking.note)
    elif cb.kind == CB_COMING:
        await appointments.coming(booking.id, booking.user_id)
        await answer_query(update, t._(N_("Thank you! See you then.")))
        message = query.message
        if isinstance(message, Message) and message.text:
            text = join(message.text, "👍 " + t._(N_("You have confirmed that you will come.")))
            await reply(update, context, text, views.coming_markup(t, booking))


async def on_hold(update: Update, context: BotContext, kind: str, booking_id: int | None) -> None:
    t = context.t
    assert update.effective_user is not None
    user_id = update.effective_user.id
    appointments = context.services.appointments
    hold = await context.storage.bookings.get(booking_id) if booking_id is not None else None
    if hold is None or hold.user_id != user_id:
        await answer_query(update, gone_text(t), alert=True)
        return
    if kind == CB_HOLD_DROP:
        await appointments.drop_hold(hold.id, user_id)
        await answer_query(update)
        await reply(
            update,
            context,
            t._(N_("All right, we offer the seat to the next person.")),
            rebook_markup(t, hold.offer_id),
        )
        return
    taken = await appointments.take_hold(hold.id, user_id)
    if taken is None:
        expired = t._(N_("Sorry, this offer has expired."))
        await answer_query(update, expired, alert=True)
        await reply(update, context, expired, rebook_markup(t, hold.offer_id))
        return
    await answer_query(update)
    rules = rules_of(context, taken.offer_id)
    text = views.confirmation_text(t, context.services.directory, taken, rules)
    await reply(update, context, text, rebook_markup(t, None))
    if taken.status == "confirmed":
        await send_calendar_file(context.application, t, taken)
