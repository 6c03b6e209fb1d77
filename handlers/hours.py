"""Consultation hours and places: "when and where can I get help?".

Residents browse topics → offers → places, see the next dates (always computed for "now"
from the one clock, in the configured zone), and get each place as a map pin. Coordinators
reload the directory file and add or lift closures from the chat.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler, filters

from bot import callbacks
from bot.callbacks import Callback, make
from bot.capability import App, Capability, Command, Handler, MenuEntry
from bot.context import BotContext, Services, services_of
from bot.directory import (
    CLOSURE_REASONS,
    OFFICE_ID,
    Directory,
    DirectoryError,
    Occurrence,
    Offer,
    Place,
    Text,
    load_directory,
    next_open,
    open_between,
    status_now,
)
from bot.filters import coordinator_here
from bot.i18n import N_, Translator
from handlers.common import (
    CB_BOOK_HERE,
    answer_query,
    back_to_menu_button,
    closed_line,
    closure_notes,
    closures_now,
    example_note,
    nothing_open,
    on_callback,
    parse_day,
    refuse_coordinator,
    reply,
)
from storage import StoredClosure

CB_TOPICS = callbacks.kind("hrs")
CB_TOPIC = callbacks.kind("hrt", 1)
CB_OFFER = callbacks.kind("hro", 1)
CB_PLACE = callbacks.kind("hrp", 2)
CB_GLANCE = callbacks.kind("hrg", 1)

DATE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2}|\d{1,2}\.\d{1,2}\.\d{4})$")


# -- texts ----------------------------------------------------------------------------------
class Texts:
    """Collects directory texts for one resident and remembers whether any was only German."""

    def __init__(self, t: Translator) -> None:
        self.t = t
        self.german_only = False

    def __call__(self, text: Text | None) -> str:
        if text is None:
            return ""
        value, fell_back = text.get(self.t.code)
        self.german_only |= fell_back and self.t.code != "de"
        return value

    def footer(self) -> str:
        if not self.german_only:
            return ""
        return "\n\n" + self.t._(N_("Some of these texts are only available in German."))


def status_lines(
    t: Translator,
    directory: Directory,
    offer_id: str,
    place_id: str,
    now: datetime,
    closures: list[StoredClosure],
    notes: dict[str, str] | None = None,
) -> list[str]:
    status = status_now(directory, offer_id, place_id, now, closures, tz=t.tz)
    lines = []
    if status.open_now is not None and status.open_until is not None:
        lines.append("🟢 " + t._(N_("open now until {time}"), time=t.time(status.open_until)))
    for closed in status.closed:
        lines.append("⛔ " + closed_line(t, closed, notes))
    nxt = status.next_open
    if nxt is not None:
        lines.append(
            "🕒 "
            + t._(
                N_("next: {date}, {hours}"),
                date=t.date(nxt.start),
                hours=t.time_range(nxt.start, nxt.end),
            )
            + (" *" if nxt.example else "")
        )
    elif status.open_now is None:
        lines.append(t._(N_("no dates in the coming weeks")))
    return lines


# -- views ----------------------------------------------------------------------------------
async def topics_view(update: Update, context: BotContext) -> None:
    t = context.t
    texts = Texts(t)
    directory = context.services.directory
    rows = [
        [InlineKeyboardButton(texts(topic.title), callback_data=callbacks.make(CB_TOPIC, topic.id))]
        for topic in directory.topics
        if directory.offers_for_topic(topic.id)
    ]
    rows.append(
        [
            InlineKeyboardButton(
                "📅 " + t._(N_("Open today")), callback_data=callbacks.make(CB_GLANCE, "today")
            ),
            InlineKeyboardButton(
                "🗓 " + t._(N_("This week")), callback_data=callbacks.make(CB_GLANCE, "week")
            ),
        ]
    )
    rows.append([back_to_menu_button(t)])
    text = t._(N_("What kind of help are you looking for?")) + texts.footer()
    await reply(update, context, text, InlineKeyboardMarkup(rows))


async def topic_view(update: Update, context: BotContext, topic_id: str) -> None:
    t = context.t
    texts = Texts(t)
    directory = context.services.directory
    try:
        topic = directory.topic(topic_id)
    except KeyError:
        await topics_view(update, context)
        return
    rows = [
        [InlineKeyboardButton(texts(offer.title), callback_data=callbacks.make(CB_OFFER, offer.id))]
        for offer in directory.offers_for_topic(topic.id)
    ]
    rows.append(
        [
            InlineKeyboardButton(
                "« " + t._(N_("All topics")), callback_data=callbacks.make(CB_TOPICS)
            )
        ]
    )
    lines = [texts(topic.title)]
    if topic.description:
        lines.append(texts(topic.description))
    await reply(update, context, "\n\n".join(lines) + texts.footer(), InlineKeyboardMarkup(rows))


async def offer_view(update: Update, context: BotContext, offer_id: str) -> None:
    t = context.t
    texts = Texts(t)
    directory = context.services.directory
    try:
        offer = directory.offer(offer_id)
    except KeyError:
        await topics_view(update, context)
        return
    closures = await closures_now(context)
    notes = await closure_notes(context, closures)
    now = context.clock.now()
    parts = [f"📌 {texts(offer.title)}"]
    if offer.description:
        parts.append(texts(offer.description))
    rows = []
    examples = False
    for place_id in offer.place_ids:
        place = directory.place(place_id)
        lines = status_lines(t, directory, offer.id, place_id, now, closures, notes)
        examples |= any(line.endswith(" *") for line in lines)
        parts.append(f"📍 {texts(place.name)}\n" + "\n".join(lines))
        rows.append(
            [
                InlineKeyboardButton(
                    "📍 " + texts(place.name),
                    callback_data=callbacks.make(CB_PLACE, offer.id, place_id),
                )
            ]
        )
    if examples:
        parts.append(example_note(t, directory.office_phone()))
    rows += book_here(t, offer)
    rows.append(
        [
            InlineKeyboardButton(
                "« " + t._(N_("Back")), callback_data=callbacks.make(CB_TOPIC, offer.topic_id)
            )
        ]
    )
    await reply(update, context, "\n\n".join(parts) + texts.footer(), InlineKeyboardMarkup(rows))


def book_here(t: Translator, offer: Offer, place: str = "") -> list[list[InlineKeyboardButton]]:
    """ "Book here": the booking flow (as a new message) with offer and place chosen."""
    if offer.booking is None or not offer.place_ids:
        return []
    data = make(CB_BOOK_HERE, offer.id, *([place] if place else []))
    return [[InlineKeyboardButton("📆 " + t._(N_("Book here")), callback_data=data)]]


def place_details(t: Translator, texts: Texts, place: Place) -> str:
    lines = [f"📍 {texts(place.name)}"]
    if place.address:
        lines.append(
            t.isolate(f"{place.address.street}, {place.address.postcode} {place.address.city}")
        )
    else:
        lines.append(t._(N_("The address will be added soon. Please ask at the office.")))
    if place.phone:
        lines.append("☎️ " + t._(N_("Phone: {phone}"), phone=t.ltr(place.phone)))
    if place.email:
        lines.append("✉️ " + t.ltr(place.email))
    if place.accessibility:
        lines.append("♿ " + texts(place.accessibility))
    if place.notes:
        lines.append(texts(place.notes))
    return "\n".join(lines)


async def place_view(update: Update, context: BotContext, offer_id: str, place_id: str) -> None:
    t = context.t
    texts = Texts(t)
    directory = context.services.directory
    try:
        offer = directory.offer(offer_id)
        place = directory.place(place_id)
    except KeyError:
        await topics_view(update, context)
        return
    closures = await closures_now(context)
    notes = await closure_notes(context, closures)
    lines = status_lines(t, directory, offer.id, place.id, context.clock.now(), closures, notes)
    text = f"{place_details(t, texts, place)}\n\n{texts(offer.title)}:\n" + "\n".join(lines)
    if any(line.endswith(" *") for line in lines):
        text += "\n\n" + example_note(t, directory.office_phone())
    back = InlineKeyboardButton("« " + t._(N_("Back")), callback_data=make(CB_OFFER, offer.id))
    markup = InlineKeyboardMarkup([*book_here(t, offer, place.id), [back]])
    await reply(update, context, text + texts.footer(), markup)
    chat = update.effective_chat
    if chat is not None and place.lat is not None and place.lon is not None:
        address = (
            f"{place.address.street}, {place.address.postcode} {place.address.city}"
            if place.address
            else ""
        )
        await context.bot.send_venue(
            chat.id,
            latitude=place.lat,
            longitude=place.lon,
            title=str(texts(place.name))[:100] or place.id,
            address=address or place.id,
        )


def occurrence_line(
    t: Translator,
    texts: Texts,
    directory: Directory,
    occ: Occurrence,
    now: datetime,
    notes: dict[str, str] | None = None,
) -> str:
    if occ.offer_id == OFFICE_ID:
        title = t._(N_("Office hours"))
    else:
        title = texts(directory.offer(occ.offer_id).title)
    place = texts(directory.place(occ.place_id).name)
    if not occ.is_open:
        return f"⛔ {title} — {place}: {closed_line(t, occ, notes)}"
    marker = "🟢" if occ.start <= now < occ.end else "🕒"
    example = " *" if occ.example else ""
    return f"{marker} {t.time_range(occ.start, occ.end)}{example} {title} — {place}"


async def glance_view(update: Update, context: BotContext, span: str) -> None:
    t = context.t
    texts = Texts(t)
    directory = context.services.directory
    now = context.clock.now()
    today = now.astimezone(context.config.tz).date()
    last = today if span == "today" else today + timedelta(days=6)
    closures = await closures_now(context)
    notes = await closure_notes(context, closures)
    found = open_between(
        directory, today, last, closures, tz=context.config.tz, include_closed=True
    )
    heading = t._(N_("Open today")) if span == "today" else t._(N_("This week"))
    parts = [f"{heading}:"]
    day: date | None = None
    shown = [occ for occ in found if occ.end > now]
    for occ in shown:
        occ_day = occ.start.astimezone(context.config.tz).date()
        if occ_day != day:
            day = occ_day
            parts.append(f"\n{t.date(occ_day, 'MMMMEEEEd')}")
        parts.append(occurrence_line(t, texts, directory, occ, now, notes))
    if not any(occ.is_open for occ in shown):
        first = next_open(directory, now, last, closures, context.config.tz)
        parts.append(nothing_open(t, first.start if first else None))
        if first is not None:
            parts.append(occurrence_line(t, texts, directory, first, now, notes))
            shown.append(first)  # for the note on example times below
    if any(occ.example and occ.is_open for occ in shown):
        parts.append("\n" + example_note(t, directory.office_phone()))
    other = "week" if span == "today" else "today"
    other_label = "🗓 " + t._(N_("This week")) if span == "today" else "📅 " + t._(N_("Open today"))
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(other_label, callback_data=callbacks.make(CB_GLANCE, other))],
            [
                InlineKeyboardButton(
                    "« " + t._(N_("All topics")), callback_data=callbacks.make(CB_TOPICS)
                )
            ],
        ]
    )
    await reply(update, context, "\n".join(parts) + texts.footer(), markup)


# -- commands -------------------------------------------------------------------------------
async def hours_command(update: Update, context: BotContext) -> None:
    await topics_view(update, context)


async def today_command(update: Update, context: BotContext) -> None:
    await glance_view(update, context, "today")


async def reload_command(update: Update, context: BotContext) -> None:
    """Coordinators edit the file, then reload; a broken file never replaces a good one."""
    assert update.effective_message is not None
    t = context.t
    path = context.services.directory_path
    try:
        directory = load_directory(path)
    except DirectoryError as exc:
        problems = "\n".join(f"• {p}" for p in exc.problems[:20])
        more = len(exc.problems) - 20
        text = t._(N_("The directory file has errors. Nothing was changed:")) + "\n" + problems
        if more > 0:
            text += "\n" + t.n_("… and {n} more problem", "… and {n} more problems", more)
        await update.effective_message.reply_text(text[:4000])
        return
    context.services.directory = directory
    await update.effective_message.reply_text(
        t._(
            N_("Directory reloaded — offers: {offers}, places: {places}."),
            offers=len(directory.offers),
            places=len(directory.places),
        )
    )


async def closed_command(update: Update, context: BotContext) -> None:
    """``/closed`` lists; ``/closed <place|all> <day>[..<day>] <reason> [note]`` adds, the
    reason a key of :data:`CLOSURE_REASONS` (residents read it in their language) and the
    note the staff's own words; ``/closed lift <id>`` lifts."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    t = context.t
    directory = context.services.directory
    args = context.args or []
    usage = t._(
        N_(
            "Usage:\n/closed <place or all> <date>[..<date>] <reason> [note]\n"
            "/closed lift <number>\n"
            "Dates as 2026-12-24 or 24.12.2026. Reasons: {reasons}. Words after the reason "
            "reach residents as a note from the office (machine translated if translation "
            "is on). Places: {places}"
        ),
        reasons=", ".join(f"{key} ({t.closure_reason(key)})" for key in CLOSURE_REASONS),
        places=", ".join(p.id for p in directory.places),
    )
    if not args:
        closures = await closures_now(context)
        lines = [t._(N_("Current closures:"))] if closures else [t._(N_("There are no closures."))]
        lines += [closure_line(t, c) for c in closures]
        await message.reply_text("\n".join(lines) + "\n\n" + usage)
        return
    if args[0] == "lift":
        closure_id = int(args[1]) if len(args) > 1 and args[1].isdigit() else None
        lifted = await context.storage.closures.lift(closure_id) if closure_id is not None else None
        if lifted is None:
            await message.reply_text(
                t._(N_("There is no closure with this number.")) + "\n\n" + usage
            )
        else:
            await message.reply_text(t._(N_("Closure lifted:")) + "\n" + closure_line(t, lifted))
        return
    place_arg = args[0]
    known = {p.id for p in directory.places}
    first_text, _, last_text = (args[1] if len(args) > 1 else "").partition("..")
    first = parse_day(first_text)
    last = parse_day(last_text) if last_text else first
    reason_key = args[2].lower() if len(args) > 2 else ""
    note = " ".join(args[3:]).strip()
    if (
        (place_arg != "all" and place_arg not in known)
        or first is None
        or last is None
        or last < first
        or reason_key not in CLOSURE_REASONS
    ):
        await message.reply_text(usage)
        return
    closure = await context.storage.closures.add(
        None if place_arg == "all" else place_arg,
        first,
        last,
        note[:200],
        update.effective_user.id,
        context.clock.now(),
        reason_key=reason_key,
    )
    await message.reply_text(t._(N_("Closure added:")) + "\n" + closure_line(t, closure))
    # Appointments on those days: cancelled, residents told, staff get a summary.
    await context.services.appointments.closure_added(closure)


def closure_line(t: Translator, closure: StoredClosure) -> str:
    """For staff: the reason as residents read it (in the staff's language), then the note."""
    days = t.date(closure.first_day)
    if closure.last_day != closure.first_day:
        days = t.isolate(f"{days}–{t.date(closure.last_day)}")
    place = closure.place_id or t._(N_("all places"))
    note = f" ({closure.reason})" if closure.reason else ""
    return f"#{closure.id} {place}: {days} — {t.closure_reason(closure.reason_key)}{note}"


async def warm_up(application: App) -> None:
    """Expand today's and this week's hours once at start: the first expansion of a process
    loads the holiday calendar (some 40 ms of CPU), which the first resident asking
    "what is open today?" would otherwise wait for. Later days are expanded once each, on
    their first use (``bot.directory.hours`` keeps them)."""
    services = services_of(application)
    tz = services.config.tz
    today = services.clock.now().astimezone(tz).date()
    closures = await services.storage.closures.current(today)
    for last in (today, today + timedelta(days=6)):
        open_between(services.directory, today, last, closures, tz=tz, include_closed=True)


# -- callbacks ------------------------------------------------------------------------------
async def on_hours(update: Update, context: BotContext, cb: Callback) -> None:
    await answer_query(update)
    if cb.kind == CB_TOPICS:
        await topics_view(update, context)
    elif cb.kind == CB_TOPIC:
        await topic_view(update, context, cb.arg(0))
    elif cb.kind == CB_OFFER:
        await offer_view(update, context, cb.arg(0))
    elif cb.kind == CB_PLACE:
        await place_view(update, context, cb.arg(0), cb.arg(1))
    elif cb.kind == CB_GLANCE:
        await glance_view(update, context, "week" if cb.arg(0) == "week" else "today")


def handlers(services: Services, application: App) -> list[Handler]:
    private = filters.ChatType.PRIVATE
    coordinator = filters.UpdateType.MESSAGES & coordinator_here(services.config)
    return [
        CommandHandler("hours", hours_command, filters=private),
        CommandHandler("today", today_command, filters=private),
        CommandHandler("reload", reload_command, filters=coordinator),
        CommandHandler("closed", closed_command, filters=coordinator),
        CommandHandler(["reload", "closed"], refuse_coordinator),
        on_callback((CB_TOPICS, CB_TOPIC, CB_OFFER, CB_PLACE, CB_GLANCE), on_hours),
    ]


CAPABILITY = Capability(
    name="hours",
    handlers=handlers,
    commands=(
        Command("hours", N_("Consultation hours and places")),
        Command("today", N_("What is open today")),
        Command("reload", N_("Reload the directory file"), scope="admin"),
        Command("closed", N_("Add, list or lift closures"), scope="admin"),
    ),
    menu=(
        MenuEntry(10, "🕒", N_("Hours & places"), callbacks.make(CB_TOPICS)),
        MenuEntry(15, "📅", N_("Open today"), callbacks.make(CB_GLANCE, "today")),
    ),
    on_start=(warm_up,),
)
