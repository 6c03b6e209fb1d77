"""The booking flow's screens, one per step, all in the one message the flow edits: which
offer, place, day, time, the note and the summary; and the resident's own appointments.
Each screen records the step in the resident's draft (``booking_drafts``).
"""

from __future__ import annotations

import functools
from contextvars import ContextVar
from datetime import date, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.callbacks import Callback
from bot.context import BotContext
from bot.flows import Awaiting, Flow
from bot.i18n import N_
from bot.slots import STAFF, Rules, Slot, bookable_offers, days, on_day
from handlers import common
from handlers.booking import views
from handlers.booking.views import (
    CB_BOOK,
    CB_CONFIRM,
    CB_DAY,
    CB_MINE,
    CB_PLACE,
    CB_SKIP_NOTE,
    CB_TIME,
    CB_WAIT,
    FRESH,
    NOTE_MAX,
    button,
    flow_row,
)
from handlers.common import (
    ButtonCallback,
    answer_query,
    consent_markup,
    consent_question,
    details,
    has_consent,
    join,
    tx,
)
from storage import Storage
from storage.bookings import Draft

DRAFT_TTL = timedelta(days=1)
"""A flow untouched this long is stale: slots and seats have moved on."""
NOTE_WINDOW = timedelta(minutes=30)
"""Text later than this after the note question is not taken as a note: it goes on to the
other modules (e.g. to the counsellors) as if no booking flow were open."""
MAX_DAYS_SHOWN = 12
STEPS = ("place", "day", "time", "note", "summary")


_FRESH: ContextVar[bool] = ContextVar("booking_fresh", default=False)


def fresh(step: ButtonCallback) -> ButtonCallback:
    """A button marked :data:`~handlers.booking.views.FRESH` sits under a message that must
    stay (a confirmation, a reminder, a notice): what it opens comes as a new message."""

    @functools.wraps(step)
    async def button(update: Update, context: BotContext, cb: Callback) -> None:
        marked = bool(cb.args) and cb.args[-1] == FRESH
        token = _FRESH.set(marked and (cb.kind in (CB_BOOK, CB_MINE) or len(cb.args) == 2))
        try:
            await step(update, context, cb)
        finally:
            _FRESH.reset(token)

    return button


def always_fresh(step: ButtonCallback) -> ButtonCallback:
    """For buttons that only ever sit under messages that stay (a reminder's "I'll come")."""

    @functools.wraps(step)
    async def button(update: Update, context: BotContext, cb: Callback) -> None:
        token = _FRESH.set(True)
        try:
            await step(update, context, cb)
        finally:
            _FRESH.reset(token)

    return button


async def reply(
    update: Update, context: BotContext, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """:func:`handlers.common.reply`, except under a message that must stay."""
    chat = update.effective_chat
    if _FRESH.get() and chat is not None:
        await context.bot.send_message(chat.id, context.t.paragraph(text), reply_markup=markup)
        return
    await common.reply(update, context, text, markup)


async def consent_first(update: Update, context: BotContext) -> bool:
    """Booking stores data: only after consent."""
    if has_consent(context):
        return True
    await answer_query(update)
    await reply(update, context, consent_question(context.t), consent_markup(context))
    return False


def rules_of(context: BotContext, offer_id: str) -> Rules | None:
    return context.services.appointments.rules_of(offer_id)


def awaiting_note(draft: Draft) -> Awaiting | None:
    """At the note step the flow waits for the resident's text in their private chat."""
    if draft.step != "note":
        return None
    return Awaiting(draft.user_id, draft.user_id, None, draft.updated_at)


async def drafts_at_note(storage: Storage) -> list[Draft]:
    return await storage.booking_drafts.awaiting_note()


NOTE = Flow[Draft]("booking", awaiting=awaiting_note, drafts=drafts_at_note, window=NOTE_WINDOW)
"""The booking flow, as far as typed input goes: only the note is typed."""


def track_note(context: BotContext, draft: Draft | None, user_id: int) -> None:
    """After every write of the resident's draft (None: it ended)."""
    context.services.flows.track(NOTE, user_id, draft)


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
    text = t.n_(
        "Would you like to tell the counsellor briefly what it is about? Just write it "
        "here (at most {n} character), or skip this step.",
        "Would you like to tell the counsellor briefly what it is about? Just write it "
        "here (at most {n} characters), or skip this step.",
        NOTE_MAX,
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
    parts = [
        heading,
        details(t, directory, slot, draft.note),
        views.interpreter_text(t, draft.interpreter),
        views.bring_text(t, rules),
    ]
    if staff_confirms:
        parts.append(t._(N_("The team confirms this appointment; you will get a message.")))
    rows = [[button("✅ " + label, CB_CONFIRM, draft.flow)]]
    interpreter = views.interpreter_button(t, draft)
    if interpreter is not None:
        rows.append([interpreter])
    rows.append(flow_row(t, draft, "note"))
    markup = InlineKeyboardMarkup(rows)
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
