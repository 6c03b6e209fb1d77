"""The booking flow (offer → place → day → time → note → summary → confirm) in one message.

Where a resident is in it lives in SQLite (``booking_drafts``), and every button carries the
flow's number: after a restart nothing is stuck, and a button of an older flow is answered
with "this step has expired" and the list of offers. Taking the seat is the appointments
service's business; this module asks and shows.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import callbacks
from bot.context import BotContext
from bot.i18n import N_
from bot.slots import STAFF, Rules, Slot, bookable_offers, days, on_day
from handlers.booking import views
from handlers.booking.notify import send_calendar_file
from handlers.booking.views import (
    CB_BACK,
    CB_BOOK,
    CB_CONFIRM,
    CB_DAY,
    CB_OFFER,
    CB_PLACE,
    CB_QUIT,
    CB_SKIP_NOTE,
    CB_TIME,
    CB_WAIT,
    NOTE_MAX,
    button,
    flow_row,
    rebook_markup,
)
from handlers.common import (
    answer_query,
    consent_markup,
    consent_question,
    details,
    has_consent,
    join,
    main_menu,
    menu_text,
    reply,
    tx,
)
from storage.bookings import Draft

DRAFT_TTL = timedelta(days=1)
"""A flow untouched this long is stale: slots and seats have moved on."""
AWAITING_NOTE = "booking_awaiting_note"
"""bot_data key: resident id -> when the flow began waiting for their note (mirrors
booking_drafts, so a synchronous message filter can ask it)."""
MAX_DAYS_SHOWN = 12
STEPS = ("place", "day", "time", "note", "summary")


async def consent_first(update: Update, context: BotContext) -> bool:
    """Booking stores data: only after consent."""
    if has_consent(context):
        return True
    await answer_query(update)
    await reply(update, context, consent_question(context.t), consent_markup(context))
    return False


def rules_of(context: BotContext, offer_id: str) -> Rules | None:
    return context.services.appointments.rules_of(offer_id)


def track_note(context: BotContext, draft: Draft | None, user_id: int) -> None:
    waiting: dict[int, datetime] = context.application.bot_data.setdefault(AWAITING_NOTE, {})
    if draft is not None and draft.step == "note":
        waiting[user_id] = draft.updated_at
    else:
        waiting.pop(user_id, None)


async def set_draft(context: BotContext, draft: Draft, **changes: object) -> Draft | None:
    updated = await context.storage.booking_drafts.update(draft, context.clock.now(), **changes)
    track_note(context, updated, draft.user_id)
    return updated


async def current_draft(update: Update, context: BotContext, flow: str) -> Draft | None:
    """The resident's draft if the button belongs to it and it is still going."""
    assert update.effective_user is not None
    draft = await context.storage.booking_drafts.get(update.effective_user.id)
    if (
        draft is None
        or str(draft.flow) != flow
        or draft.step not in STEPS
        or context.clock.now() - draft.updated_at > DRAFT_TTL
        or rules_of(context, draft.offer_id) is None
    ):
        return None
    return draft


# -- screens --------------------------------------------------------------------------------
async def offers_view(update: Update, context: BotContext, notice: str = "") -> None:
    t = context.t
    offers = [(o.id, tx(t, o.title)) for o in bookable_offers(context.services.directory)]
    text = join(notice, t._(N_("Which appointment would you like to book?")))
    await reply(update, context, text, views.offers_markup(t, offers))


async def expired(update: Update, context: BotContext, *, answered: bool = False) -> None:
    text = views.expired_text(context.t)
    if not answered:
        await answer_query(update, text)
    await offers_view(update, context, "⌛ " + text)


async def start_flow(
    update: Update, context: BotContext, offer_id: str, replaces: int | None = None, note: str = ""
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
    place_id = offer.place_ids[0] if len(offer.place_ids) == 1 else None
    draft = await context.storage.booking_drafts.start(
        user_id, offer_id, now, replaces=replaces, place_id=place_id, note=note
    )
    if place_id is None:
        await place_view(update, context, draft)
    else:
        await day_view(update, context, draft)


async def limit_view(update: Update, context: BotContext, rules: Rules) -> None:
    t = context.t
    text = t.n_(
        "You already have {n} appointment for this offer. Please cancel or move it first.",
        "You already have {n} appointments for this offer. Please cancel or move one first.",
        rules.max_per_resident,
    )
    await reply(update, context, "ℹ️ " + text, views.mine_and_menu(t))


async def place_view(update: Update, context: BotContext, draft: Draft) -> None:
    t = context.t
    directory = context.services.directory
    draft = await set_draft(context, draft, step="place") or draft
    offer = directory.offer(draft.offer_id)
    rows = [
        [button("📍 " + tx(t, directory.place(place_id).name), CB_PLACE, draft.flow, place_id)]
        for place_id in offer.place_ids
    ]
    rows.append(flow_row(t, draft, None))
    text = join(f"📋 {tx(t, offer.title)}", t._(N_("Where would you like to come?")))
    await reply(update, context, text, InlineKeyboardMarkup(rows))


def back_from_day(context: BotContext, draft: Draft) -> str | None:
    offer = context.services.directory.offer(draft.offer_id)
    return "place" if len(offer.place_ids) > 1 else None


async def day_view(update: Update, context: BotContext, draft: Draft, notice: str = "") -> None:
    t = context.t
    directory = context.services.directory
    draft = await set_draft(context, draft, step="day") or draft
    offer = directory.offer(draft.offer_id)
    found = await context.services.appointments.free_slots(draft.offer_id, draft.place_id)
    head = [f"📋 {tx(t, offer.title)}"]
    if draft.place_id:
        head.append(f"📍 {tx(t, directory.place(draft.place_id).name)}")
    rows: list[list[InlineKeyboardButton]] = []
    free_days = days(found, context.config.tz)[:MAX_DAYS_SHOWN]
    if free_days:
        question = t._(N_("Which day suits you?"))
        buttons = [
            button(t.date(d, "MMMEd"), CB_DAY, draft.flow, views.day_code(d)) for d in free_days
        ]
        rows += [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    else:
        question = t._(
            N_(
                "Sorry, there are no free appointments in the coming weeks. You can join the "
                "waiting list: when a seat becomes free, we offer it to you first."
            )
        )
        rows.append([button("⏳ " + t._(N_("Join the waiting list")), CB_WAIT, draft.flow)])
    rows.append(flow_row(t, draft, back_from_day(context, draft)))
    await reply(
        update, context, join(notice, "\n".join(head), question), InlineKeyboardMarkup(rows)
    )


async def time_view(
    update: Update, context: BotContext, draft: Draft, day: date, notice: str = ""
) -> None:
    t = context.t
    free = await context.services.appointments.free_slots(draft.offer_id, draft.place_id)
    found = on_day(free, day, context.config.tz)
    if not found:
        await day_view(
            update,
            context,
            draft,
            "⚠️ " + t._(N_("There are no free times left on this day. Please choose another day.")),
        )
        return
    draft = await set_draft(context, draft, step="time", day=views.day_code(day)) or draft
    rules = rules_of(context, draft.offer_id)
    show_seats = rules is not None and rules.seats > 1
    buttons = []
    for slot, left in found:
        label = t.time(slot.start)
        if show_seats:
            label = t.n_("{time} ({n} free)", "{time} ({n} free)", left, time=label)
        buttons.append(button(label, CB_TIME, draft.flow, int(slot.start.timestamp())))
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    rows.append(flow_row(t, draft, "day"))
    text = join(notice, t._(N_("Which time on {date}?"), date=t.date(day, "MMMMEEEEd")))
    await reply(update, context, text, InlineKeyboardMarkup(rows))


async def note_view(update: Update, context: BotContext, draft: Draft) -> None:
    t = context.t
    draft = await set_draft(context, draft, step="note") or draft
    text = t._(
        N_(
            "Would you like to tell the counsellor briefly what it is about? Just write it "
            "here (at most {max} characters), or skip this step."
        ),
        max=NOTE_MAX,
    )
    if draft.note:
        text = join(text, "📝 " + t._(N_("Your note: {note}"), note=draft.note))
    markup = InlineKeyboardMarkup(
        [[button("⏭ " + t._(N_("Skip")), CB_SKIP_NOTE, draft.flow)], flow_row(t, draft, "time")]
    )
    await reply(update, context, text, markup)


async def summary_view(update: Update, context: BotContext, draft: Draft) -> None:
    t = context.t
    directory = context.services.directory
    draft = await set_draft(context, draft, step="summary") or draft
    assert draft.starts_at is not None and draft.place_id is not None
    rules = rules_of(context, draft.offer_id)
    start = draft.starts_at.astimezone(context.config.tz)
    slot = Slot(
        draft.offer_id, draft.place_id, start, start + (rules.slot if rules else timedelta(0))
    )
    heading = (
        t._(N_("Please check your new time for the appointment:"))
        if draft.replaces
        else t._(N_("Please check your appointment:"))
    )
    staff_confirms = rules is not None and rules.confirm == STAFF
    label = t._(N_("Send request")) if staff_confirms else t._(N_("Book now"))
    parts = [heading, details(t, directory, slot, draft.note), views.bring_text(t, rules)]
    if staff_confirms:
        parts.append(t._(N_("The team confirms this appointment; you will get a message.")))
    markup = InlineKeyboardMarkup(
        [[button("✅ " + label, CB_CONFIRM, draft.flow)], flow_row(t, draft, "note")]
    )
    await reply(update, context, join(*parts), markup)


async def mine_view(update: Update, context: BotContext, notice: str = "") -> None:
    """The resident's appointments and waiting lists."""
    assert update.effective_user is not None
    user_id = update.effective_user.id
    upcoming = await context.storage.bookings.upcoming(user_id, context.clock.now())
    waiting = [entry.offer_id for entry in await context.storage.waitlist.of(user_id)]
    text, markup = views.mine_screen(
        context.t, context.services.directory, upcoming, waiting, notice
    )
    await reply(update, context, text, markup)


# -- callbacks ------------------------------------------------------------------------------
async def on_flow(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    cb = callbacks.parse(query.data)
    assert cb is not None
    if not await consent_first(update, context):
        return
    t = context.t
    if cb.kind == CB_BOOK:
        await answer_query(update)
        await offers_view(update, context)
        return
    if cb.kind == CB_OFFER:
        await answer_query(update)
        await start_flow(update, context, cb.arg(0))
        return
    if cb.kind == CB_CONFIRM:
        await confirm(update, context, cb.arg(0))
        return
    draft = await current_draft(update, context, cb.arg(0))
    if draft is None:
        await expired(update, context)
        return
    if cb.kind == CB_QUIT:
        await context.storage.booking_drafts.end(draft.user_id, context.clock.now())
        track_note(context, None, draft.user_id)
        await answer_query(update)
        text = join(t._(N_("Booking cancelled. Nothing was booked.")), menu_text(t))
        await reply(update, context, text, main_menu(context))
        return
    await answer_query(update)
    if cb.kind == CB_PLACE:
        place_id = cb.arg(1)
        offer = context.services.directory.offer(draft.offer_id)
        if place_id not in offer.place_ids:
            await place_view(update, context, draft)
            return
        draft = await set_draft(context, draft, place_id=place_id) or draft
        await day_view(update, context, draft)
    elif cb.kind == CB_DAY:
        day = views.parse_day_code(cb.arg(1))
        if day is None or draft.place_id is None:
            await day_view(update, context, draft)
            return
        await time_view(update, context, draft, day)
    elif cb.kind == CB_TIME:
        await pick_time(update, context, draft, cb.arg(1))
    elif cb.kind == CB_SKIP_NOTE:  # keeps a note written before (or moved along)
        if draft.starts_at is None:
            await day_view(update, context, draft)
        else:
            await summary_view(update, context, draft)
    elif cb.kind == CB_BACK:
        await go_back(update, context, draft, cb.arg(1))
    elif cb.kind == CB_WAIT:
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
            t._(
                N_("Please keep the note short (at most {max} characters, yours has {n})."),
                max=NOTE_MAX,
                n=len(note),
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
        user_id, draft.offer_id, draft.place_id, start, note=draft.note, replaces=draft.replaces
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
    text = views.confirmation_text(t, directory, booking, rules)
    await reply(update, context, text, rebook_markup(t, None))
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
