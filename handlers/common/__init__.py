"""What every capability shares: who is writing (resident and language, resolved once per
update), the main menu and the command list that modules contribute to, and replying by
editing the message a button belongs to instead of flooding the chat."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import date
from typing import Any

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, TypeHandler

from bot import callbacks
from bot.callbacks import Callback
from bot.capability import App, Capability, Command, Handler, Scope
from bot.context import BotContext, Services, services_of
from bot.delivery.errors import Kind, classify
from bot.filters import Rule, StaffChat
from bot.i18n import LANGUAGES, N_, Translator, resolve_language

# Shared views (handlers/common/views.py), re-exported: capabilities import handlers.common.
from handlers.common.views import (
    CB_STOP as CB_STOP,
    address_line as address_line,
    closed_line as closed_line,
    closure_notes as closure_notes,
    details as details,
    example_note as example_note,
    join as join,
    news_topics as news_topics,
    note_translation as note_translation,
    nothing_open as nothing_open,
    office_note as office_note,
    render_broadcast as render_broadcast,
    topic_title as topic_title,
    tx as tx,
    when_line as when_line,
)
from storage import StoredClosure
from storage.mentions import Mention

STAFF_LANGUAGE = "de"
"""The staff group reads German."""
PENDING_LANGUAGE = "language"
"""user_data key: a language chosen before consent, kept in memory only."""

CB_MENU = callbacks.kind("menu")
# Declared here because several capabilities make these buttons; onboarding handles the
# first two, privacy the last.
CB_CONSENT = callbacks.kind("consent", 1)
CB_LANG_MENU = callbacks.kind("langs")
CB_LANG = callbacks.kind("lang", 1)
CB_DELETE = callbacks.kind("del", 1)
CB_BOOK_HERE = callbacks.kind("bkh", 1, 2)  # offer and place cards (hours); booking handles it


def commands_of(application: Application, scope: Scope) -> list[Command]:
    return services_of(application).commands_for(scope)


# -- buttons: callback data parsed once ------------------------------------------------------
ButtonCallback = Callable[[Update, BotContext, Callback], Awaitable[None]]


class ButtonHandler(CallbackQueryHandler[BotContext, None]):
    """A ``CallbackQueryHandler`` for some kinds of callback data that parses the data once
    (in ``check_update``) and hands the parsed :class:`~bot.callbacks.Callback` to its
    callback as third argument. Stale or forged data never matches (the fallback answers
    it). ``filters`` optionally narrows who may tap, built from ``bot.filters`` rules (e.g.
    ``staff_chat(config)``); put a refusing handler for the same kinds right after it.
    ``arg`` narrows to data whose first argument is this value (one handler per step of a
    kind like ``bcs:media`` / ``bcs:now``)."""

    __slots__ = ("arg", "button_callback", "filters", "kinds")

    def __init__(
        self,
        kinds: Iterable[str],
        callback: ButtonCallback,
        *,
        filters: Rule | None = None,
        arg: str | None = None,
        block: bool = True,
    ) -> None:
        self.kinds = frozenset(kinds)
        self.button_callback = callback
        self.filters = filters
        self.arg = arg
        super().__init__(self._untyped, pattern=self._matches, block=block)

    def _matches(self, data: object) -> bool:
        return self._parse(data) is not None

    def _parse(self, data: object) -> Callback | None:
        parsed = callbacks.parse(data)
        if parsed is None or parsed.kind not in self.kinds:
            return None
        return parsed if self.arg is None or parsed.arg(0) == self.arg else None

    def check_update(self, update: object) -> Callback | None:
        if not isinstance(update, Update) or update.callback_query is None:
            return None
        parsed = self._parse(update.callback_query.data)
        if parsed is None or (self.filters is not None and not self.filters.check_update(update)):
            return None
        return parsed

    async def handle_update(
        self,
        update: Update,
        application: Application[Any, BotContext, Any, Any, Any, Any],
        check_result: object,
        context: BotContext,
    ) -> None:
        if not isinstance(check_result, Callback):  # only check_update's result comes here
            raise TypeError(f"expected parsed callback data, got {check_result!r}")
        await self.button_callback(update, context, check_result)

    async def _untyped(self, update: Update, context: BotContext) -> None:
        raise RuntimeError("ButtonHandler calls its callback with the parsed data")


def on_callback(
    kinds: str | Iterable[str],
    callback: ButtonCallback,
    *,
    filters: Rule | None = None,
    arg: str | None = None,
) -> ButtonHandler:
    """``on_callback(CB_TOGGLE, on_toggle)`` with ``async def on_toggle(update, context,
    cb: Callback)``: the data is parsed once, and ``cb`` is the parsed record."""
    kinds = (kinds,) if isinstance(kinds, str) else kinds
    return ButtonHandler(kinds, callback, filters=filters, arg=arg)


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


def in_staff_chat(update: Update, context: BotContext) -> bool:
    """Written in (or tapped under a message of) the configured staff group."""
    return StaffChat(context.config.staff_chat).check_update(update)


async def refuse(update: Update, context: BotContext) -> None:
    """The same answer for every refused command, revealing nothing."""
    message = update.effective_message
    if message is not None:
        await message.reply_text(
            context.t._(N_("Sorry, this command is only for the project's staff."))
        )


async def refuse_coordinator(update: Update, context: BotContext) -> None:
    """In the staff group a counsellor is told it is for coordinators, not "only for staff"."""
    message = update.effective_message
    if message is None or not in_staff_chat(update, context):
        await refuse(update, context)
        return
    text = N_("Sorry, this command is only for the project's coordinators.")
    await message.reply_text(staff_t(context)._(text))


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
    entries = [e for e in context.services.menu if consented or not e.needs_consent]
    rows = [
        [InlineKeyboardButton(f"{e.icon} {t._(e.label)}", callback_data=e.callback_data)]
        for e in entries
    ]
    return InlineKeyboardMarkup(rows)


def write_here(t: Translator) -> str:
    """Newcomers learn that writing reaches a counsellor (greeting, /help, the menu)."""
    return "💬 " + t._(N_("You can simply write your question here. A counsellor will read it."))


def menu_text(t: Translator) -> str:
    what = t._(N_("What would you like to do?"))
    return f"{what}\n{write_here(t)}"


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
        shown = query.message
        if isinstance(shown, Message) and shown.text == text and shown.reply_markup == markup:
            # A tap that changes nothing (the language that is already ticked): Telegram
            # refuses the edit ("message is not modified"), so do not ask.
            return
        try:
            await query.edit_message_text(text, reply_markup=markup)
            return
        except BadRequest as exc:
            if classify(exc).kind is Kind.NOT_MODIFIED:
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
    context: BotContext,
    text: str,
    markup: InlineKeyboardMarkup | ForceReply | None = None,
    *,
    from_memory: bool = False,
    mentions: Sequence[Mention] = (),
) -> None:
    """Answers and notices into the staff group (General topic): through the shared paced
    outbox, so a burst of bookings never runs into Telegram's group limit. ``from_memory``
    for a text with a machine translation in it: it must not reach SQLite. ``mentions``:
    the residents it names (their erasure deletes it or edits it down)."""
    if context.config.staff_chat is None:
        return
    lane = context.services.staffpost
    if from_memory:
        await lane.send_from_memory(text, markup=markup, priority=True, mentions=mentions)
    else:
        await lane.send_text(text[:4096], markup=markup, priority=True, mentions=mentions)


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


def handlers(services: Services, application: App) -> Sequence[Handler]:
    return [TypeHandler(Update, resolve_resident)]


CAPABILITY = Capability(name="common", handlers=handlers, group=-1)
"""Runs before every other capability: who is writing, in which language."""


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
            *language_rows(context.lang),
        ]
    )


def language_rows(current: str | None) -> list[list[InlineKeyboardButton]]:
    """Every language by its own name, two a row: readable before we know the resident's
    language (the first screen offers them right away)."""
    buttons = [
        InlineKeyboardButton(
            ("✓ " if code == current else "") + lang.native_name,
            callback_data=callbacks.make(CB_LANG, code),
        )
        for code, lang in LANGUAGES.items()
    ]
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


def emergency_note(t: Translator) -> str:
    """Shown before anything else is known or agreed: the bot is no emergency service."""
    return "🆘 " + t._(N_("In an emergency call 110 (police) or 112 (fire brigade, ambulance)."))


async def before_consent(update: Update, context: BotContext) -> None:
    """A message before consent (fallback and questions): nothing is stored or forwarded;
    the resident is told why and how to agree."""
    assert update.effective_message is not None
    text = bilingual(
        context,
        lambda t: (
            t._(
                N_(
                    "I have not passed on your message: please agree to the privacy notice first. "
                    "Nothing you write is stored before that."
                )
            )
            + "\n\n"
            + consent_question(t)
            + "\n\n"
            + emergency_note(t)
        ),
    )
    await update.effective_message.reply_text(text, reply_markup=consent_markup(context))
