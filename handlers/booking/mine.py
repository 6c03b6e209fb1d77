"""A resident's own appointments: cancel, move, "I'll come", and a seat held for them from
the waiting list (take it or pass it on)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from telegram import Update

from bot.callbacks import Callback
from bot.context import BotContext
from bot.i18n import N_
from handlers.booking import views
from handlers.booking.flow import start_flow
from handlers.booking.notify import send_calendar_file
from handlers.booking.screens import consent_first, mine_view, reply, rules_of
from handlers.booking.views import CB_HOLD_DROP, gone_text, rebook_markup
from handlers.common import ButtonCallback, answer_query, details, join
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


OwnStep = Callable[[Update, BotContext, Booking], Awaitable[None]]


def with_own_booking(step: OwnStep) -> ButtonCallback:
    """A button under one of the resident's appointments (its number is the first
    argument): only while it is theirs, open and ahead; otherwise "gone"."""

    @functools.wraps(step)
    async def button(update: Update, context: BotContext, cb: Callback) -> None:
        if not await consent_first(update, context):
            return
        booking = await own_booking(update, context, cb.int_arg(0))
        if booking is None:
            t = context.t
            await answer_query(update, gone_text(t), alert=True)
            await mine_view(update, context, "⚠️ " + gone_text(t))
            return
        await step(update, context, booking)

    return button


async def on_mine(update: Update, context: BotContext, cb: Callback) -> None:
    if await consent_first(update, context):
        await answer_query(update)
        await mine_view(update, context)


@with_own_booking
async def on_cancel(update: Update, context: BotContext, booking: Booking) -> None:
    t = context.t
    await answer_query(update)
    text = join(
        t._(N_("Do you really want to cancel this appointment?")),
        details(t, context.services.directory, booking),
    )
    await reply(update, context, text, views.cancel_question_markup(t, booking))


@with_own_booking
async def on_cancel_yes(update: Update, context: BotContext, booking: Booking) -> None:
    t = context.t
    cancelled = await context.services.appointments.cancel_by_resident(booking.id, booking.user_id)
    if cancelled is None:
        await answer_query(update, gone_text(t), alert=True)
        await mine_view(update, context)
        return
    await answer_query(update)
    text = join(
        "✅ " + t._(N_("Your appointment has been cancelled.")),
        details(t, context.services.directory, cancelled),
    )
    await reply(update, context, text, rebook_markup(t, cancelled.offer_id))
    if cancelled.previous_status == "confirmed":
        await send_calendar_file(context.application, t, cancelled, cancelled=True)


@with_own_booking
async def on_move(update: Update, context: BotContext, booking: Booking) -> None:
    await answer_query(update)
    await start_flow(
        update,
        context,
        booking.offer_id,
        replaces=booking.id,
        note=booking.note,
        interpreter=booking.interpreter,
    )


@with_own_booking
async def on_coming(update: Update, context: BotContext, booking: Booking) -> None:
    """From a reminder, which stays as it is: the answer is a new message."""
    t = context.t
    coming = await context.services.appointments.coming(booking.id, booking.user_id)
    await answer_query(update, t._(N_("Thank you! See you then.")))
    text = join(
        "👍 " + t._(N_("You have confirmed that you will come.")),
        details(t, context.services.directory, coming or booking),
    )
    await reply(update, context, text, views.coming_markup(t, coming or booking))


async def on_hold_button(update: Update, context: BotContext, cb: Callback) -> None:
    """A seat held from the waiting list: take it or pass it on."""
    if await consent_first(update, context):
        await on_hold(update, context, cb.kind, cb.int_arg(0))


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
