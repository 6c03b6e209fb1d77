"""Appointments, the resident's side: a resident books counselling in a few taps, gets a
calendar file and reminders, and can cancel or move it; a waiting list hands freed seats on.

The rules (seats, holds, reminders, cascades) live in :mod:`bot.services.appointments`;
this capability asks residents (:mod:`.flow`, :mod:`.mine`), renders (:mod:`.views`) and
tells them what the service decided (:mod:`.notify`, installed on the service here).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from telegram import Message, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import callbacks
from bot.context import SERVICES, BotContext, Services
from bot.i18n import N_
from handlers.booking.flow import on_flow, on_note
from handlers.booking.mine import on_mine
from handlers.booking.notify import ResidentNotifier
from handlers.booking.screens import AWAITING_NOTE, consent_first, mine_view, offers_view
from handlers.booking.views import (
    CB_BACK,
    CB_BOOK,
    CB_CANCEL,
    CB_CANCEL_YES,
    CB_COMING,
    CB_CONFIRM,
    CB_DAY,
    CB_HOLD_DROP,
    CB_HOLD_TAKE,
    CB_MINE,
    CB_MOVE,
    CB_OFFER,
    CB_PLACE,
    CB_QUIT,
    CB_SKIP_NOTE,
    CB_TIME,
    CB_WAIT,
)
from handlers.common import Command, MenuEntry, add_commands, add_menu_entry, add_startup

NOTE_WINDOW = timedelta(minutes=30)
"""Text later than this after the note question is not taken as a note: it goes on to the
other modules (e.g. to the counsellors) as if no booking flow were open."""

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


async def book_command(update: Update, context: BotContext) -> None:
    if await consent_first(update, context):
        await offers_view(update, context)


async def appointments_command(update: Update, context: BotContext) -> None:
    if await consent_first(update, context):
        await mine_view(update, context)


async def on_startup(application: Application) -> None:
    """Schedule again what must survive a restart: reminders, holds, note prompts."""
    services: Services = application.bot_data[SERVICES]
    await services.appointments.resume()
    application.bot_data[AWAITING_NOTE] = dict(
        await services.storage.booking_drafts.awaiting_note()
    )


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


def register(application: Application) -> None:
    services: Services = application.bot_data[SERVICES]
    services.appointments.install(residents=ResidentNotifier(application))
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
