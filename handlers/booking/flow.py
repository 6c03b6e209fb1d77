"""The booking flow (offer → place → day → time → note → summary → confirm) in one message.

Where a resident is in it lives in SQLite (``booking_drafts``), and every button carries the
flow's number: after a restart nothing is stuck, and a button of an older flow is answered
with "this step has expired" and the list of offers. This module reacts to the taps and the
note, :mod:`.screens` shows each step, and taking the seat is the appointments service's.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import datetime

from telegram import Update

from bot.callbacks import Callback
from bot.context import BotContext
from bot.i18n import N_
from bot.slots import on_day
from handlers.booking import views
from handlers.booking.notify import send_calendar_file
from handlers.booking.screens import (
    consent_first,
    current_draft,
    day_view,
    expired,
    limit_view,
    mine_view,
    note_view,
    offers_view,
    place_view,
    reply,
    rules_of,
    set_draft,
    summary_view,
    time_view,
    track_note,
)
from handlers.booking.views import NOTE_MAX, rebook_markup
from handlers.common import (
    ButtonCallback,
    answer_query,
    join,
    main_menu,
    menu_text,
)
from storage.bookings import Draft


async def start_flow(
    update: Update,
    context: BotContext,
    offer_id: str,
    replaces: int | None = None,
    note: str = "",
    *,
    place_id: str | None = None,
    interpreter: str | None = None,
) -> None:
    user_id = update.effective_user.id if update.effective_user else 0
    directory = context.services.directory
    rules = rules_of(context, offer_id)
    if rules is None:  # the caller has answered the button already
        await expired(update, context, answered=True)
        return
    offer = directory.offer(offer_id)
    now = context.clock.now()
    if replaces is None:
        mine = [
            b
            for b in await context.storage.bookings.upcoming(user_id, now)
            if b.offer_id == offer_id
        ]
        if len(mine) >= rules.max_per_resident:
            await limit_view(update, context, rules)
            return
    if place_id not in offer.place_ids:
        place_id = offer.place_ids[0] if len(offer.place_ids) == 1 else None
    draft = await context.storage.booking_drafts.start(
        user_id,
        offer_id,
        now,
        replaces=replaces,
        place_id=place_id,
        note=note,
        interpreter=interpreter,
    )
    if place_id is None:
        await place_view(update, context, draft)
    else:
        await day_view(update, context, draft)


# -- buttons --------------------------------------------------------------------------------
DraftStep = Callable[[Update, BotContext, Callback, Draft], Awaitable[None]]


def with_draft(step: DraftStep) -> ButtonCallback:
    """A button of one step: it names the flow as first argument, and is only taken while
    that flow is the resident's current one; a button of an older flow is "expired"."""

    @functools.wraps(step)
    async def button(update: Update, context: BotContext, cb: Callback) -> None:
        if not await consent_first(update, context):
            return
        draft = await current_draft(update, context, cb.arg(0))
        if draft is None:
            await expired(update, context)
            return
        await step(update, context, cb, draft)

    return button


async def on_book(update: Update, context: BotContext, cb: Callback) -> None:
    if await consent_first(update, context):
        await answer_query(update)
        await offers_view(update, context)


async def on_offer(update: Update, context: BotContext, cb: Callback) -> None:
    if await consent_first(update, context):
        await answer_query(update)
        await start_flow(update, context, cb.arg(0))


async def on_book_here(update: Update, context: BotContext, cb: Callback) -> None:
    """ "Book here" on an offer or place card: offer and place chosen already."""
    if await consent_first(update, context):
        await answer_query(update)
        await start_flow(update, context, cb.arg(0), place_id=cb.arg(1) or None)


@with_draft
async def on_interpreter(update: Update, context: BotContext, cb: Callback, draft: Draft) -> None:
    await answer_query(update)
    if draft.step != "summary":
        await go_back(update, context, draft, "summary")
        return
    wanted = None if draft.interpreter else context.t.code
    draft = await set_draft(context, draft, interpreter=wanted) or draft
    await summary_view(update, context, draft)


async def on_confirm(update: Update, context: BotContext, cb: Callback) -> None:
    if await consent_first(update, context):
        await confirm(update, context, cb.arg(0))


@with_draft
async def on_quit(update: Update, context: BotContext, cb: Callback, draft: Draft) -> None:
    t = context.t
    await context.storage.booking_drafts.end(draft.user_id, context.clock.now())
    track_note(context, None, draft.user_id)
    await answer_query(update)
    text = join(t._(N_("Booking cancelled. Nothing was booked.")), menu_text(t))
    await reply(update, context, text, main_menu(context))


@with_draft
async def on_place(update: Update, context: BotContext, cb: Callback, draft: Draft) -> None:
    await answer_query(update)
    place_id = cb.arg(1)
    offer = context.services.directory.offer(draft.offer_id)
    if place_id not in offer.place_ids:
        await place_view(update, context, draft)
        return
    draft = await set_draft(context, draft, place_id=place_id) or draft
    await day_view(update, context, draft)


@with_draft
async def on_day_button(update: Update, context: BotContext, cb: Callback, draft: Draft) -> None:
    await answer_query(update)
    day = views.parse_day_code(cb.arg(1))
    if day is None or draft.place_id is None:
        await day_view(update, context, draft)
        return
    await time_view(update, context, draft, day)


@with_draft
async def on_time(update: Update, context: BotContext, cb: Callback, draft: Draft) -> None:
    await answer_query(update)
    await pick_time(update, context, draft, cb.arg(1))


@with_draft
async def on_skip_note(update: Update, context: BotContext, cb: Callback, draft: Draft) -> None:
    """Keeps a note written before (or moved along)."""
    await answer_query(update)
    if draft.starts_at is None:
        await day_view(update, context, draft)
    else:
        await summary_view(update, context, draft)


@with_draft
async def on_back(update: Update, context: BotContext, cb: Callback, draft: Draft) -> None:
    await answer_query(update)
    await go_back(update, context, draft, cb.arg(1))


@with_draft
async def on_wait(update: Update, context: BotContext, cb: Callback, draft: Draft) -> None:
    await answer_query(update)
    await join_waitlist(update, context, draft)


async def pick_time(update: Update, context: BotContext, draft: Draft, stamp: str) -> None:
    day = views.parse_day_code(draft.day or "")
    if draft.place_id is None or day is None or not stamp.isdigit():
        await day_view(update, context, draft)
        return
    start = datetime.fromtimestamp(int(stamp), context.config.tz)
    free = await context.services.appointments.free_slots(draft.offer_id, draft.place_id)
    found = {slot.start: slot for slot, _ in on_day(free, day, context.config.tz)}
    if start not in found:
        await time_view(update, context, draft, day, views.no_longer_free_text(context.t))
        return
    draft = await set_draft(context, draft, starts_at=start) or draft
    await note_view(update, context, draft)


async def go_back(update: Update, context: BotContext, draft: Draft, target: str) -> None:
    day = views.parse_day_code(draft.day or "")
    if target == "place":
        await place_view(update, context, draft)
    elif target == "time" and day is not None:
        await time_view(update, context, draft, day)
    elif target == "note" and draft.starts_at is not None:
        await note_view(update, context, draft)
    else:
        await day_view(update, context, draft)


async def on_note(update: Update, context: BotContext) -> None:
    """Text while the flow waits for the note (the filter only lets those through)."""
    message = update.effective_message
    assert message is not None and message.text is not None and update.effective_user is not None
    t = context.t
    draft = await context.storage.booking_drafts.get(update.effective_user.id)
    if draft is None or draft.step != "note":
        track_note(context, draft, update.effective_user.id)
        await message.reply_text(views.expired_text(t))
        return
    note = " ".join(message.text.split())
    if len(note) > NOTE_MAX:
        await message.reply_text(
            t.n_(
                "Please keep the note short: at most {n} character (now: {length}).",
                "Please keep the note short: at most {n} characters (now: {length}).",
                NOTE_MAX,
                length=len(note),
            )
        )
        return
    draft = await set_draft(context, draft, note=note) or draft
    # The resident's text now stands below the flow message: continue in a new one.
    await summary_view(update, context, draft)


async def confirm(update: Update, context: BotContext, flow: str) -> None:
    t = context.t
    assert update.effective_user is not None
    user_id = update.effective_user.id
    directory = context.services.directory
    appointments = context.services.appointments
    draft = await context.storage.booking_drafts.get(user_id)
    if draft is not None and str(draft.flow) == flow and draft.step == "done" and draft.booking_id:
        booking = await context.storage.bookings.get(draft.booking_id)
        if booking is not None and booking.is_open:
            # A double tap: the first one booked; say so and show it again.
            await answer_query(update, t._(N_("You have already booked this appointment.")))
            rules = rules_of(context, booking.offer_id)
            text = views.confirmation_text(t, directory, booking, rules)
            await reply(update, context, text, rebook_markup(t, None))
            return
    draft = await current_draft(update, context, flow)
    if (
        draft is None
        or draft.step != "summary"
        or draft.starts_at is None
        or draft.place_id is None
    ):
        await expired(update, context)
        return
    rules = rules_of(context, draft.offer_id)
    assert rules is not None
    start = draft.starts_at.astimezone(context.config.tz)
    outcome = await appointments.book(
        user_id,
        draft.offer_id,
        draft.place_id,
        start,
        note=draft.note,
        replaces=draft.replaces,
        interpreter=draft.interpreter,
    )
    if outcome.refused == "unavailable":
        await answer_query(update)
        await time_view(update, context, draft, start.date(), views.no_longer_free_text(t))
        return
    if outcome.refused == "full":
        await answer_query(update, t._(N_("Sorry, this time has just been taken.")), alert=True)
        await time_view(
            update,
            context,
            draft,
            start.date(),
            "⚠️ " + t._(N_("Sorry, this time has just been taken. These times are still free:")),
        )
        return
    if outcome.refused == "limit":
        await answer_query(update)
        await limit_view(update, context, rules)
        return
    if outcome.refused == "duplicate" and outcome.existing is not None:
        await answer_query(update, t._(N_("You have already booked this appointment.")))
        text = views.confirmation_text(t, directory, outcome.existing, rules)
        await reply(update, context, text, rebook_markup(t, None))
        return
    now = context.clock.now()
    if outcome.booking is None:  # "gone": the appointment to move no longer exists
        await answer_query(update)
        await context.storage.booking_drafts.end(user_id, now)
        notice = "⚠️ " + t._(N_("The appointment you wanted to move no longer exists."))
        await mine_view(update, context, notice)
        return
    booking = outcome.booking
    await context.storage.booking_drafts.update(draft, now, step="done", booking_id=booking.id)
    track_note(context, None, user_id)
    await answer_query(update)
    if outcome.replaced is not None:
        text = views.moved_text(t, directory, booking, outcome.replaced, rules)
    else:
        text = views.confirmation_text(t, directory, booking, rules)
    await reply(update, context, text, rebook_markup(t, None))
    # A move the team still has to confirm: the calendar's event is updated (same UID,
    # higher SEQUENCE) when they do.
    if booking.status == "confirmed":
        await send_calendar_file(context.application, t, booking)


async def join_waitlist(update: Update, context: BotContext, draft: Draft) -> None:
    t = context.t
    user_id = draft.user_id
    joined = await context.services.appointments.join_waitlist(
        user_id, draft.offer_id, draft.place_id
    )
    await context.storage.booking_drafts.end(user_id, context.clock.now())
    text = (
        t._(
            N_(
                "You are on the waiting list. When a seat becomes free, we will offer it to you "
                "and hold it for you for a while."
            )
        )
        if joined
        else t._(N_("You are already on the waiting list for this offer."))
    )
    await reply(update, context, "⏳ " + text, views.mine_and_menu(t))
