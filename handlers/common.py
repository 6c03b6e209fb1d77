"""What every capability shares: who is writing (resident and language, resolved once per
update), the main menu and the command list that modules contribute to, and replying by
editing the message a button belongs to instead of flooding the chat."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import Application, TypeHandler

from bot import callbacks
from bot.context import BotContext
from bot.directory import Directory, Place, Text
from bot.i18n import N_, Translator, resolve_language
from bot.slots import Slot
from storage import StoredClosure
from storage.bookings import Booking

MENU = "menu"
STARTUP_HOOKS = "startup_hooks"
STAFF_LANGUAGE = "de"
"""The staff group reads German."""
SHUTDOWN_HOOKS = "shutdown_hooks"
PENDING_LANGUAGE = "language"
"""user_data key: a language chosen before consent, kept in memory only."""
COMMANDS = "commands"

CB_MENU = callbacks.kind("menu")
# Declared here because several capabilities make these buttons; onboarding handles the
# first two, privacy the last.
CB_CONSENT = callbacks.kind("consent", 1)
CB_LANG_MENU = callbacks.kind("langs")
CB_DELETE = callbacks.kind("del", 1)


@dataclass(frozen=True)
class MenuEntry:
    order: int
    icon: str
    label: str
    """msgid of the button label; the icon stays out of the catalogs."""
    callback_data: str
    needs_consent: bool = False


@dataclass(frozen=True)
class Command:
    name: str
    description: str
    """msgid of the description shown in Telegram's command menu and in /help."""
    scope: str = "private"
    """``private`` for residents, ``staff`` for the staff group, ``admin`` for coordinators."""


def add_menu_entry(application: Application, entry: MenuEntry) -> None:
    entries: list[MenuEntry] = application.bot_data.setdefault(MENU, [])
    entries.append(entry)
    entries.sort(key=lambda e: e.order)


def add_commands(application: Application, *commands: Command) -> None:
    application.bot_data.setdefault(COMMANDS, []).extend(commands)


def add_startup(application: Application, hook: Callable[[Application], Awaitable[None]]) -> None:
    """Run ``hook`` at start-up, after the database is open (e.g. to schedule stored
    reminders again)."""
    application.bot_data.setdefault(STARTUP_HOOKS, []).append(hook)


def add_shutdown(application: Application, hook: Callable[[Application], Awaitable[None]]) -> None:
    """Run ``hook`` at shutdown, before the database is closed (e.g. to stop a sender
    task cleanly)."""
    application.bot_data.setdefault(SHUTDOWN_HOOKS, []).append(hook)


def commands_of(application: Application, scope: str) -> list[Command]:
    return [c for c in application.bot_data.get(COMMANDS, []) if c.scope == scope]


# -- resolving the resident of an update ----------------------------------------------------
async def resolve_resident(update: object, context: BotContext) -> None:
    """Runs before every other handler: load the resident once, pick their language."""
    if not isinstance(update, Update) or update.effective_user is None:
        return
    user = update.effective_user
    resident = await context.storage.residents.get(user.id)
    context.resident = resident
    if resident is not None:
        context.lang = resident.language
        await context.storage.residents.touch(resident, context.clock.now())
        if resident.unreachable_since is not None:  # they wrote again: broadcasts resume
            await context.storage.residents.mark_reachable(resident.user_id)
    else:
        pending = context.user_data.get(PENDING_LANGUAGE) if context.user_data is not None else None
        context.lang = pending or resolve_language(user.language_code)


def is_admin(update: Update, context: BotContext) -> bool:
    """Coordinators are named by user id in the configuration; nothing else counts."""
    user = update.effective_user
    return user is not None and user.id in context.config.admins


def staff_or_private(update: Update, context: BotContext) -> bool:
    """Staff commands work in the staff group or in a private chat with the bot, never in
    some other group where residents' data would be exposed."""
    chat = update.effective_chat
    return chat is not None and (chat.type == chat.PRIVATE or chat.id == context.config.staff_chat)


async def refuse(update: Update, context: BotContext) -> None:
    """The same answer for every refused command, revealing nothing."""
    message = update.effective_message
    if message is not None:
        await message.reply_text(
            context.t._(N_("Sorry, this command is only for the project's staff."))
        )


async def audit(
    update: Update | None,
    context: BotContext,
    action: str,
    resident_id: int | None,
    detail: str = "",
) -> None:
    """Write down a staff action that touches a resident (who, what, whom, when)."""
    actor = update.effective_user.id if update is not None and update.effective_user else 0
    await context.storage.audit.record(actor, action, resident_id, context.clock.now(), detail)


async def closures_now(context: BotContext) -> list[StoredClosure]:
    """Closures still ahead, as of today in the configured zone."""
    today = context.clock.now().astimezone(context.config.tz).date()
    return await context.storage.closures.current(today)


def staff_t(context: BotContext) -> Translator:
    """Everything the bot writes into the staff group is in the team's language."""
    return context.services.i18n.get(STAFF_LANGUAGE)


def has_consent(context: BotContext) -> bool:
    return context.resident is not None and context.resident.consented


# -- menu and replies -----------------------------------------------------------------------
def main_menu(context: BotContext) -> InlineKeyboardMarkup:
    t = context.t
    consented = has_consent(context)
    entries = [
        e for e in context.application.bot_data.get(MENU, []) if consented or not e.needs_consent
    ]
    rows = [
        [InlineKeyboardButton(f"{e.icon} {t._(e.label)}", callback_data=e.callback_data)]
        for e in entries
    ]
    return InlineKeyboardMarkup(rows)


def menu_text(t: Translator) -> str:
    return t._(N_("What would you like to do?"))


def back_to_menu_button(t: Translator) -> InlineKeyboardButton:
    return InlineKeyboardButton(t._(N_("« Main menu")), callback_data=callbacks.make(CB_MENU))


async def reply(
    update: Update,
    context: BotContext,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Edit the message whose button was tapped; otherwise send a new message."""
    text = context.t.paragraph(text)
    query = update.callback_query
    if query is not None and query.message is not None and query.message.is_accessible:
        try:
            await query.edit_message_text(text, reply_markup=markup)
            return
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                return
            # Too old or deleted: fall through and send a fresh message.
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(chat.id, text, reply_markup=markup)


async def show_menu(update: Update, context: BotContext) -> None:
    await reply(update, context, menu_text(context.t), main_menu(context))


async def answer_query(update: Update, text: str | None = None, *, alert: bool = False) -> None:
    """Every tapped button gets an answer, or the resident's app shows a spinner."""
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=alert)


async def post_to_staff(
    context: BotContext, text: str, markup: InlineKeyboardMarkup | ForceReply | None = None
) -> None:
    """Answers and notices into the staff group (General topic): through the shared paced
    outbox, so a burst of bookings never runs into Telegram's group limit."""
    if context.config.staff_chat is None:
        return
    await context.services.staffpost.send_text(text[:4096], markup=markup, priority=True)


def parse_day(text: str) -> date | None:
    """A day typed by staff: ``2026-12-01`` or ``1.12.2026``."""
    try:
        if "." in text:
            day, month, year = (int(p) for p in text.split("."))
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        return None


def bilingual(context: BotContext, render: Callable[[Translator], str]) -> str:
    """For a resident whose phone language we do not speak: German, then English."""
    if context.lang is not None:
        return render(context.t)
    i18n = context.services.i18n
    return f"{render(i18n.get('de'))}\n\n{render(i18n.get('en'))}"


def register(application: Application) -> None:
    application.add_handler(TypeHandler(Update, resolve_resident), group=-1)


# -- consent and privacy (asked for by every capability that stores something) --------------
def consent_question(t: Translator) -> str:
    return t._(N_("Do you agree that your messages are stored and passed on to the counsellors?"))


def consent_markup(context: BotContext) -> InlineKeyboardMarkup:
    def label(msgid: str) -> str:
        if context.lang is not None:
            return context.t._(msgid)
        i18n = context.services.i18n
        return f"{i18n.get('de')._(msgid)} / {i18n.get('en')._(msgid)}"

    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    label(N_("Yes, I agree")), callback_data=callbacks.make(CB_CONSENT, "yes")
                )
            ],
            [
                InlineKeyboardButton(
                    label(N_("No, thanks")), callback_data=callbacks.make(CB_CONSENT, "no")
                )
            ],
            [
                InlineKeyboardButton(
                    "🌐 " + label(N_("Language")), callback_data=callbacks.make(CB_LANG_MENU)
                )
            ],
        ]
    )


def retention_text(t: Translator, days: int) -> str:
    return t._(
        N_(
            "• Also stored: your first name, your appointments, your questions to the "
            "counsellors (the messages themselves are kept in the counsellors' Telegram group) "
            "and the news you subscribed to.\n"
            "• Closed questions and past appointments are deleted after {days} days.\n"
            "• /mydata shows everything we store about you, /delete erases it."
        ),
        days=days,
    )


# -- an appointment, as residents and staff read it (booking and agenda) --------------------
def tx(t: Translator, text: Text | None) -> str:
    return text.get(t.code)[0] if text is not None else ""


def join(*parts: str) -> str:
    return "\n\n".join(p for p in parts if p)


def when_line(t: Translator, start: datetime, end: datetime) -> str:
    return t._(N_("{date}, {time}"), date=t.date(start, "yMMMEd"), time=t.time_range(start, end))


def address_line(t: Translator, place: Place) -> str:
    if place.address is None:
        return t._(N_("The address will be added soon. Please ask at the office."))
    a = place.address
    return t.isolate(f"{a.street}, {a.postcode} {a.city}")


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
