"""The one typed record through which a handler module joins the bot.

Each handler module exposes ``CAPABILITY: Capability``; ``bot.app.CAPABILITIES`` lists them in
the order their handlers see an update. The factory builds every capability's handlers from
the typed ``Services`` (so filters can use configuration such as the staff chat id), adds
them in that order, and collects commands, menu entries and start/stop hooks into typed
fields of ``Services`` (``services.commands``, ``services.menu``, ``services.on_start``,
``services.on_stop``). Nothing about wiring lives in ``bot_data`` any more.

Writing a capability
--------------------
Look at handlers/staff/ (staff filter + refusal), handlers/agenda/ (staff buttons) and
handlers/booking/ (a package; a conversation with typed input through ``bot.flows``).

1. A handler factory *returns* the handlers, in the order they see an update; it may set
   what the capability renders for a service once, at build (``services.topics.renderer``,
   ``services.appointments.install(...)``)::

       def handlers(services: Services, application: App) -> list[Handler]:
           in_staff_group = staff_chat(services.config)
           return [
               CommandHandler("agenda", agenda_command,
                              filters=filters.UpdateType.MESSAGES & in_staff_group),
               CommandHandler("agenda", refuse),  # the refused case, right after
               on_callback(STAFF_KINDS, on_staff_button, filters=in_staff_group),
               on_callback(STAFF_KINDS, refuse_button),
           ]

   ``filters.UpdateType.MESSAGES &`` keeps CommandHandler's default (messages and edits)
   when a filter is given. Who may do something is a filter (``bot.filters``) with a
   refusal handler after the allowed one, not an ``if`` in the handler; buttons go through
   ``handlers.common.on_callback(kinds, fn)`` with ``async def fn(update, context, cb)``,
   the callback data parsed once. A flow that waits for typed input declares a
   ``bot.flows.Flow`` and filters its ``MessageHandler`` with
   ``services.flows.input_filter(FLOW)``.
2. Commands, main-menu entries and start/stop hooks go into the record::

       CAPABILITY = Capability(
           name="booking",
           handlers=handlers,
           commands=(Command("book", N_("Book an appointment")),),
           menu=(MenuEntry(20, "📆", N_("Book an appointment"), callbacks.make(CB_BOOK),
                           needs_consent=True),),
           on_start=(on_startup,),
       )
3. Add ``module.CAPABILITY`` to ``bot.app.CAPABILITIES`` and the module to the
   ``capabilities`` independence contract in pyproject.toml.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from telegram.ext import Application, BaseHandler

from bot.context import BotContext, Hook, Services
from bot.menu import Command, MenuEntry, Scope

App = Application[Any, BotContext, Any, Any, Any, Any]
Handler = BaseHandler[Any, BotContext, Any]
HandlerFactory = Callable[[Services, App], Sequence[Handler]]


def no_handlers(services: Services, application: App) -> Sequence[Handler]:
    """For a capability that only contributes commands, menu entries or hooks."""
    return ()


@dataclass(frozen=True)
class Capability:
    """What one handler module brings: its handlers, the commands and main-menu entries it
    offers, and the work it does at start-up and shutdown."""

    name: str
    """Short module name (``"booking"``); used in logs and tests."""
    handlers: HandlerFactory = no_handlers
    """Builds the PTB handlers, in the order they get to see an update."""
    commands: tuple[Command, ...] = ()
    menu: tuple[MenuEntry, ...] = ()
    on_start: tuple[Hook, ...] = ()
    on_stop: tuple[Hook, ...] = ()
    group: int = 0
    """PTB handler group: lower groups run first, and every group gets its own chance."""


__all__ = [
    "App",
    "Capability",
    "Command",
    "Handler",
    "HandlerFactory",
    "Hook",
    "MenuEntry",
    "Scope",
    "no_handlers",
]
