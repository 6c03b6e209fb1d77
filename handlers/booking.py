"""Appointments: a resident books counselling in a few taps, gets a calendar file and
reminders, and can cancel or move it; a waiting list hands freed seats on.

The flow (offer → place → day → time → note → summary → confirm) edits one message. Where
a resident is in it lives in SQLite (``booking_drafts``), and every button carries the
flow's number: after a restart nothing is stuck, and a button of an older flow is answered
with "this step has expired" and the list of offers. Seats are taken in one database
transaction guarded by unique indexes, so a double tap or fifty residents racing for the
last seat still give one booking per seat.

Reminders and waiting-list holds are rows in SQLite, scheduled again at start-up: a
reminder whose moment passed while the bot was down is sent at once if the appointment is
still ahead, and dropped otherwise.

Everything this module sends into the staff group goes through :func:`post_to_staff`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from icalendar import Calendar, Event
from telegram import (
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.error import BadRequest, Forbidden
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import callbacks
from bot.context import SERVICES, BotContext, Services
from bot.directory import Directory, Place, Text
from bot.i18n import LANGUAGES, N_, Translator
from bot.slots import STAFF, Rules, Slot, bookable_offers, day_bounds, days, free, on_day, slots
from handlers.common import (
    Command,
    MenuEntry,
    add_commands,
    add_menu_entry,
    add_startup,
    answer_query,
    back_to_menu_button,
    closures_now,
    has_consent,
    main_menu,
    menu_text,
    reply,
    staff_t,
)
from storage import StoredClosure
from storage.bookings import Booking, Draft

log = logging.getLogger(__name__)

# Resident flow; every flow button carries the flow number first.
CB_BOOK = callbacks.kind("bk")
CB_OFFER = callbacks.kind("bko", 1)
CB_PLACE = callbacks.kind("bkp", 2)
CB_DAY = callbacks.kind("bkd", 2)
CB_TIME = callbacks.kind("bkt", 2)
CB_SKIP_NOTE = callbacks.kind("bkn", 1)
CB_CONFIRM = callbacks.kind("bkok", 1)
CB_BACK = callbacks.kind("bkb", 2)
CB_QUIT = callbacks.kind("bkx", 1)
CB_WAIT = callbacks.kind("bkw", 1)
# A resident's appointments (by booking id; ownership is checked in the database).
CB_MINE = callbacks.kind("bkm")
CB_CANCEL = callbacks.kind("bkc", 1)
CB_CANCEL_YES = callbacks.kind("bkcy", 1)
CB_MOVE = callbacks.kind("bkr", 1)
CB_COMING = callbacks.kind("bkcome", 1)
CB_HOLD_TAKE = callbacks.kind("bkha", 1)
CB_HOLD_DROP = callbacks.kind("bkhd", 1)
# Staff buttons on messages in the staff group (handled in handlers.agenda).
CB_STAFF_CONFIRM = callbacks.kind("bsok", 1)
CB_STAFF_DECLINE = callbacks.kind("bsno", 1)
CB_STAFF_ATTENDED = callbacks.kind("bsat", 1)
CB_STAFF_NO_SHOW = callbacks.kind("bsns", 1)
CB_STAFF_CANCEL = callbacks.kind("bscx", 1)

NOTE_MAX = 200
HOLD_TIME = timedelta(hours=2)
"""How long a freed seat is held for the first resident on the waiting list."""
DRAFT_TTL = timedelta(days=1)
"""A flow untouched this long is stale: slots and seats have moved on."""
AWAITING_NOTE = "booking_awaiting_note"
"""bot_data key: resident id -> when the flow began waiting for their note (mirrors
booking_drafts, so a synchronous message filter can ask it)."""
NOTE_WINDOW = timedelta(minutes=30)
"""Text later than this after the note question is not taken as a note: it goes on to the
other modules (e.g. to the counsellors) as if no booking flow were open."""
MAX_DAYS_SHOWN = 12
STEPS = ("place", "day", "time", "note", "summary")


# -- texts ----------------------------------------------------------------------------------
def tx(t: Translator, text: Text | None) -> str:
    return text.get(t.code)[0] if text is not None else ""


def address_line(t: Translator, place: Place) -> str:
    if place.address is None:
        return t._(N_("The address will be added soon. Please ask at the office."))
    a = place.address
    return t.isolate(f"{a.street}, {a.postcode} {a.city}")


def when_line(t: Translator, start: datetime, end: datetime) -> str:
    return t._(N_("{date}, {time}"), date=t.date(start, "yMMMEd"), time=t.time_range(start, end))


def short_when(t: Translator, moment: datetime) -> str:
    return t._(N_("{date}, {time}"), date=t.date(moment, "MMMd"), time=t.time(moment))


def details(t: Translator, directory: Directory, booking: Booking | Slot, note: str = "") -> str:
    """Offer, date and time, place with address (and the resident's note)."""
    offer_id, place_id = booking.offer_id, booking.place_id
    start = booking.starts_at if isinstance(booking, Booking) else booking.start
    end = booking.ends_at if isinstance(booking, Booking) else booking.end
    lines = []
    with contextlib.suppress(KeyError):
        lines.append(f"📋 {tx(t, directory.offer(offer_id).title)}")
    lines.append(f"📅 {when_line(t, start, end)}")
    try:
        place = directory.place(place_id)
        lines.append(f"📍 {tx(t, place.name)}\n{address_line(t, place)}")
    except KeyError:
        pass
    if note:
        lines.append("📝 " + t._(N_("Your note: {note}"), note=note))
    return "\n".join(lines)


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


def rules_of(directory: Directory, offer_id: str) -> Rules | None:
    try:
        return Rules.of(directory.offer(offer_id))
    except KeyError:
        return None


def join(*parts: str) -> str:
    return "\n\n".join(p for p in parts if p)


def confirmation_text(t: Translator, directory: Directory, booking: Booking) -> str:
    rules = rules_of(directory, booking.offer_id)
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
        head, details(t, directory, booking, booking.note), bring_text(t, rules), how_to_cancel(t)
    )


async def staff_line(context: BotContext, booking: Booking) -> str:
    """For staff: who (first name, language), what, when, where, note."""
    t = staff_t(context)
    directory = context.services.directory
    resident = await context.storage.residents.get(booking.user_id)
    name = resident.first_name if resident and resident.first_name else "—"
    language = (
        LANGUAGES[resident.language].native_name
        if resident and resident.language in LANGUAGES
        else "?"
    )
    head = t._(N_("#{id} {name} ({language})"), id=booking.id, name=name, language=language)
    note = (
        "📝 " + t._(N_("Note from the resident: {note}"), note=booking.note) if booking.note else ""
    )
    return join(head, details(t, directory, booking), note)


# -- sending --------------------------------------------------------------------------------
async def post_to_staff(
    context: BotContext, text: str, markup: InlineKeyboardMarkup | ForceReply | None = None
) -> None:
    """The one way appointments write into the staff group (General topic): through the
    shared paced outbox, so a burst of bookings never runs into Telegram's group limit."""
    if context.config.staff_chat is None:
        return
    await context.services.staffpost.send_text(text[:4096], markup=markup, priority=True)


async def send_to_resident(
    context: BotContext, user_id: int, text: str, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Outside a direct reply: a resident who blocked the bot is skipped, not an error."""
    try:
        return await context.bot.send_message(user_id, text[:4096], reply_markup=markup)
    except Forbidden:
        log.info("resident %s has blocked the bot", user_id)
    except BadRequest as exc:
        log.info("could not reach resident %s: %s", user_id, exc)
    return None


def calendar_file(t: Translator, directory: Directory, booking: Booking, now: datetime) -> bytes:
    """An .ics event in Europe/Berlin with the place's address, for the phone's calendar."""
    calendar = Calendar()
    calendar.add("prodid", "-//Quartierbot//Kom.ZFB Krefeld//DE")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"booking-{booking.id}@quartierbot.krefeld")
    event.add("dtstamp", now)
    event.add("dtstart", booking.starts_at.astimezone(t.tz))
    event.add("dtend", booking.ends_at.astimezone(t.tz))
    try:
        event.add("summary", tx(t, directory.offer(booking.offer_id).title))
    except KeyError:
        event.add("summary", booking.offer_id)
    try:
        place = directory.place(booking.place_id)
        location = tx(t, place.name)
        if place.address is not None:
            a = place.address
            location += f", {a.street}, {a.postcode} {a.city}"
        event.add("location", location)
        if place.lat is not None and place.lon is not None:
            event.add("geo", (place.lat, place.lon))
    except KeyError:
        pass
    description = join(bring_text(t, rules_of(directory, booking.offer_id)), how_to_cancel(t))
    if description:
        event.add("description", description)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())


async def send_calendar_file(context: BotContext, t: Translator, booking: Booking) -> None:
    data = calendar_file(t, context.services.directory, booking, context.clock.now())
    try:
        await context.bot.send_document(
            booking.user_id,
            InputFile(data, filename=f"appointment-{booking.id}.ics"),
            caption=t._(N_("Add the appointment to your calendar.")),
        )
    except (Forbidden, BadRequest) as exc:
        log.info("calendar file not delivered to %s: %s", booking.user_id, exc)


def resident_t(context: BotContext, language: str | None) -> Translator:
    return context.services.i18n.get(language)


async def t_for(context: BotContext, user_id: int) -> Translator:
    resident = await context.storage.residents.get(user_id)
    return resident_t(context, resident.language if resident else None)


# -- markups --------------------------------------------------------------------------------
def flow_row(t: Translator, draft: Draft, back_to: str | None) -> list[InlineKeyboardButton]:
    row = []
    if back_to is None:
        row.append(
            InlineKeyboardButton("« " + t._(N_("Back")), callback_data=callbacks.make(CB_BOOK))
        )
    else:
        row.append(
            InlineKeyboardButton(
                "« " + t._(N_("Back")), callback_data=callbacks.make(CB_BACK, draft.flow, back_to)
            )
        )
    row.append(
        InlineKeyboardButton(
            "✖ " + t._(N_("Cancel")), callback_data=callbacks.make(CB_QUIT, draft.flow)
        )
    )
    return row


def mine_button(t: Translator) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        "🗓 " + t._(N_("My appointments")), callback_data=callbacks.make(CB_MINE)
    )


def rebook_markup(t: Translator, offer_id: str | None) -> InlineKeyboardMarkup:
    data = callbacks.make(CB_OFFER, offer_id) if offer_id else callbacks.make(CB_BOOK)
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("📆 " + t._(N_("Book a new appointment")), callback_data=data)],
            [mine_button(t)],
        ]
    )


def reminder_markup(t: Translator, booking: Booking) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "👍 " + t._(N_("I'll come")),
                    callback_data=callbacks.make(CB_COMING, booking.id),
                ),
                InlineKeyboardButton(
                    "✖ " + t._(N_("Cancel")), callback_data=callbacks.make(CB_CANCEL, booking.id)
                ),
            ]
        ]
    )


def staff_request_markup(t: Translator, booking: Booking) -> InlineKeyboardMarkup:
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


# -- slots ----------------------------------------------------------------------------------
async def free_slots(
    context: BotContext, offer_id: str, place_id: str | None
) -> list[tuple[Slot, int]]:
    """Bookable slots with free seats, now, for one offer (at one place or all)."""
    directory = context.services.directory
    rules = rules_of(directory, offer_id)
    if rules is None:
        return []
    now = context.clock.now()
    closures = await closures_now(context)
    try:
        found = slots(directory, offer_id, place_id, now, closures, context.config.tz, rules=rules)
    except KeyError:
        return []
    first, last = rules.window(now)
    taken = await context.storage.bookings.taken(offer_id, first, last + timedelta(minutes=1))
    return free(found, taken, rules.seats)


async def find_slot(
    context: BotContext, offer_id: str, place_id: str, start: datetime
) -> Slot | None:
    """The slot starting at ``start`` if it is bookable at all (free or not)."""
    directory = context.services.directory
    rules = rules_of(directory, offer_id)
    if rules is None:
        return None
    closures = await closures_now(context)
    try:
        found = slots(
            directory,
            offer_id,
            place_id,
            context.clock.now(),
            closures,
            context.config.tz,
            rules=rules,
        )
    except KeyError:
        return None
    return next((s for s in found if s.start == start), None)


# -- reminders and holds: durable jobs -----------------------------------------------------
def reminder_job(booking_id: int, reminder_id: int) -> str:
    return f"booking-remind:{booking_id}:{reminder_id}"


async def schedule_reminders(context: BotContext, booking_id: int) -> None:
    for reminder in await context.storage.booking_reminders.pending(booking_id):
        context.scheduler.at(
            reminder_job(booking_id, reminder.id), reminder.due_at, send_reminder, reminder.id
        )


def unschedule_reminders(context: BotContext, booking_id: int) -> None:
    for job_id in context.scheduler.pending(f"booking-remind:{booking_id}:"):
        context.scheduler.cancel(job_id)


async def send_reminder(context: BotContext, reminder_id: int) -> None:
    now = context.clock.now()
    booking = await context.storage.booking_reminders.claim(reminder_id, now)
    if booking is None:  # already sent, cancelled, moved, or the appointment is over
        return
    t = await t_for(context, booking.user_id)
    directory = context.services.directory
    text = join(
        "⏰ " + t._(N_("Reminder of your appointment:")),
        details(t, directory, booking, booking.note),
        bring_text(t, rules_of(directory, booking.offer_id)),
    )
    await send_to_resident(context, booking.user_id, text, reminder_markup(t, booking))


def hold_job(booking_id: int) -> str:
    return f"booking-hold:{booking_id}"


async def expire_hold(context: BotContext, booking_id: int) -> None:
    released = await context.storage.bookings.release_hold(booking_id, now=context.clock.now())
    if released is None:  # taken or declined meanwhile
        return
    t = await t_for(context, released.user_id)
    await send_to_resident(
        context,
        released.user_id,
        t._(
            N_(
                "The seat we held for you has now been offered to the next person on the "
                "waiting list. You can book another appointment at any time."
            )
        ),
        rebook_markup(t, released.offer_id),
    )
    await seat_freed(context, released)


async def seat_freed(context: BotContext, booking: Booking) -> None:
    """A seat of this slot became free: hold it for the first in line who may take it."""
    directory = context.services.directory
    rules = rules_of(directory, booking.offer_id)
    if rules is None:
        return
    start = booking.starts_at.astimezone(context.config.tz)
    slot = await find_slot(context, booking.offer_id, booking.place_id, start)
    if slot is None:  # closed, or too soon to book
        return
    while True:
        now = context.clock.now()
        hold_until = min(now + HOLD_TIME, slot.start - rules.min_notice)
        if hold_until <= now:
            return
        held = await context.storage.bookings.hold_for_next(
            offer_id=slot.offer_id,
            place_id=slot.place_id,
            starts_at=slot.start,
            ends_at=slot.end,
            seats=rules.seats,
            max_per_resident=rules.max_per_resident,
            hold_until=hold_until,
            now=now,
        )
        if held is None:
            return
        hold, _ = held
        t = await t_for(context, hold.user_id)
        text = join(
            "🎉 " + t._(N_("A seat has become free for you:")),
            details(t, directory, hold),
            t._(
                N_("We hold it for you until {time}. Would you like to take it?"),
                time=short_when(t, hold_until),
            ),
        )
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        "✅ " + t._(N_("Yes, book it")),
                        callback_data=callbacks.make(CB_HOLD_TAKE, hold.id),
                    ),
                    InlineKeyboardButton(
                        "✖ " + t._(N_("No, thanks")),
                        callback_data=callbacks.make(CB_HOLD_DROP, hold.id),
                    ),
                ]
            ]
        )
        if await send_to_resident(context, hold.user_id, text, markup) is not None:
            context.scheduler.at(hold_job(hold.id), hold_until, expire_hold, hold.id)
            return
        # Unreachable: pass the seat on at once.
        await context.storage.bookings.release_hold(hold.id, now=now, force=True)


async def on_startup(application: Application) -> None:
    """Schedule again what must survive a restart: reminders, holds, note prompts."""
    services: Services = application.bot_data[SERVICES]
    storage, scheduler = services.storage, services.scheduler
    for reminder in await storage.booking_reminders.pending():
        scheduler.at(
            reminder_job(reminder.booking_id, reminder.id),
            reminder.due_at,
            send_reminder,
            reminder.id,
        )
    for hold in await storage.bookings.holds():
        assert hold.hold_until is not None
        scheduler.at(hold_job(hold.id), hold.hold_until, expire_hold, hold.id)
    application.bot_data[AWAITING_NOTE] = dict(await storage.booking_drafts.awaiting_note())


def track_note(context: BotContext, draft: Draft | None, user_id: int) -> None:
    waiting: dict[int, datetime] = context.application.bot_data.setdefault(AWAITING_NOTE, {})
    if draft is not None and draft.step == "note":
        waiting[user_id] = draft.updated_at
    else:
        waiting.pop(user_id, None)


# -- flow views -----------------------------------------------------------------------------
async def offers_view(update: Update, context: BotContext, notice: str = "") -> None:
    t = context.t
    rows = [
        [InlineKeyboardButton(tx(t, o.title), callback_data=callbacks.make(CB_OFFER, o.id))]
        for o in bookable_offers(context.services.directory)
    ]
    rows.append([mine_button(t)])
    rows.append([back_to_menu_button(t)])
    text = join(notice, t._(N_("Which appointment would you like to book?")))
    await reply(update, context, text, InlineKeyboardMarkup(rows))


async def expired(update: Update, context: BotContext, *, answered: bool = False) -> None:
    text = t_expired(context.t)
    if not answered:
        await answer_query(update, text)
    await offers_view(update, context, "⌛ " + text)


def t_expired(t: Translator) -> str:
    return t._(N_("This step has expired. Please choose again."))


async def start_flow(
    update: Update, context: BotContext, offer_id: str, replaces: Booking | None = None
) -> None:
    user_id = update.effective_user.id if update.effective_user else 0
    directory = context.services.directory
    rules = rules_of(directory, offer_id)
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
        user_id,
        offer_id,
        now,
        replaces=replaces.id if replaces else None,
        place_id=place_id,
        note=replaces.note if replaces else "",
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
    markup = InlineKeyboardMarkup([[mine_button(t)], [back_to_menu_button(t)]])
    await reply(update, context, "ℹ️ " + text, markup)


async def place_view(update: Update, context: BotContext, draft: Draft) -> None:
    t = context.t
    directory = context.services.directory
    draft = await set_draft(context, draft, step="place") or draft
    offer = directory.offer(draft.offer_id)
    rows = []
    for place_id in offer.place_ids:
        place = directory.place(place_id)
        rows.append(
            [
                InlineKeyboardButton(
                    "📍 " + tx(t, place.name),
                    callback_data=callbacks.make(CB_PLACE, draft.flow, place_id),
                )
            ]
        )
    rows.append(flow_row(t, draft, None))
    text = join(f"📋 {tx(t, offer.title)}", t._(N_("Where would you like to come?")))
    await reply(update, context, text, InlineKeyboardMarkup(rows))


def day_code(day: date) -> str:
    return day.strftime("%Y%m%d")


def parse_day_code(code: str) -> date | None:
    try:
        return datetime.strptime(code, "%Y%m%d").date() if len(code) == 8 else None
    except ValueError:
        return None


def back_from_day(context: BotContext, draft: Draft) -> str | None:
    offer = context.services.directory.offer(draft.offer_id)
    return "place" if len(offer.place_ids) > 1 else None


async def day_view(update: Update, context: BotContext, draft: Draft, notice: str = "") -> None:
    t = context.t
    directory = context.services.directory
    draft = await set_draft(context, draft, step="day") or draft
    offer = directory.offer(draft.offer_id)
    found = await free_slots(context, draft.offer_id, draft.place_id)
    tz = context.config.tz
    head = [f"📋 {tx(t, offer.title)}"]
    if draft.place_id:
        head.append(f"📍 {tx(t, directory.place(draft.place_id).name)}")
    rows: list[list[InlineKeyboardButton]] = []
    free_days = days(found, tz)[:MAX_DAYS_SHOWN]
    if free_days:
        question = t._(N_("Which day suits you?"))
        buttons = [
            InlineKeyboardButton(
                t.date(d, "MMMEd"), callback_data=callbacks.make(CB_DAY, draft.flow, day_code(d))
            )
            for d in free_days
        ]
        rows += [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    else:
        question = t._(
            N_(
                "Sorry, there are no free appointments in the coming weeks. You can join the "
                "waiting list: when a seat becomes free, we offer it to you first."
            )
        )
        rows.append(
            [
                InlineKeyboardButton(
                    "⏳ " + t._(N_("Join the waiting list")),
                    callback_data=callbacks.make(CB_WAIT, draft.flow),
                )
            ]
        )
    rows.append(flow_row(t, draft, back_from_day(context, draft)))
    await reply(
        update, context, join(notice, "\n".join(head), question), InlineKeyboardMarkup(rows)
    )


async def time_view(
    update: Update, context: BotContext, draft: Draft, day: date, notice: str = ""
) -> None:
    t = context.t
    tz = context.config.tz
    found = on_day(await free_slots(context, draft.offer_id, draft.place_id), day, tz)
    if not found:
        await day_view(
            update,
            context,
            draft,
            "⚠️ " + t._(N_("There are no free times left on this day. Please choose another day.")),
        )
        return
    draft = await set_draft(context, draft, step="time", day=day_code(day)) or draft
    rules = rules_of(context.services.directory, draft.offer_id)
    show_seats = rules is not None and rules.seats > 1
    buttons = []
    for slot, left in found:
        label = t.time(slot.start)
        if show_seats:
            label = t.n_("{time} ({n} free)", "{time} ({n} free)", left, time=label)
        buttons.append(
            InlineKeyboardButton(
                label,
                callback_data=callbacks.make(CB_TIME, draft.flow, int(slot.start.timestamp())),
            )
        )
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
        [
            [
                InlineKeyboardButton(
                    "⏭ " + t._(N_("Skip")), callback_data=callbacks.make(CB_SKIP_NOTE, draft.flow)
                )
            ],
            flow_row(t, draft, "time"),
        ]
    )
    await reply(update, context, text, markup)


async def summary_view(update: Update, context: BotContext, draft: Draft) -> None:
    t = context.t
    directory = context.services.directory
    draft = await set_draft(context, draft, step="summary") or draft
    assert draft.starts_at is not None and draft.place_id is not None
    rules = rules_of(directory, draft.offer_id)
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
    parts = [heading, details(t, directory, slot, draft.note), bring_text(t, rules)]
    if staff_confirms:
        parts.append(t._(N_("The team confirms this appointment; you will get a message.")))
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "✅ " + label, callback_data=callbacks.make(CB_CONFIRM, draft.flow)
                )
            ],
            flow_row(t, draft, "note"),
        ]
    )
    await reply(update, context, join(*parts), markup)


async def set_draft(context: BotContext, draft: Draft, **changes: object) -> Draft | None:
    updated = await context.storage.booking_drafts.update(draft, context.clock.now(), **changes)
    track_note(context, updated, draft.user_id)
    return updated


# -- flow callbacks -------------------------------------------------------------------------
async def current_draft(update: Update, context: BotContext, flow: str) -> Draft | None:
    """The resident's draft if the button belongs to it and it is still going."""
    assert update.effective_user is not None
    draft = await context.storage.booking_drafts.get(update.effective_user.id)
    if (
        draft is None
        or str(draft.flow) != flow
        or draft.step not in STEPS
        or context.clock.now() - draft.updated_at > DRAFT_TTL
        or rules_of(context.services.directory, draft.offer_id) is None
    ):
        return None
    return draft


async def consent_first(update: Update, context: BotContext) -> bool:
    """Booking stores data: only after consent."""
    if has_consent(context):
        return True
    from handlers.onboarding import consent_markup, consent_question

    await answer_query(update)
    await reply(update, context, consent_question(context.t), consent_markup(context))
    return False


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
        day = parse_day_code(cb.arg(1))
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
    t = context.t
    day = parse_day_code(draft.day or "")
    if draft.place_id is None or day is None or not stamp.isdigit():
        await day_view(update, context, draft)
        return
    start = datetime.fromtimestamp(int(stamp), context.config.tz)
    found = dict(
        (slot.start, slot)
        for slot, _ in on_day(
            await free_slots(context, draft.offer_id, draft.place_id), day, context.config.tz
        )
    )
    if start not in found:
        await time_view(
            update,
            context,
            draft,
            day,
            "⚠️ " + t._(N_("Sorry, this time is no longer available. These times are still free:")),
        )
        return
    draft = await set_draft(context, draft, starts_at=start) or draft
    await note_view(update, context, draft)


async def go_back(update: Update, context: BotContext, draft: Draft, target: str) -> None:
    day = parse_day_code(draft.day or "")
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
        await message.reply_text(t_expired(t))
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
    draft = await context.storage.booking_drafts.get(user_id)
    if draft is not None and str(draft.flow) == flow and draft.step == "done" and draft.booking_id:
        booking = await context.storage.bookings.get(draft.booking_id)
        if booking is not None and booking.is_open:
            # A double tap: the first one booked; say so and show it again.
            await answer_query(update, t._(N_("You have already booked this appointment.")))
            await reply(
                update, context, confirmation_text(t, directory, booking), rebook_markup(t, None)
            )
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
    rules = rules_of(directory, draft.offer_id)
    assert rules is not None
    start = draft.starts_at.astimezone(context.config.tz)
    day = start.date()
    slot = await find_slot(context, draft.offer_id, draft.place_id, start)
    if slot is None:
        await answer_query(update)
        await time_view(
            update,
            context,
            draft,
            day,
            "⚠️ " + t._(N_("Sorry, this time is no longer available. These times are still free:")),
        )
        return
    now = context.clock.now()
    outcome = await context.storage.bookings.book(
        user_id=user_id,
        offer_id=slot.offer_id,
        place_id=slot.place_id,
        starts_at=slot.start,
        ends_at=slot.end,
        seats=rules.seats,
        max_per_resident=rules.max_per_resident,
        status="requested" if rules.confirm == STAFF else "confirmed",
        note=draft.note,
        now=now,
        reminders=context.config.reminders,
        replaces=draft.replaces,
    )
    if outcome.refused == "full":
        await answer_query(update, t._(N_("Sorry, this time has just been taken.")), alert=True)
        await time_view(
            update,
            context,
            draft,
            day,
            "⚠️ " + t._(N_("Sorry, this time has just been taken. These times are still free:")),
        )
        return
    if outcome.refused == "limit":
        await answer_query(update)
        await limit_view(update, context, rules)
        return
    if outcome.refused == "duplicate" and outcome.existing is not None:
        await answer_query(update, t._(N_("You have already booked this appointment.")))
        await reply(
            update,
            context,
            confirmation_text(t, directory, outcome.existing),
            rebook_markup(t, None),
        )
        return
    if outcome.booking is None:  # "gone": the appointment to move no longer exists
        await answer_query(update)
        await context.storage.booking_drafts.end(user_id, now)
        await mine_view(
            update,
            context,
            "⚠️ " + t._(N_("The appointment you wanted to move no longer exists.")),
        )
        return
    booking = outcome.booking
    await context.storage.booking_drafts.update(draft, now, step="done", booking_id=booking.id)
    track_note(context, None, user_id)
    await answer_query(update)
    await reply(update, context, confirmation_text(t, directory, booking), rebook_markup(t, None))
    if booking.status == "confirmed":
        await send_calendar_file(context, t, booking)
        await schedule_reminders(context, booking.id)
    st = staff_t(context)
    line = await staff_line(context, booking)
    if outcome.replaced is not None:
        unschedule_reminders(context, outcome.replaced.id)
        old = when_line(st, outcome.replaced.starts_at, outcome.replaced.ends_at)
        head = "🔁 " + st._(
            N_("Appointment moved (was #{old_id}, {when}):"), old_id=outcome.replaced.id, when=old
        )
    elif booking.status == "requested":
        head = "📨 " + st._(N_("New appointment request — please confirm or decline:"))
    else:
        head = "🆕 " + st._(N_("New appointment:"))
    markup = staff_request_markup(st, booking) if booking.status == "requested" else None
    await post_to_staff(context, join(head, line), markup)
    if outcome.replaced is not None:
        await seat_freed(context, outcome.replaced)


async def join_waitlist(update: Update, context: BotContext, draft: Draft) -> None:
    t = context.t
    now = context.clock.now()
    joined = await context.storage.waitlist.join(draft.user_id, draft.offer_id, draft.place_id, now)
    await context.storage.booking_drafts.end(draft.user_id, now)
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
    await reply(
        update,
        context,
        "⏳ " + text,
        InlineKeyboardMarkup([[mine_button(t)], [back_to_menu_button(t)]]),
    )


# -- my appointments ------------------------------------------------------------------------
async def mine_view(update: Update, context: BotContext, notice: str = "") -> None:
    t = context.t
    assert update.effective_user is not None
    directory = context.services.directory
    upcoming = await context.storage.bookings.upcoming(
        update.effective_user.id, context.clock.now()
    )
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
                    InlineKeyboardButton(
                        "✖ " + t._(N_("Cancel {when}"), when=short),
                        callback_data=callbacks.make(CB_CANCEL, booking.id),
                    ),
                    InlineKeyboardButton(
                        "🔁 " + t._(N_("Move")), callback_data=callbacks.make(CB_MOVE, booking.id)
                    ),
                ]
            )
    for entry in await context.storage.waitlist.of(update.effective_user.id):
        try:
            title = tx(t, directory.offer(entry.offer_id).title)
        except KeyError:
            continue
        parts.append("⏳ " + t._(N_("On the waiting list: {offer}"), offer=title))
    rows.append(
        [
            InlineKeyboardButton(
                "📆 " + t._(N_("Book an appointment")), callback_data=callbacks.make(CB_BOOK)
            )
        ]
    )
    rows.append([back_to_menu_button(t)])
    await reply(update, context, join(*parts), InlineKeyboardMarkup(rows))


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


def gone_text(t: Translator) -> str:
    return t._(N_("This appointment is no longer open (it was cancelled, moved or is over)."))


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
    if cb.kind == CB_CANCEL:
        await answer_query(update)
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        "✖ " + t._(N_("Yes, cancel it")),
                        callback_data=callbacks.make(CB_CANCEL_YES, booking.id),
                    ),
                    InlineKeyboardButton(
                        t._(N_("No, keep it")), callback_data=callbacks.make(CB_MINE)
                    ),
                ]
            ]
        )
        text = join(
            t._(N_("Do you really want to cancel this appointment?")),
            details(t, directory, booking),
        )
        await reply(update, context, text, markup)
    elif cb.kind == CB_CANCEL_YES:
        now = context.clock.now()
        cancelled = await context.storage.bookings.cancel(
            booking.id, now=now, by="resident", user_id=booking.user_id
        )
        if cancelled is None:
            await answer_query(update, gone_text(t), alert=True)
            await mine_view(update, context)
            return
        unschedule_reminders(context, cancelled.id)
        await answer_query(update)
        await reply(
            update,
            context,
            join(
                "✅ " + t._(N_("Your appointment has been cancelled.")),
                details(t, directory, cancelled),
            ),
            rebook_markup(t, cancelled.offer_id),
        )
        st = staff_t(context)
        await post_to_staff(
            context,
            join(
                "❌ " + st._(N_("Appointment cancelled by the resident:")),
                await staff_line(context, cancelled),
            ),
        )
        await seat_freed(context, cancelled)
    elif cb.kind == CB_MOVE:
        await answer_query(update)
        await start_flow(update, context, booking.offer_id, replaces=booking)
    elif cb.kind == CB_COMING:
        await context.storage.bookings.coming(booking.id, booking.user_id, context.clock.now())
        await answer_query(update, t._(N_("Thank you! See you then.")))
        message = query.message
        if isinstance(message, Message) and message.text:
            markup = InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            "✖ " + t._(N_("Cancel")),
                            callback_data=callbacks.make(CB_CANCEL, booking.id),
                        )
                    ]
                ]
            )
            await reply(
                update,
                context,
                join(message.text, "👍 " + t._(N_("You have confirmed that you will come."))),
                markup,
            )


async def on_hold(update: Update, context: BotContext, kind: str, booking_id: int | None) -> None:
    t = context.t
    assert update.effective_user is not None
    user_id = update.effective_user.id
    now = context.clock.now()
    directory = context.services.directory
    hold = await context.storage.bookings.get(booking_id) if booking_id is not None else None
    if hold is None or hold.user_id != user_id:
        await answer_query(update, gone_text(t), alert=True)
        return
    rules = rules_of(directory, hold.offer_id)
    if kind == CB_HOLD_DROP:
        released = await context.storage.bookings.release_hold(hold.id, now=now, user_id=user_id)
        await answer_query(update)
        context.scheduler.cancel(hold_job(hold.id))
        await reply(
            update,
            context,
            t._(N_("All right, we offer the seat to the next person.")),
            rebook_markup(t, hold.offer_id),
        )
        if released is not None:
            await seat_freed(context, released)
        return
    taken = None
    if rules is not None:
        taken = await context.storage.bookings.take_hold(
            hold.id,
            user_id,
            status="requested" if rules.confirm == STAFF else "confirmed",
            now=now,
            reminders=context.config.reminders,
        )
    if taken is None:
        await answer_query(update, t._(N_("Sorry, this offer has expired.")), alert=True)
        await reply(
            update,
            context,
            t._(N_("Sorry, this offer has expired.")),
            rebook_markup(t, hold.offer_id),
        )
        return
    context.scheduler.cancel(hold_job(hold.id))
    await answer_query(update)
    await reply(update, context, confirmation_text(t, directory, taken), rebook_markup(t, None))
    if taken.status == "confirmed":
        await send_calendar_file(context, t, taken)
        await schedule_reminders(context, taken.id)
    st = staff_t(context)
    head = (
        "📨 " + st._(N_("New appointment request — please confirm or decline:"))
        if taken.status == "requested"
        else "🆕 " + st._(N_("New appointment from the waiting list:"))
    )
    markup = staff_request_markup(st, taken) if taken.status == "requested" else None
    await post_to_staff(context, join(head, await staff_line(context, taken)), markup)


# -- commands -------------------------------------------------------------------------------
async def book_command(update: Update, context: BotContext) -> None:
    if await consent_first(update, context):
        await offers_view(update, context)


async def appointments_command(update: Update, context: BotContext) -> None:
    if await consent_first(update, context):
        await mine_view(update, context)


# -- residents who leave --------------------------------------------------------------------
async def cancel_all_for(context: BotContext, user_id: int) -> int:
    """A resident deletes their data: every appointment still ahead is cancelled, staff are
    told, the seats (and any seat held for them) go to the next on the waiting list and the
    reminders are dropped."""
    now = context.clock.now()
    for hold in await context.storage.bookings.holds_of(user_id):
        released = await context.storage.bookings.release_hold(hold.id, now=now, user_id=user_id)
        if released is not None:
            context.scheduler.cancel(hold_job(released.id))
            await seat_freed(context, released)
    count = 0
    for booking in await context.storage.bookings.upcoming(user_id, now):
        cancelled = await context.storage.bookings.cancel(
            booking.id, now=now, by="resident", user_id=user_id
        )
        if cancelled is None:
            continue
        count += 1
        unschedule_reminders(context, cancelled.id)
        st = staff_t(context)
        await post_to_staff(
            context,
            join(
                "❌ " + st._(N_("Appointment cancelled because the resident deleted their data:")),
                await staff_line(context, cancelled),
            ),
        )
        await seat_freed(context, cancelled)
    return count


# -- closures -------------------------------------------------------------------------------
async def closure_added(context: BotContext, closure: StoredClosure) -> int:
    """Called by /closed after a closure is stored: cancel the appointments on those days,
    tell each resident in their language and offer to book again. Returns how many."""
    tz = context.config.tz
    start, _ = day_bounds(closure.first_day, tz)
    _, end = day_bounds(closure.last_day, tz)
    now = context.clock.now()
    directory = context.services.directory
    affected = await context.storage.bookings.between(
        max(start, now), end, closure.place_id, statuses=("held", "requested", "confirmed")
    )
    cancelled: list[Booking] = []
    for booking in affected:
        if booking.status == "held":
            await context.storage.bookings.release_hold(booking.id, now=now, force=True)
            context.scheduler.cancel(hold_job(booking.id))
            continue
        done = await context.storage.bookings.cancel(
            booking.id, now=now, by="closure", reason=closure.reason
        )
        if done is None:
            continue
        unschedule_reminders(context, done.id)
        cancelled.append(done)
        t = await t_for(context, done.user_id)
        place = tx(t, directory.place(done.place_id).name) if done.place_id else ""
        text = join(
            "⚠️ "
            + t._(
                N_(
                    "Unfortunately {place} is closed on {date} ({reason}). We have had to "
                    "cancel your appointment:"
                ),
                place=place,
                date=t.date(done.starts_at, "MMMMEEEEd"),
                reason=closure.reason,
            ),
            details(t, directory, done),
            t._(N_("We are sorry. Would you like to book a new appointment?")),
        )
        await send_to_resident(context, done.user_id, text, rebook_markup(t, done.offer_id))
    if cancelled:
        st = staff_t(context)
        lines = [await staff_line(context, b) for b in cancelled]
        await post_to_staff(
            context,
            join(
                "⛔ "
                + st.n_(
                    "Closure #{id}: {n} appointment was cancelled; the resident has been told.",
                    "Closure #{id}: {n} appointments were cancelled; the residents have been told.",
                    len(cancelled),
                    id=closure.id,
                ),
                *lines,
            ),
        )
    return len(cancelled)


# -- register -------------------------------------------------------------------------------
class _AwaitingNote(filters.MessageFilter):
    """Lets a private text through only while its sender's flow waits for a note, so other
    text reaches the modules after this one."""

    def __init__(self, application: Application) -> None:
        super().__init__(name="booking_awaiting_note")
        self.bot_data = application.bot_data

    def filter(self, message: Message) -> bool:
        user = message.from_user
        waiting: dict[int, datetime] = self.bot_data.get(AWAITING_NOTE, {})
        since = waiting.get(user.id) if user is not None else None
        if since is None:
            return False
        services: Services = self.bot_data[SERVICES]
        return services.clock.now() - since <= NOTE_WINDOW


FLOW_KINDS: Sequence[str] = (
    CB_BOOK,
    CB_OFFER,
    CB_PLACE,
    CB_DAY,
    CB_TIME,
    CB_SKIP_NOTE,
    CB_CONFIRM,
    CB_BACK,
    CB_QUIT,
    CB_WAIT,
)
MINE_KINDS: Sequence[str] = (
    CB_MINE,
    CB_CANCEL,
    CB_CANCEL_YES,
    CB_MOVE,
    CB_COMING,
    CB_HOLD_TAKE,
    CB_HOLD_DROP,
)


def register(application: Application) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handlers(
        [
            CommandHandler("book", book_command, filters=private),
            CommandHandler("appointments", appointments_command, filters=private),
            MessageHandler(
                private & filters.TEXT & ~filters.COMMAND & _AwaitingNote(application), on_note
            ),
            *(CallbackQueryHandler(on_flow, pattern=callbacks.matches(k)) for k in FLOW_KINDS),
            *(CallbackQueryHandler(on_mine, pattern=callbacks.matches(k)) for k in MINE_KINDS),
        ]
    )
    add_commands(
        application,
        Command("book", N_("Book an appointment")),
        Command("appointments", N_("My appointments: cancel or move")),
    )
    add_menu_entry(
        application,
        MenuEntry(20, "📆", N_("Book an appointment"), callbacks.make(CB_BOOK), needs_consent=True),
    )
    add_menu_entry(
        application,
        MenuEntry(25, "🗓", N_("My appointments"), callbacks.make(CB_MINE), needs_consent=True),
    )
    add_startup(application, on_startup)
