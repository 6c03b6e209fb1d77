"""The one typed record through which a handler module joins the bot.

Each handler module exposes ``CAPABILITY: Capability``; ``bot.app.CAPABILITIES`` lists them in
the order their handlers see an update. The factory builds every capability's handlers from
the typed ``Services`` (so filters can use configuration such as the staff chat id), adds
them in that order, and collects commands, menu entries and start/stop hooks into typed
fields of ``Services`` (``services.commands``, ``services.menu``, ``services.on_start``,
``services.on_stop``). Nothing about wiring lives in ``bot_data`` any more.

Converting a module that still has ``register(application)`` (booking, agenda)
---------------------------------------------------------------------------------
1. Turn the body of ``register`` into a handler factory that *returns* the handlers instead of
   adding them::

       def handlers(services: Services, application: App) -> list[Handler]:
           private = filters.ChatType.PRIVATE
           staff = staff_chat(services.config)        # bot.filters
           return [
               CommandHandler("agenda", agenda_command, filters=staff),
               CommandHandler("agenda", refuse),      # the refused case, right after
               on_callback(STAFF_KINDS, on_staff_button, filters=staff),
               on_callback(STAFF_KINDS, refuse_button),
               ...
           ]

   ``application`` is there only for filters that read state mirrored in ``bot_data`` (like
   ``booking._AwaitingNote``); a factory never adds handlers itself.
2. Move ``add_commands(...)`` / ``add_menu_entry(...)`` / ``add_startup(...)`` /
   ``add_shutdown(...)`` into the record::

       CAPABILITY = Capability(
           name="agenda",
           handlers=handlers,
           commands=(Command("agenda", N_("Appointments of a day or the week"), scope="staff"),),
           menu=(MenuEntry(20, "📆", N_("Book an appointment"), callbacks.make(CB_BOOK)),),
           on_start=(on_startup,),
       )
3. Replace inline checks by filters on the handler plus a refusal handler placed right after
   the allowed one (``if not in_staff_chat(...): refuse`` → ``filters=staff_chat(config)``
   and ``CommandHandler(names, refuse)``), and every ``cb = callbacks.parse(...); assert cb``
   by ``on_callback(kinds, handler)`` whose handler takes ``cb: Callback`` as third argument.
4. In ``bot.app.CAPABILITIES`` replace the bare module by ``module.CAPABILITY``; once no bare
   module is left, delete ``bot.app._transitional`` and the ``add_*`` functions in
   ``handlers.common`` (both marked TRANSITIONAL).
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
