"""Coordinators announce group offers, job fairs, closures and events to the residents who
subscribed to the topic.

``/broadcast`` walks through topic → German text → optional other languages → optional
photo or document → now or at a time → preview exactly as residents will see it → confirm.
The draft is a row in SQLite (it survives a restart); while it waits for typed input, a
filter lets this module take only that coordinator's messages in that chat and thread, so
residents' messages and staff relays are never swallowed (:mod:`.flow`). ``/broadcasts``
lists scheduled broadcasts, which can be cancelled until they start (:mod:`.schedule`).
Sending is the broadcast lane's job (``bot.delivery``); this capability renders what it
sends (:class:`.views.Views`).
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, MessageHandler, filters

from bot.callbacks import Callback
from bot.capability import App, Capability, Command, Handler
from bot.context import BotContext, Services
from bot.filters import coordinator_here
from bot.i18n import N_
from bot.services.broadcast_recovery import CB_SEND_AGAIN
from handlers.broadcast.flow import (
    INPUT,
    broadcast_command,
    on_confirm,
    on_discard,
    on_input,
    on_language,
    on_later,
    on_no_media,
    on_now,
    on_stale,
    on_to_media,
    on_topic,
)
from handlers.broadcast.schedule import broadcasts_command, on_cancel, on_send_again, on_startup
from handlers.broadcast.views import (
    CB_CANCEL,
    CB_CONFIRM,
    CB_DISCARD,
    CB_LANG,
    CB_STEP,
    CB_TOPIC,
    Views,
)
from handlers.common import answer_query, on_callback, refuse_coordinator

KINDS = (CB_TOPIC, CB_LANG, CB_STEP, CB_CONFIRM, CB_DISCARD, CB_CANCEL, CB_SEND_AGAIN)


async def refuse_button(update: Update, context: BotContext, cb: Callback) -> None:
    """Coordinators only, and only in a private chat or the staff group (the filter on every
    step's handler), since callback data can be forged and buttons are seen by the whole
    group; everybody else who taps gets this."""
    await answer_query(
        update, context.t._(N_("Sorry, this is only for the project's staff.")), alert=True
    )


def handlers(services: Services, application: App) -> list[Handler]:
    # What the broadcast lane sends is rendered here (set once, at build).
    services.outbox.broadcasts.renderer = Views(services)
    coordinator = coordinator_here(services.config)
    return [
        CommandHandler(
            "broadcast", broadcast_command, filters=filters.UpdateType.MESSAGES & coordinator
        ),
        CommandHandler(
            "broadcasts", broadcasts_command, filters=filters.UpdateType.MESSAGES & coordinator
        ),
        CommandHandler(["broadcast", "broadcasts"], refuse_coordinator),
        MessageHandler(
            filters.UpdateType.MESSAGE
            & ~filters.COMMAND
            & coordinator
            & services.flows.input_filter(INPUT),
            on_input,
        ),
        on_callback(CB_TOPIC, on_topic, filters=coordinator),
        on_callback(CB_LANG, on_language, filters=coordinator),
        on_callback(CB_STEP, on_to_media, filters=coordinator, arg="media"),
        on_callback(CB_STEP, on_no_media, filters=coordinator, arg="nomedia"),
        on_callback(CB_STEP, on_now, filters=coordinator, arg="now"),
        on_callback(CB_STEP, on_later, filters=coordinator, arg="later"),
        on_callback(CB_STEP, on_stale, filters=coordinator),
        on_callback(CB_CONFIRM, on_confirm, filters=coordinator),
        on_callback(CB_DISCARD, on_discard, filters=coordinator),
        on_callback(CB_CANCEL, on_cancel, filters=coordinator),
        on_callback(CB_SEND_AGAIN, on_send_again, filters=coordinator),
        on_callback(KINDS, refuse_button),
    ]


CAPABILITY = Capability(
    name="broadcast",
    handlers=handlers,
    commands=(
        Command("broadcast", N_("Send an announcement to subscribed residents"), scope="admin"),
        Command("broadcasts", N_("Scheduled broadcasts"), scope="admin"),
    ),
    on_start=(on_startup,),
)
