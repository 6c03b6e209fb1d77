"""Appointments, the resident's side: a resident books counselling in a few taps, gets a
calendar file and reminders, and can cancel or move it; a waiting list hands freed seats on.

The rules (seats, holds, reminders, cascades) live in :mod:`bot.services.appointments`;
this capability asks residents (:mod:`.flow`, :mod:`.mine`), renders (:mod:`.views`) and
tells them what the service decided (:mod:`.notify`, installed on the service here).
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, MessageHandler, filters

from bot import callbacks
from bot.capability import App, Capability, Command, Handler, MenuEntry
from bot.context import BotContext, Services, services_of
from bot.i18n import N_
from handlers.booking.flow import (
    on_back,
    on_book,
    on_book_here,
    on_confirm,
    on_day_button,
    on_interpreter,
    on_note,
    on_offer,
    on_place,
    on_quit,
    on_skip_note,
    on_time,
    on_wait,
)
from handlers.booking.mine import (
    on_cancel,
    on_cancel_yes,
    on_coming,
    on_hold_button,
    on_mine,
    on_move,
)
from handlers.booking.notify import ResidentNotifier
from handlers.booking.screens import (
    NOTE,
    always_fresh,
    consent_first,
    fresh,
    mine_view,
    offers_view,
)
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
    CB_INTERPRETER,
    CB_MINE,
    CB_MOVE,
    CB_OFFER,
    CB_PLACE,
    CB_QUIT,
    CB_SKIP_NOTE,
    CB_TIME,
    CB_WAIT,
)
from handlers.common import CB_BOOK_HERE, on_callback


async def book_command(update: Update, context: BotContext) -> None:
    if await consent_first(update, context):
        await offers_view(update, context)


async def appointments_command(update: Update, context: BotContext) -> None:
    if await consent_first(update, context):
        await mine_view(update, context)


async def on_startup(application: App) -> None:
    """Schedule again what must survive a restart: reminders and holds. (Who waits to type
    a note is read back by ``Services.flows``.)"""
    await services_of(application).appointments.resume()


def handlers(services: Services, application: App) -> list[Handler]:
    # The appointments service tells residents through this capability (set once, at build).
    services.appointments.install(residents=ResidentNotifier(application))
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("book", book_command, filters=private),
        CommandHandler("appointments", appointments_command, filters=private),
        MessageHandler(
            private & filters.TEXT & ~filters.COMMAND & services.flows.input_filter(NOTE),
            on_note,
        ),
        on_callback(CB_BOOK, fresh(on_book)),
        on_callback(CB_OFFER, fresh(on_offer)),
        on_callback(CB_PLACE, on_place),
        on_callback(CB_DAY, on_day_button),
        on_callback(CB_TIME, on_time),
        on_callback(CB_SKIP_NOTE, on_skip_note),
        on_callback(CB_CONFIRM, on_confirm),
        on_callback(CB_BACK, on_back),
        on_callback(CB_QUIT, on_quit),
        on_callback(CB_WAIT, on_wait),
        on_callback(CB_INTERPRETER, on_interpreter),
        on_callback(CB_BOOK_HERE, always_fresh(on_book_here)),
        on_callback(CB_MINE, fresh(on_mine)),
        on_callback(CB_CANCEL, fresh(on_cancel)),
        on_callback(CB_CANCEL_YES, on_cancel_yes),
        on_callback(CB_MOVE, fresh(on_move)),
        on_callback(CB_COMING, always_fresh(on_coming)),
        on_callback((CB_HOLD_TAKE, CB_HOLD_DROP), on_hold_button),
    ]


CAPABILITY = Capability(
    name="booking",
    handlers=handlers,
    commands=(
        Command("book", N_("Book an appointment")),
        Command("appointments", N_("My appointments: cancel or move")),
    ),
    menu=(
        MenuEntry(20, "📆", N_("Book an appointment"), callbacks.make(CB_BOOK), needs_consent=True),
        MenuEntry(25, "🗓", N_("My appointments"), callbacks.make(CB_MINE), needs_consent=True),
    ),
    on_start=(on_startup,),
)
